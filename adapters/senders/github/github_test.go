package github_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"herald/adapters/senders/github"
	"herald/adapters/senders/sendertest"
	"herald/domain"
	"herald/notify"
)

func settings(apiURL string) domain.GitHubSettings {
	return domain.GitHubSettings{
		APIURL: apiURL, Owner: "acme", Repository: "platform", AccessToken: domain.NewSecret("ghp_t0k3n"),
		Milestone: 7, Labels: []string{"herald", "sev: high"}, Assignees: []string{"octocat", "hubot"},
	}
}

func notification(t *testing.T, s domain.GitHubSettings, verifyTLS bool) notify.Notification {
	t.Helper()
	c := domain.Configuration{ID: "cfg-1", Account: "alice", Kind: domain.KindGitHub, Name: "issues", VerifyTLS: verifyTLS, Settings: s}
	n, err := notify.NewNotification(sendertest.Event(), c, "https://ui.example")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// clientsTo are HTTP clients that reach srv whatever host a URL names, so that
// https://api.github.com and enterprise host names can be tried against a local server.
func clientsTo(srv *httptest.Server) notify.HTTPClients {
	addr := srv.Listener.Addr().String()
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	return notify.NewHTTPClients(transport, 0)
}

// createdRequest is what a test server saw.
type createdRequest struct {
	method, host, path, auth, contentType, accept string
	body                                          map[string]any
}

// issuesAPI answers like GitHub's "create an issue": 201 with the issue.
func issuesAPI(t *testing.T, got *createdRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got.method, got.host, got.path = r.Method, r.Host, r.URL.Path
		got.auth, got.contentType, got.accept = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("Accept")
		if err := json.NewDecoder(r.Body).Decode(&got.body); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":1001,"number":1,"state":"open","title":"x","html_url":"https://github.com/acme/platform/issues/1"}`)
	}
}

func TestSend_createsAnIssueOnGitHubCom(t *testing.T) {
	var got createdRequest
	srv := httptest.NewTLSServer(issuesAPI(t, &got))
	defer srv.Close()
	// verify_tls off: the local server's certificate is not api.github.com's.
	receipt, err := github.New(clientsTo(srv)).Send(context.Background(), notification(t, settings(domain.DefaultGitHubAPIURL), false))
	if err != nil || receipt.Status != http.StatusCreated || receipt.Body != "https://github.com/acme/platform/issues/1" {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	if got.method != http.MethodPost || got.host != "api.github.com" || got.path != "/repos/acme/platform/issues" {
		t.Fatalf("request %s %s%s", got.method, got.host, got.path)
	}
	if got.auth != "Bearer ghp_t0k3n" || got.contentType != "application/json" || got.accept != "application/vnd.github.v3+json" {
		t.Fatalf("headers: authorization %q content type %q accept %q", got.auth, got.contentType, got.accept)
	}
	if got.body["title"] != "[ERROR] user.image.analysis.failed on sha256:abc" {
		t.Fatalf("title %q", got.body["title"])
	}
	body, _ := got.body["body"].(string)
	for _, want := range []string{
		"Failed to analyze image\n",
		"\nOpen in the UI: https://ui.example/events/67946415c113488b8fff8b335272a45b\n",
		"\n<!-- herald:idempotency-key=" + notify.IdempotencyKey("67946415c113488b8fff8b335272a45b", "cfg-1") + " -->\n",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("body lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "https://ui.example/events/"); n != 1 {
		t.Fatalf("the body links the event %d times, want once:\n%s", n, body)
	}
	if strings.Contains(body, "```") {
		t.Fatalf("the text is code-fenced:\n%s", body)
	}
	if labels := jsonString(got.body["labels"]); labels != `["herald","sev: high"]` {
		t.Fatalf("labels %s", labels)
	}
	if assignees := jsonString(got.body["assignees"]); assignees != `["octocat","hubot"]` {
		t.Fatalf("assignees %s", assignees)
	}
	if got.body["milestone"] != float64(7) {
		t.Fatalf("milestone %v", got.body["milestone"])
	}
	if _, ok := got.body["assignee"]; ok {
		t.Fatalf("the deprecated assignee field was sent: %v", got.body)
	}
}

// An API URL other than https://api.github.com is GitHub Enterprise: go-github adds /api/v3/
// to a host URL, and keeps a URL that already ends in it or whose host is an api. host.
func TestSend_githubEnterpriseURLs(t *testing.T) {
	cases := []struct {
		name, apiURL, path string
	}{
		{"api host", "http://api.github.test", "/repos/acme/platform/issues"},
		{"api host with trailing slash", "http://api.github.test/", "/repos/acme/platform/issues"},
		{"GHE.com data residency", "http://api.acme.ghe.test", "/repos/acme/platform/issues"},
		{"enterprise host", "http://ghe.example.test", "/api/v3/repos/acme/platform/issues"},
		{"enterprise API URL", "http://ghe.example.test/api/v3", "/api/v3/repos/acme/platform/issues"},
		{"enterprise API URL with trailing slash", "http://ghe.example.test/api/v3/", "/api/v3/repos/acme/platform/issues"},
		{"enterprise under a context path", "http://ghe.example.test/github", "/github/api/v3/repos/acme/platform/issues"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got createdRequest
			srv := httptest.NewServer(issuesAPI(t, &got))
			defer srv.Close()
			receipt, err := github.New(clientsTo(srv)).Send(context.Background(), notification(t, settings(c.apiURL), true))
			if err != nil || receipt.Body != "https://github.com/acme/platform/issues/1" {
				t.Fatalf("send: %+v %v", receipt, err)
			}
			if got.method != http.MethodPost || got.path != c.path || got.auth != "Bearer ghp_t0k3n" {
				t.Fatalf("request %s %s with authorization %q, want POST %s", got.method, got.path, got.auth, c.path)
			}
		})
	}
	t.Run("the local server's own URL", func(t *testing.T) {
		var got createdRequest
		srv := httptest.NewServer(issuesAPI(t, &got))
		defer srv.Close()
		if _, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, settings(srv.URL), true)); err != nil {
			t.Fatal(err)
		}
		if got.path != "/api/v3/repos/acme/platform/issues" {
			t.Fatalf("path %s", got.path)
		}
	})
}

func TestSend_testNotificationsSayTheyAreTests(t *testing.T) {
	var got createdRequest
	srv := httptest.NewServer(issuesAPI(t, &got))
	defer srv.Close()
	n := notification(t, settings(srv.URL), true)
	n.Test = true
	if _, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got.body["title"] != "[test] [ERROR] user.image.analysis.failed on sha256:abc" {
		t.Fatalf("title %q", got.body["title"])
	}
}

// issueBodyOf sends sendertest's event with message (its own when "") through a
// configuration whose body template is body, and returns the issue body GitHub received.
func issueBodyOf(t *testing.T, body, message string) string {
	t.Helper()
	var got createdRequest
	srv := httptest.NewServer(issuesAPI(t, &got))
	defer srv.Close()
	s := domain.GitHubSettings{APIURL: srv.URL, Owner: "acme", Repository: "platform", AccessToken: domain.NewSecret("t")}
	c := domain.Configuration{ID: "cfg-1", Account: "alice", Kind: domain.KindGitHub, Name: "issues", Settings: s, Templates: domain.MessageTemplates{Body: body}}
	e := sendertest.Event()
	if message != "" {
		e.Message = message
	}
	n, err := notify.NewNotification(e, c, "https://ui.example")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return got.body["body"].(string)
}

// A text of the configuration's own that does not link the event is followed by a link.
func TestSend_linksTheEventBelowATextWithoutTheLink(t *testing.T) {
	want := "Failed to analyze image\n\n[Open the event in herald](https://ui.example/events/67946415c113488b8fff8b335272a45b)\n\n<!-- herald:idempotency-key="
	if body := issueBodyOf(t, "{{.Message}}", ""); !strings.HasPrefix(body, want) {
		t.Errorf("body:\n%s\nwant it to start with\n%s", body, want)
	}
}

// A text that links the event only past GitHub's limit loses the link in the cut: the link
// is then added below what is kept.
func TestSend_linksTheEventBelowATextCutBeforeItsLink(t *testing.T) {
	body := issueBodyOf(t, "{{.Message}}\n{{.URL}}", strings.Repeat("x", 70_000))
	if !strings.Contains(body, "…\n\n[Open the event in herald](https://ui.example/events/67946415c113488b8fff8b335272a45b)\n\n<!-- herald:idempotency-key=") || utf8.RuneCountInString(body) > 65536 {
		t.Errorf("body of %d characters ends %q", utf8.RuneCountInString(body), body[max(0, len(body)-200):])
	}
}

func TestSend_leavesOutWhatIsNotConfigured(t *testing.T) {
	var got createdRequest
	srv := httptest.NewServer(issuesAPI(t, &got))
	defer srv.Close()
	s := domain.GitHubSettings{APIURL: srv.URL, Owner: "acme", Repository: "platform", AccessToken: domain.NewSecret("t")}
	n := notification(t, s, true)
	n.EventURL = ""
	if _, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"milestone", "labels", "assignees"} {
		if v, ok := got.body[field]; ok {
			t.Errorf("%s sent: %v", field, v)
		}
	}
	if body := got.body["body"].(string); strings.Contains(body, "Open the event in herald") {
		t.Errorf("a link without a UI URL:\n%s", body)
	}
}

func TestSend_rateLimitsAreWaitedFor(t *testing.T) {
	reset := time.Now().Add(90 * time.Second).Unix()
	cases := []struct {
		name   string
		status int
		header map[string]string
		body   string
		wait   time.Duration
	}{
		{"primary limit: 403 with no requests remaining", http.StatusForbidden,
			map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)},
			`{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`,
			90 * time.Second},
		{"secondary limit: 403 with Retry-After", http.StatusForbidden,
			map[string]string{"Retry-After": "60"},
			`{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
			60 * time.Second},
		{"429 with Retry-After", http.StatusTooManyRequests,
			map[string]string{"Retry-After": "30"}, `{"message":"Too many requests"}`, 30 * time.Second},
		{"429 with a reset time only", http.StatusTooManyRequests,
			map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset, 10)}, `{"message":"Too many requests"}`, 90 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			}))
			defer srv.Close()
			_, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, settings(srv.URL), true))
			var se *notify.SendError
			if !errors.As(err, &se) || !se.Retryable || se.Status != c.status {
				t.Fatalf("got %v, want a retryable failure with status %d", err, c.status)
			}
			// X-RateLimit-Reset has a resolution of a second.
			if se.RetryAfter < c.wait-3*time.Second || se.RetryAfter > c.wait {
				t.Fatalf("retry after %v, want about %v", se.RetryAfter, c.wait)
			}
			if !strings.Contains(err.Error(), "rate limit") && c.status == http.StatusForbidden {
				t.Fatalf("error does not say it is a rate limit: %v", err)
			}
		})
	}
}

func TestSend_validationFailureIsFinalAndNamesTheField(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"message":"Validation Failed","errors":[{"value":"nobody","resource":"Issue","field":"assignees","code":"invalid"}],`+
			`"documentation_url":"https://docs.github.com/rest/issues/issues#create-an-issue","status":"422"}`)
	}))
	defer srv.Close()
	receipt, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, settings(srv.URL), true))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable || se.Status != http.StatusUnprocessableEntity || receipt.Status != http.StatusUnprocessableEntity {
		t.Fatalf("got %+v %v, want a final 422", receipt, err)
	}
	if !strings.Contains(err.Error(), "Validation Failed; assignees: invalid") {
		t.Fatalf("the error does not say what GitHub refused: %v", err)
	}
}

func TestSend_errorsQuoteNeitherTokenNorURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
	}))
	defer srv.Close()
	_, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, settings(srv.URL), true))
	if err == nil || notify.IsRetryable(err) || !strings.Contains(err.Error(), "Bad credentials") {
		t.Fatalf("bad credentials: %v", err)
	}
	for _, secret := range []string{"ghp_t0k3n", srv.URL, "/repos/"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the error quotes %q: %v", secret, err)
		}
	}
}

func TestSend_anAnswerThatIsNotAnIssueIsFinal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<html>Sign in to the proxy</html>")
	}))
	defer srv.Close()
	_, err := github.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, settings(srv.URL), true))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable || se.Status != http.StatusOK {
		t.Fatalf("got %v, want a final failure: trying again could open the issue twice", err)
	}
}

func TestSender_contract(t *testing.T) {
	sendertest.TestSender(t, func(c notify.HTTPClients) notify.Sender { return github.New(c) }, sendertest.Features{
		Notification: func(url, secret string) notify.Notification {
			s := settings(url)
			s.AccessToken = domain.NewSecret(secret)
			return notification(t, s, true)
		},
		WrongKind: domain.JiraSettings{},
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// An API host the DNS says does not exist is a final failure; one it cannot look up for the
// moment is retried.
func TestSend_aHostThatDoesNotExistIsFinal(t *testing.T) {
	for _, lookup := range []*net.DNSError{
		{Err: "no such host", Name: "github.exmaple.com", IsNotFound: true},
		{Err: "server misbehaving", Name: "github.example.com", IsTemporary: true},
	} {
		transport := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: lookup}
		}}
		_, err := github.New(notify.NewHTTPClients(transport, 0)).Send(context.Background(), notification(t, settings("https://"+lookup.Name), true))
		var se *notify.SendError
		if !errors.As(err, &se) || se.Retryable != lookup.IsTemporary || !strings.Contains(err.Error(), lookup.Err) {
			t.Errorf("%s: got %v, want a SendError with retryable %v", lookup.Err, err, lookup.IsTemporary)
		}
	}
}

package jira_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"herald/adapters/senders/jira"
	"herald/adapters/senders/sendertest"
	"herald/domain"
	"herald/notify"
)

func settings(url string) domain.JiraSettings {
	return domain.JiraSettings{
		URL: url, Username: "herald@example.com", APIToken: domain.NewSecret("ATATT-t0k3n"),
		ProjectKey: "OPS", IssueType: "Bug", Priority: "High", Assignee: "jdoe", Labels: []string{"herald", "image scan"},
	}
}

func notification(t *testing.T, s domain.JiraSettings) notify.Notification {
	t.Helper()
	c := domain.Configuration{ID: "cfg-1", Account: "alice", Kind: domain.KindJira, Name: "tickets", VerifyTLS: true, Settings: s}
	n, err := notify.NewNotification(sendertest.Event(), c, "https://ui.example")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func send(t *testing.T, n notify.Notification) (notify.Receipt, error) {
	t.Helper()
	return jira.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), n)
}

// createdRequest is what a test server saw.
type createdRequest struct {
	method, path, user, token, contentType, accept string
	basicAuth                                      bool
	fields                                         map[string]any
}

// issueAPI answers like Jira's "create issue": 201 with the new issue's id, key and self.
func issueAPI(t *testing.T, got *createdRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.user, got.token, got.basicAuth = r.BasicAuth()
		got.contentType, got.accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
		var body struct{ Fields map[string]any }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		got.fields = body.Fields
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"10000","key":"OPS-1","self":"https://jira.example/rest/api/2/issue/10000"}`)
	}
}

func TestSend_createsAnIssueThroughTheRESTAPI(t *testing.T) {
	var got createdRequest
	srv := httptest.NewServer(issueAPI(t, &got))
	defer srv.Close()
	receipt, err := send(t, notification(t, settings(srv.URL)))
	if err != nil || receipt.Status != http.StatusCreated || receipt.Body != "OPS-1" {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	if got.method != http.MethodPost || got.path != "/rest/api/2/issue" {
		t.Fatalf("request %s %s", got.method, got.path)
	}
	if !got.basicAuth || got.user != "herald@example.com" || got.token != "ATATT-t0k3n" {
		t.Fatalf("basic auth %q %q %v", got.user, got.token, got.basicAuth)
	}
	if got.contentType != "application/json" || got.accept != "application/json" {
		t.Fatalf("content type %q accept %q", got.contentType, got.accept)
	}
	want := map[string]string{
		"project":   `{"key":"OPS"}`,
		"summary":   `"[ERROR] user.image.analysis.failed on sha256:abc"`,
		"issuetype": `{"name":"Bug"}`,
		"priority":  `{"name":"High"}`,
		"labels":    `["herald","image-scan"]`,
		"assignee":  `{"name":"jdoe"}`,
	}
	for field, value := range want {
		if v := jsonString(got.fields[field]); v != value {
			t.Errorf("%s: %s, want %s", field, v, value)
		}
	}
	description, _ := got.fields["description"].(string)
	if !strings.HasPrefix(description, "Failed to analyze image\n") || !strings.Contains(description, "https://ui.example/events/67946415c113488b8fff8b335272a45b") {
		t.Errorf("description:\n%s", description)
	}
	if len(got.fields) != len(want)+1 {
		t.Errorf("fields %v", got.fields)
	}
}

// Jira Cloud knows users by account id only, Server/Data Center by name only.
func TestSend_assigneeByNameOrCloudAccountID(t *testing.T) {
	cases := []struct{ assignee, want string }{
		{"jdoe", `{"name":"jdoe"}`},
		{"jdoe@example.com", `{"name":"jdoe@example.com"}`},
		{"5b10ac8d82e05b22cc7d4ef5", `{"accountId":"5b10ac8d82e05b22cc7d4ef5"}`},
		{"557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", `{"accountId":"557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"}`},
		{"deadbeef", `{"name":"deadbeef"}`},
	}
	for _, c := range cases {
		t.Run(c.assignee, func(t *testing.T) {
			t.Parallel()
			var got createdRequest
			srv := httptest.NewServer(issueAPI(t, &got))
			defer srv.Close()
			s := settings(srv.URL)
			s.Assignee = c.assignee
			if _, err := send(t, notification(t, s)); err != nil {
				t.Fatal(err)
			}
			if v := jsonString(got.fields["assignee"]); v != c.want {
				t.Fatalf("assignee %s, want %s", v, c.want)
			}
		})
	}
}

func TestSend_leavesOutWhatIsNotConfigured(t *testing.T) {
	var got createdRequest
	srv := httptest.NewServer(issueAPI(t, &got))
	defer srv.Close()
	s := settings(srv.URL)
	s.Priority, s.Assignee, s.Labels = "", "", nil
	if _, err := send(t, notification(t, s)); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"priority", "assignee", "labels"} {
		if v, ok := got.fields[field]; ok {
			t.Errorf("%s sent: %v", field, v)
		}
	}
}

func TestSend_urlWithTrailingSlashOrContextPath(t *testing.T) {
	cases := []struct{ suffix, path string }{
		{"", "/rest/api/2/issue"},
		{"/", "/rest/api/2/issue"},
		{"/jira", "/jira/rest/api/2/issue"},
		{"/jira/", "/jira/rest/api/2/issue"},
	}
	for _, c := range cases {
		t.Run("url"+c.suffix, func(t *testing.T) {
			t.Parallel()
			var got createdRequest
			srv := httptest.NewServer(issueAPI(t, &got))
			defer srv.Close()
			if _, err := send(t, notification(t, settings(srv.URL+c.suffix))); err != nil {
				t.Fatal(err)
			}
			if got.path != c.path {
				t.Fatalf("path %s, want %s", got.path, c.path)
			}
		})
	}
}

func TestSend_summaryKeepsJiraLimit(t *testing.T) {
	var got createdRequest
	srv := httptest.NewServer(issueAPI(t, &got))
	defer srv.Close()
	n := notification(t, settings(srv.URL))
	n.Title = strings.Repeat("🔥", 200) // 400 UTF-16 code units, as Jira counts
	n.Test = true
	if _, err := send(t, n); err != nil {
		t.Fatal(err)
	}
	summary := got.fields["summary"].(string)
	if units := len(utf16.Encode([]rune(summary))); units > 255 || units < 250 {
		t.Fatalf("summary is %d UTF-16 code units: %q", units, summary)
	}
	if !strings.HasPrefix(summary, "[test] 🔥") || !strings.HasSuffix(summary, "🔥…") {
		t.Fatalf("summary %q", summary)
	}
}

func TestSend_refusalsAreFinalAndNameTheField(t *testing.T) {
	cases := []struct {
		name, answer string
		status       int
		want         []string
	}{
		{"field errors", `{"errorMessages":[],"errors":{"priority":"The priority selected is invalid.","assignee":"User 'nobody' does not exist."}}`,
			http.StatusBadRequest, []string{"Bad Request: assignee: User 'nobody' does not exist.; priority: The priority selected is invalid."}},
		{"error messages", `{"errorMessages":["Field 'labels' cannot be set. It is not on the appropriate screen, or unknown."],"errors":{}}`,
			http.StatusBadRequest, []string{"Field 'labels' cannot be set"}},
		{"not allowed", `{"errorMessages":["You do not have permission to create issues in this project."],"errors":{}}`,
			http.StatusForbidden, []string{"Forbidden: You do not have permission"}},
		{"not JSON", `<html>Unauthorized</html>`, http.StatusUnauthorized, []string{"Unauthorized: <html>Unauthorized</html>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.answer)
			}))
			defer srv.Close()
			_, err := send(t, notification(t, settings(srv.URL)))
			var se *notify.SendError
			if !errors.As(err, &se) || se.Retryable || se.Status != c.status {
				t.Fatalf("got %v, want a final failure with status %d", err, c.status)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "ATATT-t0k3n") || strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("the error quotes a credential or the URL: %v", err)
			}
		})
	}
}

func TestSend_rateLimitIsRetriedAfterJirasDelay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	_, err := send(t, notification(t, settings(srv.URL)))
	var se *notify.SendError
	if !errors.As(err, &se) || !se.Retryable || se.RetryAfter != 20*time.Second {
		t.Fatalf("got %v, want retryable after 20s", err)
	}
}

func TestSend_anAnswerThatIsNotAnIssueIsFinal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<html>Sign in to the proxy</html>")
	}))
	defer srv.Close()
	_, err := send(t, notification(t, settings(srv.URL)))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable || se.Status != http.StatusOK {
		t.Fatalf("got %v, want a final failure: trying again could open the issue twice", err)
	}
}

func TestSender_contract(t *testing.T) {
	sendertest.TestSender(t, func(c notify.HTTPClients) notify.Sender { return jira.New(c) }, sendertest.Features{
		Notification: func(url, secret string) notify.Notification {
			s := settings(url)
			s.APIToken = domain.NewSecret(secret)
			return notification(t, s)
		},
		WrongKind: domain.GitHubSettings{},
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

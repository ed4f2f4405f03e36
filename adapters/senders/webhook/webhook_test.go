package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"herald/adapters/senders/sendertest"
	"herald/adapters/senders/webhook"
	"herald/domain"
	"herald/notify"
)

func event() domain.LogEvent {
	return domain.LogEvent{
		ID: "67946415c113488b8fff8b335272a45b", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 512589000, time.UTC),
		Level: domain.LevelError, Type: "system.repository.list_tags_fail", Message: "Failed to list tags in repository",
		Resource: domain.Resource{ID: "docker.io/library/nginx", Type: "repository", UserID: "alice"},
		Source:   domain.Source{ServiceName: "catalog", HostID: "host-1", BaseURL: "http://localhost:8082", RequestID: "req-1"},
		Details:  json.RawMessage(`{"msg":"denied"}`),
	}
}

func notification(url string, settings domain.WebhookSettings) notify.Notification {
	settings.URL = url
	return notify.Notification{
		Event:          event(),
		Configuration:  domain.Configuration{ID: "cfg-1", Account: "alice", Kind: domain.KindWebhook, VerifyTLS: true, Settings: settings},
		IdempotencyKey: "67946415c113488b8fff8b335272a45b:cfg-1",
	}
}

func TestSend_postsTheEventWithAuthSignatureAndIdempotencyKey(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "queued")
	}))
	defer srv.Close()
	settings := domain.WebhookSettings{Username: "herald", Password: domain.NewSecret("pw"), HMACSecret: domain.NewSecret("s3cr3t"),
		Headers: map[string]domain.Secret{"X-Team": domain.NewSecret("platform")}}
	receipt, err := webhook.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(srv.URL+"/hooks/herald", settings))
	if err != nil || receipt.Status != http.StatusAccepted || receipt.Body != "queued" {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/hooks/herald" || got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %s", got.Method, got.URL.Path, got.Header.Get("Content-Type"))
	}
	if user, pw, ok := got.BasicAuth(); !ok || user != "herald" || pw != "pw" {
		t.Fatalf("basic auth %q %q %v", user, pw, ok)
	}
	mac := hmac.New(sha256.New, []byte("s3cr3t"))
	mac.Write(body)
	if got.Header.Get(webhook.HeaderSignature) != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature %q", got.Header.Get(webhook.HeaderSignature))
	}
	if got.Header.Get(webhook.HeaderIdempotencyKey) != "67946415c113488b8fff8b335272a45b:cfg-1" || got.Header.Get("X-Team") != "platform" {
		t.Fatalf("headers %v", got.Header)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	want := `{"details":{"msg":"denied"},"id":"67946415c113488b8fff8b335272a45b","level":"error","message":"Failed to list tags in repository",` +
		`"resource":{"account_name":"alice","id":"docker.io/library/nginx","type":"repository"},` +
		`"source":{"base_url":"http://localhost:8082","host_id":"host-1","request_id":"req-1","service_name":"catalog"},` +
		`"timestamp":"2018-06-28T22:36:26.512589Z","type":"system.repository.list_tags_fail"}`
	if canon := string(must(json.Marshal(p))); canon != want {
		t.Fatalf("body:\n%s\nwant:\n%s", canon, want)
	}
}

func TestSend_classifiesFailures(t *testing.T) {
	cases := []struct {
		status     int
		retryAfter string
		retryable  bool
		wait       time.Duration
	}{
		{http.StatusInternalServerError, "", true, 0},
		{http.StatusServiceUnavailable, "7", true, 7 * time.Second},
		{http.StatusTooManyRequests, "30", true, 30 * time.Second},
		{http.StatusBadRequest, "", false, 0},
		{http.StatusUnauthorized, "", false, 0},
		{http.StatusNotFound, "", false, 0},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if c.retryAfter != "" {
				w.Header().Set("Retry-After", c.retryAfter)
			}
			w.WriteHeader(c.status)
		}))
		_, err := webhook.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(srv.URL, domain.WebhookSettings{}))
		srv.Close()
		var se *notify.SendError
		if !errors.As(err, &se) || se.Retryable != c.retryable || se.Status != c.status || se.RetryAfter != c.wait {
			t.Errorf("status %d: %+v", c.status, err)
		}
	}
	// Nobody listening: no answer at all, worth retrying.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := webhook.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(url, domain.WebhookSettings{})); !notify.IsRetryable(err) {
		t.Fatalf("unreachable receiver: %v", err)
	}
}

func TestSend_verifyTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	n := notification(srv.URL, domain.WebhookSettings{})
	if _, err := webhook.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), n); err == nil {
		t.Fatal("a self-signed certificate was accepted with verify_tls on")
	}
	n.Configuration.VerifyTLS = false
	if _, err := webhook.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), n); err != nil {
		t.Fatalf("verify_tls off: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSender_contract(t *testing.T) {
	sendertest.TestSender(t, func(c notify.HTTPClients) notify.Sender { return webhook.New(c) }, sendertest.Features{
		Notification: func(url, secret string) notify.Notification {
			return notification(url, domain.WebhookSettings{Username: "u", Password: domain.NewSecret(secret), HMACSecret: domain.NewSecret(secret)})
		},
		WrongKind: domain.SlackSettings{},
	})
}

// TestHeaderNamesAreCanonical: Send sets herald's own headers without canonicalising them.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, name := range []string{webhook.HeaderSignature, webhook.HeaderIdempotencyKey, webhook.HeaderEventID} {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("%q is not canonical; Go spells it %q", name, c)
		}
	}
}

// TestSend_aUserAgentOfTheSettingsWins: a receiver may expect its own User-Agent (an API
// gateway's allow list), and whoever configured one asked for it; without one, herald names
// itself. Stored headers are set in order of name, so each send carries the same values.
func TestSend_aUserAgentOfTheSettingsWins(t *testing.T) {
	for _, c := range []struct {
		headers map[string]domain.Secret
		want    string
	}{
		{nil, "herald"},
		{map[string]domain.Secret{"User-Agent": domain.NewSecret("acme-gateway/2")}, "acme-gateway/2"},
		{map[string]domain.Secret{"user-agent": domain.NewSecret("acme-gateway/3")}, "acme-gateway/3"},
	} {
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Values("User-Agent")
			w.WriteHeader(http.StatusOK)
		}))
		_, err := webhook.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(srv.URL, domain.WebhookSettings{Headers: c.headers}))
		srv.Close()
		if err != nil || len(got) != 1 || got[0] != c.want {
			t.Errorf("headers %v: User-Agent %q (%v), want %q", c.headers, got, err, c.want)
		}
	}

	// Names stored before validation refused the same name in another case: the one that
	// sorts last is sent, every time.
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("X-A")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	stored := map[string]domain.Secret{"X-A": domain.NewSecret("upper"), "x-a": domain.NewSecret("lower")}
	sender := webhook.New(notify.NewHTTPClients(nil, 0))
	for range 20 {
		_, err := sender.Send(context.Background(), notification(srv.URL, domain.WebhookSettings{Headers: stored}))
		if err != nil || len(got) != 1 || got[0] != "lower" {
			t.Fatalf("X-A %q (%v), want lower", got, err)
		}
	}
}

// One sender signs many notifications, with several secrets at once: each signature is the
// HMAC of its own body with its own configuration's secret (the keyed hashes are reused).
func TestSend_signaturesStayRightWhenReusedAcrossSecretsAndSends(t *testing.T) {
	checked := make(chan error, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := must(io.ReadAll(r.Body))
		mac := hmac.New(sha256.New, []byte("secret-"+r.URL.Path[1:]))
		mac.Write(body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.Header.Get(webhook.HeaderSignature) != want {
			checked <- errors.New(r.URL.Path + ": signature " + r.Header.Get(webhook.HeaderSignature) + ", want " + want)
		} else {
			checked <- nil
		}
	}))
	defer srv.Close()
	sender := webhook.New(notify.NewHTTPClients(nil, 0))
	const secrets, sends = 3, 20
	errs := make(chan error, secrets*sends)
	for i := range secrets * sends {
		go func() {
			name := string(rune('a' + i%secrets))
			n := notification(srv.URL+"/"+name, domain.WebhookSettings{HMACSecret: domain.NewSecret("secret-" + name)})
			n.Event.Message = strings.Repeat("x", i) // a different body each time
			_, err := sender.Send(context.Background(), n)
			errs <- err
		}()
	}
	for range secrets * sends {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if err := <-checked; err != nil {
			t.Fatal(err)
		}
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/graph"
)

// A variable gqlgen refuses is named in the CLI's error (the server names it): "must be
// defined" alone does not say which field is missing.
func TestClient_namesTheVariableTheServerRefused(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	c := newClient(&clientConfig{URL: app.url, User: "admin", Password: testAdminPassword})
	vars := map[string]any{"in": map[string]any{"name": "n", "selectors": []any{map[string]any{"level": "error"}}}}
	err := c.do(context.Background(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`, vars, nil)
	if err == nil || err.Error() != "invalid input: in.selectors[0].type: is required" {
		t.Fatalf("error = %v, want the missing selector type named", err)
	}
}

// TestClient_withoutCredentialsSaysHowToSignIn: a command run without credentials says which
// flags and variables give them, and where a new server's admin password is.
func TestClient_withoutCredentialsSaysHowToSignIn(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	err := newClient(&clientConfig{URL: app.url}).do(context.Background(), `{ events(first: 1) { totalCount } }`, nil, nil)
	if err == nil {
		t.Fatal("an anonymous request listed events")
	}
	for _, want := range []string{"needs credentials", "--user", "--password", "HERALD_USER", "HERALD_PASSWORD", "--token", "HERALD_TOKEN", "<data-dir>/admin-password"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestClient_userWithoutPasswordIsRefusedBeforeSending: --user without --password says the
// password is missing and how to give it, instead of the server's "wrong user name or
// password", and sends nothing.
func TestClient_userWithoutPasswordIsRefusedBeforeSending(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { requests.Add(1) }))
	defer srv.Close()
	err := newClient(&clientConfig{URL: srv.URL, User: "admin"}).do(context.Background(), `{ viewer { user } }`, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "--user admin needs a password") ||
		!strings.Contains(err.Error(), "--password or HERALD_PASSWORD") || !strings.Contains(err.Error(), "<data-dir>/admin-password") {
		t.Errorf("error = %v, want the missing password named with how to give it", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests were sent without a password", n)
	}
}

// silentListener accepts connections and neither reads nor answers them, like a hung
// process or a service that waits for the client to speak first.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// shortTimeouts are the client's limits cut to what a test waits.
func shortTimeouts() clientTimeouts {
	return clientTimeouts{connect: time.Second, handshake: time.Second, stall: 10 * time.Second, answer: 200 * time.Millisecond, overall: 20 * time.Second}
}

// TestClient_serverThatNeverAnswersIsReportedAfterTheAnswerLimit: a port that takes the
// request and never answers is reported after the answer's limit, with the URL asked, not
// after the overall one.
func TestClient_serverThatNeverAnswersIsReportedAfterTheAnswerLimit(t *testing.T) {
	url := silentListener(t)
	start := time.Now()
	err := newClientWithin(&clientConfig{URL: url}, shortTimeouts()).do(context.Background(), `{ viewer { user } }`, nil, nil)
	want := "the herald server at " + url + "/graphql did not answer within 200ms"
	var unanswered *unansweredError // it took the request: what became of it is unknown
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &unanswered) {
		t.Errorf("error = %v, want %q, and the request's outcome unknown", err, want)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
}

// TestClient_serverThatReadsNothingIsReportedAfterTheStallLimit: a big request to a port that
// takes none of it fills the socket's buffers, so the answer's limit never starts; the
// stall limit reports it.
func TestClient_serverThatReadsNothingIsReportedAfterTheStallLimit(t *testing.T) {
	url := silentListener(t)
	limits := shortTimeouts()
	limits.stall, limits.answer = 200*time.Millisecond, 10*time.Second
	start := time.Now()
	err := newClientWithin(&clientConfig{URL: url}, limits).do(context.Background(), recordJSONMutation, map[string]any{"events": strings.Repeat("x", 16<<20)}, nil)
	want := "the server at " + url + "/graphql read nothing of the request for 200ms"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want %q", err, want)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("took %s", took)
	}
}

// TestClient_recognisesARequestOverTheServersLimit: herald's answer to a body over its limit
// is a requestTooLargeError, which `event send` turns into advice on --batch-size.
func TestClient_recognisesARequestOverTheServersLimit(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	c := newClient(&clientConfig{URL: app.url, User: "admin", Password: testAdminPassword})
	err := c.do(context.Background(), recordJSONMutation, map[string]any{"events": strings.Repeat("x", graph.MaxBodyBytes)}, nil)
	var tooLarge *requestTooLargeError
	if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "larger than the limit of 67108864 bytes") {
		t.Errorf("error = %v, want it taken for a request too large", err)
	}
}

// TestClient_takesTheEndpointsURL: --url may name the GraphQL endpoint itself, as GraphiQL
// shows it; errors name the URL asked, not /graphql/graphql.
func TestClient_takesTheEndpointsURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"data":{"viewer":{"user":"admin"}}}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, url := range []string{srv.URL, srv.URL + "/", srv.URL + "/graphql", srv.URL + "/graphql/"} {
		if err := newClient(&clientConfig{URL: url}).do(context.Background(), `{ viewer { user } }`, nil, nil); err != nil {
			t.Errorf("--url %s: %v", url, err)
		}
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer broken.Close()
	err := newClient(&clientConfig{URL: broken.URL + "/graphql"}).do(context.Background(), `{ viewer { user } }`, nil, nil)
	if want := broken.URL + "/graphql answered 502 Bad Gateway"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestClient_urlThatCannotWorkIsRefusedBeforeSending: each says what to give instead, before
// any input is read.
func TestClient_urlThatCannotWorkIsRefusedBeforeSending(t *testing.T) {
	for url, want := range map[string]string{
		"localhost:8228":        `--url "localhost:8228" needs a scheme: http://localhost:8228`,
		"127.0.0.1:8228":        `--url "127.0.0.1:8228" needs a scheme: http://127.0.0.1:8228`,
		"herald":                `--url "herald" needs a scheme: http://herald`,
		"":                      "--url is empty: give the server's base URL, such as http://localhost:8228",
		"ftp://herald:8228":     `--url "ftp://herald:8228": use an http:// or https:// URL`,
		"http://":               `--url "http://" names no host`,
		"http://herald/?a=b":    `--url "http://herald/?a=b": give the server's base URL, without a query or fragment`,
		"http://herald:port":    `--url "http://herald:port": invalid port ":port" after host`,
		"http://herald:8228/#x": `--url "http://herald:8228/#x": give the server's base URL, without a query or fragment`,
	} {
		err := newClient(&clientConfig{URL: url}).do(context.Background(), `{ viewer { user } }`, nil, nil)
		if err == nil || err.Error() != want {
			t.Errorf("--url %q: %v, want %s", url, err, want)
		}
	}
	_, _, err := runCLI(t, kafkaEvents("url", 1), "event", "send", "--url", "localhost:8228")
	if want := `--url "localhost:8228" needs a scheme: http://localhost:8228`; err == nil || err.Error() != want {
		t.Errorf("event send: %v, want %s", err, want)
	}
}

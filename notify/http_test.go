package notify_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herald/notify"
)

// receiver is an httptest server on 127.0.0.1 that counts the requests reaching it.
func receiver(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestPostJSON_aDestinationTheDefaultPolicyRefusesIsAFinalFailure(t *testing.T) {
	t.Parallel()
	srv, hits := receiver(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	clients := notify.NewHTTPClients(notify.OutboundPolicy{Deny: notify.DefaultDeny()}.Transport(), 0)
	for _, url := range []string{srv.URL + "/hook/s3cr3t-value", "http://localhost:" + port + "/hook/s3cr3t-value"} {
		for _, client := range []*http.Client{clients.Verify, clients.Insecure} {
			_, err := notify.PostJSON(context.Background(), client, url, []byte(`{}`), nil)
			var se *notify.SendError
			if !errors.As(err, &se) || se.Retryable || !errors.Is(err, notify.ErrDestinationRefused) {
				t.Fatalf("%s: got %v, want a final refusal", url, err)
			}
			if !strings.Contains(err.Error(), "is refused by the outbound policy (loopback); allow it with --outbound-allow") {
				t.Errorf("the error does not say how to allow the destination: %v", err)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") || strings.Contains(err.Error(), srv.URL) {
				t.Errorf("the URL appears in the error: %v", err)
			}
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests reached the refused receiver", hits.Load())
	}
}

func TestPostJSON_anAllowedDestinationIsReached(t *testing.T) {
	t.Parallel()
	srv, hits := receiver(t)
	allow, err := notify.ParseNetworks([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	clients := notify.NewHTTPClients(notify.OutboundPolicy{Allow: allow, Deny: notify.DefaultDeny()}.Transport(), 0)
	receipt, err := notify.PostJSON(context.Background(), clients.For(true), srv.URL+"/hook", []byte(`{}`), nil)
	if err != nil || receipt.Status != http.StatusOK || receipt.Body != "ok" || hits.Load() != 1 {
		t.Fatalf("got %+v %v after %d requests", receipt, err, hits.Load())
	}
}

// Only the policy's refusal is final: a permitted receiver that does not answer may answer
// next time.
func TestPostJSON_anUnreachablePermittedDestinationIsRetryable(t *testing.T) {
	t.Parallel()
	srv, _ := receiver(t)
	url := srv.URL + "/hook/s3cr3t-value"
	srv.Close()
	allow, err := notify.ParseNetworks([]string{"loopback"})
	if err != nil {
		t.Fatal(err)
	}
	clients := notify.NewHTTPClients(notify.OutboundPolicy{Allow: allow, Deny: notify.DefaultDeny()}.Transport(), 0)
	_, err = notify.PostJSON(context.Background(), clients.For(true), url, []byte(`{}`), nil)
	if !notify.IsRetryable(err) || errors.Is(err, notify.ErrDestinationRefused) {
		t.Fatalf("got %v, want a retryable failure", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-value") {
		t.Fatalf("the URL appears in the error: %v", err)
	}
}

// A permitted receiver cannot lead herald to a refused one by redirecting it there (since
// redirects may not leave the receiver's server at all, that is refused first).
func TestPostJSON_aRedirectToARefusedDestinationIsRefused(t *testing.T) {
	t.Parallel()
	target, hits := receiver(t)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	redirecting := httptest.NewServer(http.RedirectHandler("http://127.0.0.2:"+port+"/hook", http.StatusTemporaryRedirect))
	t.Cleanup(redirecting.Close)
	allow, err := notify.ParseNetworks([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	clients := notify.NewHTTPClients(notify.OutboundPolicy{Allow: allow, Deny: notify.DefaultDeny()}.Transport(), 0)
	_, err = notify.PostJSON(context.Background(), clients.For(true), redirecting.URL, []byte(`{}`), nil)
	if notify.IsRetryable(err) || !strings.Contains(err.Error(), "redirected to another server (127.0.0.2:") {
		t.Fatalf("got %v, want a final refusal of 127.0.0.2", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the redirect reached the refused receiver")
	}
}

// TestNewHTTPClients_keepsAConnectionPerSendUnderWay sends two rounds of 150 requests at once
// with a concurrency of 150: the second round finds the first round's connections idle and
// opens none (Go keeps 2 idle per host and 100 over all hosts by default; herald used to keep
// 64 whatever the concurrency).
func TestNewHTTPClients_keepsAConnectionPerSendUnderWay(t *testing.T) {
	t.Parallel()
	const concurrency = 150
	var opened atomic.Int32
	arrived := make(chan struct{}, concurrency)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	clients := notify.NewHTTPClients(nil, concurrency)
	for round := range 2 {
		errs := make(chan error, concurrency)
		for range concurrency {
			go func() {
				_, err := notify.PostJSON(context.Background(), clients.Verify, srv.URL, []byte(`{}`), nil)
				errs <- err
			}()
		}
		for range concurrency { // every request holds its own connection
			<-arrived
		}
		for range concurrency {
			release <- struct{}{}
		}
		for range concurrency {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if got := opened.Load(); got != concurrency {
			t.Fatalf("after round %d the receiver saw %d connections, want %d", round, got, concurrency)
		}
	}
}

// TestPostJSON_redirectsStayOnTheServer: a redirect within the receiver's server is followed,
// body and headers included; one to another server is a final failure, and that server never
// sees the request (the configuration's credentials travel in its headers).
func TestPostJSON_redirectsStayOnTheServer(t *testing.T) {
	t.Parallel()
	other, otherHits := receiver(t)
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/hook", http.StatusPermanentRedirect)
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		case "/login":
			http.Redirect(w, r, other.URL+"/portal", http.StatusSeeOther) // an authenticating proxy's answer
		case "/old", "/found", "/see-other":
			code := map[string]int{"/old": http.StatusMovedPermanently, "/found": http.StatusFound, "/see-other": http.StatusSeeOther}[r.URL.Path]
			http.Redirect(w, r, "/hook", code)
		case "/hook":
			body, _ := io.ReadAll(r.Body)
			got.Store(r.Method + " " + r.Header.Get("X-Api-Key") + " " + string(body))
		}
	}))
	t.Cleanup(srv.Close)
	clients := notify.NewHTTPClients(nil, 0)
	header := http.Header{"X-Api-Key": {"TOPSECRET"}}
	if _, err := notify.PostJSON(context.Background(), clients.Verify, srv.URL+"/moved", []byte(`{"a":1}`), header); err != nil {
		t.Fatalf("redirect within the server: %v", err)
	}
	if g, _ := got.Load().(string); g != `POST TOPSECRET {"a":1}` {
		t.Errorf("after the redirect the receiver got %q", g)
	}
	// Go would follow these with a GET without the body: the receiver would answer it, and
	// the notification would count as delivered.
	for _, path := range []string{"/old", "/found", "/see-other"} {
		got.Store("")
		_, err := notify.PostJSON(context.Background(), clients.Verify, srv.URL+path, []byte(`{"a":1}`), header)
		var se *notify.SendError
		if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "turns the POST into a GET") || strings.Contains(err.Error(), "/hook") ||
			!strings.Contains(err.Error(), "(its Location header, on "+srv.URL+")") {
			t.Errorf("POST to %s: %v, want a final failure saying the redirect is not followed, with the server but not the path it redirects to", path, err)
		}
		if g, _ := got.Load().(string); g != "" {
			t.Errorf("POST to %s: the receiver got %q", path, g)
		}
	}
	for _, path := range []string{"/away", "/login"} {
		_, err := notify.PostJSON(context.Background(), clients.Verify, srv.URL+path, []byte(`{"a":1}`), header)
		var se *notify.SendError
		if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "redirected to another server") {
			t.Errorf("POST to %s, redirected to another server: %v, want a final failure saying so", path, err)
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other server was reached %d times", n)
	}
}

// TestPostJSON_readsTheFirst4KiBOfTheAnswer: the receipt holds the answer's first 4 KiB,
// whether its length is announced or not, and a short answer read whole leaves the
// connection to the next send.
func TestPostJSON_readsTheFirst4KiBOfTheAnswer(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 10_000)
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := map[string]string{"/empty": "", "/short": "ok", "/long": long, "/chunked-short": "ok", "/chunked-long": long}[r.URL.Path]
		if strings.HasPrefix(r.URL.Path, "/chunked") {
			w.(http.Flusher).Flush() // the length is not announced
		}
		_, _ = io.WriteString(w, answer)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	clients := notify.NewHTTPClients(nil, 1)
	for _, tc := range []struct{ path, want string }{
		{"/empty", ""}, {"/short", "ok"}, {"/long", long[:4096]}, {"/chunked-short", "ok"}, {"/chunked-long", long[:4096]},
	} {
		receipt, err := notify.PostJSON(context.Background(), clients.Verify, srv.URL+tc.path, []byte(`{}`), nil)
		if err != nil || receipt.Status != http.StatusOK || receipt.Body != tc.want {
			t.Errorf("%s: got status %d, a body of %d bytes, %v; want 200 and %d bytes", tc.path, receipt.Status, len(receipt.Body), err, len(tc.want))
		}
	}
	for range 3 {
		if _, err := notify.PostJSON(context.Background(), clients.Verify, srv.URL+"/short", []byte(`{}`), nil); err != nil {
			t.Fatal(err)
		}
	}
	// the long answers are left unread past 4 KiB, so their connections are closed; the
	// others, and the three short ones after them, share connections
	if got := opened.Load(); got > 3 {
		t.Errorf("the receiver saw %d connections for 8 sends, want at most 3 (one, and one after each long answer)", got)
	}
}

// A host name the DNS says does not exist is a final failure: retrying cannot help until the
// URL is corrected. A lookup that failed for the moment is retried.
func TestPostJSON_aHostThatDoesNotExistIsAFinalFailure(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lookup    *net.DNSError
		retryable bool
	}{
		{&net.DNSError{Err: "no such host", Name: "hooks.exmaple.com", Server: "10.255.255.53:53", IsNotFound: true}, false},
		{&net.DNSError{Err: "server misbehaving", Name: "hooks.example.com", Server: "10.255.255.53:53", IsTemporary: true}, true},
		{&net.DNSError{Err: "i/o timeout", Name: "hooks.example.com", IsTimeout: true}, true},
	} {
		client := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: c.lookup}
		}}}
		_, err := notify.PostJSON(context.Background(), client, "https://"+c.lookup.Name+"/hook", []byte(`{}`), nil)
		var se *notify.SendError
		if !errors.As(err, &se) || se.Retryable != c.retryable || !strings.Contains(err.Error(), "lookup "+c.lookup.Name+": "+c.lookup.Err) {
			t.Errorf("%s: got %v, want a SendError with retryable %v", c.lookup.Err, err, c.retryable)
		}
		if strings.Contains(err.Error(), "10.255.255.53") { // account users read it: not the server's resolver
			t.Errorf("%s: %v names the DNS server", c.lookup.Err, err)
		}
	}
}

// A receiver whose certificate herald does not trust is a setting to correct: no retry would
// pass, so the failure is final and says what to do. A receiver that does not answer within
// the send timeout is retried, and the error names the timeout's flag.
func TestPostJSON_anUntrustedCertificateIsAFinalFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	allow, err := notify.ParseNetworks([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	clients := notify.NewHTTPClients(notify.OutboundPolicy{Allow: allow, Deny: notify.DefaultDeny()}.Transport(), 0)
	_, err = notify.PostJSON(context.Background(), clients.For(true), srv.URL+"/hook", []byte(`{}`), nil)
	if err == nil || notify.IsRetryable(err) || !strings.Contains(err.Error(), "certificate signed by unknown authority; the receiver's TLS certificate is not one herald trusts") {
		t.Fatalf("got %v, want a final failure about the certificate", err)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release) // before Close, which waits for the handler
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = notify.PostJSON(ctx, clients.For(true), slow.URL+"/hook", []byte(`{}`), nil)
	if !notify.IsRetryable(err) || !strings.Contains(err.Error(), "no answer within the send timeout (--notify-send-timeout)") {
		t.Fatalf("got %v, want a retryable failure naming the send timeout", err)
	}
}

package notify

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter counts the connections a test server accepted, and those it has closed.
type connCounter struct{ opened, closed atomic.Int32 }

func (c *connCounter) track(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.opened.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.closed.Add(1)
	}
}

// countedServer is a test server of h that counts its connections.
func countedServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *connCounter) {
	t.Helper()
	var conns connCounter
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = conns.track
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// echoServer answers 200 with "got <method> <path> <body>" and checks what every request
// carries; it fails the test on anything else.
func echoServer(t *testing.T) (*httptest.Server, *connCounter) {
	t.Helper()
	return countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		switch {
		case err != nil:
			t.Errorf("reading the body: %v", err)
		case r.Proto != "HTTP/1.1", r.Host != strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("X-Want-Host"), "http://"), "https://"),
			r.ContentLength != int64(len(body)), r.Header.Get("Content-Type") != "application/json", r.Header.Get("User-Agent") != "herald":
			t.Errorf("request %s %s host %q length %d (body %d) type %q agent %q", r.Proto, r.URL, r.Host, r.ContentLength, len(body), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"))
		}
		_, _ = fmt.Fprintf(w, "got %s %s %s", r.Method, r.URL.Path, body)
	})
}

func post(t *testing.T, client *http.Client, ctx context.Context, target, body string, header http.Header) (Receipt, error) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	header.Set("X-Want-Host", target[:strings.Index(target[8:], "/")+8])
	return PostJSON(ctx, client, target, []byte(body), header)
}

func TestHTTP1Transport_keepsOneConnectionForRequestsInTurn(t *testing.T) {
	t.Parallel()
	srv, conns := echoServer(t)
	client := NewHTTPClients(nil, 0).Verify
	for i := range 20 {
		receipt, err := post(t, client, context.Background(), srv.URL+"/hooks/a", fmt.Sprintf(`{"n":%d}`, i), nil)
		if err != nil || receipt.Status != 200 || receipt.Body != fmt.Sprintf(`got POST /hooks/a {"n":%d}`, i) {
			t.Fatalf("post %d: %+v %v", i, receipt, err)
		}
	}
	if n := conns.opened.Load(); n != 1 {
		t.Fatalf("%d connections for 20 requests in turn, want 1", n)
	}
}

func TestHTTP1Transport_manyAtOnceShareAtMostOneConnectionEach(t *testing.T) {
	t.Parallel()
	srv, conns := echoServer(t)
	client := NewHTTPClients(nil, 16).Verify
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 25 {
				body := fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)
				receipt, err := post(t, client, context.Background(), srv.URL+"/c", body, nil)
				if err != nil || receipt.Body != "got POST /c "+body {
					t.Errorf("post %s: %+v %v", body, receipt, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := conns.opened.Load(); n > 16 {
		t.Fatalf("%d connections for 16 senders, want at most 16", n)
	}
}

func TestHTTP1Transport_aConnectionTheReceiverClosesIsNotUsedAgain(t *testing.T) {
	t.Parallel()
	srv, conns := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Connection", "close")
	})
	client := NewHTTPClients(nil, 0).Verify
	for i := range 3 {
		if receipt, err := post(t, client, context.Background(), srv.URL+"/x", "{}", nil); err != nil || receipt.Status != 200 {
			t.Fatalf("post %d: %+v %v", i, receipt, err)
		}
	}
	if n := conns.opened.Load(); n != 3 {
		t.Fatalf("%d connections, want 3: each answer said Connection: close", n)
	}
}

// A receiver that closes connections idle for a while (Node.js does after 5 s): a kept
// connection it has closed is found before use, or, when found only by the failed request,
// the request is sent again on a new connection if it carries an idempotency key.
func TestHTTP1Transport_aKeptConnectionTheReceiverClosedWhileIdle(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hits.Add(1)
	}))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	idle := func(check bool) *http.Client {
		clients := NewHTTPClients(nil, 0)
		if !check {
			clients.Verify.Transport.(*http1Transport).check = func(net.Conn) bool { return false }
		}
		if _, err := post(t, clients.Verify, context.Background(), srv.URL+"/x", "{}", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the receiver closes the connection
		return clients.Verify
	}
	t.Run("checked before use", func(t *testing.T) {
		client := idle(true)
		if receipt, err := post(t, client, context.Background(), srv.URL+"/x", "{}", nil); err != nil || receipt.Status != 200 {
			t.Fatalf("%+v %v", receipt, err)
		}
	})
	t.Run("found by the request, which has an idempotency key", func(t *testing.T) {
		client := idle(false)
		before := hits.Load()
		header := http.Header{"Idempotency-Key": {"e1:c1"}}
		if receipt, err := post(t, client, context.Background(), srv.URL+"/x", "{}", header); err != nil || receipt.Status != 200 {
			t.Fatalf("%+v %v", receipt, err)
		}
		if n := hits.Load() - before; n != 1 {
			t.Fatalf("the receiver got %d requests, want 1", n)
		}
	})
	t.Run("found by the request, which has no idempotency key", func(t *testing.T) {
		client := idle(false)
		_, err := post(t, client, context.Background(), srv.URL+"/x", "{}", nil)
		if !IsRetryable(err) || !strings.Contains(err.Error(), "no answer") {
			t.Fatalf("got %v, want a retryable 'no answer' (a POST without a key is not sent twice by the transport)", err)
		}
	})
}

// An answer read only in part (the senders read 4 KiB) leaves its connection unusable: it is
// closed, and the next request has a new one.
func TestHTTP1Transport_anAnswerReadInPartClosesItsConnection(t *testing.T) {
	t.Parallel()
	srv, conns := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for range 4 { // chunked, 40 KiB
			_, _ = io.WriteString(w, strings.Repeat("x", 10<<10))
			w.(http.Flusher).Flush()
		}
	})
	client := NewHTTPClients(nil, 0).Verify
	for i := range 2 {
		receipt, err := post(t, client, context.Background(), srv.URL+"/big", "{}", nil)
		if err != nil || len(receipt.Body) != 4096 {
			t.Fatalf("post %d: %d bytes, %v", i, len(receipt.Body), err)
		}
	}
	if n := conns.opened.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

func TestHTTP1Transport_informationalAnswersComeBeforeTheResponse(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "queued")
	}))
	t.Cleanup(srv.Close)
	receipt, err := post(t, NewHTTPClients(nil, 0).Verify, context.Background(), srv.URL+"/x", "{}", nil)
	if err != nil || receipt.Status != http.StatusAccepted || receipt.Body != "queued" {
		t.Fatalf("%+v %v", receipt, err)
	}
}

// silentReceiver accepts connections and reads requests, and never answers.
func silentReceiver(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestHTTP1Transport_theContextBoundsTheRoundTrip(t *testing.T) {
	t.Parallel()
	target := silentReceiver(t) + "/x"
	client := NewHTTPClients(nil, 0).Verify
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := post(t, client, ctx, target, "{}", nil)
		if !errors.Is(err, context.DeadlineExceeded) || !IsRetryable(err) || time.Since(start) > 2*time.Second {
			t.Fatalf("after %s: %v, want a retryable deadline exceeded", time.Since(start), err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := post(t, client, ctx, target, "{}", nil)
		if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
			t.Fatalf("after %s: %v, want canceled", time.Since(start), err)
		}
	})
}

func TestHTTP1Transport_TLS(t *testing.T) {
	t.Parallel()
	var conns connCounter
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "tls %v %s %s", r.TLS != nil, r.TLS.ServerName, body)
	}))
	srv.Config.ConnState = conns.track
	srv.StartTLS()
	t.Cleanup(srv.Close)
	clients := NewHTTPClients(nil, 0)
	// the test server's certificate is for example.com and 127.0.0.1: by the name localhost,
	// the server name sent is seen
	target := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/x"

	_, err := post(t, clients.Verify, context.Background(), srv.URL+"/x", "{}", nil)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("verify_tls on, a certificate of an unknown authority: got %v", err)
	}
	for i := range 5 {
		receipt, err := post(t, clients.Insecure, context.Background(), target, fmt.Sprint(i), nil)
		if err != nil || receipt.Body != fmt.Sprintf("tls true localhost %d", i) {
			t.Fatalf("verify_tls off, post %d: %+v %v", i, receipt, err)
		}
	}
	if n := conns.opened.Load(); n != 2 { // the refused one, and one for the five
		t.Fatalf("%d connections, want 2", n)
	}

	trusted := NewHTTPClients(nil, 0)
	trusted.Verify.Transport.(*http1Transport).base.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	if receipt, err := post(t, trusted.Verify, context.Background(), srv.URL+"/x", "ok", nil); err != nil || receipt.Body != "tls true  ok" {
		t.Fatalf("verify_tls on, a trusted certificate: %+v %v", receipt, err)
	}
	// an answer tells of the TLS connection it came on, as Go's transport's answers do
	for i := range 2 { // a new connection, then a kept one
		resp, err := trusted.Verify.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.TLS == nil || !resp.TLS.HandshakeComplete || len(resp.TLS.PeerCertificates) == 0 {
			t.Fatalf("answer %d: resp.TLS = %+v, want the connection's state", i, resp.TLS)
		}
	}
}

// A request that goes through a proxy is Go's http.Transport's to send.
func TestHTTP1Transport_aProxiedRequestGoesThroughTheProxy(t *testing.T) {
	t.Parallel()
	var asked atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.RequestURI)
		_, _ = io.WriteString(w, "via proxy")
	}))
	t.Cleanup(proxy.Close)
	proxyURL, _ := url.Parse(proxy.URL)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = http.ProxyURL(proxyURL)
	client := NewHTTPClients(base, 0).Verify
	receipt, err := PostJSON(context.Background(), client, "http://receiver.invalid/hooks", []byte("{}"), nil)
	if err != nil || receipt.Body != "via proxy" || asked.Load() != "http://receiver.invalid/hooks" {
		t.Fatalf("%+v %v, the proxy was asked for %v", receipt, err, asked.Load())
	}
}

func TestHTTP1Transport_idleConnectionsAreClosedAfterIdleConnTimeout(t *testing.T) {
	t.Parallel()
	srv, conns := echoServer(t)
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.IdleConnTimeout = 50 * time.Millisecond
	client := NewHTTPClients(base, 0).Verify
	if _, err := post(t, client, context.Background(), srv.URL+"/x", "{}", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for conns.closed.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the idle connection was not closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr := client.Transport.(*http1Transport)
	tr.mu.Lock()
	kept := tr.count
	tr.mu.Unlock()
	if kept != 0 {
		t.Fatalf("%d connections still counted as kept", kept)
	}
}

// What goes on the wire is what Go's own transport writes, byte for byte, but for the
// Accept-Encoding it adds (and then decompresses): the senders' requests were checked against
// the real services' documentation with that transport.
func TestHTTP1Transport_writesTheRequestGoWrites(t *testing.T) {
	t.Parallel()
	capture := func(rt http.RoundTripper) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			req, err := http.ReadRequest(r)
			if err != nil {
				got <- err.Error()
				return
			}
			body, _ := io.ReadAll(req.Body)
			req.Header.Del("Accept-Encoding")
			var b strings.Builder
			fmt.Fprintf(&b, "%s %s %s\nHost: %s\nContent-Length: %d\n", req.Method, req.RequestURI, req.Proto, req.Host, req.ContentLength)
			_ = req.Header.Write(&b)
			b.Write(body)
			_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
			got <- strings.ReplaceAll(b.String(), ln.Addr().String(), "ADDR")
		}()
		header := http.Header{"Idempotency-Key": {"k"}, "Authorization": {"Basic eDp5"}}
		client := &http.Client{Transport: rt}
		if _, err := PostJSON(context.Background(), client, "http://"+ln.Addr().String()+"/a/b?c=d", []byte(`{"x":1}`), header); err != nil {
			t.Fatal(err)
		}
		return <-got
	}
	ours := capture(NewHTTPClients(nil, 0).Verify.Transport)
	gos := capture(http.DefaultTransport.(*http.Transport).Clone())
	if ours != gos || !strings.Contains(ours, "POST /a/b?c=d HTTP/1.1") {
		t.Fatalf("ours:\n%s\nGo's:\n%s", ours, gos)
	}
}

// An answer of announced length closed with a little left unread (a JSON decoder stops before
// the final newline) keeps its connection; one with much left does not.
func TestHTTP1Transport_aLittleLeftUnreadIsReadAtClose(t *testing.T) {
	t.Parallel()
	srv, conns := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		size := len(r.URL.Path) * 1000 // /s: 2 KB, /long: 5 KB
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = io.WriteString(w, strings.Repeat("x", size))
	})
	client := NewHTTPClients(nil, 0).Verify
	get := func(path string) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := resp.Body.Read(make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	get("/s")
	get("/s")
	if n := conns.opened.Load(); n != 1 {
		t.Fatalf("%d connections for two answers with 2 KB left unread, want 1", n)
	}
	get("/long")
	get("/s")
	if n := conns.opened.Load(); n != 2 {
		t.Fatalf("%d connections after an answer with 5 KB left unread, want 2", n)
	}
}

// rawReceiver is a TCP server whose connections are handled by serve; it counts them.
func rawReceiver(t *testing.T, serve func(c net.Conn, r *bufio.Reader)) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String(), &conns
}

// answerEach reads requests on c and answers each with answer(n), n counting from 1.
func answerEach(c net.Conn, r *bufio.Reader, answer func(n int) string) {
	for n := 1; ; n++ {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		if _, err := io.WriteString(c, answer(n)); err != nil {
			return
		}
	}
}

// Bytes after an answer's body (a Content-Length that counted characters, not bytes) are no
// answer to the next request: the connection is closed, and the next request gets its own.
func TestHTTP1Transport_bytesAfterAnAnswerAreNotTakenForTheNextOne(t *testing.T) {
	t.Parallel()
	target, conns := rawReceiver(t, func(c net.Conn, r *bufio.Reader) {
		answerEach(c, r, func(n int) string {
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok %dHTTP/1.1 500 Junk\r\nContent-Length: 0\r\n\r\n", n)
		})
	})
	client := NewHTTPClients(nil, 0).Verify
	for i := range 3 {
		receipt, err := post(t, client, context.Background(), target+"/x", "{}", nil)
		if err != nil || receipt.Status != 200 || receipt.Body != "ok 1" {
			t.Fatalf("post %d: %+v %v", i, receipt, err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

// An answer a receiver sends unasked on a kept connection (a 408 before it closes an idle
// one) is found before the connection is used again.
func TestHTTP1Transport_anAnswerSentUnaskedIsNotTakenForTheNextOne(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	target, conns := rawReceiver(t, func(c net.Conn, r *bufio.Reader) {
		answerEach(c, r, func(int) string {
			got.Add(1)
			go func() {
				time.Sleep(30 * time.Millisecond)
				_, _ = io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
			}()
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		})
	})
	client := NewHTTPClients(nil, 0).Verify
	for i := range 2 {
		if receipt, err := post(t, client, context.Background(), target+"/x", "{}", nil); err != nil || receipt.Status != 200 {
			t.Fatalf("post %d: %+v %v", i, receipt, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, g := conns.Load(), got.Load(); n != 2 || g != 2 {
		t.Fatalf("%d connections and %d requests, want 2 and 2", n, g)
	}
}

// A request whose context has ended goes nowhere, even on a kept connection.
func TestHTTP1Transport_aContextEndedAlreadySendsNothing(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv, _ := countedServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	})
	client := NewHTTPClients(nil, 0).Verify
	ended, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("the pair's lock was lost"))
	for i := range 50 {
		if _, err := post(t, client, context.Background(), srv.URL+"/x", "{}", nil); err != nil {
			t.Fatal(err) // and its connection is kept
		}
		_, err := post(t, client, ended, srv.URL+"/x", "{}", nil)
		if err == nil || !strings.Contains(err.Error(), "the pair's lock was lost") {
			t.Fatalf("got %v, want the context's cause", err)
		}
		if n := hits.Load(); n != int32(i+1) {
			t.Fatalf("the receiver got %d requests, want %d: one went out after its context ended", n, i+1)
		}
	}
}

// An internationalised host name is dialled, and named to TLS, in punycode.
func TestHTTP1Transport_anInternationalisedHostIsDialledInPunycode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%s %s", r.TLS.ServerName, r.Host)
	}))
	t.Cleanup(srv.Close)
	var dialled atomic.Value
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		dialled.Store(address)
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	client := NewHTTPClients(base, 0).Insecure
	receipt, err := PostJSON(context.Background(), client, "https://bücher.example:8443/x", []byte("{}"), nil)
	if err != nil || receipt.Body != "xn--bcher-kva.example xn--bcher-kva.example:8443" || dialled.Load() != "xn--bcher-kva.example:8443" {
		t.Fatalf("%+v %v, dialled %v", receipt, err, dialled.Load())
	}
}

func TestHTTP1Transport_anAnswersHeadIsBounded(t *testing.T) {
	t.Parallel()
	target, _ := rawReceiver(t, func(c net.Conn, r *bufio.Reader) {
		if _, err := http.ReadRequest(r); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Filler: " + strings.Repeat("x", 1000) + "\r\n"
		for range 2000 { // 2 MB of headers
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	})
	_, err := post(t, NewHTTPClients(nil, 0).Verify, context.Background(), target+"/x", "{}", nil)
	if err == nil || !strings.Contains(err.Error(), "more than 1024 KiB of headers") || !IsRetryable(err) {
		t.Fatalf("got %v", err)
	}
}

// A body left open is not left open for ever: when the request's context ends, its
// connection is closed. And closing a body never waits for the receiver.
func TestHTTP1Transport_aBodyLeftOpenOrStalled(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 2)
	target, _ := rawReceiver(t, func(c net.Conn, r *bufio.Reader) {
		if _, err := http.ReadRequest(r); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789") // and then nothing
		_, _ = io.Copy(io.Discard, r)                                                        // until herald closes
		closed <- struct{}{}
	})
	client := NewHTTPClients(nil, 0).Verify
	t.Run("left open", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target+"/x", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp // never read nor closed
		cancel()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection stayed open after the request's context ended")
		}
	})
	t.Run("stalled", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, target+"/x", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		reading := make(chan error, 1)
		go func() { _, err := io.ReadAll(resp.Body); reading <- err }()
		time.Sleep(50 * time.Millisecond) // the read waits for the other 90 bytes
		start := time.Now()
		_ = resp.Body.Close()
		if took := time.Since(start); took > time.Second {
			t.Fatalf("Close took %s", took)
		}
		if err := <-reading; err == nil {
			t.Fatal("the read cut short by Close reported no error")
		}
		<-closed
	})
}

package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// http1Transport is the round tripper of the senders' clients: HTTP/1.1 with keep-alive,
// each round trip done on the caller's goroutine. Go's http.Transport hands every request to
// two goroutines of its connection (one writes, one reads) and back; in a fan-out that
// hand-off, its channels and its per-request context cost about a sixth of herald's CPU per
// notification (BENCHMARKS.md). The request and the response are still written and read by
// net/http itself (Request.Write, http.ReadResponse).
//
// It takes plain and TLS connections that go straight to the receiver. A request that goes
// through a proxy (HTTP_PROXY, HTTPS_PROXY), or has another scheme, is left to base, as are
// the outbound rules: base's Proxy function checks the URL's host, and base's dialer checks
// each address it connects to.
//
// A connection is kept for the next request to the same host when the response said nothing
// against it and its body was read to the end (the senders read answers of up to 4 KiB).
// One that sat idle for a while is checked before it is used again; if the receiver closed
// it anyway, a request that may be repeated (a GET, or a POST with an Idempotency-Key, as
// every webhook carries) is sent again once on a new connection, as http.Transport does.
type http1Transport struct {
	base *http.Transport
	dial func(ctx context.Context, network, address string) (net.Conn, error)
	// perHost and total bound the idle connections kept (total 0: no bound); idleFor is how
	// long one is kept; checkAfter is the idle time after which one is checked before use.
	perHost, total      int
	idleFor, checkAfter time.Duration

	mu      sync.Mutex
	idle    map[string][]*h1Conn // by scheme://host:port, the most recently used last
	count   int
	reaping bool
}

func newHTTP1Transport(base *http.Transport, perHost int) *http1Transport {
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	idleFor := base.IdleConnTimeout
	if idleFor <= 0 {
		idleFor = 90 * time.Second
	}
	return &http1Transport{
		base: base, dial: dial, perHost: perHost, total: base.MaxIdleConns,
		idleFor: idleFor, checkAfter: time.Second, idle: map[string][]*h1Conn{},
	}
}

// RoundTrip implements http.RoundTripper.
func (t *http1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return t.base.RoundTrip(req)
	}
	if t.base.Proxy != nil {
		proxy, err := t.base.Proxy(req) // also the outbound rules' check of the host
		if err != nil {
			closeBody(req)
			return nil, err
		}
		if proxy != nil {
			return t.base.RoundTrip(req)
		}
	}
	ctx := req.Context()
	key := req.URL.Scheme + "://" + hostPort(req.URL.Scheme, req.URL.Host)
	for retried := false; ; retried = true {
		c, reused, err := t.conn(ctx, key, req.URL.Hostname(), retried)
		if err != nil {
			closeBody(req)
			return nil, failure(ctx, err)
		}
		resp, nothingRead, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		if retried || !reused || !nothingRead || ctx.Err() != nil || !replayable(req) {
			return nil, failure(ctx, err)
		}
		// the receiver closed a kept connection as the request went out: send it again, on a
		// new connection (the others kept may have been closed at the same time)
		if req.Body != nil && req.Body != http.NoBody {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, failure(ctx, err)
			}
			again := *req
			again.Body = body
			req = &again
		}
	}
}

// CloseIdleConnections closes the kept connections (http.Client.CloseIdleConnections).
func (t *http1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle, t.count = map[string][]*h1Conn{}, 0
	t.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			_ = c.nc.Close()
		}
	}
	t.base.CloseIdleConnections()
}

// conn returns a kept connection to key, or a new one (always when fresh); reused tells which.
func (t *http1Transport) conn(ctx context.Context, key, serverName string, fresh bool) (*h1Conn, bool, error) {
	for !fresh {
		c := t.take(key)
		if c == nil {
			break
		}
		if time.Since(c.idleSince) < t.checkAfter || !closedByPeer(c.nc) {
			return c, true, nil
		}
		_ = c.nc.Close()
	}
	address := strings.TrimPrefix(strings.TrimPrefix(key, "http://"), "https://")
	nc, err := t.dial(ctx, "tcp", address)
	if err != nil {
		return nil, false, err
	}
	if strings.HasPrefix(key, "https://") {
		if nc, err = t.handshake(ctx, nc, serverName); err != nil {
			return nil, false, err
		}
	}
	c := &h1Conn{t: t, nc: nc, key: key}
	c.br, c.bw = bufio.NewReader(c), bufio.NewWriter(nc)
	return c, false, nil
}

func (t *http1Transport) handshake(ctx context.Context, nc net.Conn, serverName string) (net.Conn, error) {
	cfg := t.base.TLSClientConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	cfg.NextProtos = []string{"http/1.1"}
	if t.base.TLSHandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.base.TLSHandshakeTimeout)
		defer cancel()
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return tc, nil
}

func (t *http1Transport) take(key string) *h1Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns := t.idle[key]
	if len(conns) == 0 {
		return nil
	}
	c := conns[len(conns)-1]
	conns[len(conns)-1] = nil
	t.idle[key] = conns[:len(conns)-1]
	t.count--
	return c
}

// put keeps c for the next request to its host, or closes it when enough are kept.
func (t *http1Transport) put(c *h1Conn) {
	c.idleSince = time.Now()
	t.mu.Lock()
	if t.base.DisableKeepAlives || len(t.idle[c.key]) >= t.perHost || (t.total > 0 && t.count >= t.total) {
		t.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	t.idle[c.key] = append(t.idle[c.key], c)
	t.count++
	if !t.reaping {
		t.reaping = true
		time.AfterFunc(t.idleFor, t.reap)
	}
	t.mu.Unlock()
}

// reap closes the connections idle for longer than idleFor, and comes back while any are kept.
func (t *http1Transport) reap() {
	var stale []*h1Conn
	t.mu.Lock()
	for key, conns := range t.idle {
		kept := conns[:0]
		for _, c := range conns {
			if time.Since(c.idleSince) >= t.idleFor {
				stale = append(stale, c)
			} else {
				kept = append(kept, c)
			}
		}
		clear(conns[len(kept):])
		if len(kept) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = kept
		}
	}
	t.count -= len(stale)
	if t.reaping = t.count > 0; t.reaping {
		time.AfterFunc(t.idleFor/2, t.reap)
	}
	t.mu.Unlock()
	for _, c := range stale {
		_ = c.nc.Close()
	}
}

// h1Conn is one connection to a receiver, used by one request at a time.
type h1Conn struct {
	t         *http1Transport
	nc        net.Conn
	key       string
	br        *bufio.Reader // reads through the h1Conn, which counts what arrives
	bw        *bufio.Writer
	read      int64
	idleSince time.Time
}

// Read counts what the receiver sent, so that a failed round trip knows whether it got
// anything back.
func (c *h1Conn) Read(p []byte) (int, error) {
	n, err := c.nc.Read(p)
	c.read += int64(n)
	return n, err
}

// roundTrip writes req and reads the response's head; the response's body reads from c and
// gives c back (or closes it) at its end. nothingRead tells a failure before any byte of an
// answer arrived.
func (c *h1Conn) roundTrip(req *http.Request) (resp *http.Response, nothingRead bool, err error) {
	ctx := req.Context()
	// when ctx ends (its deadline included), a deadline in the past unblocks the I/O at once,
	// and ctx.Err() is already set for the error to report
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	before := c.read
	fail := func(err error) (*http.Response, bool, error) {
		stop()
		_ = c.nc.Close()
		return nil, c.read == before, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	for {
		resp, err = http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err)
		}
		// an informational answer (100 Continue, 103 Early Hints) comes before the response
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	keep := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	body := &h1Body{body: resp.Body, ctx: ctx, c: c, stop: stop, keep: keep, known: resp.ContentLength >= 0}
	if resp.Body == http.NoBody {
		body.end(true)
	}
	resp.Body = body
	return resp, false, nil
}

// h1Body is a response's body: at its end the connection is kept for the next request, or
// closed when it cannot be (the receiver said close, the body was not read to its end, or
// the request's context ended).
type h1Body struct {
	mu    sync.Mutex
	body  io.ReadCloser
	ctx   context.Context // the request's
	c     *h1Conn
	stop  func() bool
	keep  bool
	known bool // the length was announced: at the end, a read returns io.EOF without waiting
	done  bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.end(true)
	} else if err != nil {
		b.end(false)
		err = failure(b.ctx, err)
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	ended := false
	if b.known { // read to its length, the next read ends it without touching the connection
		var one [1]byte
		n, err := b.body.Read(one[:])
		ended = n == 0 && err == io.EOF
		if n > 0 { // a little left unread (a JSON decoder stops before the final newline)
			left, err := io.CopyN(io.Discard, b.body, drainAtClose+1)
			ended = left <= drainAtClose && err == io.EOF
		}
	}
	b.end(ended)
	return nil
}

// drainAtClose is how much of an announced body left unread is read at Close to keep the
// connection: what is left of a small answer is already here, or about to be.
const drainAtClose = 4 << 10

// end gives the connection back, or closes it; the caller holds mu (or has the only reference).
func (b *h1Body) end(atEOF bool) {
	b.done = true
	if b.stop() && atEOF && b.keep { // stopped before ctx ended: no deadline was set
		b.c.t.put(b.c)
		return
	}
	_ = b.c.nc.Close()
}

// replayable tells a request that may be sent twice: as http.Transport decides, a GET, HEAD,
// OPTIONS or TRACE, or one with an idempotency key, whose body can be read again.
func replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// failure is the error of a round trip: the context's cause when the context ended (as
// http.Transport reports it), the I/O error otherwise.
func failure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// hostPort is host with the scheme's port when it has none.
func hostPort(scheme, host string) string {
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return host
	}
	host = strings.TrimSuffix(host, ":")
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

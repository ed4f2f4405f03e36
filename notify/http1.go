package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/idna"
)

// http1Transport is the round tripper of the senders' clients: HTTP/1.1 with keep-alive,
// each round trip done on the caller's goroutine. Go's http.Transport hands every request to
// two goroutines of its connection (one writes, one reads) and back; in a fan-out that
// hand-off, its channels and its per-request context cost about a sixth of herald's CPU per
// notification (README, "Performance"). The request and the response are still written and read by
// net/http itself (Request.Write, http.ReadResponse).
//
// It takes plain and TLS connections that go straight to the receiver. A request that goes
// through a proxy (HTTP_PROXY, HTTPS_PROXY), or has another scheme, is left to base, as are
// the outbound rules: base's Proxy function checks the URL's host, and base's dialer checks
// each address it connects to.
//
// A connection is kept for the next request to the same host when the response said nothing
// against it and its body was read to the end with nothing after it (the senders read
// answers of up to 4 KiB). Before it is used again, a look at the socket (one system call
// that does not wait) tells whether the receiver closed it or sent anything unasked, as
// http.Transport's reader on every idle connection would. If the receiver closes it just as
// the request goes out, the request is sent again once, on a new connection, when that is
// safe as http.Transport judges it: nothing of it was written, or it may be repeated (a GET,
// or a POST with an Idempotency-Key, as every webhook carries).
type http1Transport struct {
	base *http.Transport
	dial func(ctx context.Context, network, address string) (net.Conn, error)
	// perHost and total bound the idle connections kept (total 0: no bound); idleFor is how
	// long one is kept; check looks at a kept connection before use (closedByPeer).
	perHost, total int
	idleFor        time.Duration
	check          func(net.Conn) bool

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
		idleFor: idleFor, check: closedByPeer, idle: map[string][]*h1Conn{},
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
	host, err := asciiHost(req.URL.Hostname())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	address := hostPort(req.URL.Scheme, host, req.URL.Port())
	ctx := req.Context()
	for retried := false; ; retried = true {
		if ctx.Err() != nil { // ended already: nothing may go out (a pair lock lost, a shutdown)
			closeBody(req)
			return nil, context.Cause(ctx)
		}
		c, reused, err := t.conn(ctx, req.URL.Scheme, address, host, retried)
		if err != nil {
			closeBody(req)
			return nil, failure(ctx, err)
		}
		resp, sent, err := c.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		again := reused && !retried && ctx.Err() == nil && rewindable(req) &&
			(sent == nothingWritten || (sent == nothingRead && replayable(req)))
		if !again {
			return nil, failure(ctx, err)
		}
		// the receiver closed a kept connection as the request went out: send it again, on a
		// new connection (the others kept may have been closed at the same time)
		if req.Body != nil && req.Body != http.NoBody {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, failure(ctx, err)
			}
			rewound := *req
			rewound.Body = body
			req = &rewound
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

// conn returns a kept connection to scheme://address, or a new one (always when fresh);
// reused tells which.
func (t *http1Transport) conn(ctx context.Context, scheme, address, serverName string, fresh bool) (*h1Conn, bool, error) {
	key := scheme + "://" + address
	for !fresh {
		c := t.take(key)
		if c == nil {
			break
		}
		if !t.check(c.nc) {
			return c, true, nil
		}
		_ = c.nc.Close()
	}
	nc, err := t.dial(ctx, "tcp", address)
	if err != nil {
		return nil, false, err
	}
	if scheme == "https" {
		if nc, err = t.handshake(ctx, nc, serverName); err != nil {
			return nil, false, err
		}
	}
	c := &h1Conn{t: t, nc: nc, key: key, headLeft: -1}
	if tc, ok := nc.(*tls.Conn); ok {
		state := tc.ConnectionState()
		c.tlsState = &state
	}
	c.br, c.bw = bufio.NewReader(c), bufio.NewWriter(c)
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
	hctx := ctx
	if t.base.TLSHandshakeTimeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, t.base.TLSHandshakeTimeout)
		defer cancel()
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = nc.Close()
		if hctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("TLS handshake timed out after %s", t.base.TLSHandshakeTimeout)
		}
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

// maxResponseHead bounds the head of an answer, 1xx answers included, as http.Transport's
// MaxResponseHeaderBytes does: a receiver must not make herald read headers for ever.
const maxResponseHead = 1 << 20

var errHeadTooLarge = fmt.Errorf("the receiver's answer has more than %d KiB of headers", maxResponseHead>>10)

// h1Conn is one connection to a receiver, used by one request at a time.
type h1Conn struct {
	t         *http1Transport
	nc        net.Conn
	key       string
	br        *bufio.Reader // reads through the h1Conn, which counts what arrives
	bw        *bufio.Writer // writes through the h1Conn, which counts what leaves
	read      int64
	written   int64
	headLeft  int64 // while an answer's head is read, how much more may arrive; -1 otherwise
	idleSince time.Time
	tlsState  *tls.ConnectionState // of an https connection, given with each of its answers
}

// Read counts what the receiver sent, so that a failed round trip knows whether it got
// anything back, and bounds an answer's head.
func (c *h1Conn) Read(p []byte) (int, error) {
	if c.headLeft == 0 {
		return 0, errHeadTooLarge
	}
	if c.headLeft > 0 && int64(len(p)) > c.headLeft {
		p = p[:c.headLeft]
	}
	n, err := c.nc.Read(p)
	c.read += int64(n)
	if c.headLeft > 0 {
		c.headLeft -= int64(n)
	}
	return n, err
}

// Write counts what went out, so that a failed round trip knows whether any of it did.
func (c *h1Conn) Write(p []byte) (int, error) {
	n, err := c.nc.Write(p)
	c.written += int64(n)
	return n, err
}

// How far a failed round trip got.
type progress int

const (
	nothingWritten progress = iota // the receiver got none of the request
	nothingRead                    // the request went out, at least in part; no answer came
	answered                       // part of an answer came
)

// roundTrip writes req and reads the response's head; the response's body reads from c and
// gives c back (or closes it) at its end.
func (c *h1Conn) roundTrip(req *http.Request) (*http.Response, progress, error) {
	ctx := req.Context()
	// when ctx ends (its deadline included), the connection is closed: the I/O under way
	// stops at once, and ctx.Err() is already set for the error to report
	stop := context.AfterFunc(ctx, func() { _ = c.nc.Close() })
	read, written := c.read, c.written
	fail := func(err error) (*http.Response, progress, error) {
		stop()
		_ = c.nc.Close()
		switch {
		case c.written == written:
			return nil, nothingWritten, err
		case c.read == read:
			return nil, nothingRead, err
		}
		return nil, answered, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	c.headLeft = maxResponseHead
	var resp *http.Response
	for {
		var err error
		if resp, err = http.ReadResponse(c.br, req); err != nil {
			return fail(err)
		}
		// an informational answer (100 Continue, 103 Early Hints) comes before the response
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	c.headLeft = -1
	resp.TLS = c.tlsState
	keep := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	body := &h1Body{body: resp.Body, ctx: ctx, c: c, stop: stop, keep: keep, left: resp.ContentLength}
	if resp.Body == http.NoBody {
		body.end(true)
	}
	resp.Body = body
	return resp, answered, nil
}

// h1Body is a response's body: at its end the connection is kept for the next request, or
// closed when it cannot be (the receiver said close, the body was not read to its end, more
// came after it, or the request's context ended).
type h1Body struct {
	mu   sync.Mutex
	body io.ReadCloser
	ctx  context.Context // the request's
	c    *h1Conn
	stop func() bool
	keep bool
	left int64 // of an announced length, what has not been read; -1 when not announced
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if b.left > 0 {
		b.left -= int64(n)
	}
	if err == io.EOF {
		b.end(true)
	} else if err != nil {
		b.end(false)
		err = failure(b.ctx, err)
	}
	return n, err
}

// Close never waits for the receiver: what is left of an announced body is read only when it
// has all arrived already, and a Read under way in another goroutine is cut short.
func (b *h1Body) Close() error {
	if !b.mu.TryLock() {
		_ = b.c.nc.Close() // a Read waits for the receiver: stop it
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	ended := false
	if b.keep && b.left >= 0 && b.left <= int64(b.c.br.Buffered()) {
		// a little left unread (a JSON decoder stops before the final newline), all here:
		// read it, and the next read ends the body without touching the connection
		_, _ = io.CopyN(io.Discard, b.body, b.left)
		var one [1]byte
		n, err := b.body.Read(one[:])
		ended = n == 0 && err == io.EOF
	}
	b.end(ended)
	return nil
}

// end gives the connection back, or closes it; the caller holds mu (or has the only
// reference). Bytes already after the body are no answer to anything: the connection is
// closed, as http.Transport closes one that receives an answer unasked.
func (b *h1Body) end(atEOF bool) {
	b.done = true
	if b.stop() && atEOF && b.keep && b.c.br.Buffered() == 0 {
		b.c.t.put(b.c)
		return
	}
	_ = b.c.nc.Close()
}

// rewindable tells a request whose body can be sent again.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// replayable tells a request that may be sent twice, as http.Transport decides: a GET, HEAD,
// OPTIONS or TRACE, or one with an idempotency key.
func replayable(req *http.Request) bool {
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

// asciiHost is a URL's host name as DNS and TLS take it: an internationalised name in
// punycode (bücher.example -> xn--bcher-kva.example), as http.Transport converts it.
func asciiHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			ascii, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", &SendError{Err: fmt.Errorf("the host %q is not a valid internationalised name (%v); correct the configuration's URL", host, err)}
			}
			return ascii, nil
		}
	}
	return host, nil
}

// hostPort is the address to dial: host with port, or the scheme's port when there is none.
func hostPort(scheme, host, port string) string {
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

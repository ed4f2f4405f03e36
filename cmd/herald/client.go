package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"herald/graph"
)

// client talks to a herald server's GraphQL API.
type client struct {
	endpoint string // the GraphQL endpoint: the base URL and /graphql
	auth     string // Authorization header, if any
	// invalid is why the flags given cannot work, found before sending anything (a URL
	// without a scheme, a user without a password).
	invalid  error
	timeouts clientTimeouts
	http     *http.Client
}

// clientConfig is where a client command finds the server and its credentials.
type clientConfig struct {
	URL, User, Password, Token string
}

func addClientFlags(cmd *cobra.Command, c *clientConfig) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.URL, "url", "http://localhost:8228", "base URL of the herald server")
	f.StringVar(&c.User, "user", "", "user name to sign in with (with --password)")
	f.StringVar(&c.Password, "password", "", "password of --user")
	f.StringVar(&c.Token, "token", "", "API token to sign in with (instead of --user and --password)")
}

func newClient(c *clientConfig) *client { return newClientWithin(c, defaultClientTimeouts()) }

// newClientWithin is newClient with time limits of the caller's own.
func newClientWithin(c *clientConfig, t clientTimeouts) *client {
	base, err := baseURL(c.URL)
	cl := &client{endpoint: base + "/graphql", invalid: err, timeouts: t, http: httpClient(t)}
	switch {
	case err != nil:
	case c.Token != "":
		cl.auth = "Bearer " + c.Token
	case c.User != "" && c.Password == "":
		cl.invalid = fmt.Errorf("--user %s needs a password: give it with --password or HERALD_PASSWORD, or sign in with --token (HERALD_TOKEN) instead; %s", c.User, adminPasswordHint)
	case c.User != "":
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(c.User, c.Password)
		cl.auth = req.Header.Get("Authorization")
	}
	return cl
}

// baseURL checks --url and returns it without a trailing slash or /graphql: the endpoint's
// own URL, which GraphiQL and proxies show, names the same server, and the client would
// otherwise ask for /graphql/graphql.
func baseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("--url is empty: give the server's base URL, such as http://localhost:8228")
	}
	if !strings.Contains(raw, "://") { // "localhost:8228" parses as the scheme "localhost"
		return "", fmt.Errorf("--url %q needs a scheme: http://%s", raw, raw)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("--url %q: %w", raw, errors.Unwrap(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("--url %q: use an http:// or https:// URL", raw)
	case u.Host == "":
		return "", fmt.Errorf("--url %q names no host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("--url %q: give the server's base URL, without a query or fragment", raw)
	}
	base := strings.TrimSuffix(strings.TrimRight(raw, "/"), "/graphql")
	return strings.TrimRight(base, "/"), nil
}

// clientTimeouts bound each stage of a request, so that a server that takes connections but
// never answers (a hung process, another service on the port) is reported within a minute,
// not after the overall limit.
type clientTimeouts struct {
	connect   time.Duration // to open the TCP connection
	handshake time.Duration // for the TLS handshake
	// stall bounds a write the server takes nothing of. The answer's limit starts only once
	// the request is sent, and a batch of several MiB fills the socket's buffers: a server
	// that reads nothing would hold it until the overall limit.
	stall time.Duration
	// answer runs from the request sent to the answer's header: the server's work.
	answer time.Duration
	// overall bounds the whole exchange, reading the answer included.
	overall time.Duration
}

// defaultClientTimeouts leave a loaded server room: it records a batch of 10,000 events in
// well under a second (make bench: ~100,000 events/s), and the senders bound a test
// notification to 30 s. The overall limit lets a big batch travel a slow link.
func defaultClientTimeouts() clientTimeouts {
	return clientTimeouts{connect: 10 * time.Second, handshake: 10 * time.Second, stall: time.Minute, answer: time.Minute, overall: 5 * time.Minute}
}

func httpClient(t clientTimeouts) *http.Client {
	dialer := &net.Dialer{Timeout: t.connect, KeepAlive: 30 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone() // proxies from the environment, HTTP/2
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return stallConn{Conn: conn, stall: t.stall}, nil
	}
	tr.TLSHandshakeTimeout = t.handshake
	tr.ResponseHeaderTimeout = t.answer
	return &http.Client{Transport: tr} // the overall limit is the request's context: see do
}

// stallConn fails a write the peer takes nothing of for stall. It writes in chunks, each
// with its own deadline, so that a big request over a slow link, which keeps moving, is not
// cut short.
type stallConn struct {
	net.Conn
	stall time.Duration
}

const stallChunk = 64 << 10

func (c stallConn) Write(p []byte) (n int, err error) {
	for len(p) > 0 {
		if err := c.SetWriteDeadline(time.Now().Add(c.stall)); err != nil {
			return n, err
		}
		m, err := c.Conn.Write(p[:min(len(p), stallChunk)])
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// adminPasswordHint is where a new server's admin password is.
const adminPasswordHint = "when herald generated the first admin user's password, it is in <data-dir>/admin-password on the server until that password is changed"

// gqlError is an error the server returned, with its code.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// fieldRefusal is one field a refusal of bad input names, with what is wrong with it.
type fieldRefusal struct{ field, message string }

// refusedFields are the fields the server names in a refusal of bad input (its
// extensions.fields), in its order.
func (g gqlError) refusedFields() []fieldRefusal {
	list, _ := g.Extensions["fields"].([]any)
	out := make([]fieldRefusal, 0, len(list))
	for _, f := range list {
		f, _ := f.(map[string]any)
		field, _ := f["field"].(string)
		message, _ := f["message"].(string)
		out = append(out, fieldRefusal{field: field, message: message})
	}
	return out
}

// serverError is the errors of one response.
type serverError struct{ errs []gqlError }

func (e *serverError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, g := range e.errs {
		msgs[i] = g.Message
	}
	return strings.Join(msgs, "; ")
}

// Code returns the code of the first error.
func (e *serverError) Code() string {
	if len(e.errs) == 0 {
		return ""
	}
	code, _ := e.errs[0].Extensions["code"].(string)
	return code
}

// requestTooLargeError is a request the server, or a proxy in front of it, refused for its
// size.
type requestTooLargeError struct {
	url    string
	size   int    // of the request body, in bytes
	reason string // what the server said
}

func (e *requestTooLargeError) Error() string {
	return fmt.Sprintf("%s refused a request of %s as too large (%s)", e.url, byteSize(e.size), e.reason)
}

// byteSize writes n bytes in the unit that reads best: "512 bytes", "3.5 KiB", "16.0 MiB".
func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// errTookTooLong ends a request that outlasts the client's overall limit.
var errTookTooLong = errors.New("the overall time limit passed")

// do runs one operation and decodes its data into out.
func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	if c.invalid != nil {
		return c.invalid
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeouts.overall, errTookTooLong)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	var wrote atomic.Bool // the whole request went out: a connection broken after it may have carried it
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(w httptrace.WroteRequestInfo) { wrote.Store(w.Err == nil) },
	}))
	resp, err := c.http.Do(req)
	if err != nil {
		if stopped := c.stopped(ctx, err); stopped != nil {
			return stopped
		}
		if wrote.Load() && brokeOff(err) {
			return &unansweredError{fmt.Errorf("the connection to the herald server at %s broke before it answered (%w): whether the request took effect is unknown", c.endpoint, errors.Unwrap(err))}
		}
		return fmt.Errorf("cannot reach the herald server at %s (start one with 'herald serve', or set --url or HERALD_URL): %w", c.endpoint, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		if stopped := c.stopped(ctx, err); stopped != nil {
			return unanswered(stopped) // the answer had begun: the request went through
		}
		return &unansweredError{fmt.Errorf("read the answer of %s: %w: whether the request took effect is unknown", c.endpoint, err)}
	}
	var envelope struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil {
		if resp.StatusCode == http.StatusRequestEntityTooLarge {
			return &requestTooLargeError{url: c.endpoint, size: len(body), reason: resp.Status}
		}
		return fmt.Errorf("%s answered %s, which is not a herald GraphQL response: %.200s", c.endpoint, resp.Status, raw)
	}
	if len(envelope.Errors) > 0 {
		err := &serverError{errs: envelope.Errors}
		if resp.StatusCode == http.StatusRequestEntityTooLarge || strings.Contains(err.Error(), "request body too large") {
			return &requestTooLargeError{url: c.endpoint, size: len(body), reason: err.Error()}
		}
		if c.auth == "" && err.Code() == graph.CodeUnauthenticated {
			return fmt.Errorf("%w: sign in with --user and --password (HERALD_USER and HERALD_PASSWORD) or --token (HERALD_TOKEN); %s", err, adminPasswordHint)
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(envelope.Data, out); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
	}
	return nil
}

// unansweredError is a request the server may have carried out: the connection broke, or the
// time limit passed, after the request was sent and before the whole answer came.
type unansweredError struct{ err error }

func (e *unansweredError) Error() string { return e.err.Error() }
func (e *unansweredError) Unwrap() error { return e.err }

// unanswered makes err an unansweredError, unless it is one already.
func unanswered(err error) error {
	if u := (*unansweredError)(nil); errors.As(err, &u) {
		return err
	}
	return &unansweredError{err}
}

// brokeOff tells whether err, for a request written whole, is its connection ending before
// the answer: the server stopped or dropped it.
func brokeOff(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// stopped explains a request ended by the caller or by one of the client's time limits, and
// returns nil for any other failure.
func (c *client) stopped(ctx context.Context, err error) error {
	var op *net.OpError
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errTookTooLong):
		return &unansweredError{fmt.Errorf("the herald server at %s did not finish answering within %s", c.endpoint, seconds(c.timeouts.overall))}
	case cause != nil: // the caller's: an interrupt
		return fmt.Errorf("request to %s: %w", c.endpoint, cause)
	case !isTimeout(err):
		return nil
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("cannot reach the herald server at %s: no connection within %s (start one with 'herald serve', or set --url or HERALD_URL)", c.endpoint, seconds(c.timeouts.connect))
	case errors.As(err, &op) && op.Op == "write":
		return fmt.Errorf("the server at %s read nothing of the request for %s; is herald listening there, and not stuck?", c.endpoint, seconds(c.timeouts.stall))
	case strings.Contains(err.Error(), "TLS handshake"): // net/http's error type is not exported
		return fmt.Errorf("the server at %s did not complete the TLS handshake within %s; is it serving https?", c.endpoint, seconds(c.timeouts.handshake))
	}
	return &unansweredError{fmt.Errorf("the herald server at %s did not answer within %s: it took the request but sent no answer (whether it took effect is unknown); is it overloaded, or is another service listening there?", c.endpoint, seconds(c.timeouts.answer))}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// seconds writes d as "10s" or "60s" rather than time.Duration's "1m0s".
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// HTTPClients are the clients HTTP senders post with: one that verifies the receiver's TLS
// certificate and one for configurations with verify_tls off.
type HTTPClients struct {
	Verify, Insecure *http.Client
}

// NewHTTPClients builds both clients on transport (which carries the outbound rules); nil
// uses the default transport. The requests that go straight to their receiver are sent by an
// http1Transport over transport's dialer and TLS settings, those through a proxy by transport
// itself. concurrency is how many sends may be under way at once (the deliverer's
// Concurrency; 0 is DefaultConcurrency): as many idle connections to one receiver are kept,
// so that a busy receiver (one webhook sink for many configurations) keeps its connections
// between notifications instead of opening and closing one per send (Go keeps 2).
//
// The clients have no timeout of their own: a send is bounded by its context, which the
// deliverer gives the send timeout (and a caller outside it must bound too). A client
// timeout as well would cost every send a second timer and a copy of its request.
func NewHTTPClients(transport *http.Transport, concurrency int) HTTPClients {
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	transport.MaxIdleConnsPerHost = max(transport.MaxIdleConnsPerHost, concurrency)
	if transport.MaxIdleConns != 0 { // 0 is no limit; Go's default transport keeps 100 over all hosts
		transport.MaxIdleConns = max(transport.MaxIdleConns, concurrency)
	}
	insecure := transport.Clone()
	insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the configuration asked for it
	return HTTPClients{
		Verify:   &http.Client{Transport: newHTTP1Transport(transport, concurrency), CheckRedirect: sameServerRedirects},
		Insecure: &http.Client{Transport: newHTTP1Transport(insecure, concurrency), CheckRedirect: sameServerRedirects},
	}
}

// sameServerRedirects follows redirects within the server a request was sent to, and no
// further: a notification carries the configuration's credentials (custom headers, which Go
// forwards on every redirect, and Basic authentication, which it forwards to subdomains), and
// a receiver, or whoever edited its URL, must not be able to pass them on to another server.
func sameServerRedirects(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	switch {
	case len(via) >= 10:
		return &SendError{Err: errors.New("the receiver redirected 10 times; configure the URL it ends at")}
	case !strings.EqualFold(req.URL.Scheme, first.Scheme) || !strings.EqualFold(req.URL.Host, first.Host):
		return &SendError{Err: fmt.Errorf("the receiver redirected to another server (%s); herald does not send credentials on to another server: configure that URL if it is the right one", req.URL.Host)}
	case req.Method != via[len(via)-1].Method && req.Response != nil:
		// Go follows a 301, 302 or 303 answer to a POST with a GET without a body: the
		// receiver would answer it, and the notification would count as delivered though it
		// never arrived. Only 307 and 308 keep the method and the body.
		// The path it redirects to is left out, as the configured one is: for Slack and Teams
		// the path is the credential.
		return &SendError{Status: req.Response.StatusCode, Err: fmt.Errorf("a redirect of this kind turns the POST into a GET without the notification, so herald does not follow it (only 307 and 308 keep the request): configure the URL the receiver redirects to (its Location header, on %s://%s)",
			req.URL.Scheme, req.URL.Host)}
	}
	return nil
}

// For returns the client for a configuration's verify_tls.
func (c HTTPClients) For(verifyTLS bool) *http.Client {
	if verifyTLS {
		return c.Verify
	}
	return c.Insecure
}

// PostJSON posts body to url and classifies the answer (ClassifyHTTP). The URL never appears
// in errors, since for Slack and Teams it is itself the credential. header, when not nil,
// becomes the request's header: PostJSON adds Content-Type to it, and User-Agent unless it
// has one (a webhook's own headers may name one, for a receiver that expects it).
func PostJSON(ctx context.Context, client *http.Client, url string, body []byte, header http.Header) (Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, &SendError{Err: errors.New("the configured URL cannot be used for a request")}
	}
	if header != nil {
		req.Header = header
	}
	req.Header["Content-Type"] = jsonContentType
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = heraldUserAgent
	}
	resp, err := client.Do(req)
	if err != nil {
		return Receipt{}, noAnswer(err)
	}
	defer resp.Body.Close()
	answer := readAnswer(resp)
	return Receipt{Status: resp.StatusCode, Body: answer}, ClassifyHTTP(resp, answer, time.Now())
}

// readAnswer reads the first 4 KiB of a response's body. Most receivers answer with an empty
// body, or one whose length they announce; neither costs io.ReadAll's 512-byte buffer.
func readAnswer(resp *http.Response) string {
	const most = 4096
	switch n := resp.ContentLength; {
	case n == 0:
		return ""
	case n > 0:
		buf := make([]byte, min(n, most))
		got, _ := io.ReadFull(resp.Body, buf)
		return string(buf[:got])
	default: // not announced (chunked)
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, most))
		return string(answer)
	}
}

// The values of the headers every post carries, shared by all requests: http.Header's methods
// replace or append to a value, and never write into it.
var jsonContentType, heraldUserAgent = []string{"application/json"}, []string{"herald"}

// noAnswer classifies a request that got no answer. A destination the outbound policy refuses
// stays refused, so that is final and says how to allow it; anything else (a refused
// connection, a timeout) may pass on another attempt.
func noAnswer(err error) error {
	var final *SendError // a redirect refused
	if errors.As(err, &final) {
		return final
	}
	var refused *DestinationRefusedError
	if errors.As(err, &refused) {
		return &SendError{Err: refused}
	}
	if errors.Is(err, ErrDestinationRefused) {
		return &SendError{Err: ErrDestinationRefused}
	}
	var wrapped interface{ Unwrap() error }
	if errors.As(err, &wrapped) { // *url.Error quotes the URL: keep only the cause
		err = wrapped.Unwrap()
	}
	if IsAddressFailure(err) {
		return &SendError{Err: fmt.Errorf("%w; correct the host in the configuration's URL", err)}
	}
	if untrustedCertificate(err) { // a setting to correct: no retry would pass
		return &SendError{Err: fmt.Errorf("%w; the receiver's TLS certificate is not one herald trusts: have it fixed (or give herald the CA that signs it, in the system's CAs), or turn the configuration's verifyTls off (--no-verify-tls) for a receiver of your own", err)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &SendError{Retryable: true, Err: fmt.Errorf("no answer within the send timeout (--notify-send-timeout): %w", err)}
	}
	return &SendError{Retryable: true, Err: fmt.Errorf("no answer: %w", err)}
}

// untrustedCertificate tells whether err is a TLS certificate that failed verification: signed
// by an authority herald does not trust, for another host name, or expired.
func untrustedCertificate(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// Package notify delivers events to the endpoints of matching configurations. This file
// declares what a sender (adapters/senders/*) must do.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herald/domain"
)

// Notification is one event to deliver through one configuration.
type Notification struct {
	Event         domain.LogEvent
	Configuration domain.Configuration // credentials opened, for the sender only
	// IdempotencyKey is the same for every attempt of one (event, configuration) pair, so a
	// receiver that deduplicates by it never acts twice.
	IdempotencyKey string
	UIURL          string // base URL of the UI for links; "" for none
	EventURL       string // the event in the UI; "" without a UI URL
	// Title and Text are the message from the configuration's templates (or the defaults):
	// a one-line title (subject, issue title, header) and a plain-text body.
	Title, Text string
	// Test marks a test notification (testNotificationEndpointConfiguration): senders that
	// create things (issues) say so in what they create.
	Test bool
}

// Receipt is what the receiver answered.
type Receipt struct {
	Status int    // HTTP status, or 250 for an accepted mail
	Body   string // the start of the answer, for the delivery history
}

// Sender delivers notifications of one endpoint kind.
type Sender interface {
	Send(ctx context.Context, n Notification) (Receipt, error)
}

// EventSender is a Sender that sends the event itself (the webhook's JSON), not a message:
// its notifications are not rendered from templates, and their Title and Text are empty.
type EventSender interface {
	Sender
	SendsEvent()
}

// FieldsSender is a Sender whose message shows the event's level, type, resource, account,
// source and time as fields of its own (Slack, Teams): its default text leaves them out
// (DefaultFieldsBodyTemplate).
type FieldsSender interface {
	Sender
	ShowsEventFields()
}

// SendError is a failed delivery, saying whether trying again may help.
type SendError struct {
	Retryable  bool
	RetryAfter time.Duration // the receiver's Retry-After, when it gave one
	Status     int           // HTTP status, 0 when there was no answer
	Err        error
}

func (e *SendError) Error() string {
	kind := "final"
	if e.Retryable {
		kind = "retryable"
	}
	msg := fmt.Sprintf("%s failure: %v", kind, e.Err)
	if e.Status != 0 {
		msg = fmt.Sprintf("%s failure: receiver answered %d: %v", kind, e.Status, e.Err)
	}
	// Leave out which DNS server herald asked ("lookup host on 10.0.0.53:53: no such host"):
	// the failure reaches account users (test notifications, delivery history), who need not
	// learn the server's network.
	var dnsErr *net.DNSError
	if errors.As(e.Err, &dnsErr) && dnsErr.Server != "" {
		msg = strings.ReplaceAll(msg, " on "+dnsErr.Server+":", ":")
	}
	return msg
}

func (e *SendError) Unwrap() error { return e.Err }

// IsAddressFailure tells whether a receiver's address is wrong rather than out of reach: a
// host name the DNS says does not exist, or an address Go cannot dial as written. Trying
// again will not help until the configuration is corrected. A lookup that timed out, or that
// the DNS server failed to answer, may succeed later and is not one.
func IsAddressFailure(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound && !dnsErr.IsTimeout && !dnsErr.IsTemporary
	}
	var addrErr *net.AddrError
	return errors.As(err, &addrErr)
}

// IsRetryable tells whether err is worth another attempt.
func IsRetryable(err error) bool {
	var s *SendError
	return errors.As(err, &s) && s.Retryable
}

// ClassifyHTTP turns an HTTP answer into nil (2xx) or a SendError: 5xx, 429 and 408 are worth
// retrying (with the receiver's Retry-After), other statuses are final.
func ClassifyHTTP(resp *http.Response, body string, now time.Time) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	return &SendError{
		Retryable: retryable, Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now),
		Err: fmt.Errorf("%s: %.200s", http.StatusText(resp.StatusCode), body),
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

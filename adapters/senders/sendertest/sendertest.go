// Package sendertest is the contract every HTTP sender passes: how it answers the receiver's
// failures, and that the configuration's credentials never appear in an error.
package sendertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herald/domain"
	"herald/notify"
)

// Features describe the sender under test.
type Features struct {
	// Notification returns a notification whose configuration sends to url (and carries
	// the secret somewhere in its credentials).
	Notification func(url, secret string) notify.Notification
	// WrongKind is a configuration of another kind, which the sender must refuse.
	WrongKind domain.Settings
}

// TestSender runs the contract against senders that newSender builds on the clients given.
func TestSender(t *testing.T, newSender func(notify.HTTPClients) notify.Sender, f Features) {
	sender := newSender(notify.NewHTTPClients(nil, 0))
	t.Run("receiver failures are classified", func(t *testing.T) {
		for status, retryable := range map[int]bool{500: true, 502: true, 503: true, 429: true, 408: true, 400: false, 401: false, 403: false, 404: false, 422: false} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
			_, err := sender.Send(context.Background(), f.Notification(srv.URL+"/hook", "s3cr3t-value"))
			srv.Close()
			var se *notify.SendError
			if !errors.As(err, &se) || se.Retryable != retryable || se.Status != status {
				t.Errorf("receiver answered %d: got %v, want retryable=%v", status, err, retryable)
			}
		}
	})
	t.Run("an unreachable receiver is retryable and its URL is not quoted", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + "/hook/s3cr3t-value"
		srv.Close()
		_, err := sender.Send(context.Background(), f.Notification(url, "s3cr3t-value"))
		if !notify.IsRetryable(err) {
			t.Fatalf("unreachable receiver: %v", err)
		}
		if strings.Contains(err.Error(), "s3cr3t-value") {
			t.Fatalf("a credential appears in the error: %v", err)
		}
	})
	t.Run("a configuration of another kind is a final error", func(t *testing.T) {
		n := f.Notification("http://127.0.0.1:1/", "x")
		n.Configuration.Settings = f.WrongKind
		if _, err := sender.Send(context.Background(), n); err == nil || notify.IsRetryable(err) {
			t.Fatalf("wrong kind: %v", err)
		}
	})
	t.Run("a destination the outbound policy refuses is final and not reached", func(t *testing.T) {
		var reached atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Store(true) }))
		defer srv.Close()
		refusing := newSender(notify.NewHTTPClients(notify.OutboundPolicy{Deny: notify.DefaultDeny()}.Transport(), 0))
		_, err := refusing.Send(context.Background(), f.Notification(srv.URL+"/hook", "x")) // loopback
		if !errors.Is(err, notify.ErrDestinationRefused) || notify.IsRetryable(err) {
			t.Fatalf("got %v, want a final refusal", err)
		}
		if reached.Load() {
			t.Fatal("the refused receiver was reached")
		}
	})
	t.Run("a cancelled send stops", func(t *testing.T) {
		block := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
		defer srv.Close()
		defer close(block)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := sender.Send(ctx, f.Notification(srv.URL, "x")); err == nil {
			t.Fatal("a cancelled send succeeded")
		}
	})
}

// Event is an image-analysis failure of account alice, for senders' tests.
func Event() domain.LogEvent {
	return domain.LogEvent{
		ID: "67946415c113488b8fff8b335272a45b", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 0, time.UTC), Level: domain.LevelError,
		Type: "user.image.analysis.failed", Message: "Failed to analyze image",
		Resource: domain.Resource{ID: "sha256:abc", Type: "image_digest", UserID: "alice"},
		Source:   domain.Source{ServiceName: "analyzer", HostID: "host-1"},
	}
}

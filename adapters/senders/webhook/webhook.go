// Package webhook sends each event as JSON to an HTTP endpoint.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"herald/domain"
	"herald/notify"
)

// Headers herald sets on every request.
const (
	HeaderSignature      = "X-Herald-Signature" // sha256=<hex HMAC of the body>, when a secret is set
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderEventID        = "X-Herald-Event-Id"
)

// Sender posts events to the configuration's URL.
type Sender struct {
	client   *http.Client // verifies TLS
	insecure *http.Client // for configurations with verify_tls false
	now      func() time.Time
}

// New builds a sender. transport carries the outbound rules (allowed networks); nil uses the
// default transport.
func New(transport *http.Transport, timeout time.Duration) *Sender {
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	insecure := transport.Clone()
	insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the configuration asked for it
	return &Sender{
		client:   &http.Client{Transport: transport, Timeout: timeout},
		insecure: &http.Client{Transport: insecure, Timeout: timeout},
		now:      time.Now,
	}
}

// payload is the JSON a webhook receives.
type payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Level     string          `json:"level"`
	Message   string          `json:"message"`
	Details   json.RawMessage `json:"details"`
	Timestamp string          `json:"timestamp"`
	Resource  struct {
		AccountName string `json:"account_name"`
		Type        string `json:"type"`
		ID          string `json:"id"`
	} `json:"resource"`
	Source struct {
		RequestID   string `json:"request_id"`
		ServiceName string `json:"service_name"`
		HostID      string `json:"host_id"`
		BaseURL     string `json:"base_url"`
	} `json:"source"`
}

// Body returns the JSON a webhook receives for an event.
func Body(e domain.LogEvent) []byte {
	var p payload
	p.ID, p.Type, p.Level, p.Message, p.Timestamp = e.ID, e.Type, e.Level.String(), e.Message, domain.FormatTimestamp(e.Timestamp)
	p.Details = e.Details
	if len(p.Details) == 0 {
		p.Details = json.RawMessage("{}")
	}
	p.Resource.AccountName, p.Resource.Type, p.Resource.ID = e.Resource.UserID, e.Resource.Type, e.Resource.ID
	p.Source.RequestID, p.Source.ServiceName, p.Source.HostID, p.Source.BaseURL = e.Source.RequestID, e.Source.ServiceName, e.Source.HostID, e.Source.BaseURL
	body, _ := json.Marshal(p)
	return body
}

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.WebhookSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a webhook configuration", n.Configuration.ID)}
	}
	body := Body(n.Event)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, settings.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("build request: %w", err)}
	}
	for name, value := range settings.Headers {
		req.Header.Set(name, value.Reveal())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herald")
	req.Header.Set(HeaderIdempotencyKey, n.IdempotencyKey)
	req.Header.Set(HeaderEventID, n.Event.ID)
	if settings.Username != "" {
		req.SetBasicAuth(settings.Username, settings.Password.Reveal())
	}
	if settings.HMACSecret.IsSet() {
		mac := hmac.New(sha256.New, []byte(settings.HMACSecret.Reveal()))
		mac.Write(body)
		req.Header.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	client := s.client
	if !n.Configuration.VerifyTLS {
		client = s.insecure
	}
	resp, err := client.Do(req)
	if err != nil {
		// no answer: the network or a timeout, worth another try (the URL does not appear: it may hold credentials)
		var uerr interface{ Unwrap() error }
		if errors.As(err, &uerr) {
			err = uerr.Unwrap()
		}
		return notify.Receipt{}, &notify.SendError{Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	receipt := notify.Receipt{Status: resp.StatusCode, Body: string(answer)}
	return receipt, notify.ClassifyHTTP(resp, string(answer), s.now())
}

// Package webhook sends each event as JSON to an HTTP endpoint.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

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
	clients notify.HTTPClients
}

// New builds a sender.
func New(clients notify.HTTPClients) *Sender { return &Sender{clients: clients} }

// SendsEvent marks the webhook as a notify.EventSender: it posts the event, not a message.
func (s *Sender) SendsEvent() {}

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
	header := http.Header{}
	for name, value := range settings.Headers {
		header.Set(name, value.Reveal())
	}
	header.Set(HeaderIdempotencyKey, n.IdempotencyKey)
	header.Set(HeaderEventID, n.Event.ID)
	if settings.Username != "" {
		r := http.Request{Header: header}
		r.SetBasicAuth(settings.Username, settings.Password.Reveal())
	}
	if settings.HMACSecret.IsSet() {
		mac := hmac.New(sha256.New, []byte(settings.HMACSecret.Reveal()))
		mac.Write(body)
		header.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.URL, body, header)
}

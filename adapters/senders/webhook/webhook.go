// Package webhook sends each event as JSON to an HTTP endpoint.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"

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

// Body returns the JSON a webhook receives for an event:
//
//	{"id":…,"type":…,"level":…,"message":…,"details":{…},"timestamp":…,
//	 "resource":{"account_name":…,"type":…,"id":…},
//	 "source":{"request_id":…,"service_name":…,"host_id":…,"base_url":…}}
//
// It is written by hand, byte for byte as json.Marshal wrote it from a struct (every
// notification of a fan-out encodes one). The event's details are valid JSON: they were
// checked when it was recorded.
func Body(e domain.LogEvent) []byte {
	b := make([]byte, 0, 320+len(e.ID)+len(e.Type)+len(e.Message)+len(e.Details)+len(e.Resource.UserID)+len(e.Resource.Type)+
		len(e.Resource.ID)+len(e.Source.RequestID)+len(e.Source.ServiceName)+len(e.Source.HostID)+len(e.Source.BaseURL))
	b = append(b, `{"id":`...)
	b = domain.AppendJSONString(b, e.ID)
	b = append(b, `,"type":`...)
	b = domain.AppendJSONString(b, e.Type)
	b = append(b, `,"level":`...)
	b = domain.AppendJSONString(b, e.Level.String())
	b = append(b, `,"message":`...)
	b = domain.AppendJSONString(b, e.Message)
	b = append(b, `,"details":`...)
	if len(e.Details) == 0 {
		b = append(b, `{}`...)
	} else {
		b = domain.AppendJSONRaw(b, e.Details)
	}
	b = append(b, `,"timestamp":"`...)
	b = domain.AppendTimestamp(b, e.Timestamp)
	b = append(b, `","resource":{"account_name":`...)
	b = domain.AppendJSONString(b, e.Resource.UserID)
	b = append(b, `,"type":`...)
	b = domain.AppendJSONString(b, e.Resource.Type)
	b = append(b, `,"id":`...)
	b = domain.AppendJSONString(b, e.Resource.ID)
	b = append(b, `},"source":{"request_id":`...)
	b = domain.AppendJSONString(b, e.Source.RequestID)
	b = append(b, `,"service_name":`...)
	b = domain.AppendJSONString(b, e.Source.ServiceName)
	b = append(b, `,"host_id":`...)
	b = domain.AppendJSONString(b, e.Source.HostID)
	b = append(b, `,"base_url":`...)
	b = domain.AppendJSONString(b, e.Source.BaseURL)
	return append(b, `}}`...)
}

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.WebhookSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a webhook configuration", n.Configuration.ID)}
	}
	body := Body(n.Event)
	header := http.Header{}
	// In order of name, so that names stored before validation refused the same name in
	// another case ("X-A", "x-a") always send the same value.
	for _, name := range slices.Sorted(maps.Keys(settings.Headers)) {
		header.Set(name, settings.Headers[name].Reveal())
	}
	// herald's own names are canonical already (a test checks): set without canonicalising
	header[HeaderIdempotencyKey] = []string{n.IdempotencyKey}
	header[HeaderEventID] = []string{n.Event.ID}
	if settings.Username != "" {
		r := http.Request{Header: header}
		r.SetBasicAuth(settings.Username, settings.Password.Reveal())
	}
	if settings.HMACSecret.IsSet() {
		mac := hmac.New(sha256.New, []byte(settings.HMACSecret.Reveal()))
		mac.Write(body)
		header[HeaderSignature] = []string{"sha256=" + hex.EncodeToString(mac.Sum(nil))}
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.URL, body, header)
}

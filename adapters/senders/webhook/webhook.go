// Package webhook sends each event as JSON to an HTTP endpoint.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"net/http"
	"slices"
	"sync"

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
	signers signers
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
	if len(settings.Headers) > 0 {
		for _, name := range slices.Sorted(maps.Keys(settings.Headers)) {
			header.Set(name, settings.Headers[name].Reveal())
		}
	}
	// herald's own names are canonical already (a test checks): set without canonicalising
	header[HeaderIdempotencyKey] = []string{n.IdempotencyKey}
	header[HeaderEventID] = []string{n.Event.ID}
	if settings.Username != "" {
		r := http.Request{Header: header}
		r.SetBasicAuth(settings.Username, settings.Password.Reveal())
	}
	if settings.HMACSecret.IsSet() {
		header[HeaderSignature] = []string{s.signers.sign(settings.HMACSecret.Reveal(), body)}
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.URL, body, header)
}

// signers keep a keyed HMAC per secret for reuse: keying one (hmac.New) costs two SHA-256
// blocks and five allocations, and a fan-out signs every notification of a configuration
// with the same secret. At most maxSigners secrets are kept; past that the cache starts
// again, so secrets edited away are not kept for the process's life.
type signers struct {
	mu    sync.Mutex
	pools map[string]*sync.Pool // secret -> keyed hash.Hash values, Reset after use
}

const maxSigners = 4096

// sign returns the X-Herald-Signature value of body: sha256=<hex HMAC-SHA256 with secret>.
func (s *signers) sign(secret string, body []byte) string {
	pool := s.pool(secret)
	mac := pool.Get().(hash.Hash)
	mac.Write(body)
	var sum [sha256.Size]byte
	signature := "sha256=" + hex.EncodeToString(mac.Sum(sum[:0]))
	mac.Reset()
	pool.Put(mac)
	return signature
}

func (s *signers) pool(secret string) *sync.Pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pools[secret]; ok {
		return p
	}
	if s.pools == nil || len(s.pools) >= maxSigners {
		s.pools = map[string]*sync.Pool{}
	}
	key := []byte(secret)
	p := &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
	s.pools[secret] = p
	return p
}

package viewstest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"herald/domain"
	"herald/projections"
)

// deliveryStart is the time the sample deliveries begin at.
var deliveryStart = time.Date(2024, 6, 3, 8, 15, 0, 0, time.UTC)

// sampleErrors are reasons a failure may carry: as long as the ledger keeps, multi-line,
// quoted, escaped, and in several scripts, so that storage must keep every byte.
var sampleErrors = []string{
	"connection refused",
	`POST https://hooks.example.com/herald: 500 Internal Server Error: {"error":"boom\n"}`,
	"550 5.1.1 <ops@example.com>: Recipient address rejected: 用户不存在 — ¿qué? 🚨",
	"line one\nline two\ttabbed \\ back\\slashed \"quoted\" \x00nul",
	strings.Repeat("é", domain.MaxDeliveryError/2),
}

// deliveryEvent is an event the history delivers, to one configuration or several.
type deliveryEvent struct {
	id, typ string
	level   domain.Level
}

// deliveryConfiguration is a configuration the history delivers to.
type deliveryConfiguration struct {
	id, account string
	kind        domain.EndpointKind
}

// deliveryHistory produces deliveries as the ledger records them: positions rising with gaps
// (other facts lie between), outcome times that mostly rise but not always (a slow receiver's
// outcome is recorded after later ones), several deliveries per event, and every field
// varied, some instants shared by two deliveries.
type deliveryHistory struct {
	rng            *rand.Rand
	position       uint64
	at             time.Time
	configurations []deliveryConfiguration
	accounts       []string
	events         []deliveryEvent // recent ones, delivered again
}

func newDeliveryHistory(seed uint64) *deliveryHistory {
	h := &deliveryHistory{
		rng: rand.New(rand.NewPCG(seed, 0x64656c6976)), at: deliveryStart,
		accounts: []string{domain.AdminAccount, "acme", "globex", "initech"},
	}
	kinds := domain.EndpointKinds()
	for i, account := range h.accounts {
		for j := range 3 {
			id := fmt.Sprintf("0c9a%02d%02d-5f1e-4b7a-9e42-cfg", i, j)
			h.configurations = append(h.configurations, deliveryConfiguration{id: id, account: account, kind: kinds[(i+j)%len(kinds)]})
		}
	}
	return h
}

// event returns a new event (often) or a recent one (a second configuration, a backfill).
func (h *deliveryHistory) event() deliveryEvent {
	if len(h.events) > 0 && h.rng.IntN(5) < 3 {
		return h.events[h.rng.IntN(len(h.events))]
	}
	types := []string{"user.image.analysis.completed", "user.image.analysis.failed", "system.feeds.sync.failed", "user.checks.tag.vulnerabilities.update"}
	e := deliveryEvent{id: fmt.Sprintf("%016x%016x", h.rng.Uint64(), h.rng.Uint64()), typ: types[h.rng.IntN(len(types))], level: domain.LevelInfo}
	if strings.Contains(e.typ, "failed") {
		e.level = domain.LevelError
	}
	h.events = append(h.events, e)
	if len(h.events) > 8 {
		h.events = h.events[1:]
	}
	return e
}

// next returns the next delivery of the ledger.
func (h *deliveryHistory) next() domain.Delivery {
	h.position += 1 + uint64(h.rng.IntN(3))
	if h.rng.IntN(6) > 0 { // else the same instant as the previous delivery
		h.at = h.at.Add(time.Duration(h.rng.Int64N(int64(3 * time.Second))))
	}
	e, c := h.event(), h.configurations[h.rng.IntN(len(h.configurations))]
	d := domain.Delivery{
		EventID: e.id, ConfigurationID: c.id, Account: c.account, Kind: c.kind, EventType: e.typ, Level: e.level,
		Status: domain.DeliveryDelivered, ReceiverStatus: []int{200, 202, 204, 250}[h.rng.IntN(4)], Attempts: 1 + h.rng.IntN(3),
		Latency: time.Duration(h.rng.Int64N(int64(90 * time.Second))), Trigger: domain.TriggerDispatch, At: h.at,
		Position: h.position,
	}
	if h.rng.IntN(4) == 0 {
		d.Status, d.ReceiverStatus, d.Attempts = domain.DeliveryFailed, []int{0, 404, 500, 503, 550}[h.rng.IntN(5)], 1+h.rng.IntN(8)
		d.Error = sampleErrors[h.rng.IntN(len(sampleErrors))]
	}
	if h.rng.IntN(5) == 0 {
		d.Trigger = domain.TriggerBackfill
	}
	if h.rng.IntN(4) == 0 { // recorded late: its outcome time is older than earlier deliveries'
		d.At = d.At.Add(-time.Duration(h.rng.Int64N(int64(20 * time.Second))))
	}
	return d
}

// batch returns the next n deliveries.
func (h *deliveryHistory) batch(n int) []domain.Delivery {
	out := make([]domain.Delivery, n)
	for i := range out {
		out[i] = h.next()
	}
	return out
}

// sampleDeliveries returns deliveries that together set every field to its edge values:
// zero and large numbers, nanosecond times and latencies, times before 1678 and after 2262
// (beyond int64 nanoseconds), an empty level, every error sample, unknown kinds and
// triggers kept as given, positions beyond 2^53 (where floats lose digits).
func sampleDeliveries() []domain.Delivery {
	base := domain.Delivery{
		EventID: "5f0e6a1c2b3d4e5f60718293a4b5c6d7", ConfigurationID: "cfg-sample", Account: "acme", Kind: domain.KindWebhook,
		EventType: "user.image.analysis.completed", Level: domain.LevelInfo, Status: domain.DeliveryDelivered,
		ReceiverStatus: 200, Attempts: 1, Latency: 1500 * time.Millisecond, Trigger: domain.TriggerDispatch,
		At: time.Date(2024, 6, 3, 8, 15, 0, 123456789, time.UTC),
	}
	var out []domain.Delivery
	add := func(change func(*domain.Delivery)) {
		d := base
		change(&d)
		d.Position = uint64(len(out)+1) * 3
		out = append(out, d)
	}
	add(func(*domain.Delivery) {})
	add(func(d *domain.Delivery) {
		d.Status, d.ReceiverStatus, d.Attempts, d.Level = domain.DeliveryFailed, 503, 7, domain.LevelError
		d.Latency, d.At = 3*time.Minute+17*time.Nanosecond, d.At.Add(time.Nanosecond)
	})
	for _, reason := range sampleErrors {
		add(func(d *domain.Delivery) { d.Status, d.Error, d.ReceiverStatus = domain.DeliveryFailed, reason, 550 })
	}
	add(func(d *domain.Delivery) {
		d.ReceiverStatus, d.Attempts, d.Latency, d.Level, d.EventType = 0, 0, 0, 0, ""
		d.Kind, d.Trigger = "fax", "carrier pigeon"
	})
	add(func(d *domain.Delivery) { d.ReceiverStatus, d.Attempts, d.Latency = 1<<31+5, 1<<40, 1<<62+3 })
	add(func(d *domain.Delivery) { d.At = time.Date(1601, 1, 1, 0, 0, 0, 999, time.UTC) })
	add(func(d *domain.Delivery) { d.At = time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC) })
	add(func(d *domain.Delivery) { d.At = time.Unix(0, 1).UTC() })
	add(func(d *domain.Delivery) {
		d.EventID, d.ConfigurationID, d.Account = "event id with spaces: ünïcode {tag}*?", "cfg:with:colons", "Ünïcode account"
		d.Trigger = domain.TriggerBackfill
	})
	for _, p := range []uint64{1<<53 + 1, 1<<53 + 2, 1<<60 + 7, 1<<64 - 1} {
		d := base
		d.Position, d.EventID = p, fmt.Sprintf("large-%d", p)
		out = append(out, d)
	}
	return out
}

// diffDelivery tells how got differs from want, or "".
func diffDelivery(want, got domain.Delivery) string {
	var d []string
	field := func(name string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("Position", want.Position, got.Position)
	field("EventID", want.EventID, got.EventID)
	field("ConfigurationID", want.ConfigurationID, got.ConfigurationID)
	field("Account", want.Account, got.Account)
	field("Kind", want.Kind, got.Kind)
	field("EventType", want.EventType, got.EventType)
	field("Level", want.Level, got.Level)
	field("Status", want.Status, got.Status)
	field("ReceiverStatus", want.ReceiverStatus, got.ReceiverStatus)
	field("Attempts", want.Attempts, got.Attempts)
	field("Latency", want.Latency, got.Latency)
	field("Error", want.Error, got.Error)
	field("Trigger", want.Trigger, got.Trigger)
	if !want.At.Equal(got.At) {
		d = append(d, fmt.Sprintf("At = %s, want %s", got.At.Format(time.RFC3339Nano), want.At.Format(time.RFC3339Nano)))
	}
	return strings.Join(d, "; ")
}

func formatDelivery(d domain.Delivery) string {
	return fmt.Sprintf("{pos=%d %s -> %s/%s %s at=%s}", d.Position, d.EventID, d.Account, d.ConfigurationID, d.Status, d.At.Format(time.RFC3339Nano))
}

// describeDeliveryFilter writes the non-zero fields of a filter.
func describeDeliveryFilter(f projections.DeliveryFilter) string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("account", f.Account)
	add("configuration", f.ConfigurationID)
	add("event", f.EventID)
	add("status", string(f.Status))
	if !f.Since.IsZero() {
		add("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Before.IsZero() {
		add("before", f.Before.Format(time.RFC3339Nano))
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{" + strings.Join(parts, " ") + "}"
}

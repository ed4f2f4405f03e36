package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The ledger fact's codec as it was before it was hand-written: json.Marshal and
// json.Unmarshal of a struct. The codec must write the same bytes and read the same values.

type refDeliveryV1 struct {
	V               int             `json:"v"`
	EventID         string          `json:"event_id"`
	ConfigurationID string          `json:"configuration_id"`
	Account         string          `json:"account"`
	Kind            EndpointKind    `json:"kind"`
	EventType       string          `json:"event_type,omitempty"`
	Level           string          `json:"level,omitempty"`
	ReceiverStatus  int             `json:"receiver_status,omitempty"`
	Attempts        int             `json:"attempts"`
	LatencyMicros   int64           `json:"latency_us"`
	Error           string          `json:"error,omitempty"`
	Trigger         DeliveryTrigger `json:"trigger"`
	At              string          `json:"at"`
}

func refEncodeDelivery(d Delivery) []byte {
	reason := d.Error
	if len(reason) > MaxDeliveryError {
		reason = reason[:MaxDeliveryError]
	}
	data, _ := json.Marshal(refDeliveryV1{
		V: factVersion, EventID: d.EventID, ConfigurationID: d.ConfigurationID, Account: d.Account, Kind: d.Kind,
		EventType: d.EventType, Level: d.Level.String(), ReceiverStatus: d.ReceiverStatus, Attempts: d.Attempts,
		LatencyMicros: d.Latency.Microseconds(), Error: reason, Trigger: d.Trigger, At: FormatTimestamp(d.At),
	})
	return data
}

func refDecodeDelivery(typ string, data []byte) (Delivery, error) {
	status := map[string]DeliveryStatus{NotificationDeliveredType: DeliveryDelivered, NotificationFailedType: DeliveryFailed}[typ]
	var w refDeliveryV1
	if err := json.Unmarshal(data, &w); err != nil {
		return Delivery{}, fmt.Errorf("decode %s: %w", typ, err)
	}
	if w.V != factVersion {
		return Delivery{}, fmt.Errorf("decode %s v%d: %w", typ, w.V, ErrUnknownFactVersion)
	}
	at, err := ParseTimestamp(w.At)
	if err != nil {
		return Delivery{}, fmt.Errorf("decode %s: at: %w", typ, err)
	}
	d := Delivery{
		EventID: w.EventID, ConfigurationID: w.ConfigurationID, Account: w.Account, Kind: w.Kind, EventType: w.EventType,
		Status: status, ReceiverStatus: w.ReceiverStatus, Attempts: w.Attempts, Latency: time.Duration(w.LatencyMicros) * time.Microsecond,
		Error: w.Error, Trigger: w.Trigger, At: at,
	}
	if w.Level != "" {
		var ok bool
		if d.Level, ok = ParseLevel(w.Level); !ok {
			return Delivery{}, fmt.Errorf("decode %s: unknown level %q", typ, w.Level)
		}
	}
	return d, nil
}

func randomDelivery(r *rand.Rand) Delivery {
	strs := []string{"", "e-1", "webhook", "alice", "system.notification.test", "<&>\u2028\"\\\n", "\xff\xfe", "😀 ünïcode", strings.Repeat("x", 40)}
	pick := func() string { return strs[r.IntN(len(strs))] }
	d := Delivery{
		EventID: pick(), ConfigurationID: pick(), Account: pick(), Kind: EndpointKind(pick()), EventType: pick(),
		Level: Level(r.IntN(4)), Status: []DeliveryStatus{DeliveryDelivered, DeliveryFailed}[r.IntN(2)],
		ReceiverStatus: []int{0, 200, 429, 550}[r.IntN(4)], Attempts: r.IntN(12) - 1,
		Latency: time.Duration(r.Int64N(1<<40)) - time.Millisecond, Error: pick(), Trigger: DeliveryTrigger(pick()),
		At: time.Unix(0, r.Int64N(1<<62)),
	}
	if r.IntN(8) == 0 {
		d.Error = strings.Repeat("é", MaxDeliveryError) // cut inside a rune
	}
	return d
}

func checkDeliveryEncodeMatches(t *testing.T, d Delivery) {
	t.Helper()
	f, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := refEncodeDelivery(d); string(f.Data) != string(want) {
		t.Fatalf("encoding %#v:\n got %s\nwant %s", d, f.Data, want)
	}
	checkDeliveryDecodeMatches(t, f.Type, f.Data)
}

// checkDeliveryDecodeMatches decodes a fact with the codec and with json.Unmarshal and wants
// the same delivery, or an error from both (ErrUnknownFactVersion from both if from either).
func checkDeliveryDecodeMatches(t *testing.T, typ string, data []byte) {
	t.Helper()
	got, gotErr := DecodeDelivery(typ, data)
	want, wantErr := refDecodeDelivery(typ, data)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("decoding %q: error %v, encoding/json's %v", data, gotErr, wantErr)
	case errors.Is(gotErr, ErrUnknownFactVersion) != errors.Is(wantErr, ErrUnknownFactVersion):
		t.Fatalf("decoding %q: error %v, encoding/json's %v", data, gotErr, wantErr)
	case gotErr != nil && !strings.HasPrefix(gotErr.Error(), "decode "+typ):
		t.Fatalf("decoding %q: error %v lacks the context", data, gotErr)
	case !reflect.DeepEqual(got, want):
		t.Fatalf("decoding %q:\n got %#v\nwant %#v", data, got, want)
	}
}

func TestDelivery_codecMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		checkDeliveryEncodeMatches(t, randomDelivery(r))
	}
	for _, data := range deliverySeeds {
		checkDeliveryDecodeMatches(t, NotificationDeliveredType, []byte(data))
	}
}

// deliverySeeds are facts in layouts Encode does not write: other key order and case,
// unknown keys, nulls, repeated keys, wrong types, trailing data.
var deliverySeeds = []string{
	`{"v":1,"event_id":"e","configuration_id":"c","account":"a","kind":"webhook","attempts":1,"latency_us":5,"trigger":"dispatch","at":"2026-11-22T10:00:00.000000Z"}`,
	` { "AT" : "2026-11-22T10:00:00Z" , "V" : 1 , "Event_ID" : "e" , "x" : [ { "y" : null } ] , "level" : "error" } `,
	`{"v":1,"at":"2026-11-22T10:00:00Z","event_id":null,"attempts":null,"latency_us":-7,"receiver_status":503}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","event_id":"a","event_id":"b","attempts":1,"attempts":2}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","level":"loud"}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","attempts":1.5}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","attempts":"1"}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","latency_us":99999999999999999999}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","event_id":1}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z"} x`,
	`{"v":1,"at":"2026-11-22T10:00:00Z",}`,
	`{"v":2,"at":"2026-11-22T10:00:00Z"}`,
	`{"at":"2026-11-22T10:00:00Z"}`,
	`{"v":1,"at":"yesterday"}`,
	`{"v":1,"at":null}`,
	`{"v":1,"at":"2026-11-22T10:00:00Z","error":"\ud800 \u00e9 \"q\""}`,
	`null`,
	`[]`,
	`"v"`,
	``,
}

func FuzzDecodeDelivery(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 20 {
		fact, _ := randomDelivery(r).Encode()
		f.Add(fact.Data)
	}
	for _, data := range deliverySeeds {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDeliveryDecodeMatches(t, NotificationFailedType, data)
	})
}

func FuzzEncodeDelivery(f *testing.F) {
	f.Add("e-1", "c-1", "alice", "webhook", "image.analysis.failed", uint8(2), true, 200, 1, int64(1500), "", "dispatch", int64(1530225386512589000))
	f.Add("\xff\u2028", "<&>", "\"\\", "😀", "", uint8(9), false, 0, -1, int64(-1), "\x00\xff", "", int64(-1))
	f.Fuzz(func(t *testing.T, eventID, configID, account, kind, eventType string, level uint8, delivered bool, receiverStatus, attempts int, latency int64, reason, trigger string, nanos int64) {
		status := DeliveryFailed
		if delivered {
			status = DeliveryDelivered
		}
		checkDeliveryEncodeMatches(t, Delivery{
			EventID: eventID, ConfigurationID: configID, Account: account, Kind: EndpointKind(kind), EventType: eventType,
			Level: Level(level), Status: status, ReceiverStatus: receiverStatus, Attempts: attempts,
			Latency: time.Duration(latency), Error: reason, Trigger: DeliveryTrigger(trigger), At: time.Unix(0, nanos),
		})
	})
}

func BenchmarkDelivery(b *testing.B) {
	d := Delivery{EventID: "0d3c9f2e-5b7a-4c1e-9f00-1a2b3c4d5e6f", ConfigurationID: "cfg-000042", Account: "alice", Kind: "webhook",
		EventType: "system.image.analysis.failed", Level: LevelError, Status: DeliveryDelivered, ReceiverStatus: 200,
		Attempts: 1, Latency: 1500 * time.Microsecond, Trigger: TriggerDispatch, At: time.Now()}
	fact, _ := d.Encode()
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			_, _ = d.Encode()
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			_, _ = DecodeDelivery(fact.Type, fact.Data)
		}
	})
}

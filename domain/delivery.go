package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// Fact types of the delivery ledger.
const (
	NotificationDeliveredType = "NotificationDelivered"
	NotificationFailedType    = "NotificationFailed"
)

// DeliveryStreamPrefix starts every ledger stream.
const DeliveryStreamPrefix = "delivery-"

// DeliveryStream names the ledger stream of one (event, configuration) pair. Its first fact
// is the pair's outcome; a backfill may add a delivery after a failure.
func DeliveryStream(eventID, configurationID string) string {
	return DeliveryStreamPrefix + eventID + "-" + configurationID
}

// DeliveryStatus is the outcome of one notification.
type DeliveryStatus string

// Outcomes.
const (
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed" // dead-lettered: final error or attempts exhausted
)

// DeliveryTrigger says what sent a notification.
type DeliveryTrigger string

// Triggers.
const (
	TriggerDispatch DeliveryTrigger = "dispatch" // the event was recorded
	TriggerBackfill DeliveryTrigger = "backfill" // a backfill replayed history
)

// Delivery is the outcome of one notification: one ledger fact.
type Delivery struct {
	EventID         string
	ConfigurationID string
	Account         string // the configuration's account
	Kind            EndpointKind
	EventType       string
	Level           Level
	Status          DeliveryStatus
	ReceiverStatus  int           // HTTP status or SMTP reply code; 0 when there was no answer
	Attempts        int           // sends tried, this one included
	Latency         time.Duration // event recorded -> outcome
	Error           string        // why it failed (failed only)
	Trigger         DeliveryTrigger
	At              time.Time
	Position        uint64 // of the fact in the log; set when read back
}

// Stream is the ledger stream the delivery belongs to.
func (d Delivery) Stream() string { return DeliveryStream(d.EventID, d.ConfigurationID) }

type deliveryV1 struct {
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

// MaxDeliveryError bounds the reason kept with a failure.
const MaxDeliveryError = 1024

// Encode writes the delivery as its ledger fact.
func (d Delivery) Encode() (Fact, error) {
	typ := NotificationDeliveredType
	switch d.Status {
	case DeliveryDelivered:
	case DeliveryFailed:
		typ = NotificationFailedType
	default:
		return Fact{}, fmt.Errorf("encode delivery: unknown status %q", d.Status)
	}
	reason := d.Error
	if len(reason) > MaxDeliveryError {
		reason = reason[:MaxDeliveryError]
	}
	data, err := json.Marshal(deliveryV1{
		V: factVersion, EventID: d.EventID, ConfigurationID: d.ConfigurationID, Account: d.Account, Kind: d.Kind,
		EventType: d.EventType, Level: d.Level.String(), ReceiverStatus: d.ReceiverStatus, Attempts: d.Attempts,
		LatencyMicros: d.Latency.Microseconds(), Error: reason, Trigger: d.Trigger, At: FormatTimestamp(d.At),
	})
	if err != nil {
		return Fact{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return Fact{Type: typ, Data: data}, nil
}

// IsDeliveryFact tells whether a record of type typ is a ledger fact.
func IsDeliveryFact(typ string) bool {
	return typ == NotificationDeliveredType || typ == NotificationFailedType
}

// DecodeDelivery reads a ledger fact.
func DecodeDelivery(typ string, data []byte) (Delivery, error) {
	var status DeliveryStatus
	switch typ {
	case NotificationDeliveredType:
		status = DeliveryDelivered
	case NotificationFailedType:
		status = DeliveryFailed
	default:
		return Delivery{}, fmt.Errorf("decode delivery: %s is not a ledger fact", typ)
	}
	var w deliveryV1
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

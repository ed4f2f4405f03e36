package domain

import (
	"fmt"
	"strconv"
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

// MaxDeliveryError bounds the reason kept with a failure.
const MaxDeliveryError = 1024

// Encode writes the delivery as its ledger fact: byte for byte what json.Marshal wrote for
// it before the hand-written codec, keys in this order, empty optional ones left out:
//
//	{"v":1,"event_id":…,"configuration_id":…,"account":…,"kind":…,"event_type":…,"level":…,
//	 "receiver_status":…,"attempts":…,"latency_us":…,"error":…,"trigger":…,"at":…}
//
// Every notification writes one, and every follower of the log reads it back, so the codec
// is hand-written as the EventRecorded one is.
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
	level := d.Level.String()
	b := make([]byte, 0, 256+len(d.EventID)+len(d.ConfigurationID)+len(d.Account)+len(d.EventType)+len(reason))
	b = append(b, `{"v":1,"event_id":`...)
	b = appendString(b, d.EventID)
	b = append(b, `,"configuration_id":`...)
	b = appendString(b, d.ConfigurationID)
	b = append(b, `,"account":`...)
	b = appendString(b, d.Account)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(d.Kind))
	if d.EventType != "" {
		b = append(b, `,"event_type":`...)
		b = appendString(b, d.EventType)
	}
	if level != "" {
		b = append(b, `,"level":`...)
		b = appendString(b, level)
	}
	if d.ReceiverStatus != 0 {
		b = append(b, `,"receiver_status":`...)
		b = strconv.AppendInt(b, int64(d.ReceiverStatus), 10)
	}
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(d.Attempts), 10)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, d.Latency.Microseconds(), 10)
	if reason != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, reason)
	}
	b = append(b, `,"trigger":`...)
	b = appendString(b, string(d.Trigger))
	b = append(b, `,"at":"`...)
	b = appendTimestamp(b, d.At)
	b = append(b, `"}`...)
	return Fact{Type: typ, Data: b}, nil
}

// IsDeliveryFact tells whether a record of type typ is a ledger fact.
func IsDeliveryFact(typ string) bool {
	return typ == NotificationDeliveredType || typ == NotificationFailedType
}

// DecodeDelivery reads a ledger fact the way json.Unmarshal read it into a struct: keys in
// any order and matched case-insensitively, unknown keys and nulls ignored, the last of
// repeated keys winning, a value of the wrong type an error.
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
	f := factReader{r: jsonReader{data: data}}
	var version, receiverStatus, attempts int
	var latency int64
	err := f.topObject(func(key []byte) error {
		switch i := keyIndex(key, deliveryKeys); i {
		case delV:
			return f.int("v", &version)
		case delReceiverStatus:
			return f.int("receiver_status", &receiverStatus)
		case delAttempts:
			return f.int("attempts", &attempts)
		case delLatency:
			return f.int64("latency_us", &latency)
		case -1:
			return f.r.skipValue()
		default:
			return f.string(deliveryKeys[i], i)
		}
	})
	if err != nil {
		return Delivery{}, decodeError(typ, err)
	}
	if version != factVersion {
		return Delivery{}, fmt.Errorf("decode %s v%d: %w", typ, version, ErrUnknownFactVersion)
	}
	all := f.strs.all()
	str := func(slot int) string { return f.strs.get(all, slot) }
	at, err := ParseTimestamp(str(delAt))
	if err != nil {
		return Delivery{}, fmt.Errorf("decode %s: at: %w", typ, err)
	}
	d := Delivery{
		EventID: str(delEventID), ConfigurationID: str(delConfigurationID), Account: str(delAccount),
		Kind: EndpointKind(str(delKind)), EventType: str(delEventType), Status: status, ReceiverStatus: receiverStatus,
		Attempts: attempts, Latency: time.Duration(latency) * time.Microsecond, Error: str(delError),
		Trigger: DeliveryTrigger(str(delTrigger)), At: at,
	}
	if level := str(delLevel); level != "" {
		var ok bool
		if d.Level, ok = ParseLevel(level); !ok {
			return Delivery{}, fmt.Errorf("decode %s: unknown level %q", typ, level)
		}
	}
	return d, nil
}

// deliveryKeys are a ledger fact's keys; the index of a string member is its slot in the
// reader's arena.
var deliveryKeys = []string{"event_id", "configuration_id", "account", "kind", "event_type", "level", "error", "trigger", "at",
	"v", "receiver_status", "attempts", "latency_us"}

const (
	delEventID = iota
	delConfigurationID
	delAccount
	delKind
	delEventType
	delLevel
	delError
	delTrigger
	delAt
	delV
	delReceiverStatus
	delAttempts
	delLatency
)

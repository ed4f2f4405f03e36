package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"herald/domain"
)

// Job is one notification to deliver: one event through one configuration. It travels
// through the router as a watermill message whose payload is the event's EventRecorded fact
// and whose metadata says the rest; credentials never travel, the handler reads them.
type Job struct {
	EventID         string
	ConfigurationID string
	Account         string // the configuration's, so that a failure stays visible to its users after it was removed
	Kind            domain.EndpointKind
	Position        uint64    // of the event in the log
	RecordedAt      time.Time // when the store accepted the event, for the latency metric
	Trigger         domain.DeliveryTrigger
	Backfill        string // the backfill run that asked, "" for dispatch
	Fact            []byte // the event's EventRecorded fact
}

// Metadata keys of a job message.
const (
	metaEvent         = "herald_event_id"
	metaConfiguration = "herald_configuration_id"
	metaKind          = "herald_kind"
	metaAccount       = "herald_account"
	// metaPosition is "<position>@<recorded at, unix nanoseconds>": one key rather than two
	// keeps a message's metadata, with the correlation id and the attempt, within the eight
	// entries a Go map holds without growing (that growth was ~8% of what the fan-out
	// allocated).
	metaPosition = "herald_position"
	// metaRecordedAt held the time recorded in messages of earlier herald versions, which
	// may still wait in Redis Streams after an upgrade; it is still read.
	metaRecordedAt = "herald_recorded_at"
	metaTrigger    = "herald_trigger"
	metaBackfill   = "herald_backfill"
	metaAttempt    = "herald_attempt"
	metaReason     = "herald_failure"
	metaStatus     = "herald_receiver_status"
)

// Message turns the job into a router message; the idempotency key is its UUID, so the same
// pair is the same message however often it is published.
func (j Job) Message() *message.Message {
	msg := message.NewMessage(IdempotencyKey(j.EventID, j.ConfigurationID), j.Fact)
	msg.Metadata.Set(metaEvent, j.EventID)
	msg.Metadata.Set(metaConfiguration, j.ConfigurationID)
	msg.Metadata.Set(metaKind, string(j.Kind))
	msg.Metadata.Set(metaAccount, j.Account)
	msg.Metadata.Set(metaPosition, strconv.FormatUint(j.Position, 10)+"@"+strconv.FormatInt(j.RecordedAt.UnixNano(), 10))
	msg.Metadata.Set(metaTrigger, string(j.Trigger))
	if j.Backfill != "" {
		msg.Metadata.Set(metaBackfill, j.Backfill)
	}
	return msg
}

// JobOf reads a job back from a router message.
func JobOf(msg *message.Message) (Job, error) {
	j := Job{
		EventID: msg.Metadata.Get(metaEvent), ConfigurationID: msg.Metadata.Get(metaConfiguration),
		Account: msg.Metadata.Get(metaAccount),
		Kind:    domain.EndpointKind(msg.Metadata.Get(metaKind)), Trigger: domain.DeliveryTrigger(msg.Metadata.Get(metaTrigger)),
		Backfill: msg.Metadata.Get(metaBackfill), Fact: msg.Payload,
	}
	if j.EventID == "" || j.ConfigurationID == "" {
		return Job{}, fmt.Errorf("message %s is not a notification job: no event or configuration id", msg.UUID)
	}
	var err error
	position, recordedAt, found := strings.Cut(msg.Metadata.Get(metaPosition), "@")
	if !found {
		recordedAt = msg.Metadata.Get(metaRecordedAt)
	}
	if j.Position, err = strconv.ParseUint(position, 10, 64); err != nil {
		return Job{}, fmt.Errorf("message %s: position: %w", msg.UUID, err)
	}
	if ns, err := strconv.ParseInt(recordedAt, 10, 64); err == nil && ns > 0 {
		j.RecordedAt = time.Unix(0, ns)
	}
	if j.Trigger == "" {
		j.Trigger = domain.TriggerDispatch
	}
	return j, nil
}

// attemptOf is how many sends of msg were tried before this one.
func attemptOf(msg *message.Message) int {
	n, _ := strconv.Atoi(msg.Metadata.Get(metaAttempt))
	return n
}

// pairKey identifies an (event, configuration) pair in memory.
type pairKey struct{ event, configuration string }

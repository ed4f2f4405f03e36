package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"herald/domain"
)

// RecordEvents records a batch of events. The batch is validated as a whole: if any event is
// invalid, nothing is stored and the error lists every problem by position ("events[3].level").
// Recording is idempotent by event id: an id already in the log (or earlier in the batch) is
// reported as a duplicate and not stored again. Event ids are unique across accounts: an id
// another account's event already has is refused, so that an account's event is never taken
// for a copy of someone else's and silently left out.
type RecordEvents struct {
	Actor  domain.Actor // who records: an account may only record its own events
	Events []domain.LogEvent
	// Stamped, when set, says which events carry a timestamp the sender did not give: the
	// Kafka ingester gives an event without one its message's. A duplicate of such an event
	// is not said to differ in its timestamp, as a copy produced again has a new one.
	Stamped []bool
}

// timeGiven tells whether the sender gave event i its timestamp.
func (cmd RecordEvents) timeGiven(i int) bool {
	return !cmd.Events[i].Timestamp.IsZero() && !(i < len(cmd.Stamped) && cmd.Stamped[i])
}

// RecordStatus says what became of one event of a batch.
type RecordStatus uint8

// Statuses of a recorded event.
const (
	Recorded  RecordStatus = iota + 1 // stored now
	Duplicate                         // an event with this id was already recorded (or deleted)
	Refused                           // another account's event has this id; nothing was stored
)

func (s RecordStatus) String() string {
	switch s {
	case Duplicate:
		return "duplicate"
	case Refused:
		return "refused"
	}
	return "recorded"
}

// RecordOutcome is what became of one event, in the order of the batch.
type RecordOutcome struct {
	ID       string
	Status   RecordStatus
	Position uint64 // global position of the EventRecorded fact; 0 unless recorded
	// Reason says why a refused event was refused, and for a duplicate that differs from
	// the event recorded under its id, in what (IDReused).
	Reason string
}

// RecordEventsResult lists the outcome of every event of the batch.
type RecordEventsResult struct {
	Outcomes     []RecordOutcome
	LastPosition uint64 // highest position written, for callers that wait for the views
}

// RecordCounts counts the outcomes of a batch by status.
type RecordCounts struct {
	Recorded, Duplicates, Refused int
}

// Counts returns how many events were recorded, duplicates and refused.
func (r RecordEventsResult) Counts() RecordCounts {
	var c RecordCounts
	for _, o := range r.Outcomes {
		switch o.Status {
		case Recorded:
			c.Recorded++
		case Duplicate:
			c.Duplicates++
		case Refused:
			c.Refused++
		}
	}
	return c
}

// Refusals returns why each refused event was refused, by its index in the batch; nil when
// none was.
func (r RecordEventsResult) Refusals() map[int]string {
	var out map[int]string
	for i, o := range r.Outcomes {
		if o.Status == Refused {
			if out == nil {
				out = map[int]string{}
			}
			out[i] = o.Reason
		}
	}
	return out
}

// Duplicated says, by index, which events were not stored because their id was already
// recorded; nil when none was.
func (r RecordEventsResult) Duplicated() []bool {
	var out []bool
	for i, o := range r.Outcomes {
		if o.Status == Duplicate {
			if out == nil {
				out = make([]bool, len(r.Outcomes))
			}
			out[i] = true
		}
	}
	return out
}

// IDTaken is the reason an event is refused when another account's event has its id.
func IDTaken(id string) string {
	return fmt.Sprintf("event id %q is taken by an event of another account; event ids are unique across accounts: send this event with another id, or with none and herald makes one", id)
}

// IDReused is the note on a duplicate that differs from the event recorded under its id in
// the fields named.
func IDReused(id string, fields []string) string {
	return fmt.Sprintf("event id %q is already in the log for an event that differs from this one in its %s; this one was not stored: give each event its own id, or none and herald makes one",
		id, joinAnd(fields))
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// RecordEventsHandler handles RecordEvents.
type RecordEventsHandler struct {
	store EventStore
	now   Clock
	newID func() string
}

// NewRecordEventsHandler builds the handler; newID makes ids for events sent without one.
func NewRecordEventsHandler(store EventStore, now Clock, newID func() string) (RecordEventsHandler, error) {
	if store == nil || now == nil || newID == nil {
		return RecordEventsHandler{}, fmt.Errorf("new record events handler: %w", errNilDependency)
	}
	return RecordEventsHandler{store: store, now: now, newID: newID}, nil
}

// Handle validates the batch, then appends one EventRecorded fact per new event, each to the
// event's own stream with expected revision "no stream", so that concurrent or repeated
// deliveries of one event store it once.
func (h RecordEventsHandler) Handle(ctx context.Context, cmd RecordEvents) (RecordEventsResult, error) {
	if err := cmd.Actor.Require(domain.RecordEvents); err != nil {
		return RecordEventsResult{}, err
	}
	if len(cmd.Events) == 0 {
		return RecordEventsResult{}, &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{Field: "events", Message: "is empty; send at least one event"}}}
	}
	if len(cmd.Events) > domain.MaxEventsPerBatch {
		return RecordEventsResult{}, &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{Field: "events", Message: fmt.Sprintf("holds %d events, the limit per batch is %d", len(cmd.Events), domain.MaxEventsPerBatch)}}}
	}
	now := h.now()
	events := make([]domain.LogEvent, len(cmd.Events))
	invalid := &domain.ValidationError{Subject: domain.EventSubject}
	for i, e := range cmd.Events {
		if e.Resource.UserID == "" && !cmd.Actor.IsAdmin() {
			e.Resource.UserID = cmd.Actor.Account // an account's events default to that account
		}
		if !cmd.Actor.Sees(e.Resource.UserID) {
			invalid.Fields = append(invalid.Fields, domain.FieldError{Field: fmt.Sprintf("events[%d].resource.user_id", i),
				Message: fmt.Sprintf("%s: account %s may only record its own events", domain.Quote(e.Resource.UserID), cmd.Actor.Account)})
			continue
		}
		events[i] = e.WithDefaults(now, h.newID)
		if strings.HasPrefix(events[i].ID, domain.KafkaIDPrefix) && !cmd.Actor.IsAdmin() {
			invalid.Fields = append(invalid.Fields, domain.FieldError{Field: fmt.Sprintf("events[%d].id", i),
				Message: fmt.Sprintf("%q: ids starting with %q are kept for the events herald reads from Kafka", events[i].ID, domain.KafkaIDPrefix)})
			continue
		}
		if err := events[i].Validate(now); err != nil {
			var v *domain.ValidationError
			if errors.As(err, &v) {
				invalid.Fields = append(invalid.Fields, v.Prefixed(fmt.Sprintf("events[%d]", i)).Fields...)
				continue
			}
			return RecordEventsResult{}, err
		}
	}
	if len(invalid.Fields) > 0 {
		return RecordEventsResult{}, invalid
	}

	result := RecordEventsResult{Outcomes: make([]RecordOutcome, len(events))}
	appends := make([]domain.StreamAppend, 0, len(events))
	appended := make([]int, 0, len(events))   // batch index of each append
	seen := make(map[string]int, len(events)) // id -> index of its first event in the batch
	var again []int                           // events whose id an earlier event of the batch has
	for i, e := range events {
		result.Outcomes[i] = RecordOutcome{ID: e.ID, Status: Duplicate}
		if _, dup := seen[e.ID]; dup {
			again = append(again, i)
			continue
		}
		seen[e.ID] = i
		appends = append(appends, domain.StreamAppend{
			Stream:   domain.LogEventStream(e.ID),
			Expected: domain.NoStream(),
			Facts:    []domain.Fact{domain.EventRecorded{Event: e}.Encode()},
		})
		appended = append(appended, i)
	}
	outcomes, err := h.store.AppendMany(ctx, appends)
	if err != nil {
		return RecordEventsResult{}, fmt.Errorf("append events: %w", err)
	}
	// The event the log holds under each id the batch appended to, by the batch index of the
	// id's first event: that event once recorded, or the one stored before. An event is told
	// apart from that one, never from an earlier event of the batch that was not stored.
	inLog := make(map[int]domain.LogEvent, len(outcomes))
	for j, o := range outcomes {
		i := appended[j]
		switch {
		case o.Err == nil:
			result.Outcomes[i].Status = Recorded
			result.Outcomes[i].Position = o.Result.Position
			result.LastPosition = max(result.LastPosition, o.Result.Position)
			inLog[i] = events[i]
		case errors.Is(o.Err, domain.ErrConcurrency):
			stored, err := h.recorded(ctx, events[i].ID)
			if err != nil {
				return RecordEventsResult{}, err
			}
			inLog[i] = stored
			result.Outcomes[i] = duplicateOf(stored, events[i], cmd.timeGiven(i))
		case errors.Is(o.Err, domain.ErrStreamDeleted):
			// recorded and deleted since: not again (whose it was is gone with it)
		default:
			return RecordEventsResult{}, fmt.Errorf("append event %s: %w", events[i].ID, o.Err)
		}
	}
	for _, i := range again {
		if stored, ok := inLog[seen[events[i].ID]]; ok {
			result.Outcomes[i] = duplicateOf(stored, events[i], cmd.timeGiven(i))
		}
	}
	return result, nil
}

// duplicateOf is the outcome of e, not stored since the log holds stored under its id: refused
// when stored is another account's, a duplicate otherwise, with a note when the two differ.
func duplicateOf(stored, e domain.LogEvent, timeGiven bool) RecordOutcome {
	if stored.Account() != e.Account() {
		return RecordOutcome{ID: e.ID, Status: Refused, Reason: IDTaken(e.ID)}
	}
	out := RecordOutcome{ID: e.ID, Status: Duplicate}
	if diff := stored.Differences(e, timeGiven); len(diff) > 0 {
		// Said, since a resent copy does not differ: most likely two events were given one id.
		out.Reason = IDReused(e.ID, diff)
	}
	return out
}

// recorded reads the recorded event with this id.
func (h RecordEventsHandler) recorded(ctx context.Context, id string) (domain.LogEvent, error) {
	records, err := h.store.ReadStream(ctx, domain.LogEventStream(id))
	if err != nil {
		return domain.LogEvent{}, fmt.Errorf("read event %s, already in the log under this id: %w", id, err)
	}
	for _, r := range records {
		if r.Type == domain.EventRecordedType {
			f, err := domain.DecodeEventRecorded(r.Data)
			if err != nil {
				return domain.LogEvent{}, fmt.Errorf("read event %s, already in the log under this id: %w", id, err)
			}
			return f.Event, nil
		}
	}
	return domain.LogEvent{}, fmt.Errorf("read event %s, already in the log under this id: its stream holds no EventRecorded fact", id)
}

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
// reported as a duplicate and not stored again.
type RecordEvents struct {
	Actor  domain.Actor // who records: an account may only record its own events
	Events []domain.LogEvent
}

// RecordStatus says what became of one event of a batch.
type RecordStatus uint8

// Statuses of a recorded event.
const (
	Recorded  RecordStatus = iota + 1 // stored now
	Duplicate                         // an event with this id was already recorded (or deleted)
)

func (s RecordStatus) String() string {
	if s == Duplicate {
		return "duplicate"
	}
	return "recorded"
}

// RecordOutcome is what became of one event, in the order of the batch.
type RecordOutcome struct {
	ID       string
	Status   RecordStatus
	Position uint64 // global position of the EventRecorded fact; 0 for duplicates
}

// RecordEventsResult lists the outcome of every event of the batch.
type RecordEventsResult struct {
	Outcomes     []RecordOutcome
	LastPosition uint64 // highest position written, for callers that wait for the views
}

// Counts returns how many events were recorded and how many were duplicates.
func (r RecordEventsResult) Counts() (recorded, duplicates int) {
	for _, o := range r.Outcomes {
		if o.Status == Recorded {
			recorded++
		} else {
			duplicates++
		}
	}
	return recorded, duplicates
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
		return RecordEventsResult{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "events", Message: "is empty; send at least one event"}}}
	}
	if len(cmd.Events) > domain.MaxEventsPerBatch {
		return RecordEventsResult{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "events", Message: fmt.Sprintf("holds %d events, the limit per batch is %d", len(cmd.Events), domain.MaxEventsPerBatch)}}}
	}
	now := h.now()
	events := make([]domain.LogEvent, len(cmd.Events))
	invalid := &domain.ValidationError{}
	for i, e := range cmd.Events {
		if e.Resource.UserID == "" && !cmd.Actor.IsAdmin() {
			e.Resource.UserID = cmd.Actor.Account // an account's events default to that account
		}
		if !cmd.Actor.Sees(e.Resource.UserID) {
			invalid.Fields = append(invalid.Fields, domain.FieldError{Field: fmt.Sprintf("events[%d].resource.user_id", i),
				Message: fmt.Sprintf("%q: account %s may only record its own events", e.Resource.UserID, cmd.Actor.Account)})
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
	appended := make([]int, 0, len(events)) // batch index of each append
	seen := make(map[string]struct{}, len(events))
	for i, e := range events {
		result.Outcomes[i] = RecordOutcome{ID: e.ID, Status: Duplicate}
		if _, dup := seen[e.ID]; dup {
			continue
		}
		seen[e.ID] = struct{}{}
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
	for j, o := range outcomes {
		i := appended[j]
		switch {
		case o.Err == nil:
			result.Outcomes[i].Status = Recorded
			result.Outcomes[i].Position = o.Result.Position
			result.LastPosition = max(result.LastPosition, o.Result.Position)
		case errors.Is(o.Err, domain.ErrConcurrency), errors.Is(o.Err, domain.ErrStreamDeleted):
			// already recorded, or recorded and deleted since: either way not again
		default:
			return RecordEventsResult{}, fmt.Errorf("append event %s: %w", events[i].ID, o.Err)
		}
	}
	return result, nil
}

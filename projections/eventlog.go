package projections

import (
	"context"
	"errors"
	"time"

	"herald/domain"
)

// EventEntry is the compact form of an event that the event-log view keeps: enough to filter,
// sort and print a list. The message, source URL, request id and details stay in the store and
// are read on demand (EventLogQueries.Event, EventLogQueries.Details).
type EventEntry struct {
	ID           string
	Position     uint64 // global position of its EventRecorded fact
	Timestamp    time.Time
	Level        domain.Level
	Type         string
	Account      string
	ResourceID   string
	ResourceType string
	Service      string
	Host         string
}

// Matches tells whether the filter selects the entry, by the same rule as
// domain.EventFilter.Matches.
func (e EventEntry) Matches(f domain.EventFilter) bool {
	return f.Matches(domain.LogEvent{
		Timestamp: e.Timestamp, Level: e.Level, Type: e.Type,
		Resource: domain.Resource{ID: e.ResourceID, Type: e.ResourceType, UserID: e.Account},
		Source:   domain.Source{ServiceName: e.Service, HostID: e.Host},
	})
}

// EntryOf returns the compact entry of an event recorded at position.
func EntryOf(e domain.LogEvent, position uint64) EventEntry {
	return EventEntry{
		ID: e.ID, Position: position, Timestamp: e.Timestamp, Level: e.Level, Type: e.Type,
		Account: e.Resource.UserID, ResourceID: e.Resource.ID, ResourceType: e.Resource.Type,
		Service: e.Source.ServiceName, Host: e.Source.HostID,
	}
}

// Change is one fact, decoded, as the event-log view applies it. Exactly one of the fields is set.
type Change struct {
	Recorded *EventEntry           // add the entry (a no-op when its id is present)
	Deleted  string                // remove the event with this id (a no-op when absent)
	Cleared  *domain.EventsCleared // remove matching entries whose Position is below Cleared.Below(At)
	At       uint64                // global position of the fact
}

// Cursor marks a place in the newest-first order: the entry with this timestamp and position.
// A page "after" a cursor holds only entries strictly older in that order, so pages stay
// stable while new events arrive.
type Cursor struct {
	Timestamp time.Time
	Position  uint64
}

// Before tells whether an entry comes after the cursor in newest-first order.
func (c Cursor) Before(e EventEntry) bool {
	if !e.Timestamp.Equal(c.Timestamp) {
		return e.Timestamp.Before(c.Timestamp)
	}
	return e.Position < c.Position
}

// EventPageRequest asks for one page of entries in newest-first order.
type EventPageRequest struct {
	Filter domain.EventFilter
	After  *Cursor // nil for the first page
	Limit  int     // at least 1
}

// EventPage is one page of entries, newest first.
type EventPage struct {
	Entries []EventEntry
	HasMore bool // more entries match after the last one
}

// ErrViewBehind means a view cannot answer because it has not applied enough of the log.
var ErrViewBehind = errors.New("view is behind the log")

// EventLogView is the store of the event-log view. Adapters: views/memory, views/redis.
type EventLogView interface {
	// Apply applies decoded facts in log order and records checkpoint (the position of the
	// last record read, which may be past the last change) in the same step. Readers may see
	// part of a batch before the checkpoint moves, and a failed Apply may leave part of it
	// applied: both are safe because every change is idempotent. The checkpoint never moves
	// backwards.
	Apply(ctx context.Context, changes []Change, checkpoint uint64) error
	// Checkpoint returns the position up to which the view has applied the log (0: nothing).
	Checkpoint(ctx context.Context) (uint64, error)
	// Page returns entries matching the filter in newest-first order; Limit < 1 is an error.
	Page(ctx context.Context, req EventPageRequest) (EventPage, error)
	// Count returns how many entries match the filter.
	Count(ctx context.Context, f domain.EventFilter) (int, error)
	// Entry returns one entry by event id; ok is false when the view does not hold it.
	Entry(ctx context.Context, id string) (e EventEntry, ok bool, err error)
	// Types lists every event type that has been seen, including types no longer held, sorted.
	Types(ctx context.Context) ([]string, error)
	// Reset drops everything, checkpoint included, before a rebuild.
	Reset(ctx context.Context) error
}

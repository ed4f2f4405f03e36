package projections

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"herald/domain"
)

// StreamReader is the part of the event store the queries read event details from.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string) ([]domain.Record, error)
}

// Page sizes of the events query.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// EventLogQueries answers questions about the event log from the event-log view, reading
// details from the store on demand.
type EventLogQueries struct {
	view  EventLogView
	store StreamReader
}

// NewEventLogQueries builds the query service.
func NewEventLogQueries(view EventLogView, store StreamReader) (EventLogQueries, error) {
	if view == nil || store == nil {
		return EventLogQueries{}, fmt.Errorf("new event log queries: nil dependency")
	}
	return EventLogQueries{view: view, store: store}, nil
}

// EventList is one page of the events query.
type EventList struct {
	Entries     []EventEntry
	Cursors     []string // opaque cursor of each entry
	HasNextPage bool
}

// Events lists events matching the filter, newest first. first is the page size (0 means
// DefaultPageSize); after is the cursor of the last entry of the previous page.
func (q EventLogQueries) Events(ctx context.Context, actor domain.Actor, f domain.EventFilter, first int, after string) (EventList, error) {
	if err := actor.Require(domain.ListEvents); err != nil {
		return EventList{}, err
	}
	if err := f.Validate(); err != nil {
		return EventList{}, err
	}
	f, err := actor.ScopeFilter(f)
	if err != nil {
		return EventList{}, err
	}
	switch {
	case first == 0:
		first = DefaultPageSize
	case first < 0 || first > MaxPageSize:
		return EventList{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "first", Message: fmt.Sprintf("is %d; it must lie between 1 and %d", first, MaxPageSize)}}}
	}
	req := EventPageRequest{Filter: f, Limit: first}
	if after != "" {
		c, err := DecodeCursor(after)
		if err != nil {
			return EventList{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "after", Message: err.Error()}}}
		}
		req.After = &c
	}
	page, err := q.view.Page(ctx, req)
	if err != nil {
		return EventList{}, fmt.Errorf("list events: %w", err)
	}
	list := EventList{Entries: page.Entries, HasNextPage: page.HasMore, Cursors: make([]string, len(page.Entries))}
	for i, e := range page.Entries {
		list.Cursors[i] = EncodeCursor(Cursor{Timestamp: e.Timestamp, Position: e.Position})
	}
	return list, nil
}

// Count returns how many events match the filter.
func (q EventLogQueries) Count(ctx context.Context, actor domain.Actor, f domain.EventFilter) (int, error) {
	if err := actor.Require(domain.ListEvents); err != nil {
		return 0, err
	}
	if err := f.Validate(); err != nil {
		return 0, err
	}
	f, err := actor.ScopeFilter(f)
	if err != nil {
		return 0, err
	}
	n, err := q.view.Count(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// Event returns one whole event, details included. An event of an account the actor does not
// see is reported as not found, so that ids cannot be probed across accounts.
func (q EventLogQueries) Event(ctx context.Context, actor domain.Actor, id string) (domain.LogEvent, error) {
	if err := actor.Require(domain.GetEvent); err != nil {
		return domain.LogEvent{}, err
	}
	if !domain.ValidEventID(id) {
		return domain.LogEvent{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "id", Message: fmt.Sprintf("%s is not an event id", domain.Quote(id))}}}
	}
	entry, ok, err := q.view.Entry(ctx, id)
	if err != nil {
		return domain.LogEvent{}, fmt.Errorf("get event %s: %w", id, err)
	}
	if !ok || !actor.Sees(entry.Account) {
		return domain.LogEvent{}, domain.EventNotFound(id)
	}
	records, err := q.store.ReadStream(ctx, domain.LogEventStream(id))
	return domain.EventOfStream(id, records, err)
}

// MatchingIDs returns the ids of every event the filter selects among those the view has
// applied up to its checkpoint, and that checkpoint; bulk clears use it. Entries of a batch the
// view is applying, above the checkpoint, are left out: the ids are exactly the matching events
// at or below upTo, which is what an EventsCleared fact with that UpTo hides.
func (q EventLogQueries) MatchingIDs(ctx context.Context, f domain.EventFilter) (ids []string, upTo uint64, err error) {
	upTo, err = q.view.Checkpoint(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("find matching events: %w", err)
	}
	if upTo == 0 {
		return nil, 0, nil // the view holds nothing yet
	}
	req := EventPageRequest{Filter: f, Limit: MaxPageSize}
	for {
		page, err := q.view.Page(ctx, req)
		if err != nil {
			return nil, 0, fmt.Errorf("find matching events: %w", err)
		}
		for _, e := range page.Entries {
			if e.Position <= upTo {
				ids = append(ids, e.ID)
			}
		}
		if !page.HasMore || len(page.Entries) == 0 {
			return ids, upTo, nil
		}
		last := page.Entries[len(page.Entries)-1]
		req.After = &Cursor{Timestamp: last.Timestamp, Position: last.Position}
	}
}

// EventTypeInfo describes an event type for the eventTypes query.
type EventTypeInfo struct {
	domain.EventType
	Known bool // in the catalog; false for types only seen in the log
}

// EventTypes lists the catalog's types and every other type seen in the log, sorted by name.
// A user outside the admin account gets only the other types its own account's events hold:
// a type name can tell what another account is working on.
func (q EventLogQueries) EventTypes(ctx context.Context, actor domain.Actor) ([]EventTypeInfo, error) {
	if err := actor.Require(domain.ListEvents); err != nil {
		return nil, err
	}
	seen, err := q.view.Types(ctx)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	var out []EventTypeInfo
	for _, t := range domain.Catalog() {
		out = append(out, EventTypeInfo{EventType: t, Known: true})
	}
	for _, name := range seen {
		if _, ok := domain.LookupEventType(name); ok {
			continue
		}
		if !actor.IsAdmin() {
			n, err := q.view.Count(ctx, domain.EventFilter{Account: actor.Account, Type: name})
			if err != nil {
				return nil, fmt.Errorf("list event types: %w", err)
			}
			if n == 0 {
				continue
			}
		}
		out = append(out, EventTypeInfo{EventType: domain.EventType{Name: name}})
	}
	slices.SortFunc(out, func(a, b EventTypeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// EncodeCursor writes a cursor in its opaque form.
func EncodeCursor(c Cursor) string {
	raw := strconv.FormatInt(c.Timestamp.UnixNano(), 36) + "." + strconv.FormatUint(c.Position, 36)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads a cursor written by EncodeCursor.
func DecodeCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("%s is not a cursor returned by this API", domain.Quote(s))
	}
	ts, pos, ok := strings.Cut(string(raw), ".")
	nanos, err1 := strconv.ParseInt(ts, 36, 64)
	position, err2 := strconv.ParseUint(pos, 36, 64)
	if !ok || err1 != nil || err2 != nil {
		return Cursor{}, fmt.Errorf("%s is not a cursor returned by this API", domain.Quote(s))
	}
	return Cursor{Timestamp: time.Unix(0, nanos).UTC(), Position: position}, nil
}

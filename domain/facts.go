package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Facts of the event log and their encoding. Each fact is versioned JSON: {"v":1, ...}. A
// reader accepts every version it knows and refuses newer ones with ErrUnknownFactVersion,
// so an old binary never misreads a log written by a newer one.

// Fact type names, as stored beside the data. They never change.
const (
	EventRecordedType = "EventRecorded"
	EventDeletedType  = "EventDeleted"
	EventsClearedType = "EventsCleared"
)

// Stream name prefixes.
const (
	LogEventStreamPrefix = "logevent-" // logevent-<event id>: EventRecorded
	EventLogStreamPrefix = "eventlog-" // eventlog-<account>: EventDeleted, EventsCleared
)

// LogEventStream names the stream that holds one event.
func LogEventStream(id string) string { return LogEventStreamPrefix + id }

// EventLogStream names the stream of an account's deletions.
func EventLogStream(account string) string { return EventLogStreamPrefix + account }

// AllAccounts is the account name under which clears across every account are recorded.
const AllAccounts = "$all"

// EventRecorded is the fact that an event was accepted into the log.
type EventRecorded struct {
	Event LogEvent
}

// EventDeleted is the fact that one event was removed from the log. It carries no payload;
// the event's own stream is deleted beside it.
type EventDeleted struct {
	ID        string
	Account   string
	DeletedAt time.Time
}

// EventsCleared is the fact that every event matching Criteria and recorded before this fact
// was removed. Count is how many the command found.
type EventsCleared struct {
	Criteria  EventFilter
	Count     int
	ClearedAt time.Time
}

// ErrUnknownFactVersion means a fact was written by a newer herald.
var ErrUnknownFactVersion = fmt.Errorf("unknown fact version")

const factVersion = 1

type eventDeletedV1 struct {
	V         int    `json:"v"`
	ID        string `json:"id"`
	Account   string `json:"account"`
	DeletedAt string `json:"deleted_at"`
}

// Encode returns the fact ready to append.
func (f EventDeleted) Encode() Fact {
	data, _ := json.Marshal(eventDeletedV1{V: factVersion, ID: f.ID, Account: f.Account, DeletedAt: FormatTimestamp(f.DeletedAt)})
	return Fact{Type: EventDeletedType, Data: data}
}

// DecodeEventDeleted reads an EventDeleted fact.
func DecodeEventDeleted(data []byte) (EventDeleted, error) {
	var w eventDeletedV1
	if err := json.Unmarshal(data, &w); err != nil {
		return EventDeleted{}, fmt.Errorf("decode %s: %w", EventDeletedType, err)
	}
	if w.V != factVersion {
		return EventDeleted{}, fmt.Errorf("decode %s v%d: %w", EventDeletedType, w.V, ErrUnknownFactVersion)
	}
	at, _ := ParseTimestamp(w.DeletedAt)
	return EventDeleted{ID: w.ID, Account: w.Account, DeletedAt: at}, nil
}

type criteriaV1 struct {
	Account      string `json:"account,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	Since        string `json:"since,omitempty"`
	Before       string `json:"before,omitempty"`
	Level        string `json:"level,omitempty"`
	Service      string `json:"service,omitempty"`
	Host         string `json:"host,omitempty"`
	Type         string `json:"type,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
}

type eventsClearedV1 struct {
	V         int        `json:"v"`
	Criteria  criteriaV1 `json:"criteria"`
	Count     int        `json:"count"`
	ClearedAt string     `json:"cleared_at"`
}

// Encode returns the fact ready to append.
func (f EventsCleared) Encode() Fact {
	c := f.Criteria
	w := eventsClearedV1{V: factVersion, Count: f.Count, ClearedAt: FormatTimestamp(f.ClearedAt), Criteria: criteriaV1{
		Account: c.Account, ResourceID: c.ResourceID, Level: c.Level.String(), Service: c.Service,
		Host: c.Host, Type: c.Type, ResourceType: c.ResourceType,
	}}
	if !c.Since.IsZero() {
		w.Criteria.Since = FormatTimestamp(c.Since)
	}
	if !c.Before.IsZero() {
		w.Criteria.Before = FormatTimestamp(c.Before)
	}
	data, _ := json.Marshal(w)
	return Fact{Type: EventsClearedType, Data: data}
}

// DecodeEventsCleared reads an EventsCleared fact.
func DecodeEventsCleared(data []byte) (EventsCleared, error) {
	var w eventsClearedV1
	if err := json.Unmarshal(data, &w); err != nil {
		return EventsCleared{}, fmt.Errorf("decode %s: %w", EventsClearedType, err)
	}
	if w.V != factVersion {
		return EventsCleared{}, fmt.Errorf("decode %s v%d: %w", EventsClearedType, w.V, ErrUnknownFactVersion)
	}
	c := w.Criteria
	f := EventFilter{Account: c.Account, ResourceID: c.ResourceID, Service: c.Service, Host: c.Host, Type: c.Type, ResourceType: c.ResourceType}
	f.Level, _ = ParseLevel(c.Level)
	var err error
	if c.Since != "" {
		if f.Since, err = ParseTimestamp(c.Since); err != nil {
			return EventsCleared{}, fmt.Errorf("decode %s: since: %w", EventsClearedType, err)
		}
	}
	if c.Before != "" {
		if f.Before, err = ParseTimestamp(c.Before); err != nil {
			return EventsCleared{}, fmt.Errorf("decode %s: before: %w", EventsClearedType, err)
		}
	}
	at, _ := ParseTimestamp(w.ClearedAt)
	return EventsCleared{Criteria: f, Count: w.Count, ClearedAt: at}, nil
}

// EventOfStream returns the event recorded in the stream of event id, given what reading that
// stream returned. A stream that is missing, deleted or holds no EventRecorded fact means the
// event is not in the log (ErrEventNotFound).
func EventOfStream(id string, records []Record, readErr error) (LogEvent, error) {
	switch {
	case errors.Is(readErr, ErrStreamNotFound), errors.Is(readErr, ErrStreamDeleted):
		return LogEvent{}, fmt.Errorf("event %s: %w", id, ErrEventNotFound)
	case readErr != nil:
		return LogEvent{}, fmt.Errorf("read event %s: %w", id, readErr)
	}
	for _, r := range records {
		if r.Type == EventRecordedType {
			f, err := DecodeEventRecorded(r.Data)
			if err != nil {
				return LogEvent{}, fmt.Errorf("read event %s: %w", id, err)
			}
			return f.Event, nil
		}
	}
	return LogEvent{}, fmt.Errorf("event %s: %w", id, ErrEventNotFound)
}

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

// EventsCleared is the fact that the events matching Criteria were removed: those recorded at
// or before position UpTo, the point up to which the event-log view had applied the log when
// the command read the matching ids. Facts written before UpTo existed (version 1) carry 0 and
// remove every matching event recorded before the fact itself. Count is how many the command
// found; ClearID ties the fact to its purge (PurgeScheduled).
type EventsCleared struct {
	Criteria  EventFilter
	Count     int
	UpTo      uint64
	ClearID   string
	ClearedAt time.Time
}

// Below returns the bound of what a clear recorded at position at removes: the entries whose
// position is strictly below it.
func (f EventsCleared) Below(at uint64) uint64 {
	if f.UpTo > 0 && f.UpTo < at {
		return f.UpTo + 1
	}
	return at
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

// eventsClearedV2 is version 2 of EventsCleared; version 1 had neither up_to nor clear_id. An
// older herald refuses version 2 rather than remove more than the clear did.
type eventsClearedV2 struct {
	V         int        `json:"v"`
	Criteria  criteriaV1 `json:"criteria"`
	Count     int        `json:"count"`
	UpTo      uint64     `json:"up_to,omitempty"`
	ClearID   string     `json:"clear_id,omitempty"`
	ClearedAt string     `json:"cleared_at"`
}

const eventsClearedVersion = 2

// Encode returns the fact ready to append.
func (f EventsCleared) Encode() Fact {
	w := eventsClearedV2{V: eventsClearedVersion, Count: f.Count, UpTo: f.UpTo, ClearID: f.ClearID,
		ClearedAt: FormatTimestamp(f.ClearedAt), Criteria: encodeCriteria(f.Criteria)}
	data, _ := json.Marshal(w)
	return Fact{Type: EventsClearedType, Data: data}
}

func encodeCriteria(c EventFilter) criteriaV1 {
	w := criteriaV1{
		Account: c.Account, ResourceID: c.ResourceID, Level: c.Level.String(), Service: c.Service,
		Host: c.Host, Type: c.Type, ResourceType: c.ResourceType,
	}
	if !c.Since.IsZero() {
		w.Since = FormatTimestamp(c.Since)
	}
	if !c.Before.IsZero() {
		w.Before = FormatTimestamp(c.Before)
	}
	return w
}

func decodeCriteria(c criteriaV1) (EventFilter, error) {
	f := EventFilter{Account: c.Account, ResourceID: c.ResourceID, Service: c.Service, Host: c.Host, Type: c.Type, ResourceType: c.ResourceType}
	f.Level, _ = ParseLevel(c.Level)
	var err error
	if c.Since != "" {
		if f.Since, err = ParseTimestamp(c.Since); err != nil {
			return EventFilter{}, fmt.Errorf("since: %w", err)
		}
	}
	if c.Before != "" {
		if f.Before, err = ParseTimestamp(c.Before); err != nil {
			return EventFilter{}, fmt.Errorf("before: %w", err)
		}
	}
	return f, nil
}

// DecodeEventsCleared reads an EventsCleared fact.
func DecodeEventsCleared(data []byte) (EventsCleared, error) {
	var w eventsClearedV2
	if err := json.Unmarshal(data, &w); err != nil {
		return EventsCleared{}, fmt.Errorf("decode %s: %w", EventsClearedType, err)
	}
	if w.V != 1 && w.V != eventsClearedVersion {
		return EventsCleared{}, fmt.Errorf("decode %s v%d: %w", EventsClearedType, w.V, ErrUnknownFactVersion)
	}
	f, err := decodeCriteria(w.Criteria)
	if err != nil {
		return EventsCleared{}, fmt.Errorf("decode %s: %w", EventsClearedType, err)
	}
	at, _ := ParseTimestamp(w.ClearedAt)
	return EventsCleared{Criteria: f, Count: w.Count, UpTo: w.UpTo, ClearID: w.ClearID, ClearedAt: at}, nil
}

// EventOfStream returns the event recorded in the stream of event id, given what reading that
// stream returned. A stream that is missing, deleted or holds no EventRecorded fact means the
// event is not in the log (ErrEventNotFound).
func EventOfStream(id string, records []Record, readErr error) (LogEvent, error) {
	switch {
	case errors.Is(readErr, ErrStreamNotFound), errors.Is(readErr, ErrStreamDeleted):
		return LogEvent{}, EventNotFound(id)
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
	return LogEvent{}, EventNotFound(id)
}

package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// A bulk clear hides events at once (EventsCleared) and then deletes their streams, which can
// take minutes. The purge facts make that second part survive a crash: PurgeScheduled is
// written before the clear, PurgeFinished once every stream is deleted, and herald finishes
// at start every purge scheduled and not finished.

// PurgesStream is the stream of the purge facts.
const PurgesStream = HeraldStreamPrefix + "purges"

// Purge fact types.
const (
	PurgeScheduledType = "PurgeScheduled"
	PurgeFinishedType  = "PurgeFinished"
)

// PurgeScheduled is the fact that a bulk clear is about to be recorded in the event-log stream
// of Account (AllAccounts for a clear across accounts), with this ClearID, criteria and UpTo:
// once that EventsCleared fact exists, the stream of every event it hides must be deleted.
type PurgeScheduled struct {
	ClearID     string
	Account     string
	Criteria    EventFilter
	UpTo        uint64
	ScheduledAt time.Time
}

// PurgeFinished is the fact that the purge of clear ClearID needs no more work: Deleted
// streams were deleted, or the clear was never recorded (Cleared false) so there was nothing
// to purge.
type PurgeFinished struct {
	ClearID    string
	Cleared    bool
	Deleted    int
	FinishedAt time.Time
}

type purgeScheduledV1 struct {
	V           int        `json:"v"`
	ClearID     string     `json:"clear_id"`
	Account     string     `json:"account"`
	Criteria    criteriaV1 `json:"criteria"`
	UpTo        uint64     `json:"up_to"`
	ScheduledAt string     `json:"scheduled_at"`
}

type purgeFinishedV1 struct {
	V          int    `json:"v"`
	ClearID    string `json:"clear_id"`
	Cleared    bool   `json:"cleared"`
	Deleted    int    `json:"deleted"`
	FinishedAt string `json:"finished_at"`
}

// Encode returns the fact ready to append.
func (f PurgeScheduled) Encode() Fact {
	data, _ := json.Marshal(purgeScheduledV1{V: factVersion, ClearID: f.ClearID, Account: f.Account,
		Criteria: encodeCriteria(f.Criteria), UpTo: f.UpTo, ScheduledAt: FormatTimestamp(f.ScheduledAt)})
	return Fact{Type: PurgeScheduledType, Data: data}
}

// DecodePurgeScheduled reads a PurgeScheduled fact.
func DecodePurgeScheduled(data []byte) (PurgeScheduled, error) {
	var w purgeScheduledV1
	if err := json.Unmarshal(data, &w); err != nil {
		return PurgeScheduled{}, fmt.Errorf("decode %s: %w", PurgeScheduledType, err)
	}
	if w.V != factVersion {
		return PurgeScheduled{}, fmt.Errorf("decode %s v%d: %w", PurgeScheduledType, w.V, ErrUnknownFactVersion)
	}
	criteria, err := decodeCriteria(w.Criteria)
	if err != nil {
		return PurgeScheduled{}, fmt.Errorf("decode %s: %w", PurgeScheduledType, err)
	}
	if w.ClearID == "" || w.Account == "" || w.UpTo == 0 {
		return PurgeScheduled{}, fmt.Errorf("decode %s: clear_id, account and up_to are required", PurgeScheduledType)
	}
	at, _ := ParseTimestamp(w.ScheduledAt)
	return PurgeScheduled{ClearID: w.ClearID, Account: w.Account, Criteria: criteria, UpTo: w.UpTo, ScheduledAt: at}, nil
}

// Encode returns the fact ready to append.
func (f PurgeFinished) Encode() Fact {
	data, _ := json.Marshal(purgeFinishedV1{V: factVersion, ClearID: f.ClearID, Cleared: f.Cleared, Deleted: f.Deleted,
		FinishedAt: FormatTimestamp(f.FinishedAt)})
	return Fact{Type: PurgeFinishedType, Data: data}
}

// DecodePurgeFinished reads a PurgeFinished fact.
func DecodePurgeFinished(data []byte) (PurgeFinished, error) {
	var w purgeFinishedV1
	if err := json.Unmarshal(data, &w); err != nil {
		return PurgeFinished{}, fmt.Errorf("decode %s: %w", PurgeFinishedType, err)
	}
	if w.V != factVersion {
		return PurgeFinished{}, fmt.Errorf("decode %s v%d: %w", PurgeFinishedType, w.V, ErrUnknownFactVersion)
	}
	at, _ := ParseTimestamp(w.FinishedAt)
	return PurgeFinished{ClearID: w.ClearID, Cleared: w.Cleared, Deleted: w.Deleted, FinishedAt: at}, nil
}

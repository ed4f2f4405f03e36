package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// A backfill runs on one instance, but any instance may be asked about it or asked to cancel
// it. Its facts, in the stream herald-backfill-<id>, are what every instance reads:
// BackfillStarted, BackfillProgressed while it runs (also a heartbeat: a running backfill
// whose facts stop coming died with its instance), BackfillCancelRequested from whichever
// instance a cancel reached, and BackfillFinished. The stream
// herald-backfillclaim-<configuration id> holds one BackfillClaimed per backfill of the
// configuration, appended at the revision read: it is how two instances agree that a
// configuration runs one backfill at a time.

// BackfillStream names the stream of one backfill's facts.
func BackfillStream(id string) string { return HeraldStreamPrefix + "backfill-" + id }

// BackfillClaimStream names the stream of a configuration's backfill claims.
func BackfillClaimStream(configurationID string) string {
	return HeraldStreamPrefix + "backfillclaim-" + configurationID
}

// Backfill fact types.
const (
	BackfillStartedType         = "BackfillStarted"
	BackfillProgressedType      = "BackfillProgressed"
	BackfillCancelRequestedType = "BackfillCancelRequested"
	BackfillFinishedType        = "BackfillFinished"
	BackfillClaimedType         = "BackfillClaimed"
)

// BackfillCounts is how far a backfill got.
type BackfillCounts struct {
	Total     int // events in the window
	Scanned   int // events looked at
	Matched   int // events the configuration's selectors choose
	Skipped   int // already delivered to the configuration
	Published int // handed to the router
	Delivered int
	Failed    int
}

// BackfillStarted is the fact that backfill ID of a configuration began.
type BackfillStarted struct {
	ID, ConfigurationID, Account string
	Since, Before, At            time.Time
}

// BackfillProgressed records a running backfill's counts.
type BackfillProgressed struct {
	Counts BackfillCounts
	At     time.Time
}

// BackfillCancelRequested is the fact that the backfill was asked to stop.
type BackfillCancelRequested struct {
	At time.Time
}

// BackfillFinished is the fact that the backfill stopped, in State ("done", "failed" or
// "canceled"), with its final counts.
type BackfillFinished struct {
	State  string
	Counts BackfillCounts
	Error  string
	At     time.Time
}

// BackfillClaimed is the fact that backfill ID took its configuration's turn.
type BackfillClaimed struct {
	ID string
	At time.Time
}

type backfillCountsV1 struct {
	Total     int `json:"total"`
	Scanned   int `json:"scanned"`
	Matched   int `json:"matched"`
	Skipped   int `json:"skipped"`
	Published int `json:"published"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}

type backfillFactV1 struct {
	V               int               `json:"v"`
	ID              string            `json:"id,omitempty"`
	ConfigurationID string            `json:"configuration_id,omitempty"`
	Account         string            `json:"account,omitempty"`
	Since           string            `json:"since,omitempty"`
	Before          string            `json:"before,omitempty"`
	Counts          *backfillCountsV1 `json:"counts,omitempty"`
	State           string            `json:"state,omitempty"`
	Error           string            `json:"error,omitempty"`
	At              string            `json:"at"`
}

func countsV1(c BackfillCounts) *backfillCountsV1 {
	w := backfillCountsV1(c)
	return &w
}

func timestampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatTimestamp(t)
}

// EncodeBackfillFact returns a backfill fact ready to append.
func EncodeBackfillFact(fact any) (Fact, error) {
	var typ string
	var w backfillFactV1
	switch f := fact.(type) {
	case BackfillStarted:
		typ, w = BackfillStartedType, backfillFactV1{ID: f.ID, ConfigurationID: f.ConfigurationID, Account: f.Account,
			Since: timestampOrEmpty(f.Since), Before: timestampOrEmpty(f.Before), At: FormatTimestamp(f.At)}
	case BackfillProgressed:
		typ, w = BackfillProgressedType, backfillFactV1{Counts: countsV1(f.Counts), At: FormatTimestamp(f.At)}
	case BackfillCancelRequested:
		typ, w = BackfillCancelRequestedType, backfillFactV1{At: FormatTimestamp(f.At)}
	case BackfillFinished:
		typ, w = BackfillFinishedType, backfillFactV1{State: f.State, Counts: countsV1(f.Counts), Error: f.Error, At: FormatTimestamp(f.At)}
	case BackfillClaimed:
		typ, w = BackfillClaimedType, backfillFactV1{ID: f.ID, At: FormatTimestamp(f.At)}
	default:
		return Fact{}, fmt.Errorf("encode backfill fact: unknown fact %T", fact)
	}
	w.V = factVersion
	data, err := json.Marshal(w)
	if err != nil {
		return Fact{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return Fact{Type: typ, Data: data}, nil
}

// DecodeBackfillFact reads a backfill fact of type typ.
func DecodeBackfillFact(typ string, data []byte) (any, error) {
	var w backfillFactV1
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	if w.V != factVersion {
		return nil, fmt.Errorf("decode %s v%d: %w", typ, w.V, ErrUnknownFactVersion)
	}
	at, err := ParseTimestamp(w.At)
	if err != nil {
		return nil, fmt.Errorf("decode %s: at: %w", typ, err)
	}
	var counts BackfillCounts
	if w.Counts != nil {
		counts = BackfillCounts(*w.Counts)
	}
	switch typ {
	case BackfillStartedType:
		if w.ID == "" || w.ConfigurationID == "" {
			return nil, fmt.Errorf("decode %s: id and configuration_id are required", typ)
		}
		f := BackfillStarted{ID: w.ID, ConfigurationID: w.ConfigurationID, Account: w.Account, At: at}
		if w.Since != "" {
			if f.Since, err = ParseTimestamp(w.Since); err != nil {
				return nil, fmt.Errorf("decode %s: since: %w", typ, err)
			}
		}
		if w.Before != "" {
			if f.Before, err = ParseTimestamp(w.Before); err != nil {
				return nil, fmt.Errorf("decode %s: before: %w", typ, err)
			}
		}
		return f, nil
	case BackfillProgressedType:
		return BackfillProgressed{Counts: counts, At: at}, nil
	case BackfillCancelRequestedType:
		return BackfillCancelRequested{At: at}, nil
	case BackfillFinishedType:
		if w.State == "" {
			return nil, fmt.Errorf("decode %s: state is required", typ)
		}
		return BackfillFinished{State: w.State, Counts: counts, Error: w.Error, At: at}, nil
	case BackfillClaimedType:
		if w.ID == "" {
			return nil, fmt.Errorf("decode %s: id is required", typ)
		}
		return BackfillClaimed{ID: w.ID, At: at}, nil
	}
	return nil, fmt.Errorf("decode backfill fact: unknown type %s", typ)
}

package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// The dispatcher keeps its checkpoint beside the views: in a file, or in Redis. Every few
// minutes it also copies it into the log itself, as a DispatchCheckpointCopied fact. The copy
// is the floor the dispatcher never starts below when the checkpoint's own place lost it
// (Redis lost its data while every instance restarted, the views moved from the embedded
// mode to Redis): without it the dispatcher would match the whole history again and send
// what was never meant to be sent.

// DispatchCheckpointStream is the stream of the dispatcher's checkpoint copies.
const DispatchCheckpointStream = HeraldStreamPrefix + "dispatchcheckpoint"

// DispatchCheckpointCopiedType is the type of a checkpoint copy.
const DispatchCheckpointCopiedType = "DispatchCheckpointCopied"

// DispatchCheckpointCopied is the fact that, at CopiedAt, every notification of the events up
// to Position had ended (delivered or failed for good).
type DispatchCheckpointCopied struct {
	Position uint64
	CopiedAt time.Time
}

type dispatchCheckpointCopiedV1 struct {
	V        int    `json:"v"`
	Position uint64 `json:"position"`
	CopiedAt string `json:"copied_at"`
}

// Encode returns the fact ready to append.
func (f DispatchCheckpointCopied) Encode() Fact {
	data, _ := json.Marshal(dispatchCheckpointCopiedV1{V: factVersion, Position: f.Position, CopiedAt: FormatTimestamp(f.CopiedAt)})
	return Fact{Type: DispatchCheckpointCopiedType, Data: data}
}

// DecodeDispatchCheckpointCopied reads a DispatchCheckpointCopied fact.
func DecodeDispatchCheckpointCopied(data []byte) (DispatchCheckpointCopied, error) {
	var w dispatchCheckpointCopiedV1
	if err := json.Unmarshal(data, &w); err != nil {
		return DispatchCheckpointCopied{}, fmt.Errorf("decode %s: %w", DispatchCheckpointCopiedType, err)
	}
	if w.V != factVersion {
		return DispatchCheckpointCopied{}, fmt.Errorf("decode %s v%d: %w", DispatchCheckpointCopiedType, w.V, ErrUnknownFactVersion)
	}
	if w.Position == 0 {
		return DispatchCheckpointCopied{}, fmt.Errorf("decode %s: position is required", DispatchCheckpointCopiedType)
	}
	at, _ := ParseTimestamp(w.CopiedAt)
	return DispatchCheckpointCopied{Position: w.Position, CopiedAt: at}, nil
}

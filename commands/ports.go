// Package commands is herald's write side: one file per command, each a handler that checks
// the input and the rules, then appends facts to the event store.
package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"herald/domain"
)

// EventStore is the part of the event store the commands use.
type EventStore interface {
	AppendMany(ctx context.Context, appends []domain.StreamAppend) ([]domain.AppendOutcome, error)
	Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error)
	ReadStream(ctx context.Context, stream string) ([]domain.Record, error)
	DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error
}

// Clock tells the time; tests pass a fixed one.
type Clock func() time.Time

// errNilDependency is returned by constructors given a nil dependency.
var errNilDependency = errors.New("nil dependency")

// NewEventID returns a random 32-hex-digit id, the form the engine used.
func NewEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

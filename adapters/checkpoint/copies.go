package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/domain"
)

// CopyStore is the part of the event store the checkpoint copies use.
type CopyStore interface {
	Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error)
	ReadLast(ctx context.Context, stream string) (domain.Record, error)
}

// Copies keeps copies of the dispatcher's checkpoint in the event log, in
// domain.DispatchCheckpointStream: the durable floor under the checkpoint's own place.
type Copies struct {
	store CopyStore
	now   func() time.Time
}

// NewCopies keeps copies in store, stamped with now.
func NewCopies(store CopyStore, now func() time.Time) *Copies {
	return &Copies{store: store, now: now}
}

// Latest returns the newest copy, 0 when none was written. A stream someone deleted (by
// hand: herald never deletes it) holds none either.
func (c *Copies) Latest(ctx context.Context) (uint64, error) {
	r, err := c.store.ReadLast(ctx, domain.DispatchCheckpointStream)
	if errors.Is(err, domain.ErrStreamNotFound) || errors.Is(err, domain.ErrStreamDeleted) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the copy of the dispatcher's checkpoint: %w", err)
	}
	f, err := domain.DecodeDispatchCheckpointCopied(r.Data)
	if err != nil {
		return 0, fmt.Errorf("the copy of the dispatcher's checkpoint (revision %d of %s): %w", r.Revision, domain.DispatchCheckpointStream, err)
	}
	return f.Position, nil
}

// Copy appends a copy of position.
func (c *Copies) Copy(ctx context.Context, position uint64) error {
	_, err := c.store.Append(ctx, domain.DispatchCheckpointStream, domain.Any(),
		domain.DispatchCheckpointCopied{Position: position, CopiedAt: c.now()}.Encode())
	if err != nil {
		return fmt.Errorf("copy the dispatcher's checkpoint into the log: %w", err)
	}
	return nil
}

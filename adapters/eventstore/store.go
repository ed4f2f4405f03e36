// Package eventstore names what herald asks of an event store; its adapters (embedded,
// kurrentdb) provide it, and eventstoretest is the contract they pass.
package eventstore

import (
	"context"

	"herald/domain"
)

// Store is everything herald asks of an event store. Commands and projections each declare
// the smaller part they use; this union is what an adapter provides.
type Store interface {
	// Append appends facts to one stream if the stream is at the expected revision. It returns
	// only once the facts are durable. A mismatch wraps domain.ErrConcurrency; a deleted
	// stream returns domain.ErrStreamDeleted.
	Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error)
	// AppendMany appends to several streams. Each append is checked and applied on its own
	// (outcome i belongs to append i), and the whole batch is durable before it returns. The
	// error is for failures of the store itself, in which case nothing is acknowledged.
	AppendMany(ctx context.Context, appends []domain.StreamAppend) ([]domain.AppendOutcome, error)
	// ReadStream returns the facts of a stream in order, domain.ErrStreamNotFound when it has
	// none, domain.ErrStreamDeleted when it was deleted.
	ReadStream(ctx context.Context, stream string) ([]domain.Record, error)
	// ReadLast returns the newest fact of a stream, domain.ErrStreamNotFound when it has none,
	// domain.ErrStreamDeleted when it was deleted.
	ReadLast(ctx context.Context, stream string) (domain.Record, error)
	// ReadAll returns up to limit records with a global position above from, in order.
	ReadAll(ctx context.Context, from uint64, limit int) ([]domain.Record, error)
	// SubscribeAll calls handle with batches of records with a global position above from:
	// first everything already stored, then new records as they become durable. It returns
	// when ctx is done (ctx.Err()) or handle fails (that error).
	SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error
	// LastPosition returns the global position of the newest record (0 for an empty store).
	LastPosition(ctx context.Context) (uint64, error)
	// DeleteStream deletes a stream for good: its facts can no longer be read, appends to it
	// fail with domain.ErrStreamDeleted, and a domain.StreamDeletedType record for it is
	// appended to the global log so that followers learn of the deletion.
	DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error
	Close() error
}

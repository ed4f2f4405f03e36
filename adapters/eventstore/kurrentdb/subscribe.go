package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"herald/domain"
)

// ReadAll returns up to limit records of herald's streams with a position above from.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]domain.Record, error) {
	if limit <= 0 {
		return nil, nil
	}
	var start kdb.AllPosition = kdb.Start{}
	if from > 0 {
		// A forward read includes the record at its start: the record whose position is from
		// (even), or the one at commit (from-1)/2 (odd), both of which are records.
		c := (from - 1) / 2
		start = kdb.Position{Commit: c, Prepare: c}
	}
	var out []domain.Record
	const page = 1000
	for {
		var last kdb.Position
		n, err := s.readPage(ctx, kdb.Forwards, start, page, func(ev *kdb.ResolvedEvent) bool {
			last = ev.OriginalEvent().Position
			if r, ok := record(ev); ok && r.Position > from && s.ours(r.Stream) {
				out = append(out, r)
			}
			return len(out) < limit
		})
		if err != nil {
			return nil, fmt.Errorf("read $all: %w", err)
		}
		if len(out) == limit || n < page {
			return out, nil
		}
		// The next page starts at the last record read, which it returns again: from above it.
		start, from = last, max(from, heraldPosition(last.Commit))
	}
}

// SubscribeAll calls handle with batches of records of herald's streams with a position above
// from: first what is stored, then what is appended, through a catch-up subscription to $all
// filtered on the server. When the subscription drops (a KurrentDB restart, a leader change,
// the network), it subscribes again from the last record handled, with a growing pause.
func (s *Store) SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error {
	last, failures := from, 0
	for {
		progressed, err := s.follow(ctx, &last, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var failed handlerError
		if errors.As(err, &failed) {
			return failed.err
		}
		if s.isClosed() {
			return fmt.Errorf("subscribe to $all: %w", ErrClosed)
		}
		if !retryable(err) {
			return fmt.Errorf("subscribe to $all: %w", err)
		}
		if progressed {
			failures = 0
		}
		wait := backoff(failures)
		failures++
		s.logger.Warn("the subscription to $all dropped; subscribing again", "from", last, "in", wait, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// handlerError is a failure of the subscriber's handler, which ends the subscription.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// maxBatch bounds the records handed to the handler at once.
const maxBatch = 1000

// follow runs one subscription from *last until it drops or the handler fails, moving *last
// past every batch handled; progressed tells whether any was.
func (s *Store) follow(ctx context.Context, last *uint64, handle func(context.Context, []domain.Record) error) (progressed bool, err error) {
	start, err := s.subscriptionStart(ctx, *last)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := s.conn()
	sub, err := c.SubscribeToAll(ctx, kdb.SubscribeToAllOptions{
		From:   start,
		Filter: &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Prefixes: s.prefixes},
	})
	if err != nil {
		return false, s.failed(c, err)
	}
	defer sub.Close()
	events := make(chan *kdb.SubscriptionEvent, maxBatch)
	go func() {
		defer close(events)
		for {
			e := sub.Recv()
			select {
			case events <- e:
			case <-ctx.Done():
				return
			}
			if e.SubscriptionDropped != nil {
				return
			}
		}
	}()
	var batch []domain.Record
	var dropped error
	add := func(e *kdb.SubscriptionEvent) {
		switch {
		case e.SubscriptionDropped != nil:
			dropped = e.SubscriptionDropped.Error
			if dropped == nil {
				dropped = errors.New("dropped by the server")
			}
		case e.EventAppeared != nil:
			if r, ok := record(e.EventAppeared); ok && r.Position > *last && s.ours(r.Stream) {
				batch = append(batch, r)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return progressed, ctx.Err()
		case e, ok := <-events:
			if !ok {
				return progressed, errors.New("the subscription ended")
			}
			add(e)
		}
	drain:
		for len(batch) < maxBatch && dropped == nil {
			select {
			case e, ok := <-events:
				if !ok {
					break drain
				}
				add(e)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if err := handle(ctx, batch); err != nil {
				return progressed, handlerError{err}
			}
			*last, progressed = batch[len(batch)-1].Position, true
			batch = nil // the handler may keep the slice it was given
		}
		if dropped != nil {
			return progressed, dropped
		}
	}
}

// subscriptionStart is where a subscription for the records above from starts: after a
// record, since KurrentDB only knows positions where records start (package doc).
func (s *Store) subscriptionStart(ctx context.Context, from uint64) (kdb.AllPosition, error) {
	if from == 0 {
		return kdb.Start{}, nil
	}
	if from%2 == 0 {
		c := from/2 - 1
		return kdb.Position{Commit: c, Prepare: c}, nil
	}
	// From the record at commit c on: start after the record before it (a backward read
	// leaves out the record it starts at).
	c := (from - 1) / 2
	var before kdb.AllPosition = kdb.Start{}
	_, err := s.readPage(ctx, kdb.Backwards, kdb.Position{Commit: c, Prepare: c}, 2, func(ev *kdb.ResolvedEvent) bool {
		if pos := ev.OriginalEvent().Position; pos.Commit < c {
			before = pos
			return false
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("find the record before position %d: %w", from, err)
	}
	return before, nil
}

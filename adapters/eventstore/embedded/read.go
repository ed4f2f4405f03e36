package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"

	"herald/domain"
)

// ReadStream returns the facts of a stream in order. It reads one pebble snapshot; when the
// stream's newest change is not yet durable it waits for it, so that it never reports a
// state a crash could undo.
func (s *Store) ReadStream(ctx context.Context, stream string) ([]domain.Record, error) {
	var records []domain.Record
	err := s.readHead(ctx, stream, func(snap *pebble.Snapshot, h head) (err error) {
		records, err = readStreamRecords(snap, stream, h)
		return err
	})
	if err != nil {
		return nil, err
	}
	return records, nil
}

// ReadLast returns the newest fact of a stream, domain.ErrStreamNotFound when it has none,
// domain.ErrStreamDeleted when it was deleted.
func (s *Store) ReadLast(ctx context.Context, stream string) (domain.Record, error) {
	var last domain.Record
	err := s.readHead(ctx, stream, func(snap *pebble.Snapshot, h head) error {
		v, closer, err := snap.Get(globalKey(h.lastPos))
		if err != nil {
			return fmt.Errorf("record %d: %w", h.lastPos, err)
		}
		defer closer.Close()
		last, err = decodeRecord(h.lastPos, v)
		return err
	})
	return last, err
}

// readHead calls read with a snapshot and the head of a stream that exists, is durable and
// is not deleted.
func (s *Store) readHead(ctx context.Context, stream string, read func(*pebble.Snapshot, head) error) error {
	if !validStream(stream) {
		return fmt.Errorf("read stream %q: %w", stream, ErrInvalidStream)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if !s.streams.mayContain(stream) {
		// Never written (the writer adds a name before the append that creates the stream
		// commits), as most of the delivery ledger's streams asked about are.
		return readError(stream, domain.ErrStreamNotFound)
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	v, closer, err := snap.Get(headKey(stream))
	if errors.Is(err, pebble.ErrNotFound) {
		return readError(stream, domain.ErrStreamNotFound)
	}
	if err != nil {
		return readError(stream, err)
	}
	h, err := decodeHead(v)
	_ = closer.Close()
	if err != nil {
		return readError(stream, err)
	}
	if err := s.waitDurable(ctx, h.lastPos); err != nil {
		return readError(stream, err)
	}
	if h.deleted {
		return readError(stream, domain.ErrStreamDeleted)
	}
	if err := read(snap, h); err != nil {
		return readError(stream, err)
	}
	return nil
}

// readStreamError is a failed read of one stream. Its text is built only when someone asks for
// it: most of the delivery ledger's streams a dispatch asks about do not exist, and that
// answer is checked with errors.Is, never printed.
type readStreamError struct {
	stream string
	err    error
}

func readError(stream string, err error) error { return &readStreamError{stream: stream, err: err} }

func (e *readStreamError) Error() string { return "read stream " + e.stream + ": " + e.err.Error() }

func (e *readStreamError) Unwrap() error { return e.err }

func readStreamRecords(snap *pebble.Snapshot, stream string, h head) ([]domain.Record, error) {
	positions := make([]uint64, 1, min(h.lastRev+1, 1<<12))
	positions[0] = h.firstPos
	if h.lastRev > 0 {
		lower, upper := indexBounds(stream)
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return nil, err
		}
		for ok := it.First(); ok; ok = it.Next() {
			pos, size := binary.Uvarint(it.Value())
			if size <= 0 {
				_ = it.Close()
				return nil, fmt.Errorf("index entry: %w", errCorrupt)
			}
			positions = append(positions, pos)
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	records := make([]domain.Record, 0, len(positions))
	for _, pos := range positions {
		v, closer, err := snap.Get(globalKey(pos))
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", pos, err)
		}
		r, err := decodeRecord(pos, v)
		_ = closer.Close()
		if err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	return records, nil
}

// waitDurable waits until every position up to pos is acknowledged.
func (s *Store) waitDurable(ctx context.Context, pos uint64) error {
	for {
		ch := s.changed()
		if s.durable.Load() >= pos {
			return nil
		}
		if err := s.failed(); err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return ErrClosed
		}
	}
}

// ReadAll returns up to limit acknowledged records with a position above from, in order.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]domain.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	records, _, err := s.readAll(from, limit)
	if err != nil {
		return nil, fmt.Errorf("read all from %d: %w", from, err)
	}
	return records, nil
}

// readAll reads up to limit records above from; caughtUp tells that it read everything
// acknowledged when it started.
func (s *Store) readAll(from uint64, limit int) (records []domain.Record, caughtUp bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	upper := s.durable.Load()
	if limit <= 0 || from >= upper {
		return nil, true, nil
	}
	if records, ok := s.tail.read(from, upper, limit); ok {
		return records, records[len(records)-1].Position == upper, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: globalKey(from + 1), UpperBound: globalKey(upper + 1)})
	if err != nil {
		return nil, false, err
	}
	ok := it.First()
	for ; ok && len(records) < limit; ok = it.Next() {
		key := it.Key()
		r, err := decodeRecord(binary.BigEndian.Uint64(key[len(globalPrefix):]), it.Value())
		if err != nil {
			_ = it.Close()
			return nil, false, err
		}
		records = append(records, r)
	}
	caughtUp = !ok
	if err := it.Close(); err != nil {
		return nil, false, err
	}
	return records, caughtUp, nil
}

// SubscribeAll hands handle the records above from in batches: first what is stored, then
// each group as it becomes durable. It returns ctx.Err() when ctx ends, the handler's error
// when it fails, or ErrClosed when the store closes.
func (s *Store) SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error {
	pos := from
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Taken before reading, so that a commit landing after the read still wakes us.
		ch := s.changed()
		records, caughtUp, err := s.readAll(pos, s.opts.ReadBatch)
		if err != nil {
			if errors.Is(err, ErrClosed) {
				return err
			}
			return fmt.Errorf("subscribe all from %d: %w", pos, err)
		}
		if len(records) > 0 {
			if err := handle(ctx, records); err != nil {
				return err
			}
			pos = records[len(records)-1].Position
		}
		if !caughtUp {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return ErrClosed
		}
	}
}

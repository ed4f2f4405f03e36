// Package embedded is herald's event store for one machine: a durable, append-only log on
// pebble under a directory. One writer goroutine turns the appends and deletes of concurrent
// callers into group commits (one batch, one fsync per group) and acknowledges nothing before
// it is on disk; readers see only what has been acknowledged.
package embedded

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"

	"herald/domain"
)

// Errors of the embedded store besides the domain's sentinels.
var (
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("embedded store closed")
	// ErrInvalidStream means a stream name is empty or holds a NUL byte.
	ErrInvalidStream = errors.New("invalid stream name")
	// ErrNoFacts means an append carried no facts.
	ErrNoFacts = errors.New("no facts to append")
	// ErrLocked means another process has the store open: one store, one process.
	ErrLocked = errors.New("the store is open in another process")
)

// Store is the embedded event store. It is safe for concurrent use.
type Store struct {
	dir  string
	db   *pebble.DB
	opts Options
	log  *slog.Logger

	requests  chan *request // unbuffered: a request is taken only by a running writer
	purges    *purgeQueue
	closing   chan struct{}
	ackerDone chan struct{}
	closeOnce sync.Once
	closeErr  error

	// mu guards db against Close while readers use it.
	mu     sync.RWMutex
	closed bool

	durable  atomic.Uint64 // last acknowledged position: readers see nothing beyond it
	tail     *tail         // the newest records as written; nil when Options.TailRecords < 0
	streams  *streamFilter // every stream's name, added by the writer; ReadStream asks it first
	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced whenever durable advances

	health *health // the sticky failure and write stalls
	id     string  // Identity
}

// Open opens (or creates) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open event store %s: %w", dir, err)
	}
	h := newHealth(opts.Logger)
	po, cache := opts.pebbleOptions(h)
	db, err := pebble.Open(dir, po)
	cache.Unref()
	if errors.Is(err, syscall.EAGAIN) { // pebble's lock file is taken (fcntl)
		return nil, fmt.Errorf("open event store %s: %w, which holds its lock file %s", dir, ErrLocked, filepath.Join(dir, "LOCK"))
	}
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", dir, err)
	}
	var id string
	last, streams, purges, err := loadState(db)
	if err == nil {
		id, err = loadIdentity(db)
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open event store %s: %w", dir, err)
	}
	s := &Store{
		dir:       dir,
		db:        db,
		opts:      opts,
		log:       opts.Logger,
		requests:  make(chan *request),
		purges:    purges,
		closing:   make(chan struct{}),
		ackerDone: make(chan struct{}),
		notify:    make(chan struct{}),
		tail:      newTail(opts.TailRecords),
		streams:   streams,
		health:    h,
		id:        id,
	}
	s.durable.Store(last)
	committed := make(chan *group, 4)
	w := &writer{store: s, db: db, heads: newHeadCache(opts.HeadCacheSize), last: last, committed: committed}
	go w.run()
	go s.runAcker(committed)
	s.log.Debug("event store opened", "dir", dir, "last_position", last)
	return s, nil
}

// loadState reads what the writer needs to start: the last position, the stream filter and
// the purges a previous run left unfinished.
func loadState(db *pebble.DB) (last uint64, streams *streamFilter, purges *purgeQueue, err error) {
	if err = checkFormat(db); err != nil {
		return 0, nil, nil, err
	}
	if last, err = lastPosition(db); err != nil {
		return 0, nil, nil, err
	}
	if streams, err = loadStreamFilter(db); err != nil {
		return 0, nil, nil, err
	}
	if purges, err = loadPurges(db); err != nil {
		return 0, nil, nil, err
	}
	return last, streams, purges, nil
}

// ErrNewerFormat means the store was written by a newer herald.
var ErrNewerFormat = errors.New("the store was written by a newer herald")

// checkFormat refuses a store of a newer format and marks a new (or unmarked, older) one with
// this binary's format.
func checkFormat(db *pebble.DB) error {
	v, closer, err := db.Get(formatKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if err := db.Set(formatKey, binary.BigEndian.AppendUint64(nil, storeFormat), pebble.Sync); err != nil {
			return fmt.Errorf("mark the store's format: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read the store's format: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return fmt.Errorf("the store's format: %w", errCorrupt)
	}
	if f := binary.BigEndian.Uint64(v); f > storeFormat {
		return fmt.Errorf("%w (format %d; this herald reads format %d and older): run that herald or a newer one on it", ErrNewerFormat, f, storeFormat)
	}
	return nil
}

// loadIdentity reads the store's identity, and gives a store without one (new, or written by
// an earlier herald) its own.
func loadIdentity(db *pebble.DB) (string, error) {
	v, closer, err := db.Get(identityKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		if err := db.Set(identityKey, id, pebble.Sync); err != nil {
			return "", fmt.Errorf("give the store its identity: %w", err)
		}
		return hex.EncodeToString(id), nil
	case err != nil:
		return "", fmt.Errorf("read the store's identity: %w", err)
	}
	defer closer.Close()
	if len(v) != 16 {
		return "", fmt.Errorf("the store's identity: %w", errCorrupt)
	}
	return hex.EncodeToString(v), nil
}

// Identity names this store: random, given when it was created, kept for its life. Views
// kept elsewhere (Redis) record it, so that views built from one store are not followed
// from another (two instances with embedded stores on one Redis).
func (s *Store) Identity() string { return s.id }

// lastPosition finds the last position ever assigned: the meta key, or the newest record if
// it is somehow ahead (it never should be).
func lastPosition(db *pebble.DB) (uint64, error) {
	var last uint64
	v, closer, err := db.Get(lastPosKey)
	switch {
	case err == nil:
		if len(v) != 8 {
			_ = closer.Close()
			return 0, fmt.Errorf("last position: %w", errCorrupt)
		}
		last = binary.BigEndian.Uint64(v)
		_ = closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return 0, fmt.Errorf("read last position: %w", err)
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: globalPrefix, UpperBound: globalKey(^uint64(0))})
	if err != nil {
		return 0, fmt.Errorf("read last position: %w", err)
	}
	if it.Last() {
		last = max(last, binary.BigEndian.Uint64(it.Key()[len(globalPrefix):]))
	}
	if err := it.Close(); err != nil {
		return 0, fmt.Errorf("read last position: %w", err)
	}
	return last, nil
}

// loadPurges queues the purges a previous run left unfinished.
func loadPurges(db *pebble.DB) (*purgeQueue, error) {
	q := newPurgeQueue()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: purgePrefix, UpperBound: prefixEnd(purgePrefix)})
	if err != nil {
		return nil, fmt.Errorf("load purges: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		stream := string(it.Key()[len(purgePrefix):])
		q.push(&request{deleteStream: stream, purge: true, done: make(chan struct{})})
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("load purges: %w", err)
	}
	return q, nil
}

// Append appends facts to one stream if it is at the expected revision.
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error) {
	out, err := s.AppendMany(ctx, []domain.StreamAppend{{Stream: stream, Expected: expected, Facts: facts}})
	if err != nil {
		return domain.AppendResult{}, err
	}
	return out[0].Result, out[0].Err
}

// AppendMany appends to several streams in one group commit; outcome i belongs to append i,
// and appends later in the slice see the effect of earlier ones.
func (s *Store) AppendMany(ctx context.Context, appends []domain.StreamAppend) ([]domain.AppendOutcome, error) {
	if len(appends) == 0 {
		return nil, nil
	}
	r := &request{appends: appends, outcomes: make([]domain.AppendOutcome, len(appends)), done: make(chan struct{})}
	if err := s.submit(ctx, r); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return r.outcomes, nil
}

// DeleteStream deletes a stream for good: its head becomes a tombstone and a
// domain.StreamDeletedType record is appended in one synced batch; once that is durable, a
// second batch removes the stream's facts from the log and its index. It returns after both.
func (s *Store) DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error {
	r := &request{deleteStream: stream, deleteExpected: expected, done: make(chan struct{})}
	if err := s.submit(ctx, r); err != nil {
		return fmt.Errorf("delete stream %s: %w", stream, err)
	}
	return r.err
}

// submit hands a request to the writer and waits for its acknowledgement. When ctx ends
// first the request may still be committed.
func (s *Store) submit(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.failed(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	select {
	case s.requests <- r:
	case <-s.closing:
		return ErrClosed
	case <-s.health.broken:
		return fmt.Errorf("commit: %w", s.failed())
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
	case <-s.health.broken: // the writer may be stuck in pebble: do not wait for it
		return fmt.Errorf("commit: %w", s.failed())
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.failed != nil {
		return r.failed
	}
	return nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// LastPosition returns the position of the newest acknowledged record.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.durable.Load(), nil
}

// Close stops the writer (requests not yet taken fail with ErrClosed, groups already written
// are acknowledged once synced) and closes pebble. Later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		if !s.waitWriter() {
			s.mu.Lock()
			s.closed = true
			s.mu.Unlock()
			s.closeErr = fmt.Errorf("close event store: its writer is stuck in pebble after %w; the files are left as they are", s.failed())
			return
		}
		// Deletions whose tombstones are durable are done; the next Open purges their facts.
		for _, r := range s.purges.take() {
			close(r.done)
		}
		s.mu.Lock()
		s.closed = true
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close event store: %w", err)
		}
		s.mu.Unlock()
		s.log.Debug("event store closed")
	})
	return s.closeErr
}

// closeGrace is how long Close waits for a writer stuck in pebble once the store has failed.
const closeGrace = 5 * time.Second

// waitWriter waits for the writer and acker to end, and reports false when they do not within
// closeGrace after a failure (a full disk leaves pebble waiting for room forever).
func (s *Store) waitWriter() bool {
	select {
	case <-s.ackerDone:
		return true
	case <-s.health.broken:
	}
	select {
	case <-s.ackerDone:
		return true
	case <-time.After(closeGrace):
		return false
	}
}

// changed returns a channel closed at the next advance of the durable position.
func (s *Store) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

func (s *Store) broadcast() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

func (s *Store) fail(err error) { s.health.fail(err) }

func (s *Store) failed() error { return s.health.failed() }

// Health returns why the store cannot write: the failure that stopped it (a commit error, a
// full disk), or a write stall that has lasted more than ten seconds. It is nil when writes
// flow.
func (s *Store) Health() error { return s.health.report(time.Now()) }

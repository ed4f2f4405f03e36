package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble"

	"herald/domain"
)

// request is one caller's append batch or stream deletion, waiting for its group commit.
type request struct {
	appends  []domain.StreamAppend
	outcomes []domain.AppendOutcome

	deleteStream   string
	deleteExpected domain.ExpectedRevision
	err            error // outcome of a deletion
	// purge marks a deletion whose tombstone is durable and whose facts are to be removed.
	purge bool

	failed error // the store failed: nothing of the request is acknowledged
	done   chan struct{}
}

func (r *request) isDelete() bool { return r.appends == nil }

// group is the work of one commit: one pebble batch, one fsync, acknowledged together.
type group struct {
	batch   *pebble.Batch
	reqs    []*request
	pending map[string]head // heads changed by the group, checked by its later requests
	at      int64           // time of the group's records, unix nanoseconds
	facts   int
	prior   uint64 // last position before the group
	lastPos uint64 // last position once the group is durable
	writes  bool
	applied bool
	err     error
	// records are the group's records as written, for the tail; their data are copied into
	// arena (one allocation for many records; an arena that grows leaves earlier records on
	// the old array, which stays valid).
	records []domain.Record
	arena   []byte
}

// writer is the only goroutine that decides and writes. It applies a group to pebble without
// waiting for the fsync and hands it to the acker, so the next group is decided while the
// previous one syncs; pebble's WAL is sequential, so groups become durable in order.
type writer struct {
	store     *Store
	db        *pebble.DB
	heads     *headCache
	last      uint64 // last position assigned to an applied group
	committed chan<- *group
	key, val  []byte   // scratch
	sorted    []string // scratch
}

func (w *writer) run() {
	defer close(w.committed)
	for {
		var first *request
		select {
		case first = <-w.store.requests:
		case <-w.store.purges.ready:
		case <-w.store.closing:
			return
		}
		purges := w.store.purges.take()
		if first == nil && len(purges) == 0 {
			continue
		}
		g := &group{batch: w.db.NewBatch(), pending: map[string]head{}, at: time.Now().UnixNano(), prior: w.last}
		if err := w.store.failed(); err != nil {
			g.err = err
			g.reqs = purges
			if first != nil {
				g.reqs = append(g.reqs, first)
			}
		} else {
			for _, r := range purges {
				r.err = w.purgeStream(g, r.deleteStream)
				g.reqs = append(g.reqs, r)
			}
			w.fill(g, first)
			w.commit(g)
		}
		w.committed <- g
	}
}

// fill decides requests into g until the group is full or no caller is waiting.
func (w *writer) fill(g *group, r *request) {
	opts := &w.store.opts
	for r != nil {
		if r.isDelete() {
			r.err = w.deleteStream(g, r.deleteStream, r.deleteExpected)
		} else {
			for i, a := range r.appends {
				r.outcomes[i] = w.appendStream(g, a)
			}
		}
		g.reqs = append(g.reqs, r)
		if g.facts >= opts.MaxGroupFacts || g.batch.Len() >= opts.MaxGroupBytes {
			return
		}
		select {
		case r = <-w.store.requests:
		default:
			r = nil
		}
	}
}

func (w *writer) appendStream(g *group, a domain.StreamAppend) domain.AppendOutcome {
	fail := func(err error) domain.AppendOutcome { return domain.AppendOutcome{Err: err} }
	if !validStream(a.Stream) {
		return fail(fmt.Errorf("append %q: %w", a.Stream, ErrInvalidStream))
	}
	if len(a.Facts) == 0 {
		return fail(fmt.Errorf("append %s: %w", a.Stream, ErrNoFacts))
	}
	h, found, err := w.head(g, a.Stream)
	if err != nil {
		return fail(fmt.Errorf("append %s: %w", a.Stream, err))
	}
	if h.deleted {
		return fail(fmt.Errorf("append %s: %w", a.Stream, domain.ErrStreamDeleted))
	}
	if err := a.Expected.Check(a.Stream, h.lastRev, found); err != nil {
		return fail(fmt.Errorf("append %w", err))
	}
	rev := uint64(0)
	if found {
		rev = h.lastRev + 1
	} else {
		w.store.streams.add(a.Stream)
	}
	for _, f := range a.Facts {
		pos := w.put(g, a.Stream, rev, f.Type, f.Data)
		if rev == 0 {
			h.firstPos = pos
		} else {
			w.val = binary.AppendUvarint(w.val[:0], pos)
			w.set(g, indexKey(a.Stream, rev), w.val)
		}
		h.lastRev, h.lastPos = rev, pos
		rev++
	}
	g.pending[a.Stream] = h
	g.facts += len(a.Facts)
	return domain.AppendOutcome{Result: domain.AppendResult{NextRevision: h.lastRev, Position: h.lastPos}}
}

// deleteStream is the first half of a deletion: the head becomes a tombstone, the deletion
// record joins the log and a purge marker is written. Once that is durable the acker hands
// the request back for purgeStream, which removes the facts; were both done in one group,
// readers could miss facts that a crash before the fsync would bring back.
func (w *writer) deleteStream(g *group, stream string, expected domain.ExpectedRevision) error {
	if !validStream(stream) {
		return fmt.Errorf("delete stream %q: %w", stream, ErrInvalidStream)
	}
	h, found, err := w.head(g, stream)
	switch {
	case err != nil:
		return fmt.Errorf("delete stream %s: %w", stream, err)
	case !found:
		return fmt.Errorf("delete stream %s: %w", stream, domain.ErrStreamNotFound)
	case h.deleted:
		return fmt.Errorf("delete stream %s: %w", stream, domain.ErrStreamDeleted)
	}
	if err := expected.Check(stream, h.lastRev, true); err != nil {
		return fmt.Errorf("delete stream %w", err)
	}
	h.lastPos = w.put(g, stream, deletedRevision, domain.StreamDeletedType, nil)
	h.deleted = true
	g.pending[stream] = h
	g.facts++
	w.set(g, purgeKey(stream), nil)
	return nil
}

// purgeStream removes a deleted stream's records from the global log, its index entries and
// its purge marker. No append can touch the stream any more, so pebble's state is complete.
func (w *writer) purgeStream(g *group, stream string) error {
	h, found, err := w.head(g, stream)
	if err != nil || !found || !h.deleted {
		return fmt.Errorf("purge stream %s: head %v, found %v: %w", stream, h, found, errors.Join(err, errCorrupt))
	}
	lower, upper := indexBounds(stream)
	it, err := w.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("purge stream %s: %w", stream, err)
	}
	// Point deletions, never a DeleteRange over the index: pebble reads every range
	// tombstone of a memtable or table on each lookup that touches it, so a bulk clear's
	// hundred thousand of them made the purge slow down as it ran and every read after it
	// slow until a compaction (most streams, logevent-<id>, have no index entry at all).
	w.del(g, globalKey(h.firstPos))
	for ok := it.First(); ok; ok = it.Next() {
		pos, size := binary.Uvarint(it.Value())
		if size <= 0 {
			_ = it.Close()
			return fmt.Errorf("purge stream %s: index entry: %w", stream, errCorrupt)
		}
		w.del(g, globalKey(pos))
		w.del(g, it.Key())
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("purge stream %s: %w", stream, err)
	}
	w.del(g, purgeKey(stream))
	return nil
}

// put writes a record at the next position and returns the position.
func (w *writer) put(g *group, stream string, rev uint64, typ string, data []byte) uint64 {
	w.last++
	w.key = binary.BigEndian.AppendUint64(append(w.key[:0], globalPrefix...), w.last)
	w.val = appendRecord(w.val[:0], stream, rev, typ, g.at, data)
	w.set(g, w.key, w.val)
	if w.store.tail != nil {
		r := domain.Record{Stream: stream, Revision: rev, Position: w.last, Type: typ, Time: time.Unix(0, g.at).UTC()}
		if len(data) > 0 {
			if cap(g.arena)-len(g.arena) < len(data) {
				// Doubling from small: a group of one ledger fact (a notification's outcome)
				// should not clear 64 KB, nor a batch of events allocate one chunk per fact.
				g.arena = make([]byte, 0, max(len(data), min(64<<10, 2*cap(g.arena)), 1<<10))
			}
			start := len(g.arena)
			g.arena = append(g.arena, data...)
			r.Data = g.arena[start:len(g.arena):len(g.arena)]
		}
		g.records = append(g.records, r)
	}
	return w.last
}

// set and del add to the batch; pebble batch writes fail only on misuse, which the commit
// then reports.
func (w *writer) set(g *group, key, value []byte) {
	if err := g.batch.Set(key, value, nil); err != nil && g.err == nil {
		g.err = err
	}
	g.writes = true
}

func (w *writer) del(g *group, key []byte) {
	if err := g.batch.Delete(key, nil); err != nil && g.err == nil {
		g.err = err
	}
	g.writes = true
}

// head returns a stream's head as this group sees it: its own changes first, then the cache,
// then, unless the filter knows the stream is new, pebble.
func (w *writer) head(g *group, stream string) (head, bool, error) {
	if h, ok := g.pending[stream]; ok {
		return h, true, nil
	}
	if h, ok := w.heads.get(stream); ok {
		return h, true, nil
	}
	if !w.store.streams.mayContain(stream) {
		return head{}, false, nil
	}
	w.key = append(append(w.key[:0], headPrefix...), stream...)
	v, closer, err := w.db.Get(w.key)
	if errors.Is(err, pebble.ErrNotFound) {
		return head{}, false, nil
	}
	if err != nil {
		return head{}, false, fmt.Errorf("read head: %w", err)
	}
	defer closer.Close()
	h, err := decodeHead(v)
	if err != nil {
		return head{}, false, err
	}
	return h, true, nil
}

// commit writes the group's heads and the last position, then applies the batch.
func (w *writer) commit(g *group) {
	if g.err == nil && g.writes {
		// Sorted, the heads go into pebble's skiplist much faster: each insert starts its
		// search from the previous one.
		w.sorted = w.sorted[:0]
		for stream := range g.pending {
			w.sorted = append(w.sorted, stream)
		}
		slices.Sort(w.sorted)
		for _, stream := range w.sorted {
			w.key = append(append(w.key[:0], headPrefix...), stream...)
			w.val = appendHead(w.val[:0], g.pending[stream])
			w.set(g, w.key, w.val)
		}
		w.set(g, lastPosKey, binary.BigEndian.AppendUint64(w.val[:0], w.last))
	}
	if g.err == nil && g.writes {
		g.err = w.db.ApplyNoSyncWait(g.batch, pebble.Sync)
	}
	if g.err != nil {
		w.store.fail(g.err)
		w.last = g.prior
		return
	}
	g.applied = g.writes
	g.lastPos = w.last
	// Streams with one fact, most of them, are not worth a place: the next append to one
	// reads its head through the filter, and caches it from then on.
	for stream, h := range g.pending {
		if h.lastRev > 0 || h.deleted {
			w.heads.put(stream, h)
		}
	}
}

func validStream(s string) bool { return s != "" && !strings.ContainsRune(s, 0) }

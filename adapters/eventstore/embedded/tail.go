package embedded

import (
	"sync"

	"herald/domain"
)

// tail keeps the newest records as they were written, so that followers reading the log live
// (every view's runner and the dispatcher, each on its own) get them without a pebble read and
// a decode each: one copy when written instead of one decode per follower. Positions in the
// embedded store are consecutive, so the record at p sits at a fixed offset from the oldest.
// Deleting a stream clears the tail: its facts must leave reads at once, and deletions are
// rare.
type tail struct {
	mu    sync.RWMutex
	ring  []domain.Record
	start int    // ring index of the oldest record
	n     int    // records held
	first uint64 // position of the oldest record
}

func newTail(capacity int) *tail {
	if capacity <= 0 {
		return nil
	}
	return &tail{ring: make([]domain.Record, capacity)}
}

// push adds records that follow the newest held (or, after a gap, starts over with them).
func (t *tail) push(records []domain.Record) {
	if t == nil || len(records) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n > 0 && records[0].Position != t.first+uint64(t.n) {
		t.n = 0
	}
	for _, r := range records {
		if t.n == 0 {
			t.start, t.first = 0, r.Position
		}
		if t.n == len(t.ring) { // full: drop the oldest
			t.ring[t.start] = domain.Record{}
			t.start = (t.start + 1) % len(t.ring)
			t.first++
			t.n--
		}
		t.ring[(t.start+t.n)%len(t.ring)] = r
		t.n++
	}
}

// clear forgets every record.
func (t *tail) clear() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.ring)
	t.n = 0
}

// read returns up to limit records above from and up to upper; ok is false when the tail does
// not hold them all (the caller reads pebble instead).
func (t *tail) read(from, upper uint64, limit int) (records []domain.Record, ok bool) {
	if t == nil {
		return nil, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.n == 0 || from+1 < t.first || upper > t.first+uint64(t.n)-1 {
		return nil, false
	}
	count := min(upper-from, uint64(limit))
	records = make([]domain.Record, 0, count)
	for p := from + 1; p <= from+count; p++ {
		records = append(records, t.ring[(t.start+int(p-t.first))%len(t.ring)])
	}
	return records, true
}

package memory

import (
	"math"
	"time"
)

// key orders entries oldest first: by timestamp, then by position. Positions are unique, so
// keys are too; newest-first pages walk the order backwards.
type key struct {
	ts  int64 // unix nanoseconds
	pos uint64
}

func (a key) less(b key) bool { return a.ts < b.ts || (a.ts == b.ts && a.pos < b.pos) }

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos returns t in unix nanoseconds, clamped to what an int64 holds (years 1678 to 2262).
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// outsideNanos tells whether nanos(t) loses t.
func outsideNanos(t time.Time) bool { return t.Before(minTime) || t.After(maxTime) }

const (
	pageBits = 12
	pageSize = 1 << pageBits
	pageMask = pageSize - 1
)

// slabPage holds the entries of pageSize slots, column by column: a page is one allocation
// without pointers, which the garbage collector does not scan, and sorting and searching
// read the keys only. The uint32 columns are ids: of the id in the arena, and of the values
// in their dictionaries (0 for an empty value).
type slabPage struct {
	keys     [pageSize]key
	id       [pageSize]uint32
	resource [pageSize]uint32
	account  [pageSize]uint32
	host     [pageSize]uint32
	typ      [pageSize]uint32
	service  [pageSize]uint32
	resType  [pageSize]uint32
	level    [pageSize]uint8
}

// slab hands out slots, reusing those of deleted entries first.
type slab struct {
	pages []*slabPage
	next  uint32 // slots below next have been handed out at least once
	free  []uint32
}

func (s *slab) alloc() uint32 {
	if n := len(s.free); n > 0 {
		slot := s.free[n-1]
		s.free = s.free[:n-1]
		return slot
	}
	slot := s.next
	if int(slot>>pageBits) == len(s.pages) {
		s.pages = append(s.pages, new(slabPage))
	}
	s.next++
	return slot
}

func (s *slab) release(slot uint32) { s.free = append(s.free, slot) }

func (s *slab) at(slot uint32) (*slabPage, uint32) { return s.pages[slot>>pageBits], slot & pageMask }

func (s *slab) key(slot uint32) key { return s.pages[slot>>pageBits].keys[slot&pageMask] }

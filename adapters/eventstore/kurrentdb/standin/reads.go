package standin

import (
	"sort"
	"strings"
)

// Reads of the store: streams, $all, and the pages subscriptions walk.

// noStreamError says a stream has nothing to read: it has no events or is soft-deleted.
type noStreamError struct{ stream string }

func (e *noStreamError) Error() string { return "stream " + e.stream + " not found" }

// readStream returns up to count events of a stream from a revision (inclusive) in either
// direction; from math.MaxUint64 means the end.
func (s *store) readStream(name string, from uint64, forwards bool, count uint64) ([]*record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[name]
	if st.lastRevision() == deletedStream || s.metastreamOfTombstoned(name) {
		return nil, &streamDeletedError{stream: name}
	}
	if st == nil || len(st.records) == 0 || st.softDeleted() {
		return nil, &noStreamError{stream: name}
	}
	first, last := s.firstVisible(name, st), uint64(len(st.records)-1)
	var out []*record
	if forwards {
		for rev := max(from, first); rev <= last && uint64(len(out)) < count; rev++ {
			out = append(out, st.records[rev])
		}
		return out, nil
	}
	for rev := min(from, last); rev >= first && rev <= last && uint64(len(out)) < count; rev-- {
		out = append(out, st.records[rev])
	}
	return out, nil
}

// firstVisible is the first revision a read may return: $tb, or only the latest event of a
// metastream (which has an implicit $maxCount of 1).
func (s *store) firstVisible(name string, st *streamState) uint64 {
	first := uint64(max(st.truncateBefore, 0))
	if strings.HasPrefix(name, metastreamPrefix) && len(st.records) > 0 {
		first = max(first, uint64(len(st.records)-1))
	}
	return first
}

// allFrom is where a $all read or subscription starts: the start, the end, or a position.
type allFrom struct {
	start, end bool
	pos        uint64
	unequal    bool // commit and prepare positions differed
}

// indexOf finds the log index of the record at a position. A position at or past the end of the log
// is the end; one inside the log must be where a record starts.
func (s *store) indexOf(from allFrom) (int, error) {
	pos := from.pos
	if from.unequal {
		return 0, &invalidPositionError{pos: pos}
	}
	if pos >= s.next {
		return len(s.log), nil
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].pos >= pos })
	if i == len(s.log) || s.log[i].pos != pos {
		return 0, &invalidPositionError{pos: pos}
	}
	return i, nil
}

// readAll returns up to count records of $all that pass the filter (nil passes all): forwards
// from a position inclusive, backwards from a position exclusive, as the real server reads.
func (s *store) readAll(from allFrom, forwards bool, count uint64, filter *eventFilter) ([]*record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	switch {
	case from.end:
		i = len(s.log)
	case !from.start:
		var err error
		if i, err = s.indexOf(from); err != nil {
			return nil, err
		}
	}
	var out []*record
	for uint64(len(out)) < count {
		if !forwards {
			i--
		}
		if i < 0 || i >= len(s.log) {
			break
		}
		if r := s.log[i]; filter.matches(r) {
			out = append(out, r)
		}
		if forwards {
			i++
		}
	}
	return out, nil
}

// subscriptionStart says where a $all subscription begins: the index of the first record to
// consider, the position already seen (records at or before it are skipped, so the real
// server's "after this position" holds even for a position past the end), and whether the
// subscription goes live at once, skipping catch-up, as the real one does from the end or
// from a position at or after the last record.
type subscriptionStart struct {
	next    int
	seen    uint64
	hasSeen bool
	live    bool
}

func (s *store) startAll(from allFrom) (subscriptionStart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.log)
	switch {
	case from.start:
		return subscriptionStart{}, nil
	case from.end && n == 0:
		return subscriptionStart{live: true}, nil
	case from.end:
		return subscriptionStart{next: n, seen: s.log[n-1].pos, hasSeen: true, live: true}, nil
	case n > 0 && from.pos >= s.log[n-1].pos && !from.unequal:
		return subscriptionStart{next: n, seen: from.pos, hasSeen: true, live: true}, nil
	}
	i, err := s.indexOf(from)
	if err != nil {
		return subscriptionStart{}, err
	}
	return subscriptionStart{next: i + 1, seen: from.pos, hasSeen: true}, nil
}

// recordsFrom returns up to limit records of $all from index next, or none and a channel
// closed by the next write. The slice shares the log's array: a record, once written, is
// never changed or moved within it.
func (s *store) recordsFrom(next, limit int) ([]*record, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if next >= len(s.log) {
		return nil, s.changed
	}
	return s.log[next:min(next+limit, len(s.log))], nil
}

// streamRecordsFrom is recordsFrom for one stream, by revision, skipping what $tb hides; it
// reports a tombstoned stream.
func (s *store) streamRecordsFrom(name string, next uint64, limit int) ([]*record, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[name]
	if st.lastRevision() == deletedStream || s.metastreamOfTombstoned(name) {
		return nil, nil, &streamDeletedError{stream: name}
	}
	if st == nil || next >= uint64(len(st.records)) {
		return nil, s.changed, nil
	}
	next = max(next, s.firstVisible(name, st))
	if next >= uint64(len(st.records)) {
		return nil, s.changed, nil
	}
	return st.records[next:min(next+uint64(limit), uint64(len(st.records)))], nil, nil
}

// streamEnd is the last revision of a stream, -1 when it has none; a tombstoned stream is
// reported by streamRecordsFrom.
func (s *store) streamEnd(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev := s.streams[name].lastRevision(); rev != deletedStream {
		return rev
	}
	return -1
}

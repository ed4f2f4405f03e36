package standin

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// deletedStream is the revision the real server gives a tombstone and, as a truncate-before
// value, the mark of a soft-deleted stream (its EventNumber.DeletedStream, long.MaxValue).
const deletedStream = math.MaxInt64

// recordHeaderSize stands for the fixed part of a prepare record in the real transaction
// file, so that positions advance like byte offsets do: by more than one, and unevenly.
const recordHeaderSize = 88

// maxAppendSize is the real server's default limit on the payload of one append (1 MiB).
const maxAppendSize = 1 << 20

// Event types and streams the server itself writes.
const (
	typeStreamDeleted = "$streamDeleted"
	typeMetadata      = "$metadata"
	typeEpoch         = "$epoch-information"
	typeStats         = "$statsCollected"
	streamEpoch       = "$epoch-information"
	streamStats       = "$stats-127.0.0.1:2113"
	metastreamPrefix  = "$$"
)

// record is one event of the stand-in's transaction log.
type record struct {
	pos       uint64 // in $all; commit and prepare positions are both this
	stream    string
	revision  uint64 // deletedStream for a tombstone
	id        uuid.UUID
	eventType string
	isJSON    bool
	created   time.Time
	data      []byte
	metadata  []byte // the user's (custom) metadata
}

// proposal is an event an append asks to write.
type proposal struct {
	id        uuid.UUID
	eventType string
	isJSON    bool
	data      []byte
	metadata  []byte
}

// streamState is what the store knows of one stream.
type streamState struct {
	records        []*record // by revision: records[i].revision == i
	ids            map[uuid.UUID]int64
	tombstone      *record
	truncateBefore int64 // $tb of the latest event in the stream's metastream
}

func (st *streamState) lastRevision() int64 {
	switch {
	case st == nil:
		return -1
	case st.tombstone != nil:
		return deletedStream
	}
	return int64(len(st.records)) - 1
}

func (st *streamState) softDeleted() bool { return st != nil && st.truncateBefore == deletedStream }

// expectation is what a write expects of the stream, encoded as the real server encodes it:
// a revision, or one of the negative values below.
type expectation int64

const (
	expectNoStream     expectation = -1
	expectAny          expectation = -2
	expectStreamExists expectation = -4
)

// store is the stand-in's in-memory log and stream index, safe for concurrent use.
type store struct {
	mu         sync.Mutex
	log        []*record
	next       uint64 // where the next record goes
	streams    map[string]*streamState
	changed    chan struct{} // closed and replaced on every write, to wake subscriptions
	writes     int
	statsEvery int
}

func newStore(statsEvery int) *store {
	s := &store{streams: map[string]*streamState{}, changed: make(chan struct{}), statsEvery: statsEvery}
	// The epoch record takes the log's first position, though $all never shows it: the first
	// event a client sees is not at position 0.
	epoch, _ := json.Marshal(map[string]any{"epochNumber": 0, "epochPosition": 0, "epochId": uuid.New()})
	s.write(streamEpoch, proposal{id: uuid.New(), eventType: typeEpoch, isJSON: true, data: epoch})
	if statsEvery > 0 {
		s.writeStatsLocked()
	}
	return s
}

// wrongExpectedError says a write's expectation did not hold; current is the stream's last
// revision, -1 when it has none.
type wrongExpectedError struct {
	stream   string
	expected expectation
	current  int64
}

func (e *wrongExpectedError) Error() string {
	return "wrong expected version for stream " + e.stream + ": expected " +
		strconv.FormatInt(int64(e.expected), 10) + ", actual " + strconv.FormatInt(e.current, 10)
}

// streamDeletedError says the stream is tombstoned (or soft-deleted, to a stream_exists write).
type streamDeletedError struct{ stream string }

func (e *streamDeletedError) Error() string { return "stream " + e.stream + " is deleted" }

// invalidPositionError says a $all position is not where a record starts.
type invalidPositionError struct{ pos uint64 }

func (e *invalidPositionError) Error() string {
	return "position " + strconv.FormatUint(e.pos, 10) + " is not the start of a record"
}

// writeResult is what an append or a deletion answers: the stream's last revision (-1 for
// none) and, when something was written, the position of the last record.
type writeResult struct {
	revision    int64
	position    uint64
	hasPosition bool
}

// decision is the outcome of the commit check.
type decision int

const (
	commitOK decision = iota
	commitIdempotent
	commitWrongExpected
	commitDeleted
)

type commitCheck struct {
	decision       decision
	current        int64
	softDeleted    bool  // an OK write must undelete the stream first
	idempotentLast int64 // the last revision of the identical earlier write
}

// checkCommit decides a write the way the real index writer's CheckCommit does, including
// its idempotency rules, so that retries and soft-deleted streams behave the same.
func (s *store) checkCommit(name string, exp expectation, ids []uuid.UUID) commitCheck {
	st := s.streams[name]
	cur := st.lastRevision()
	if cur == deletedStream || s.metastreamOfTombstoned(name) {
		return commitCheck{decision: commitDeleted, current: cur}
	}
	if exp == expectStreamExists {
		if st.softDeleted() {
			return commitCheck{decision: commitDeleted, current: cur}
		}
		if cur < 0 && s.streams[metastreamPrefix+name].lastRevision() < 0 {
			return commitCheck{decision: commitWrongExpected, current: cur}
		}
	}
	if exp == expectAny || exp == expectStreamExists {
		return checkIdempotentAny(st, cur, ids)
	}
	e := int64(exp)
	switch {
	case e < cur:
		return checkIdempotentFrom(st, cur, e, exp == expectNoStream, ids)
	case e > cur:
		return commitCheck{decision: commitWrongExpected, current: cur}
	}
	return commitCheck{decision: commitOK, current: cur, softDeleted: st.softDeleted()}
}

// checkIdempotentAny: a write with no revision expected is a retry when all its ids were
// already written to the stream.
func checkIdempotentAny(st *streamState, cur int64, ids []uuid.UUID) commitCheck {
	if len(ids) == 0 {
		return commitCheck{decision: commitOK, current: cur, softDeleted: st.softDeleted()}
	}
	last := int64(-1)
	for i, id := range ids {
		rev, ok := int64(0), false
		if st != nil {
			rev, ok = st.ids[id]
		}
		if !ok {
			if i == 0 {
				return commitCheck{decision: commitOK, current: cur, softDeleted: st.softDeleted()}
			}
			return commitCheck{decision: commitWrongExpected, current: cur} // corrupted idempotency
		}
		last = rev
	}
	return commitCheck{decision: commitIdempotent, current: cur, idempotentLast: last}
}

// checkIdempotentFrom: a write expecting an older revision is a retry when the events after
// that revision are the ones it proposes. A soft-deleted stream takes a no_stream write.
func checkIdempotentFrom(st *streamState, cur, expected int64, noStream bool, ids []uuid.UUID) commitCheck {
	if len(ids) == 0 {
		return commitCheck{decision: commitWrongExpected, current: cur}
	}
	for i, id := range ids {
		rev := expected + 1 + int64(i)
		if rev <= cur && st.records[rev].id == id {
			continue
		}
		switch {
		case i > 0:
			return commitCheck{decision: commitWrongExpected, current: cur} // corrupted idempotency
		case noStream && st.softDeleted():
			return commitCheck{decision: commitOK, current: cur, softDeleted: true}
		}
		return commitCheck{decision: commitWrongExpected, current: cur}
	}
	return commitCheck{decision: commitIdempotent, current: cur, idempotentLast: expected + int64(len(ids))}
}

// append writes events to a stream if the expectation holds.
func (s *store) append(name string, exp expectation, events []proposal) (writeResult, error) {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	check := s.checkCommit(name, exp, ids)
	switch check.decision {
	case commitDeleted:
		return writeResult{}, &streamDeletedError{stream: name}
	case commitWrongExpected:
		return writeResult{}, &wrongExpectedError{stream: name, expected: exp, current: check.current}
	case commitIdempotent:
		r := s.streams[name].records[check.idempotentLast]
		return writeResult{revision: check.idempotentLast, position: r.pos, hasPosition: true}, nil
	}
	if len(events) == 0 {
		return writeResult{revision: check.current}, nil
	}
	if check.softDeleted {
		s.setTruncateBefore(name, check.current+1)
	}
	var last *record
	for _, e := range events {
		last = s.write(name, e)
	}
	s.committed()
	return writeResult{revision: int64(last.revision), position: last.pos, hasPosition: true}, nil
}

// softDelete marks the stream deleted in its metadata ($tb = deletedStream), as the real
// server's Delete does; the events stay in $all.
func (s *store) softDelete(name string, exp expectation) (writeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkDelete(name, exp); err != nil {
		return writeResult{}, err
	}
	r := s.setTruncateBefore(name, deletedStream)
	s.committed()
	return writeResult{revision: int64(r.revision), position: r.pos, hasPosition: true}, nil
}

// tombstone hard-deletes the stream: a $streamDeleted event at revision deletedStream.
func (s *store) tombstone(name string, exp expectation) (writeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkDelete(name, exp); err != nil {
		return writeResult{}, err
	}
	st := s.stream(name)
	r := s.newRecord(name, deletedStream, proposal{id: uuid.New(), eventType: typeStreamDeleted})
	st.tombstone = r
	s.committed()
	return writeResult{revision: deletedStream, position: r.pos, hasPosition: true}, nil
}

func (s *store) checkDelete(name string, exp expectation) error {
	switch check := s.checkCommit(name, exp, nil); check.decision {
	case commitDeleted:
		return &streamDeletedError{stream: name}
	case commitWrongExpected:
		return &wrongExpectedError{stream: name, expected: exp, current: check.current}
	}
	return nil
}

// setTruncateBefore rewrites the stream's metadata with a new $tb, keeping the rest.
func (s *store) setTruncateBefore(name string, tb int64) *record {
	meta := map[string]json.RawMessage{}
	if ms := s.streams[metastreamPrefix+name]; ms != nil && len(ms.records) > 0 {
		_ = json.Unmarshal(ms.records[len(ms.records)-1].data, &meta) // unreadable metadata counts as none
	}
	meta["$tb"] = json.RawMessage(strconv.FormatInt(tb, 10))
	data, _ := json.Marshal(meta)
	return s.write(metastreamPrefix+name, proposal{id: uuid.New(), eventType: typeMetadata, isJSON: true, data: data})
}

// writeStats appends a system event, as the real node's stats collection does.
func (s *store) writeStats() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.writeStatsLocked()
	s.notify()
	return r.pos
}

func (s *store) writeStatsLocked() *record {
	data, _ := json.Marshal(map[string]any{"proc-startTime": time.Now().UTC(), "proc-id": 1, "es-queue-count": 0})
	return s.write(streamStats, proposal{id: uuid.New(), eventType: typeStats, isJSON: true, data: data})
}

// committed follows every client write: a stats event every statsEvery writes, and a wake-up
// for subscriptions.
func (s *store) committed() {
	s.writes++
	if s.statsEvery > 0 && s.writes%s.statsEvery == 0 {
		s.writeStatsLocked()
	}
	s.notify()
}

func (s *store) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *store) stream(name string) *streamState {
	st := s.streams[name]
	if st == nil {
		st = &streamState{ids: map[uuid.UUID]int64{}}
		s.streams[name] = st
	}
	return st
}

// write appends an event at the stream's next revision.
func (s *store) write(name string, p proposal) *record {
	st := s.stream(name)
	r := s.newRecord(name, uint64(len(st.records)), p)
	st.records = append(st.records, r)
	st.ids[p.id] = int64(r.revision)
	if original, ok := strings.CutPrefix(name, metastreamPrefix); ok {
		s.stream(original).truncateBefore = truncateBeforeOf(p.data)
	}
	return r
}

// newRecord puts a record at the end of the log.
func (s *store) newRecord(name string, revision uint64, p proposal) *record {
	r := &record{
		pos: s.next, stream: name, revision: revision, id: p.id, eventType: p.eventType,
		isJSON: p.isJSON, created: time.Now(), data: p.data, metadata: p.metadata,
	}
	s.next += recordHeaderSize + uint64(len(name)+len(p.eventType)+len(p.data)+len(p.metadata))
	s.log = append(s.log, r)
	return r
}

// truncateBeforeOf reads $tb from stream metadata; metadata it cannot read truncates nothing,
// as the real server treats it as empty.
func truncateBeforeOf(data []byte) int64 {
	var meta struct {
		TruncateBefore *int64 `json:"$tb"`
	}
	if json.Unmarshal(data, &meta) != nil || meta.TruncateBefore == nil {
		return 0
	}
	return *meta.TruncateBefore
}

func (s *store) metastreamOfTombstoned(name string) bool {
	original, ok := strings.CutPrefix(name, metastreamPrefix)
	return ok && s.streams[original].lastRevision() == deletedStream
}

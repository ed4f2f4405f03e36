package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/commands"
	"herald/domain"
)

// told is what a purge hook was told of a clear.
type told struct {
	clearID string
	err     error
}

// progressTold is what a purge's Progress hook was told.
type progressTold struct {
	done, total int
	elapsed     time.Duration
}

// progressRecorder records what a Progress hook is told.
type progressRecorder struct {
	mu    sync.Mutex
	calls []progressTold
}

// hook returns a Progress hook recording each call, then running then.
func (r *progressRecorder) hook(then func()) commands.PurgeProgress {
	return func(done, total int, elapsed time.Duration) {
		r.mu.Lock()
		r.calls = append(r.calls, progressTold{done, total, elapsed})
		r.mu.Unlock()
		then()
	}
}

// check fails t unless the first call told done of total after the 2 s a purge waits before it
// tells, and every call told total and a count that only grows up to it.
func (r *progressRecorder) check(t *testing.T, done, total int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatalf("no progress told, want %d of %d", done, total)
	}
	if c := r.calls[0]; c.done != done || c.total != total || c.elapsed < 2*time.Second {
		t.Errorf("first progress told %+v, want %d of %d after 2 s at least", c, done, total)
	}
	for i, c := range r.calls {
		if c.total != total || c.done > total || (i > 0 && c.done < r.calls[i-1].done) {
			t.Errorf("progress told %+v", r.calls)
			break
		}
	}
}

// gatedDeletes is a store that lets its first free stream deletions through and holds the
// others until release, so that a purge of more events than it runs at once stalls. It
// releases them itself after 10 s, so that a test whose hook is never told fails, not hangs.
type gatedDeletes struct {
	*embedded.Store
	free    int64
	begun   *atomic.Int64
	open    chan struct{}
	release func()
}

func newGatedDeletes(t *testing.T, store *embedded.Store, free int64) gatedDeletes {
	open := make(chan struct{})
	release := sync.OnceFunc(func() { close(open) })
	timer := time.AfterFunc(10*time.Second, release)
	t.Cleanup(func() { timer.Stop() })
	return gatedDeletes{Store: store, free: free, begun: new(atomic.Int64), open: open, release: release}
}

func (s gatedDeletes) DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error {
	if s.begun.Add(1) > s.free {
		select {
		case <-s.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.DeleteStream(ctx, stream, expected)
}

// unrecordedPurges is a store that refuses to append PurgeFinished facts.
type unrecordedPurges struct {
	*embedded.Store
}

func (s unrecordedPurges) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error) {
	for _, f := range facts {
		if f.Type == domain.PurgeFinishedType {
			return domain.AppendResult{}, errors.New("disk on fire")
		}
	}
	return s.Store.Append(ctx, stream, expected, facts...)
}

// slowLog is a log that takes delay to answer each read.
type slowLog struct {
	commands.LogReader
	delay time.Duration
}

func (l slowLog) ReadAll(ctx context.Context, from uint64, limit int) ([]domain.Record, error) {
	time.Sleep(l.delay)
	return l.LogReader.ReadAll(ctx, from, limit)
}

// lastClear returns the last EventsCleared fact of an account's log stream.
func lastClear(t *testing.T, store commands.EventStore, account string) domain.EventsCleared {
	t.Helper()
	facts, err := store.ReadStream(context.Background(), domain.EventLogStream(account))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(facts) - 1; i >= 0; i-- {
		if facts[i].Type == domain.EventsClearedType {
			f, err := domain.DecodeEventsCleared(facts[i].Data)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no EventsCleared fact in the stream of %s", account)
	return domain.EventsCleared{}
}

// manyEvents records n events of alice, and returns their ids and the position of the last.
func manyEvents(t *testing.T, store commands.EventStore, n int) ([]string, uint64) {
	t.Helper()
	ids := make([]string, n)
	events := make([]domain.LogEvent, n)
	for i := range n {
		ids[i] = fmt.Sprintf("e%03d", i)
		events[i] = event(ids[i])
	}
	return ids, recordEvents(t, store, events...)
}

// TestDeleteEvents_aPurgeDoneButNotRecordedIsTold: when the purge is done but its
// PurgeFinished fact cannot be appended, the clear stands and Unrecorded is told which clear
// and why, and Unpurged is not.
func TestDeleteEvents_aPurgeDoneButNotRecordedIsTold(t *testing.T) {
	store := openStore(t)
	recordEvents(t, store, event("p"), event("q"))
	var unrecorded []told
	h, _ := commands.NewDeleteEventsHandler(context.Background(), unrecordedPurges{store}, fixedMatches{[]string{"p", "q"}, 2}, clock, commands.PurgeHooks{
		Unpurged:   func(id string, err error) { t.Errorf("a finished purge told as unpurged: %s %v", id, err) },
		Unrecorded: func(id string, err error) { unrecorded = append(unrecorded, told{id, err}) },
	})
	res, err := h.Handle(context.Background(), commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Account: "alice"}})
	if err != nil || res.Count != 2 {
		t.Fatalf("clear: %+v %v, want 2 cleared (an unrecorded purge is not the caller's failure)", res, err)
	}
	clearID := lastClear(t, store, "alice").ClearID
	if len(unrecorded) != 1 || unrecorded[0].clearID != clearID || unrecorded[0].err == nil || unrecorded[0].err.Error() != "disk on fire" {
		t.Fatalf("told of unrecorded purges %v, want clear %s with the store's error", unrecorded, clearID)
	}
	for _, id := range []string{"p", "q"} {
		if _, err := store.ReadStream(context.Background(), domain.LogEventStream(id)); !errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("stream of %s: %v, want it purged", id, err)
		}
	}
}

// TestDeleteEvents_aLongPurgeTellsItsProgress: a purge still going after 2 s tells Progress
// how many of its events' streams are done, of how many, and since when.
func TestDeleteEvents_aLongPurgeTellsItsProgress(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ids, upTo := manyEvents(t, store, 80) // more than a purge deletes at once
	gated := newGatedDeletes(t, store, 10)
	var progress progressRecorder
	h, _ := commands.NewDeleteEventsHandler(context.Background(), gated, fixedMatches{ids, upTo}, clock, commands.PurgeHooks{
		Progress:   progress.hook(gated.release),
		Unpurged:   func(id string, err error) { t.Errorf("told as unpurged: %s %v", id, err) },
		Unrecorded: func(id string, err error) { t.Errorf("told as unrecorded: %s %v", id, err) },
	})
	res, err := h.Handle(context.Background(), commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Account: "alice"}})
	if err != nil || res.Count != 80 {
		t.Fatalf("clear: %+v %v", res, err)
	}
	progress.check(t, 10, 80)
	purges, _ := store.ReadStream(context.Background(), domain.PurgesStream)
	if f, err := domain.DecodePurgeFinished(purges[len(purges)-1].Data); err != nil || f.Deleted != 80 {
		t.Errorf("PurgeFinished %+v %v, want the 80 streams deleted", f, err)
	}
}

// TestResumePurges_aLongPurgeTellsHowFarItIs: resuming a purge tells Resuming of the clear,
// Finding how far the search for its events is once it has taken 2 s, and Progress how far
// their deletion is once that has.
func TestResumePurges_aLongPurgeTellsHowFarItIs(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	_, upTo := manyEvents(t, store, 80)
	p := domain.PurgeScheduled{ClearID: "c1", Account: "alice", Criteria: domain.EventFilter{Account: "alice"}, UpTo: upTo, ScheduledAt: now}
	if _, err := store.Append(ctx, domain.PurgesStream, domain.Any(), p.Encode()); err != nil {
		t.Fatal(err)
	}
	cleared := domain.EventsCleared{Criteria: p.Criteria, Count: 80, UpTo: upTo, ClearID: p.ClearID, ClearedAt: now}
	if _, err := store.Append(ctx, domain.EventLogStream("alice"), domain.Any(), cleared.Encode()); err != nil {
		t.Fatal(err)
	}
	head := lastPosition(t, store)
	gated := newGatedDeletes(t, store, 10)
	resume, _ := commands.NewResumePurgesHandler(gated, slowLog{store, 2100 * time.Millisecond}, clock)
	var resuming []domain.PurgeScheduled
	type findingTold struct {
		clearID      string
		readTo, upTo uint64
		found        int
		deletesBegun int64
	}
	var finding []findingTold
	var progress progressRecorder
	res, err := resume.Handle(ctx, commands.ResumePurges{
		Resuming: func(p domain.PurgeScheduled) { resuming = append(resuming, p) },
		Finding: func(clearID string, readTo, upTo uint64, found int) {
			finding = append(finding, findingTold{clearID, readTo, upTo, found, gated.begun.Load()})
		},
		Progress: progress.hook(gated.release),
	})
	if err != nil || res != (commands.ResumePurgesResult{Finished: 1, Deleted: 80}) {
		t.Fatalf("resume: %+v %v, want one purge finished and 80 streams deleted", res, err)
	}
	if len(resuming) != 1 || resuming[0].ClearID != "c1" || resuming[0].Account != "alice" || resuming[0].UpTo != upTo {
		t.Errorf("told of resumed purges %+v, want clear c1 of alice up to %d", resuming, upTo)
	}
	// the log is read a page at a time, and this page reached the log's head, past the clear
	if want := (findingTold{"c1", head, upTo, 80, 0}); len(finding) != 1 || finding[0] != want {
		t.Errorf("finding told %+v, want %+v, before any deletion", finding, want)
	}
	progress.check(t, 10, 80)
}

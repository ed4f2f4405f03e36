package projections_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/views/memory"
	"herald/commands"
	"herald/domain"
	"herald/internal/testtool"
	"herald/projections"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type fixture struct {
	store   *embedded.Store
	view    *memory.EventLog
	feed    *projections.Feed
	runner  *projections.Runner
	queries projections.EventLogQueries
	record  commands.RecordEventsHandler
	logs    *testtool.Buffer
	cancel  context.CancelFunc
}

func newFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	store, err := embedded.Open(dir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, view: memory.NewEventLog(), feed: projections.NewFeed(), logs: &testtool.Buffer{}}
	projection, err := projections.NewEventLogProjection(f.view, f.feed)
	if err != nil {
		t.Fatal(err)
	}
	f.runner, _ = projections.NewRunner(store, projection, slog.New(slog.NewTextHandler(f.logs, nil)), nil)
	f.queries, _ = projections.NewEventLogQueries(f.view, store)
	f.record, _ = commands.NewRecordEventsHandler(store, func() time.Time { return now }, commands.NewEventID)
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	done := make(chan struct{})
	go func() { _ = f.runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; store.Close() })
	return f
}

func (f *fixture) recordAndWait(t *testing.T, events ...domain.LogEvent) {
	t.Helper()
	res, err := f.record.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor(), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.runner.WaitFor(ctx, res.LastPosition); err != nil {
		t.Fatal(err)
	}
}

func ev(id string, minute int, level domain.Level, typ string) domain.LogEvent {
	return domain.LogEvent{ID: id, Timestamp: now.Add(-time.Hour + time.Duration(minute)*time.Minute), Level: level, Type: typ,
		Message: "message of " + id, Details: []byte(`{"k":"` + id + `"}`),
		Resource: domain.Resource{ID: "docker.io/library/nginx:latest", Type: "image_tag", UserID: "admin"},
		Source:   domain.Source{ServiceName: "catalog", HostID: "host-1"}}
}

func TestRunner_followsTheLogAndQueriesReadIt(t *testing.T) {
	f := newFixture(t, t.TempDir())
	ctx := context.Background()
	f.recordAndWait(t, ev("e1", 1, domain.LevelInfo, "system.feeds.sync.started"), ev("e2", 2, domain.LevelError, "system.feeds.sync.failed"), ev("e3", 3, domain.LevelInfo, "user.checks.tag.vulnerabilities.update"))

	list, err := f.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{Type: "system.feeds.*"}, 0, "")
	if err != nil || len(list.Entries) != 2 || list.Entries[0].ID != "e2" || list.HasNextPage {
		t.Fatalf("events: %+v %v", list, err)
	}
	page1, _ := f.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{}, 2, "")
	page2, _ := f.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{}, 2, page1.Cursors[1])
	if !page1.HasNextPage || len(page2.Entries) != 1 || page2.Entries[0].ID != "e1" || page2.HasNextPage {
		t.Fatalf("pagination: %+v / %+v", page1, page2)
	}
	full, err := f.queries.Event(ctx, domain.SystemActor(), "e2")
	if err != nil || full.Message != "message of e2" || string(full.Details) != `{"k":"e2"}` {
		t.Fatalf("event e2: %+v %v", full, err)
	}
	if _, err := f.queries.Event(ctx, domain.Actor{Account: "someone-else", User: "x", Role: domain.RoleReadWrite}, "e2"); !errors.Is(err, domain.ErrEventNotFound) {
		t.Fatalf("another account read e2: %v", err)
	}
	if n, _ := f.queries.Count(ctx, domain.SystemActor(), domain.EventFilter{Level: domain.LevelInfo}); n != 2 {
		t.Fatalf("count info = %d", n)
	}
}

func TestRunner_rebuildsFromTheLogAfterRestart(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	ctx := context.Background()
	f.recordAndWait(t, ev("keep", 1, domain.LevelInfo, "a.b"), ev("gone", 2, domain.LevelInfo, "a.b"), ev("old", 0, domain.LevelError, "a.c"))
	del, _ := commands.NewDeleteEventHandler(f.store, func() time.Time { return now })
	if _, err := del.Handle(ctx, commands.DeleteEvent{Actor: domain.SystemActor(), ID: "gone"}); err != nil {
		t.Fatal(err)
	}
	clear, _ := commands.NewDeleteEventsHandler(context.Background(), f.store, f.queries, func() time.Time { return now }, commands.PurgeHooks{})
	res, err := clear.Handle(ctx, commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Level: domain.LevelError}})
	if err != nil || res.Count != 1 {
		t.Fatalf("clear errors: %+v %v", res, err)
	}
	f.recordAndWait(t, ev("late", 5, domain.LevelError, "a.c")) // after the clear: stays
	f.cancel()
	f.store.Close()

	g := newFixture(t, dir)
	head, _ := g.store.LastPosition(ctx)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := g.runner.WaitFor(wctx, head); err != nil {
		t.Fatal(err)
	}
	list, _ := g.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{}, 0, "")
	var ids []string
	for _, e := range list.Entries {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "late,keep" {
		t.Fatalf("after rebuild the view holds %v, want [late keep]", ids)
	}
	if !strings.Contains(g.logs.String(), "view caught up") {
		t.Fatalf("no progress in the log:\n%s", g.logs)
	}
}

func TestFeed_deliversMatchingEventsAndDropsSlowReaders(t *testing.T) {
	f := newFixture(t, t.TempDir())
	errorsOnly := f.feed.Subscribe(domain.EventFilter{Level: domain.LevelError})
	defer f.feed.Unsubscribe(errorsOnly)
	f.recordAndWait(t, ev("i", 1, domain.LevelInfo, "a.b"), ev("e", 2, domain.LevelError, "a.b"))
	select {
	case got := <-errorsOnly.Events:
		if got.ID != "e" || got.Message != "message of e" {
			t.Fatalf("feed delivered %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing delivered")
	}
	slow := f.feed.Subscribe(domain.EventFilter{})
	for i := range 1100 {
		f.feed.Publish(ev("x"+string(rune('a'+i%26)), 1, domain.LevelInfo, "a.b"))
	}
	if !slow.Dropped() {
		t.Fatal("a reader that never reads was not dropped")
	}
}

func TestEventLogQueries_rejectsBadArguments(t *testing.T) {
	f := newFixture(t, t.TempDir())
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"cursor": func() error {
			_, err := f.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{}, 10, "not-a-cursor")
			return err
		},
		"first": func() error {
			_, err := f.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{}, 5000, "")
			return err
		},
		"filter": func() error {
			_, err := f.queries.Events(ctx, domain.SystemActor(), domain.EventFilter{ResourceType: "container"}, 10, "")
			return err
		},
		"id": func() error { _, err := f.queries.Event(ctx, domain.SystemActor(), "bad id"); return err },
	} {
		var v *domain.ValidationError
		if err := call(); !errors.As(err, &v) {
			t.Errorf("%s: want a validation error, got %v", name, err)
		}
	}
	c := projections.Cursor{Timestamp: now, Position: 42}
	if got, err := projections.DecodeCursor(projections.EncodeCursor(c)); err != nil || !got.Timestamp.Equal(now) || got.Position != 42 {
		t.Fatalf("cursor round trip: %+v %v", got, err)
	}
}

func TestRunner_rebuildDropsAndReappliesTheView(t *testing.T) {
	f := newFixture(t, t.TempDir())
	ctx := context.Background()
	f.recordAndWait(t, ev("r1", 1, domain.LevelInfo, "a.b"), ev("r2", 2, domain.LevelError, "a.b"))
	<-f.runner.Rebuild()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := f.runner.Progress()
		n, _ := f.queries.Count(ctx, domain.SystemActor(), domain.EventFilter{})
		if p.CaughtUp && n == 2 && strings.Contains(f.logs.String(), "view dropped for a rebuild") {
			if p.View != projections.EventLogViewName || p.Applied < 2 {
				t.Fatalf("progress %+v", p)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebuild did not finish: %+v, %d events, logs:\n%s", p, n, f.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A clear hides and purges the events the view held when the command read it, and nothing the
// view had not applied yet: those would have been hidden with their payloads left in the store.
func TestClear_leavesEventsTheViewHadNotApplied(t *testing.T) {
	ctx := context.Background()
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	record, _ := commands.NewRecordEventsHandler(store, func() time.Time { return now }, commands.NewEventID)
	seen, unseen := ev("seen", 1, domain.LevelError, "a.b"), ev("unseen", 2, domain.LevelError, "a.b")
	var positions []uint64
	for _, e := range []domain.LogEvent{seen, unseen} {
		res, err := record.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{e}})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, res.LastPosition)
	}
	view := memory.NewEventLog()
	// The view has applied both entries, but its checkpoint is still at the first: the second
	// belongs to a batch being applied.
	changes := []projections.Change{}
	for i, e := range []domain.LogEvent{seen, unseen} {
		entry := projections.EntryOf(e, positions[i])
		changes = append(changes, projections.Change{Recorded: &entry, At: positions[i]})
	}
	if err := view.Apply(ctx, changes[:1], positions[0]); err != nil {
		t.Fatal(err)
	}
	if err := view.Apply(ctx, changes[1:], positions[0]); err != nil {
		t.Fatal(err)
	}
	queries, _ := projections.NewEventLogQueries(view, store)
	ids, upTo, err := queries.MatchingIDs(ctx, domain.EventFilter{Level: domain.LevelError})
	if err != nil || len(ids) != 1 || ids[0] != "seen" || upTo != positions[0] {
		t.Fatalf("MatchingIDs = %v up to %d (%v), want [seen] up to %d", ids, upTo, err, positions[0])
	}

	clear, _ := commands.NewDeleteEventsHandler(context.Background(), store, queries, func() time.Time { return now }, commands.PurgeHooks{})
	if res, err := clear.Handle(ctx, commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Level: domain.LevelError}}); err != nil || res.Count != 1 {
		t.Fatalf("clear: %+v %v", res, err)
	}
	rebuilt := memory.NewEventLog() // what any view makes of the log, now or after a rebuild
	projection, _ := projections.NewEventLogProjection(rebuilt, projections.NewFeed())
	runner, _ := projections.NewRunner(store, projection, slog.New(slog.DiscardHandler), nil)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = runner.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	head, _ := store.LastPosition(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := runner.WaitFor(wctx, head); err != nil {
		t.Fatal(err)
	}
	after, _ := projections.NewEventLogQueries(rebuilt, store)
	if _, err := after.Event(ctx, domain.SystemActor(), "seen"); !errors.Is(err, domain.ErrEventNotFound) {
		t.Errorf("the cleared event is still listed: %v", err)
	}
	if e, err := after.Event(ctx, domain.SystemActor(), "unseen"); err != nil || e.Message != unseen.Message {
		t.Errorf("the event the clear did not see is hidden or lost: %+v %v", e, err)
	}
}

// Once a view has caught up, the log's new writes are no catching up: the runner does not
// report progress on them (it used to, with done > total and a negative eta, on every write
// after a quiet spell).
func TestRunner_reportsNoCatchingUpOnceLive(t *testing.T) {
	f := newFixture(t, t.TempDir())
	f.recordAndWait(t, ev("first", 1, domain.LevelInfo, "a.b.c"))
	// A runner slow to start (a loaded machine) finds "first" already written and catches up
	// on it, rightly: only what it logs once live counts.
	live := len(f.logs.String())
	time.Sleep(2100 * time.Millisecond) // past the progress interval
	f.recordAndWait(t, ev("second", 2, domain.LevelInfo, "a.b.c"))
	f.recordAndWait(t, ev("third", 3, domain.LevelInfo, "a.b.c"))
	if logs := f.logs.String()[live:]; strings.Contains(logs, "catching up view") {
		t.Errorf("a live view reported catching up:\n%s", logs)
	}
}

// spacedLog is a log whose positions are far apart, as KurrentDB's are (they follow its
// transaction log), handed over in batches of two.
type spacedLog struct{ records []domain.Record }

func (l spacedLog) SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error {
	var rs []domain.Record
	for _, r := range l.records {
		if r.Position > from {
			rs = append(rs, r)
		}
	}
	for i := 0; i < len(rs); i += 2 {
		if err := handle(ctx, rs[i:min(i+2, len(rs))]); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

func (l spacedLog) LastPosition(context.Context) (uint64, error) {
	return l.records[len(l.records)-1].Position, nil
}

// countingView applies anything and keeps its checkpoint.
type countingView struct{ at atomic.Uint64 }

func (*countingView) Name() string                                 { return "counting" }
func (v *countingView) Checkpoint(context.Context) (uint64, error) { return v.at.Load(), nil }
func (v *countingView) Reset(context.Context) error                { v.at.Store(0); return nil }
func (v *countingView) Apply(_ context.Context, rs []domain.Record) error {
	v.at.Store(rs[len(rs)-1].Position)
	return nil
}

// Progress and the runner's log count the records applied, not the positions passed: with
// KurrentDB positions are far apart, and a rebuild of 9 records is not one of 8,000.
func TestRunner_countsRecordsNotPositions(t *testing.T) {
	var log spacedLog
	for i := range 9 {
		log.records = append(log.records, domain.Record{Stream: "s", Revision: uint64(i), Position: uint64(1000 * (i + 1)), Type: "Tested"})
	}
	logs := &testtool.Buffer{}
	runner, err := projections.NewRunner(log, &countingView{}, slog.New(slog.NewTextHandler(logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = runner.Run(ctx) }()
	if err := runner.WaitFor(ctx, 9000); err != nil {
		t.Fatal(err)
	}
	p := runner.Progress()
	if p.Records != 9 || p.Applied != 9000 || p.PositionRate <= p.Rate || p.Rate <= 0 {
		t.Errorf("progress: %d records, at %d, %.0f records/s, %.0f positions/s; want 9 records at 9000, positions moving faster than records", p.Records, p.Applied, p.Rate, p.PositionRate)
	}
	if !strings.Contains(logs.String(), "records=9 ") {
		t.Errorf("the caught-up line does not count 9 records:\n%s", logs)
	}
}

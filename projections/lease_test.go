package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/views/memory"
	redisview "herald/adapters/views/redis"
	"herald/adapters/views/redis/redistest"
	"herald/commands"
	"herald/domain"
	"herald/projections"
)

// instance is one herald instance's event-log runner on a shared Redis view.
type instance struct {
	client *goredis.Client
	runner *projections.Runner
	cancel context.CancelFunc
	done   chan struct{}
}

func startInstance(t *testing.T, srv *redistest.Server, store *embedded.Store, prefix string) *instance {
	t.Helper()
	client := goredis.NewClient(srv.ClientOptions())
	base, err := redisview.NewEventLog(client, redisview.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	view := redisview.NewLeasedEventLog(base)
	lease, err := redisview.NewLease(client, projections.EventLogViewName, redisview.LeaseOptions{Prefix: prefix, TTL: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	projection, _ := projections.NewEventLogProjection(view, nil)
	runner, _ := projections.NewRunner(store, projection, slog.New(slog.DiscardHandler), nil)
	runner.UseLease(lease, view.Claim)
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{client: client, runner: runner, cancel: cancel, done: make(chan struct{})}
	go func() { _ = runner.Run(ctx); close(in.done) }()
	t.Cleanup(func() { in.cancel(); <-in.done; _ = client.Close() })
	return in
}

// crash stops an instance the way a killed process stops: its Redis connection goes away
// first, so it can neither renew nor release its lease, which others must wait out.
func (in *instance) crash() {
	_ = in.client.Close()
	in.cancel()
	<-in.done
}

// openLog opens an embedded store for a test, and returns it with a function that records n
// events of type typ, with ids name-000 and on, in one batch.
func openLog(t *testing.T) (*embedded.Store, func(name string, n int, typ string)) {
	t.Helper()
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	record, _ := commands.NewRecordEventsHandler(store, func() time.Time { return now }, commands.NewEventID)
	return store, func(name string, n int, typ string) {
		t.Helper()
		events := make([]domain.LogEvent, n)
		for i := range events {
			events[i] = ev(fmt.Sprintf("%s-%03d", name, i), i%60, domain.Level(1+i%2), typ)
		}
		if _, err := record.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor(), Events: events}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunner_leaseMovesToASurvivingInstance runs two instances on one Redis view, crashes the
// one applying it in the middle of a stream of writes, and checks that the other takes over
// and that the Redis view then equals a view rebuilt from the log, entry for entry.
func TestRunner_leaseMovesToASurvivingInstance(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	store, record := openLog(t)
	ctx := context.Background()
	batch := func(b int) { record(fmt.Sprintf("lease-%03d", b), 500, "system.feeds.sync.started") }
	for b := range 4 {
		batch(b)
	}
	prefix := redistest.Prefix(t)
	a := startInstance(t, srv, store, prefix)
	b := startInstance(t, srv, store, prefix)

	holder, other := a, b
	deadline := time.Now().Add(10 * time.Second)
	for {
		if !a.runner.Progress().Standby {
			break
		}
		if !b.runner.Progress().Standby {
			holder, other = b, a
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no instance took the lease")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for b := 4; b < 8; b++ {
		batch(b)
	}
	holder.crash()
	for b := 8; b < 12; b++ {
		batch(b)
	}
	head, _ := store.LastPosition(ctx)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := other.runner.WaitFor(wctx, head); err != nil {
		t.Fatalf("the surviving instance did not catch up: %v (%+v)", err, other.runner.Progress())
	}
	if other.runner.Progress().Standby {
		t.Fatal("the surviving instance never took the lease")
	}

	assertSameViews(t, rebuilt(t, wctx, store, head), sharedView(srv, prefix), 6000)
}

func assertSameViews(t *testing.T, want, got projections.EventLogView, total int) {
	t.Helper()
	ctx := context.Background()
	req := projections.EventPageRequest{Limit: 1000}
	seen := 0
	for {
		w, err1 := want.Page(ctx, req)
		g, err2 := got.Page(ctx, req)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if len(w.Entries) != len(g.Entries) || w.HasMore != g.HasMore {
			t.Fatalf("page after %d entries: %d entries (more %v) in Redis, %d (more %v) rebuilt", seen, len(g.Entries), g.HasMore, len(w.Entries), w.HasMore)
		}
		for i := range w.Entries {
			if w.Entries[i].ID != g.Entries[i].ID || w.Entries[i].Position != g.Entries[i].Position {
				t.Fatalf("entry %d: Redis has %s@%d, the rebuild %s@%d", seen+i, g.Entries[i].ID, g.Entries[i].Position, w.Entries[i].ID, w.Entries[i].Position)
			}
		}
		seen += len(w.Entries)
		if !w.HasMore {
			break
		}
		last := w.Entries[len(w.Entries)-1]
		req.After = &projections.Cursor{Timestamp: last.Timestamp, Position: last.Position}
	}
	if seen != total {
		t.Fatalf("the views hold %d entries, want %d", seen, total)
	}
}

// TestRunner_redisRestartedMidCatchUp restarts Redis while a runner catches up; the runner
// retries, resumes from the checkpoint Redis kept, and the view ends equal to a rebuild.
func TestRunner_redisRestartedMidCatchUp(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Persistent: true})
	store, record := openLog(t)
	ctx := context.Background()
	for b := range 20 {
		record(fmt.Sprintf("restart-%02d", b), 1000, "user.image.analysis.completed")
	}
	prefix := redistest.Prefix(t)
	in := startInstance(t, srv, store, prefix)
	deadline := time.Now().Add(20 * time.Second)
	for in.runner.Progress().Applied == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	head, _ := store.LastPosition(ctx)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := in.runner.WaitFor(wctx, head); err != nil {
		t.Fatalf("the runner did not recover from the restart: %v (%+v)", err, in.runner.Progress())
	}
	assertSameViews(t, rebuilt(t, wctx, store, head), sharedView(srv, prefix), 20000)
}

// TestRunner_redisLosingItsDataRebuildsTheView: Redis loses its data (FLUSHALL) while the
// runner applies the view, and events keep coming. The runner's writes are refused (the
// view's fence is gone), its lease lapses, and it rebuilds the view from the log; WaitFor
// waits for the view Redis holds, not for the count the runner kept, and the view then
// holds every event, from before the loss too.
func TestRunner_redisLosingItsDataRebuildsTheView(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	store, record := openLog(t)
	ctx := context.Background()
	record("before", 500, "user.image.analysis.completed")
	prefix := redistest.Prefix(t)
	in := startInstance(t, srv, store, prefix)
	head, _ := store.LastPosition(ctx)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := in.runner.WaitFor(wctx, head); err != nil {
		t.Fatal(err)
	}
	if err := goredis.NewClient(srv.ClientOptions()).FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	record("after", 500, "user.image.analysis.completed")
	head, _ = store.LastPosition(ctx)
	if err := in.runner.WaitFor(wctx, head); err != nil {
		t.Fatalf("the view was not rebuilt after Redis lost it: %v (%+v)", err, in.runner.Progress())
	}
	assertSameViews(t, rebuilt(t, wctx, store, head), sharedView(srv, prefix), 1000)
}

// rebuilt applies the log up to head to a fresh memory view: what any view must equal.
func rebuilt(t *testing.T, ctx context.Context, store *embedded.Store, head uint64) *memory.EventLog {
	t.Helper()
	reference := memory.NewEventLog()
	projection, _ := projections.NewEventLogProjection(reference, nil)
	runner, _ := projections.NewRunner(store, projection, slog.New(slog.DiscardHandler), nil)
	rctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go func() { _ = runner.Run(rctx) }()
	if err := runner.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	return reference
}

// sharedView reads the Redis view the instances share.
func sharedView(srv *redistest.Server, prefix string) *redisview.EventLog {
	v, _ := redisview.NewEventLog(goredis.NewClient(srv.ClientOptions()), redisview.Options{Prefix: prefix})
	return v
}

// gatedLease is a lease this instance gets once take is closed.
type gatedLease struct{ take chan struct{} }

func (l gatedLease) Acquire(ctx context.Context) (uint64, error) {
	select {
	case <-l.take:
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
func (gatedLease) Lost() <-chan struct{}         { return nil }
func (gatedLease) Release(context.Context) error { return nil }

// gatedView applies records only once open is closed.
type gatedView struct {
	countingView
	open chan struct{}
}

func (v *gatedView) Apply(ctx context.Context, rs []domain.Record) error {
	select {
	case <-v.open:
		return v.countingView.Apply(ctx, rs)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A shared view counts as caught up only once it holds the log's head: not while this
// instance waits for the lease and the view is empty, nor while it has the lease and is still
// catching the view up. /readyz and sign-in (WaitLive) rely on it: a fresh instance on an
// empty Redis once said ready, and turned its admin away as unknown, because its first poll
// for the lease holder's checkpoint counted as caught up.
func TestRunner_aSharedViewIsNotCaughtUpBeforeItHoldsTheHead(t *testing.T) {
	var log spacedLog
	for i := range 9 {
		log.records = append(log.records, domain.Record{Stream: "s", Revision: uint64(i), Position: uint64(1000 * (i + 1)), Type: "Tested"})
	}
	view := &gatedView{open: make(chan struct{})}
	lease := gatedLease{take: make(chan struct{})}
	runner, err := projections.NewRunner(log, view, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	runner.UseLease(lease, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran })

	notCaughtUp := func(while string, d time.Duration) {
		t.Helper()
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if applied, caughtUp := runner.Status(); caughtUp {
				t.Fatalf("%s, the view at %d counts as caught up with the log at 9000", while, applied)
			}
		}
	}
	notCaughtUp("waiting for the lease", 1200*time.Millisecond) // past two polls of the holder's checkpoint
	close(lease.take)
	for runner.Progress().Standby {
		time.Sleep(5 * time.Millisecond)
	}
	notCaughtUp("holding the lease and catching up", 300*time.Millisecond)
	wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer wcancel()
	if err := runner.WaitLive(wctx); err == nil {
		t.Fatal("WaitLive returned while the view was still catching up")
	}
	close(view.open)
	if err := runner.WaitFor(ctx, 9000); err != nil {
		t.Fatal(err)
	}
	if applied, caughtUp := runner.Status(); !caughtUp || applied != 9000 {
		t.Errorf("after catching up: at %d, caught up %v; want 9000, true", applied, caughtUp)
	}
}

package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/domain"
)

// windowEvents is a window of history for backfills.
type windowEvents []domain.LogEvent

func (w windowEvents) EventsBetween(ctx context.Context, _ string, _, _ time.Time, visit func(int, domain.LogEvent) error) error {
	for _, e := range w {
		if err := visit(len(w), e); err != nil {
			return err
		}
	}
	return nil
}

func (w windowEvents) EventRecord(_ context.Context, id string) (domain.Record, error) {
	for i, e := range w {
		if e.ID == id {
			return domain.Record{Stream: domain.LogEventStreamPrefix + id, Position: uint64(i + 1)}, nil
		}
	}
	return domain.Record{}, domain.ErrEventNotFound
}

// heldPublisher takes jobs and never delivers them, so that a backfill stays running with a
// full window until it is canceled.
type heldPublisher struct {
	mu   sync.Mutex
	jobs []Job
}

func (p *heldPublisher) Publish(_ context.Context, jobs ...Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs = append(p.jobs, jobs...)
	return nil
}

func (p *heldPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.jobs)
}

func backfillConfiguration(t *testing.T) domain.Configuration {
	sel, err := domain.NewSelector(domain.ScopeAccount, "*", "*", "*", false)
	if err != nil {
		t.Fatal(err)
	}
	return domain.Configuration{ID: "c1", Account: "alice", Kind: domain.KindWebhook, Selectors: []domain.Selector{sel}}
}

func aliceWindow(n int) windowEvents {
	var w windowEvents
	for i := range n {
		w = append(w, domain.LogEvent{ID: fmt.Sprintf("ev%03d", i), Timestamp: time.Now(), Level: domain.LevelInfo, Type: "user.image.analysis.completed",
			Message: "done", Resource: domain.Resource{ID: "r", Type: domain.ResourceImageDigest, UserID: "alice"}})
	}
	return w
}

func openBackfillStore(t *testing.T) *embedded.Store {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBackfill_acrossInstances: two backfillers on one store stand for two instances. The one
// that did not start a backfill reports it, refuses a second one for the configuration, and
// cancels it; the configuration may then be backfilled again.
func TestBackfill_acrossInstances(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	store := openBackfillStore(t)
	pub := &heldPublisher{}
	newBackfiller := func() *Backfiller {
		b, err := NewBackfiller(aliceWindow(20), noOutcomes{}, pub, store, 5, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	running, other := newBackfiller(), newBackfiller()
	c := backfillConfiguration(t)

	started, err := running.Start(ctx, c, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window published", func() bool { return pub.count() == 5 })
	var p BackfillProgress
	eventually(t, "the other instance sees the published count", func() bool {
		var ok bool
		p, ok, err = other.Progress(ctx, started.ID)
		if err != nil || !ok {
			t.Fatalf("progress from the other instance: %v, found %v", err, ok)
		}
		return p.Published == 5
	})
	if p.State != BackfillRunning || p.Account != "alice" || p.ConfigurationID != "c1" || p.Total != 20 {
		t.Errorf("progress read by the other instance: %+v", p)
	}

	if _, err := other.Start(ctx, c, time.Time{}, time.Time{}); err == nil || !strings.Contains(err.Error(), "backfill "+started.ID+" of configuration c1 is still running") {
		t.Errorf("a second backfill of the configuration through the other instance: %v, want refused", err)
	}

	canceled, ok, err := other.Cancel(ctx, started.ID)
	if err != nil || !ok || canceled.State != BackfillCanceled || canceled.Published != 5 {
		t.Fatalf("cancel through the other instance: %+v, %v, %v; want canceled with 5 published", canceled, ok, err)
	}
	if p, _, _ := running.Progress(ctx, started.ID); p.State != BackfillCanceled {
		t.Errorf("the running instance reports %s after the cancel", p.State)
	}
	if pub.count() != 5 {
		t.Errorf("%d jobs published, want the 5 published before the cancel", pub.count())
	}
	if again, err := other.Start(ctx, c, time.Time{}, time.Time{}); err != nil {
		t.Errorf("a backfill after the cancel: %v", err)
	} else {
		_, _, _ = other.Cancel(ctx, again.ID)
	}
	if _, ok, err := other.Progress(ctx, "bf-0000000000000000"); ok || err != nil {
		t.Errorf("an unknown backfill: found %v, %v", ok, err)
	}
	if _, ok, err := other.Progress(ctx, "../endpointconfig-c1"); ok || err != nil {
		t.Errorf("an id that is not a backfill's: found %v, %v", ok, err)
	}
}

// TestBackfill_ofAStoppedInstance: a backfill whose instance stopped without recording its end
// reads as failed once its facts stop coming, and does not keep its configuration from being
// backfilled again.
func TestBackfill_ofAStoppedInstance(t *testing.T) {
	ctx := context.Background()
	store := openBackfillStore(t)
	long := time.Now().Add(-time.Minute)
	for stream, fact := range map[string]any{
		domain.BackfillClaimStream("c1"):             domain.BackfillClaimed{ID: "bf-00000000000000aa", At: long},
		domain.BackfillStream("bf-00000000000000aa"): domain.BackfillStarted{ID: "bf-00000000000000aa", ConfigurationID: "c1", Account: "alice", At: long},
	} {
		f, err := domain.EncodeBackfillFact(fact)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, stream, domain.NoStream(), f); err != nil {
			t.Fatal(err)
		}
	}
	pub := &heldPublisher{}
	b, err := NewBackfiller(aliceWindow(3), noOutcomes{}, pub, store, 5, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := b.Progress(ctx, "bf-00000000000000aa")
	if err != nil || !ok || p.State != BackfillFailed || !strings.Contains(p.Error, "the herald instance that ran it stopped") {
		t.Fatalf("a backfill silent for a minute: %+v (%v, %v), want failed because its instance stopped", p, ok, err)
	}
	started, err := b.Start(ctx, backfillConfiguration(t), time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("a backfill of the configuration after the stopped one: %v", err)
	}
	eventually(t, "the new backfill publishes", func() bool { return pub.count() == 3 })
	_, _, _ = b.Cancel(ctx, started.ID)
}

// TestBackfill_waitStopsRunsAndRefusesNewOnes: Wait returns once the runs whose context
// ended have recorded their end, and a Start after Wait began is refused rather than left
// running against a store about to close.
func TestBackfill_waitStopsRunsAndRefusesNewOnes(t *testing.T) {
	store := openBackfillStore(t)
	pub := &heldPublisher{} // never settles: the run waits for outcomes until its context ends
	b, err := NewBackfiller(aliceWindow(3), noOutcomes{}, pub, store, 5, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancelCause(context.Background())
	started, err := b.Start(ctx, backfillConfiguration(t), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the backfill publishes", func() bool { return pub.count() == 3 })
	stop(ErrShutdown) // as herald stopping does
	b.Wait()
	records, err := store.ReadStream(context.Background(), domain.BackfillStream(started.ID))
	if err != nil {
		t.Fatal(err)
	}
	if last := records[len(records)-1].Type; last != domain.BackfillFinishedType {
		t.Fatalf("after Wait the backfill's stream ends with %s, want %s", last, domain.BackfillFinishedType)
	}
	if p, _, err := b.Progress(context.Background(), started.ID); err != nil || p.State != BackfillCanceled ||
		!strings.HasPrefix(p.Error, "canceled: herald stopped while it ran, and 3 notifications it had handed to the router had not ended yet: with herald's streams in Redis they are still sent, in one process alone they are not") {
		t.Errorf("a backfill ended by herald stopping: %+v, %v", p, err)
	}
	if _, err := b.Start(context.Background(), backfillConfiguration(t), time.Time{}, time.Time{}); err == nil || !strings.Contains(err.Error(), "herald is stopping") {
		t.Fatalf("a backfill started after Wait: %v, want refused because herald is stopping", err)
	}
}

// A window that starts in the future is refused up front, naming since: it holds no event,
// and would otherwise start a job that fails.
func TestBackfill_refusesAWindowInTheFuture(t *testing.T) {
	b, err := NewBackfiller(aliceWindow(1), noOutcomes{}, &heldPublisher{}, openBackfillStore(t), 5, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Start(context.Background(), backfillConfiguration(t), time.Now().Add(time.Hour), time.Time{})
	var v *domain.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "since" || !strings.Contains(err.Error(), "lies in the future") {
		t.Fatalf("a backfill since an hour from now: %v", err)
	}
}

// TestBackfill_prunesTheFactsOfLongFinishedBackfills: a configuration's next backfill
// deletes the facts of its backfills that ended more than BackfillKept ago (they read as
// unknown from then on) and keeps those that ended since, or still run.
func TestBackfill_prunesTheFactsOfLongFinishedBackfills(t *testing.T) {
	ctx := context.Background()
	store := openBackfillStore(t)
	now := time.Now()
	old, recent := now.Add(-BackfillKept-time.Hour), now.Add(-BackfillKept+time.Hour)
	record := func(stream string, facts ...any) {
		t.Helper()
		for _, fact := range facts {
			f, err := domain.EncodeBackfillFact(fact)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Append(ctx, stream, domain.Any(), f); err != nil {
				t.Fatal(err)
			}
		}
	}
	finished := func(id string, started, ended time.Time) {
		record(domain.BackfillClaimStream("c1"), domain.BackfillClaimed{ID: id, At: started})
		record(domain.BackfillStream(id),
			domain.BackfillStarted{ID: id, ConfigurationID: "c1", Account: "alice", At: started},
			domain.BackfillFinished{State: string(BackfillDone), At: ended})
	}
	finished("bf-00000000000000a1", old.Add(-time.Hour), old)      // ended long ago: goes
	finished("bf-00000000000000a2", old.Add(-time.Hour), recent)   // started long ago, ended lately: stays
	finished("bf-00000000000000a3", recent, recent.Add(time.Hour)) // stays
	record(domain.BackfillStream("bf-00000000000000b1"),           // another configuration's: not looked at
		domain.BackfillStarted{ID: "bf-00000000000000b1", ConfigurationID: "c2", Account: "alice", At: old.Add(-time.Hour)},
		domain.BackfillFinished{State: string(BackfillDone), At: old})

	b, err := NewBackfiller(aliceWindow(1), noOutcomes{}, &heldPublisher{}, store, 5, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	started, err := b.Start(ctx, backfillConfiguration(t), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _, _ = b.Cancel(ctx, started.ID) }()
	for id, kept := range map[string]bool{"bf-00000000000000a1": false, "bf-00000000000000a2": true, "bf-00000000000000a3": true, "bf-00000000000000b1": true, started.ID: true} {
		if _, found, err := b.Progress(ctx, id); err != nil || found != kept {
			t.Errorf("backfill %s: found %v (%v), want %v", id, found, err, kept)
		}
	}
	if _, err := store.ReadStream(ctx, domain.BackfillStream("bf-00000000000000a1")); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("the old backfill's stream: %v, want deleted", err)
	}
}

package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"herald/adapters/checkpoint"
	"herald/domain"
)

// These tests drive the dispatcher as its runner does (Resume, Apply, Suspend) and as its Run
// loop does (catchUpAll, catchUp, saveCheckpoint), on a log in memory, with a publisher that
// fails when told to. What they check: every event is published once for the configuration,
// whatever fails, and the checkpoint never passes an event whose notification is not out.

// memoryLog is a log in memory, handed to subscribers in batches of two.
type memoryLog struct {
	mu          sync.Mutex
	records     []domain.Record
	failAppends bool
}

func (l *memoryLog) add(rs ...domain.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, rs...)
}

func (l *memoryLog) next() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.records)) + 1
}

func (l *memoryLog) SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error {
	l.mu.Lock()
	var rs []domain.Record
	for _, r := range l.records {
		if r.Position > from {
			rs = append(rs, r)
		}
	}
	l.mu.Unlock()
	for i := 0; i < len(rs); i += 2 {
		if err := handle(ctx, rs[i:min(i+2, len(rs))]); err != nil {
			return err
		}
	}
	return nil
}

func (l *memoryLog) LastPosition(context.Context) (uint64, error) { return l.next() - 1, nil }

func (l *memoryLog) ReadStream(_ context.Context, stream string) ([]domain.Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []domain.Record
	for _, r := range l.records {
		if r.Stream == stream {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, domain.ErrStreamNotFound
	}
	return out, nil
}

// Append appends facts to a stream (no expectation is checked), as checkpoint.Copies does.
func (l *memoryLog) Append(_ context.Context, stream string, _ domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failAppends {
		return domain.AppendResult{}, errors.New("the event store is unavailable")
	}
	for _, f := range facts {
		l.records = append(l.records, domain.Record{Stream: stream, Position: uint64(len(l.records)) + 1, Type: f.Type, Data: f.Data, Time: time.Now()})
	}
	return domain.AppendResult{Position: uint64(len(l.records))}, nil
}

func (l *memoryLog) ReadLast(ctx context.Context, stream string) (domain.Record, error) {
	rs, err := l.ReadStream(ctx, stream)
	if err != nil {
		return domain.Record{}, err
	}
	return rs[len(rs)-1], nil
}

// failingPublisher fails its next `fail` calls.
type failingPublisher struct {
	mu   sync.Mutex
	fail int
	jobs []Job
}

func (p *failingPublisher) Publish(_ context.Context, jobs ...Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return errors.New("the router's streams are unavailable")
	}
	p.jobs = append(p.jobs, jobs...)
	return nil
}

type dispatchHarness struct {
	t   *testing.T
	d   *Dispatcher
	log *memoryLog
	pub *failingPublisher
	cp  *memoryCheckpoint
}

func newDispatchHarness(t *testing.T, window, maxInFlight int, options ...func(*DispatcherConfig)) *dispatchHarness {
	sel, err := domain.NewSelector(domain.ScopeAccount, "*", "*", "*", false)
	if err != nil {
		t.Fatal(err)
	}
	h := &dispatchHarness{t: t, log: &memoryLog{}, pub: &failingPublisher{}, cp: &memoryCheckpoint{}}
	cfg := DispatcherConfig{
		Log: h.log, Configurations: staticConfigurations{{ID: "c1", Account: "account0", Kind: domain.KindWebhook, Selectors: []domain.Selector{sel}}},
		WaitConfigurations: func(context.Context, uint64) error { return nil }, Ledger: noOutcomes{}, Publisher: h.pub,
		Checkpoints: h.cp, Window: window, MaxInFlight: maxInFlight, Logger: slog.New(slog.DiscardHandler),
	}
	for _, o := range options {
		o(&cfg)
	}
	h.d, err = NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.d.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	return h
}

// run runs the dispatcher's Run loop until the returned stop is called, which returns once
// the loop has.
func (h *dispatchHarness) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.d.Run(ctx) }()
	h.t.Cleanup(func() { cancel(); <-done })
	return func() { cancel(); <-done }
}

// published is how many jobs the publisher took.
func (h *dispatchHarness) published() int {
	h.pub.mu.Lock()
	defer h.pub.mu.Unlock()
	return len(h.pub.jobs)
}

// record appends n events to the log and applies them; it returns Apply's error.
func (h *dispatchHarness) record(n int) error {
	return h.d.Apply(context.Background(), h.append(n))
}

// append appends n events to the log without applying them.
func (h *dispatchHarness) append(n int) []domain.Record {
	var rs []domain.Record
	for range n {
		p := h.log.next()
		e := domain.LogEvent{ID: fmt.Sprintf("ev%03d", p), Timestamp: time.Now(), Level: domain.LevelInfo, Type: "user.image.analysis.completed",
			Message: "done", Resource: domain.Resource{ID: "r", Type: domain.ResourceImageDigest, UserID: "account0"}}
		f := domain.EventRecorded{Event: e}.Encode()
		r := domain.Record{Stream: domain.LogEventStream(e.ID), Position: p, Type: f.Type, Data: f.Data, Time: time.Now()}
		h.log.add(r)
		rs = append(rs, r)
	}
	return rs
}

// delivered appends to the log that the notifications of these events to c1 were delivered,
// and returns the records, to be applied.
func (h *dispatchHarness) delivered(ids ...string) []domain.Record {
	h.t.Helper()
	var rs []domain.Record
	for _, id := range ids {
		f, err := domain.Delivery{EventID: id, ConfigurationID: "c1", Kind: domain.KindWebhook, Status: domain.DeliveryDelivered, Attempts: 1, At: time.Now()}.Encode()
		if err != nil {
			h.t.Fatal(err)
		}
		r := domain.Record{Stream: domain.DeliveryStream(id, "c1"), Position: h.log.next(), Type: f.Type, Data: f.Data}
		h.log.add(r)
		rs = append(rs, r)
	}
	return rs
}

// settle writes the outcome of every published notification still in flight, as the
// deliverer would, and applies the facts.
func (h *dispatchHarness) settle() {
	h.pub.mu.Lock()
	jobs := slices.Clone(h.pub.jobs)
	h.pub.mu.Unlock()
	var rs []domain.Record
	for _, j := range jobs {
		stream := domain.DeliveryStream(j.EventID, j.ConfigurationID)
		h.d.mu.Lock()
		_, pending := h.d.pending[stream]
		h.d.mu.Unlock()
		if !pending {
			continue
		}
		f, err := domain.Delivery{EventID: j.EventID, ConfigurationID: j.ConfigurationID, Kind: j.Kind, Status: domain.DeliveryDelivered, Attempts: 1, Trigger: j.Trigger, At: time.Now()}.Encode()
		if err != nil {
			h.t.Fatal(err)
		}
		r := domain.Record{Stream: stream, Position: h.log.next(), Type: f.Type, Data: f.Data}
		h.log.add(r)
		rs = append(rs, r)
	}
	if err := h.d.Apply(context.Background(), rs); err != nil {
		h.t.Fatal(err)
	}
}

// runUntilQuiet does what Run does on its ticks, settling between them, until nothing is
// behind or in flight.
func (h *dispatchHarness) runUntilQuiet() {
	ctx := context.Background()
	for range 50 {
		h.settle()
		if h.d.catchUpAll(ctx) != nil {
			continue // the publisher failed: the next tick reads again
		}
		for _, id := range h.d.laggards() {
			_ = h.d.catchUp(ctx, id)
		}
		h.d.mu.Lock()
		quiet := h.d.behind == 0 && len(h.d.pending) == 0 && h.d.states["c1"].lagFrom == 0
		h.d.mu.Unlock()
		if quiet {
			return
		}
	}
	h.t.Fatalf("the dispatcher did not settle: behind %d, pending %d", h.d.behind, len(h.d.pending))
}

// publishedOnce checks that events 1..n (their ids) were each published once.
func (h *dispatchHarness) publishedOnce(n int) {
	h.t.Helper()
	count := map[string]int{}
	for _, j := range h.pub.jobs {
		count[j.EventID]++
	}
	for p := 1; p <= n; p++ {
		if id := fmt.Sprintf("ev%03d", p); count[id] != 1 {
			h.t.Errorf("event %s published %d times, want once (all: %v)", id, count[id], count)
		}
	}
}

func TestDispatcher_publishFailureWhileBehindAsAWholeIsReadAgain(t *testing.T) {
	h := newDispatchHarness(t, 1000, 2)
	if err := h.record(6); err != nil {
		t.Fatal(err)
	}
	h.pub.fail = 1 // the first catch-up publish fails
	h.runUntilQuiet()
	h.publishedOnce(6)
}

func TestDispatcher_publishFailureWhileAConfigurationCatchesUpIsReadAgain(t *testing.T) {
	h := newDispatchHarness(t, 2, 10_000)
	if err := h.record(6); err != nil {
		t.Fatal(err)
	}
	h.pub.fail = 1
	h.runUntilQuiet()
	h.publishedOnce(6)
}

func TestDispatcher_publishFailureInApplyKeepsTheCheckpointBeforeIt(t *testing.T) {
	h := newDispatchHarness(t, 1000, 1000)
	h.pub.fail = 1
	if err := h.record(3); err == nil {
		t.Fatal("Apply said nothing of the failed publish")
	}
	if err := h.d.saveCheckpoint(context.Background(), true); err != nil { // Run's tick, before the runner resumes
		t.Fatal(err)
	}
	if h.cp.position != 0 {
		t.Fatalf("checkpoint saved at %d, past events whose notifications were never published", h.cp.position)
	}
	h.runUntilQuiet()
	h.publishedOnce(3)
}

// Another instance delivered what this one had in flight and moved the checkpoint while this
// one had lost the lease: taking the lease back forgets those pairs instead of waiting
// forever for outcomes it will not read again.
func TestDispatcher_resumeForgetsPairsSettledByAnotherInstance(t *testing.T) {
	h := newDispatchHarness(t, 1000, 4)
	if err := h.record(3); err != nil {
		t.Fatal(err)
	}
	h.d.Suspend()
	h.cp.position = 10 // the other instance's checkpoint, past the three events and their outcomes
	if _, err := h.d.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.d.pending); n != 0 {
		t.Fatalf("%d pairs still in flight after resuming past them", n)
	}
	if safe := h.d.safeCheckpoint(); safe != 10 {
		t.Fatalf("safe checkpoint %d, want 10 (not pinned behind forgotten pairs)", safe)
	}
}

// A catch-up that started before the runner resumed changes nothing of the new state.
func TestDispatcher_catchUpOfAnEarlierEpochStops(t *testing.T) {
	h := newDispatchHarness(t, 1000, 1)
	if err := h.record(4); err != nil {
		t.Fatal(err)
	}
	h.d.mu.Lock()
	epoch, behind := h.d.epoch, h.d.behind
	h.d.mu.Unlock()
	if behind == 0 {
		t.Fatal("the dispatcher should be behind with MaxInFlight 1")
	}
	if _, err := h.d.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.d.mu.Lock()
	h.d.behind = 3 // the replay fell behind again
	h.d.mu.Unlock()
	if _, stop := h.d.catchUpAllBatch(context.Background(), h.log.records, epoch); !errors.Is(stop, errStale) {
		t.Fatalf("a catch-up of the earlier epoch went on: %v", stop)
	}
	if h.d.behind != 3 {
		t.Fatalf("a stale catch-up moved behind to %d", h.d.behind)
	}
}

// An instance standing by does not move the checkpoint on its ticks; at shutdown (the runner
// has suspended the dispatcher by then) Flush still saves it.
func TestDispatcher_suspendedSavesOnlyWhenFlushed(t *testing.T) {
	h := newDispatchHarness(t, 1000, 1000)
	if err := h.record(2); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.d.Suspend()
	h.d.mu.Lock()
	h.cp.position, h.d.saved = 0, 0 // as if the last throttled save had not happened yet
	h.d.mu.Unlock()
	if err := h.d.saveCheckpoint(context.Background(), false); err != nil || h.cp.position != 0 {
		t.Fatalf("a suspended dispatcher moved the checkpoint on a tick (%d, %v)", h.cp.position, err)
	}
	if err := h.d.Flush(context.Background()); err != nil || h.cp.position != 4 {
		t.Fatalf("Flush after suspend saved %d (%v), want 4 (two events and their outcomes)", h.cp.position, err)
	}
}

// A publish that fails after the runner resumed (a catch-up of the earlier subscription,
// hung on a dead connection) still leaves its events to be read again.
func TestDispatcher_stalePublishFailureIsReadAgain(t *testing.T) {
	h := newDispatchHarness(t, 1000, 1000)
	if err := h.record(2); err != nil {
		t.Fatal(err)
	}
	h.d.mu.Lock()
	epoch := h.d.epoch
	var jobs []Job
	for _, f := range h.d.pending {
		jobs = append(jobs, f.job)
	}
	h.d.mu.Unlock()
	slices.SortFunc(jobs, func(a, b Job) int { return int(a.Position) - int(b.Position) })
	h.pub.jobs = nil // as if they had never gone out: their publish hangs
	if _, err := h.d.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The runner replays from the checkpoint and finds both events in flight already.
	if err := h.d.Apply(context.Background(), slices.Clone(h.log.records)); err != nil {
		t.Fatal(err)
	}
	h.d.mu.Lock()
	h.d.unpublished(jobs, nil, epoch) // now the stale publish fails
	h.d.mu.Unlock()
	h.runUntilQuiet()
	h.publishedOnce(2)
}

// After a restart the log is replayed from the checkpoint: a configuration created after an
// event is not notified of it, judged by positions in the log (not by clocks).
func TestDispatcher_replayDoesNotNotifyConfigurationsOfEarlierEvents(t *testing.T) {
	h := newDispatchHarness(t, 1000, 1000)
	h.d.Suspend()
	h.append(2) // recorded while no dispatcher ran, as before a restart
	h.log.add(domain.Record{Stream: domain.ConfigurationStream("c1"), Position: h.log.next(), Type: "ConfigurationCreated"})
	h.d.mu.Lock()
	h.d.since = map[string]uint64{} // a new process: creation positions unknown
	h.d.mu.Unlock()
	if _, err := h.d.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.d.Apply(context.Background(), slices.Clone(h.log.records)); err != nil {
		t.Fatal(err)
	}
	if err := h.record(1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range h.pub.jobs {
		got = append(got, j.EventID)
	}
	if !slices.Equal(got, []string{"ev004"}) {
		t.Fatalf("published %v, want only the event after the configuration's creation (ev004)", got)
	}
}

// dispatchState keeps the last dispatch state reported to the metrics.
type dispatchState struct {
	mu               sync.Mutex
	calls            int
	pending, lagging int
	checkpoint       uint64
}

func (s *dispatchState) Dispatched(domain.EndpointKind, int) {}

func (s *dispatchState) DispatchState(pending, lagging int, checkpoint uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.pending, s.lagging, s.checkpoint = pending, lagging, checkpoint
}

// TestDispatcher_metricsFollowNotificationsInFlightWhileTheCheckpointStays: while the
// notification at the checkpoint's front is not out (a slow receiver, a rate limit), the
// notifications in flight still show in the metrics; they were reported only when the
// checkpoint moved, and stayed at their last value through a backlog.
func TestDispatcher_metricsFollowNotificationsInFlightWhileTheCheckpointStays(t *testing.T) {
	h := newDispatchHarness(t, 100, 1000)
	state := &dispatchState{}
	h.d.cfg.Metrics = state
	ctx := context.Background()
	if err := h.record(3); err != nil {
		t.Fatal(err)
	}
	if err := h.d.saveCheckpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(checkpointEvery)
	if err := h.record(4); err != nil {
		t.Fatal(err)
	}
	if err := h.d.saveCheckpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.pending != 7 || state.checkpoint != 0 || state.calls < 2 {
		t.Errorf("metrics: %d in flight, checkpoint %d (%d reports); want 7 in flight at checkpoint 0", state.pending, state.checkpoint, state.calls)
	}
}

// When the transport says it lost what it held (Redis lost its data), the jobs without an
// outcome are published again at once, not after RedeliverAfter; jobs published after the
// loss, and those with an outcome, are not.
func TestDispatcher_redeliverLostPublishesPendingAtOnce(t *testing.T) {
	h := newDispatchHarness(t, 100, 1000)
	if err := h.record(3); err != nil {
		t.Fatal(err)
	}
	h.d.RedeliverLost()
	time.Sleep(time.Millisecond) // a job published after the loss is in the new streams
	if err := h.record(1); err != nil {
		t.Fatal(err)
	}
	stop := h.run()
	eventually(t, "the lost jobs published again", func() bool { return h.published() >= 7 })
	time.Sleep(50 * time.Millisecond)
	stop()
	count := map[string]int{}
	for _, j := range h.pub.jobs {
		count[j.EventID]++
	}
	want := map[string]int{"ev001": 2, "ev002": 2, "ev003": 2, "ev004": 1}
	if !maps.Equal(count, want) {
		t.Errorf("published %v, want %v", count, want)
	}
}

// A checkpoint store that lost its checkpoint (Redis lost its data) does not send the
// dispatcher back to the start of the log, which would match the whole history again: it
// resumes from the highest checkpoint this instance saw, and writes it back.
func TestDispatcher_aLostCheckpointDoesNotReplayHistory(t *testing.T) {
	h := newDispatchHarness(t, 100, 1000)
	if err := h.record(5); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.d.saveCheckpoint(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	saved := h.cp.position
	if saved == 0 {
		t.Fatal("nothing saved: the test checks nothing")
	}
	h.d.Suspend()
	h.cp.position = 0 // lost
	from, err := h.d.Resume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if from != saved {
		t.Fatalf("resumed from %d after the checkpoint was lost, want %d (the one saved)", from, saved)
	}
	if err := h.d.saveCheckpoint(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if h.cp.position != saved {
		t.Errorf("checkpoint written back as %d, want %d", h.cp.position, saved)
	}
}

// The checkpoint is copied into the log while records other than copies lie past the newest
// copy: as it moves through a backlog (not only once it passed the newest copy's own
// record), and never again on an idle log, whose only new records are the copies. A forced
// save (at shutdown) copies nothing, and a failed copy does not stop the checkpoint. A
// dispatcher that finds its checkpoint lost, and saw none itself, starts from the copy.
func TestDispatcher_copiesItsCheckpointIntoTheLog(t *testing.T) {
	ctx := context.Background()
	h := newDispatchHarness(t, 100, 1000, func(cfg *DispatcherConfig) {
		cfg.Copies, cfg.CopyEvery = checkpoint.NewCopies(cfg.Log.(*memoryLog), time.Now), time.Nanosecond
	})
	save := func(force bool) {
		t.Helper()
		h.d.mu.Lock()
		h.d.savedAt = time.Time{} // due now
		h.d.mu.Unlock()
		if err := h.d.saveCheckpoint(ctx, force); err != nil {
			t.Fatal(err)
		}
		h.d.mu.Lock()
		h.d.savedAt = time.Now() // the saves of Apply wait for the next call
		h.d.mu.Unlock()
	}
	copies := func() []uint64 {
		rs, _ := h.log.ReadStream(ctx, domain.DispatchCheckpointStream)
		var out []uint64
		for _, r := range rs {
			f, err := domain.DecodeDispatchCheckpointCopied(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, f.Position)
		}
		return out
	}
	applyNew := func() { // what the runner hands over next: the copies, among others
		t.Helper()
		var rs []domain.Record
		h.log.mu.Lock()
		for _, r := range h.log.records {
			if r.Position > h.d.applied {
				rs = append(rs, r)
			}
		}
		h.log.mu.Unlock()
		if err := h.d.Apply(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	settle := func(ids ...string) { // the outcomes of these events only
		t.Helper()
		if err := h.d.Apply(ctx, h.delivered(ids...)); err != nil {
			t.Fatal(err)
		}
	}

	// A backlog: ten events in flight, delivered one by one while the newest copy's own
	// record lies beyond them.
	if err := h.record(10); err != nil {
		t.Fatal(err)
	}
	settle("ev001")
	save(false)
	applyNew()
	for i := 2; i <= 9; i++ {
		settle(fmt.Sprintf("ev%03d", i))
		save(false)
		applyNew()
	}
	if got := copies(); len(got) < 2 || got[len(got)-1] != 9 || h.cp.position != 9 {
		t.Fatalf("through a backlog the copies are %v with the checkpoint at %d: want them to follow it to 9", got, h.cp.position)
	}
	settle("ev010")
	for range 5 {
		save(false)
		applyNew()
	}
	n := len(copies())
	if last := copies()[n-1]; last < 10 {
		t.Fatalf("once the backlog is delivered the newest copy is %d, want past ev010", last)
	}
	for range 5 {
		save(false)
		applyNew()
	}
	if len(copies()) != n {
		t.Fatalf("an idle log got more copies: %v", copies())
	}

	if err := h.record(1); err != nil {
		t.Fatal(err)
	}
	h.settle()
	save(true)
	if len(copies()) != n {
		t.Fatal("a forced save (at shutdown) copied the checkpoint")
	}
	h.log.mu.Lock()
	h.log.failAppends = true
	h.log.mu.Unlock()
	before := h.cp.position
	save(false)
	if err := h.record(1); err != nil {
		t.Fatal(err)
	}
	h.settle()
	save(false)
	if h.cp.position <= before || len(copies()) != n {
		t.Fatalf("with the store refusing the copy: checkpoint %d (was %d), copies %v", h.cp.position, before, copies())
	}
	h.log.mu.Lock()
	h.log.failAppends = false
	h.log.mu.Unlock()

	// Another instance, started after the checkpoint's place lost it.
	copied := copies()[n-1]
	h.cp.position = 0
	other, err := NewDispatcher(h.d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if from, err := other.Resume(ctx); err != nil || from != copied {
		t.Fatalf("a dispatcher without a checkpoint resumed from %d (%v), want the copy %d", from, err, copied)
	}
	// The instance that saw a later checkpoint than the copy resumes from the one it saw.
	h.d.Suspend()
	if from, err := h.d.Resume(ctx); err != nil || from != h.d.seen || from <= copied {
		t.Fatalf("resumed from %d (%v), want the one it saw, %d", from, err, h.d.seen)
	}
}

// RedeliverLost told while the instance does not dispatch (the loss took the lease too) is
// done once it dispatches again.
func TestDispatcher_redeliverLostWhileSuspendedWaitsForResume(t *testing.T) {
	h := newDispatchHarness(t, 100, 1000)
	if err := h.record(2); err != nil {
		t.Fatal(err)
	}
	h.d.Suspend()
	h.d.RedeliverLost()
	if _, err := h.d.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := h.run()
	eventually(t, "the lost jobs published again after the resume", func() bool { return h.published() == 4 })
	stop()
}

// suspendingPublisher suspends the dispatcher and fails its next publish, as the runner
// stopping at shutdown while a catch-up publishes.
type suspendingPublisher struct {
	*failingPublisher
	d   *Dispatcher
	arm bool
}

func (p *suspendingPublisher) Publish(ctx context.Context, jobs ...Job) error {
	if p.arm {
		p.arm = false
		p.d.Suspend()
		return context.Canceled
	}
	return p.failingPublisher.Publish(ctx, jobs...)
}

// A catch-up whose publish fails once the runner suspended (shutdown) takes its jobs back;
// Flush, which saves the checkpoint then, stays before them.
func TestDispatcher_flushAfterASuspendedCatchUpFailedStaysBeforeIt(t *testing.T) {
	h := newDispatchHarness(t, 2, 10_000)
	sp := &suspendingPublisher{failingPublisher: h.pub, d: h.d}
	h.d.cfg.Publisher = sp
	if err := h.record(6); err != nil { // two published; the configuration falls behind at the third
		t.Fatal(err)
	}
	h.settle()
	sp.arm = true
	if err := h.d.catchUp(context.Background(), "c1"); err == nil {
		t.Fatal("the catch-up's publish did not fail: the test checks nothing")
	}
	if err := h.d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.cp.position == 0 || h.cp.position >= 3 {
		t.Errorf("checkpoint flushed at %d, want past the two delivered and before ev003, never published", h.cp.position)
	}
}

// gatedCheckpoint holds the save of one position until its gate opens, and keeps every
// position saved in order.
type gatedCheckpoint struct {
	mu      sync.Mutex
	hold    uint64
	entered chan struct{}
	gate    chan struct{}
	saves   []uint64
}

func (g *gatedCheckpoint) Load(context.Context) (uint64, error) { return 0, nil }

func (g *gatedCheckpoint) Save(_ context.Context, p uint64) error {
	if p == g.hold {
		close(g.entered)
		<-g.gate
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.saves = append(g.saves, p)
	return nil
}

// Saves of the checkpoint (Apply's and Run's) land in order: one that started later never
// lands first, leaving the older position stored.
func TestDispatcher_checkpointSavesLandInOrder(t *testing.T) {
	g := &gatedCheckpoint{hold: 1, entered: make(chan struct{}), gate: make(chan struct{})}
	h := newDispatchHarness(t, 100, 1000, func(cfg *DispatcherConfig) { cfg.Checkpoints = g })
	if err := h.record(10); err != nil {
		t.Fatal(err)
	}
	h.d.mu.Lock()
	h.d.savedAt = time.Time{} // the next save is due
	h.d.mu.Unlock()
	first := h.delivered("ev001")
	var rest []string
	for i := 2; i <= 10; i++ {
		rest = append(rest, fmt.Sprintf("ev%03d", i))
	}
	second := h.delivered(rest...)
	var wg sync.WaitGroup
	wg.Go(func() { _ = h.d.Apply(context.Background(), first) }) // saves 1, held at the gate
	<-g.entered
	wg.Go(func() { _ = h.d.Apply(context.Background(), second) }) // would save 20 meanwhile
	time.Sleep(50 * time.Millisecond)
	close(g.gate)
	wg.Wait()
	if err := h.d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !slices.IsSorted(g.saves) || g.saves[len(g.saves)-1] != 20 {
		t.Errorf("saves landed as %v, want in order up to 20", g.saves)
	}
}

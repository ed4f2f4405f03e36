package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"herald/domain"
)

// EventFinder lists the events of a time window for a backfill, newest first, and reads
// the EventRecorded fact of one event.
type EventFinder interface {
	// EventsBetween calls visit with the events of account ("" for every account) recorded
	// at since (inclusive) up to before (exclusive); total is how many there are.
	EventsBetween(ctx context.Context, account string, since, before time.Time, visit func(total int, e domain.LogEvent) error) error
	// EventRecord returns the record of the event's EventRecorded fact.
	EventRecord(ctx context.Context, eventID string) (domain.Record, error)
}

// BackfillState is where a backfill is.
type BackfillState string

// States of a backfill.
const (
	BackfillRunning  BackfillState = "running"
	BackfillDone     BackfillState = "done"
	BackfillFailed   BackfillState = "failed"
	BackfillCanceled BackfillState = "canceled"
)

// BackfillProgress is a snapshot of one backfill.
type BackfillProgress struct {
	ID              string
	ConfigurationID string
	Account         string // the configuration's account
	Since, Before   time.Time
	State           BackfillState
	domain.BackfillCounts
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// BackfillLog is the part of the event store a Backfiller uses: it follows the log for the
// outcomes of its notifications, and keeps each backfill's facts in a stream of its own, so
// that every instance can report and cancel a backfill that another one runs.
type BackfillLog interface {
	Log
	Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error)
	DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error
}

// How a running backfill shows that it is alive.
const (
	backfillHeartbeat  = 2 * time.Second  // its counts are recorded this often when they changed,
	backfillKeepAlive  = 10 * time.Second // and at least this often;
	backfillStaleAfter = 45 * time.Second // one silent for longer died with its instance
	backfillFactWait   = 10 * time.Second // how long recording one of its facts may take
	backfillKeptLocal  = time.Hour        // finished runs are answered from memory this long, then from the log
)

// BackfillKept is how long a finished backfill's facts are kept: the next backfill of its
// configuration deletes those of the ones that ended longer ago.
const BackfillKept = 7 * 24 * time.Hour

// Backfiller replays windows of history through one configuration: every event of the window
// its selectors choose and the ledger does not show as delivered goes through the router, as
// a dispatch would have sent it. A run goes on the instance that started it; its facts in the
// log (domain.BackfillStream) let every instance report it and cancel it, also after a
// restart.
type Backfiller struct {
	events     EventFinder
	ledger     LedgerReader
	publisher  JobPublisher
	log        BackfillLog
	window     int
	logger     *slog.Logger
	now        func() time.Time
	staleAfter time.Duration
	kept       time.Duration // BackfillKept

	mu     sync.Mutex
	runs   map[string]*backfillRun
	closed bool           // Wait began: no new run starts
	busy   sync.WaitGroup // one per run started here, until it and its helpers stopped
}

type backfillRun struct {
	mu       sync.Mutex
	progress BackfillProgress
	waiting  map[pairKey]bool
	settled  chan struct{} // signalled when an outcome arrives
	cancel   context.CancelCauseFunc
	ended    chan struct{} // closed once the run has stopped
}

// removedError stops a backfill whose configuration was removed while it ran.
type removedError struct{ configuration string }

func (e removedError) Error() string {
	return fmt.Sprintf("configuration %s was removed while the backfill ran", e.configuration)
}

// NewBackfiller builds a backfiller; window bounds the notifications in flight per run.
func NewBackfiller(events EventFinder, ledger LedgerReader, publisher JobPublisher, log BackfillLog, window int, logger *slog.Logger) (*Backfiller, error) {
	if events == nil || ledger == nil || publisher == nil || log == nil || logger == nil {
		return nil, fmt.Errorf("new backfiller: nil dependency")
	}
	if window <= 0 {
		window = 500
	}
	return &Backfiller{events: events, ledger: ledger, publisher: publisher, log: log, window: window,
		logger: logger.With("component", "backfill"), now: time.Now, staleAfter: backfillStaleAfter, kept: BackfillKept, runs: map[string]*backfillRun{}}, nil
}

// Start begins a backfill of c over [since, before) and returns at once; Progress follows it.
// ctx bounds the run (the server's lifetime, not the request's). A configuration runs one
// backfill at a time, across instances.
func (b *Backfiller) Start(ctx context.Context, c domain.Configuration, since, before time.Time) (BackfillProgress, error) {
	if !since.IsZero() && !before.IsZero() && !since.Before(before) {
		return BackfillProgress{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "before", Message: "must be after since"}}}
	}
	now := b.now().UTC()
	if !since.IsZero() && !since.Before(now) {
		return BackfillProgress{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "since",
			Message: fmt.Sprintf("%s lies in the future (it is %s on the server): no event was recorded after it yet", domain.FormatTimestamp(since), domain.FormatTimestamp(now))}}}
	}
	if before.IsZero() {
		before = now
	}
	id := newRunID()
	ctx, cancel := context.WithCancelCause(ctx)
	run := &backfillRun{
		progress: BackfillProgress{ID: id, ConfigurationID: c.ID, Account: c.Account, Since: since, Before: before, State: BackfillRunning, StartedAt: now},
		waiting:  map[pairKey]bool{}, settled: make(chan struct{}, 1), cancel: cancel, ended: make(chan struct{}),
	}
	b.mu.Lock()
	for other, r := range b.runs {
		p := r.snapshot()
		if p.ConfigurationID == c.ID && p.State == BackfillRunning {
			b.mu.Unlock()
			cancel(nil)
			return BackfillProgress{}, stillRunning(p)
		}
		if p.State != BackfillRunning && now.Sub(p.FinishedAt) > backfillKeptLocal {
			delete(b.runs, other) // its facts answer for it from now on
		}
	}
	if b.closed {
		b.mu.Unlock()
		cancel(nil)
		return BackfillProgress{}, errors.New("herald is stopping: start the backfill again once it is back")
	}
	b.runs[id] = run
	b.busy.Add(1) // before Wait can begin: done once the run and its helpers have stopped
	b.mu.Unlock()
	fail := func(err error) (BackfillProgress, error) {
		cancel(err)
		b.mu.Lock()
		delete(b.runs, id)
		b.mu.Unlock()
		close(run.ended)
		b.busy.Done()
		return BackfillProgress{}, err
	}
	if err := b.claim(ctx, c.ID, id, now); err != nil {
		return fail(err)
	}
	started := domain.BackfillStarted{ID: id, ConfigurationID: c.ID, Account: c.Account, Since: since, Before: before, At: now}
	if err := b.record(ctx, domain.BackfillStream(id), domain.NoStream(), started); err != nil {
		return fail(err)
	}
	head, err := b.log.LastPosition(ctx)
	if err != nil {
		b.finish(ctx, run, err)
		return fail(err)
	}
	go func() {
		defer b.busy.Done()
		var parts sync.WaitGroup
		parts.Go(func() { b.followOutcomes(ctx, run, head) })
		parts.Go(func() { b.heartbeat(run) })
		b.run(ctx, run, c)
		parts.Wait()
	}()
	return run.snapshot(), nil
}

// ErrShutdown is the cause with which herald ends the work under way when it stops (the
// context given to Start): a backfill so ended says that herald stopped, not that it was
// canceled.
var ErrShutdown = errors.New("herald is stopping")

// Wait returns once every run started here has stopped and recorded how it ended; runs stop
// when the context given to Start ends: cancel that first. No run starts after Wait began.
func (b *Backfiller) Wait() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.busy.Wait()
}

func stillRunning(p BackfillProgress) error { return runningError{p} }

// ErrBackfillRunning is a backfill started while one of the same configuration runs (the
// API's CONFLICT): errors.Is tells it.
var ErrBackfillRunning = errors.New("a backfill of the configuration is running")

// runningError says which backfill runs and how to follow or cancel it.
type runningError struct{ running BackfillProgress }

func (e runningError) Error() string {
	p := e.running
	return fmt.Sprintf("backfill %s of configuration %s is still running: follow it with herald notifications backfill status %s (GraphQL: backfillJob), or cancel it first", p.ID, p.ConfigurationID, p.ID)
}

func (runningError) Is(target error) bool { return target == ErrBackfillRunning }

// claim takes the configuration's turn for backfill id: it appends BackfillClaimed at the
// revision it read, after checking that the backfill of the claim before has ended, so that
// two instances starting a backfill of one configuration at once cannot both win.
func (b *Backfiller) claim(ctx context.Context, configurationID, id string, at time.Time) error {
	stream := domain.BackfillClaimStream(configurationID)
	for attempt := 0; ; attempt++ {
		expected := domain.NoStream()
		records, err := b.log.ReadStream(ctx, stream)
		switch {
		case errors.Is(err, domain.ErrStreamNotFound):
		case err != nil:
			return fmt.Errorf("read the backfills of configuration %s: %w", configurationID, err)
		default:
			last := records[len(records)-1]
			expected = domain.Exact(last.Revision)
			f, err := domain.DecodeBackfillFact(last.Type, last.Data)
			if err != nil {
				return fmt.Errorf("read the backfills of configuration %s: %w", configurationID, err)
			}
			if claimed, ok := f.(domain.BackfillClaimed); ok {
				prior, found, err := b.stored(ctx, claimed.ID)
				if err != nil {
					return err
				}
				if found && prior.State == BackfillRunning {
					return stillRunning(prior)
				}
			}
		}
		err = b.record(ctx, stream, expected, domain.BackfillClaimed{ID: id, At: at})
		if err == nil {
			b.prune(ctx, configurationID, records)
		}
		if !errors.Is(err, domain.ErrConcurrency) || attempt > 0 {
			return err
		}
		// another instance claimed it between our read and our append: read its claim
	}
}

// prune deletes the facts of a configuration's backfills (its claims) that ended more than
// b.kept ago. It is housekeeping: a failure is logged, and the next backfill tries again.
func (b *Backfiller) prune(ctx context.Context, configurationID string, claims []domain.Record) {
	pruned := 0
	for _, r := range claims {
		f, err := domain.DecodeBackfillFact(r.Type, r.Data)
		claimed, ok := f.(domain.BackfillClaimed)
		if err != nil || !ok || b.now().Sub(claimed.At) < b.kept {
			continue // started within b.kept: it cannot have ended before
		}
		p, found, err := b.stored(ctx, claimed.ID)
		if err == nil && (!found || p.State == BackfillRunning || b.now().Sub(p.FinishedAt) < b.kept) {
			continue // gone already, or still to keep
		}
		if err == nil {
			err = b.log.DeleteStream(ctx, domain.BackfillStream(claimed.ID), domain.StreamExists())
		}
		if err != nil && !errors.Is(err, domain.ErrStreamDeleted) {
			b.logger.Warn("could not delete an old backfill's facts; the next backfill of the configuration tries again", "backfill", claimed.ID, "configuration", configurationID, "error", err)
			return
		}
		pruned++
	}
	if pruned > 0 {
		b.logger.Info("deleted the facts of old backfills", "configuration", configurationID, "backfills", pruned, "ended_before", b.now().Add(-b.kept).UTC().Format(time.RFC3339))
	}
}

// record appends one backfill fact to stream. It goes on when ctx is canceled, so that a
// canceled run still records how it ended.
func (b *Backfiller) record(ctx context.Context, stream string, expected domain.ExpectedRevision, fact any) error {
	f, err := domain.EncodeBackfillFact(fact)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backfillFactWait)
	defer cancel()
	if _, err := b.log.Append(ctx, stream, expected, f); err != nil {
		return fmt.Errorf("record %s of backfill: %w", f.Type, err)
	}
	return nil
}

// Progress returns a backfill's progress, whichever instance runs it; ok is false for an
// unknown id.
func (b *Backfiller) Progress(ctx context.Context, id string) (p BackfillProgress, ok bool, err error) {
	if run := b.local(id); run != nil {
		return run.snapshot(), true, nil
	}
	return b.stored(ctx, id)
}

// List returns the backfills of a configuration that are still kept (BackfillKept after they
// ended), newest first, from its claims: those of every instance, running or ended.
func (b *Backfiller) List(ctx context.Context, configurationID string) ([]BackfillProgress, error) {
	records, err := b.log.ReadStream(ctx, domain.BackfillClaimStream(configurationID))
	if errors.Is(err, domain.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the backfills of configuration %s: %w", configurationID, err)
	}
	var out []BackfillProgress
	for i := len(records) - 1; i >= 0; i-- {
		f, err := domain.DecodeBackfillFact(records[i].Type, records[i].Data)
		if err != nil {
			return nil, fmt.Errorf("read the backfills of configuration %s: %w", configurationID, err)
		}
		claimed, ok := f.(domain.BackfillClaimed)
		if !ok {
			continue
		}
		p, found, err := b.Progress(ctx, claimed.ID)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, p)
		} else if b.now().Sub(claimed.At) >= b.kept {
			break // pruned: prune deletes the oldest first, so the claims before it went too
		}
	}
	return out, nil
}

// Cancel stops a backfill and returns its progress once it has stopped (or ctx is done): it
// publishes nothing more, and what it published is still delivered. A finished backfill is
// left as it is. ok is false for an unknown id. A backfill another instance runs is asked to
// stop through the log.
func (b *Backfiller) Cancel(ctx context.Context, id string) (p BackfillProgress, ok bool, err error) {
	if run := b.local(id); run != nil {
		run.cancel(nil)
		select {
		case <-run.ended:
		case <-ctx.Done():
		}
		return run.snapshot(), true, nil
	}
	p, ok, err = b.stored(ctx, id)
	if err != nil || !ok || p.State != BackfillRunning {
		return p, ok, err
	}
	if err := b.record(ctx, domain.BackfillStream(id), domain.StreamExists(), domain.BackfillCancelRequested{At: b.now().UTC()}); err != nil {
		return p, true, err
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for p.State == BackfillRunning {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return p, true, nil
		}
		if p, _, err = b.stored(ctx, id); err != nil {
			return p, true, err
		}
	}
	return p, true, nil
}

func (b *Backfiller) local(id string) *backfillRun {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runs[id]
}

// stored folds backfill id's facts. A running backfill whose facts stopped coming is reported
// failed: the instance running it stopped.
func (b *Backfiller) stored(ctx context.Context, id string) (BackfillProgress, bool, error) {
	if !validRunID(id) {
		return BackfillProgress{}, false, nil
	}
	records, err := b.log.ReadStream(ctx, domain.BackfillStream(id))
	if errors.Is(err, domain.ErrStreamNotFound) || errors.Is(err, domain.ErrStreamDeleted) {
		return BackfillProgress{}, false, nil // unknown, or ended more than b.kept ago
	}
	if err != nil {
		return BackfillProgress{}, false, fmt.Errorf("read backfill %s: %w", id, err)
	}
	var p BackfillProgress
	var alive time.Time
	for _, r := range records {
		f, err := domain.DecodeBackfillFact(r.Type, r.Data)
		if err != nil {
			return BackfillProgress{}, false, fmt.Errorf("read backfill %s: %w", id, err)
		}
		if p.State != "" && p.State != BackfillRunning {
			break // what a heartbeat wrote after the end does not count
		}
		switch f := f.(type) {
		case domain.BackfillStarted:
			p = BackfillProgress{ID: f.ID, ConfigurationID: f.ConfigurationID, Account: f.Account, Since: f.Since, Before: f.Before, State: BackfillRunning, StartedAt: f.At}
			alive = f.At
		case domain.BackfillProgressed:
			p.BackfillCounts, alive = f.Counts, f.At
		case domain.BackfillFinished:
			p.State, p.BackfillCounts, p.Error, p.FinishedAt = BackfillState(f.State), f.Counts, f.Error, f.At
		}
	}
	if p.ID == "" {
		return BackfillProgress{}, false, nil
	}
	if p.State == BackfillRunning && b.now().Sub(alive) > b.staleAfter {
		p.State, p.FinishedAt = BackfillFailed, alive
		p.Error = fmt.Sprintf("the herald instance that ran it stopped: nothing was recorded after %s", alive.UTC().Format(time.RFC3339))
	}
	return p, true, nil
}

func (r *backfillRun) snapshot() BackfillProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.progress
}

func (r *backfillRun) update(f func(p *BackfillProgress)) {
	r.mu.Lock()
	f(&r.progress)
	r.mu.Unlock()
}

// run publishes the window's jobs, keeping at most b.window in flight, then waits for
// their outcomes. It stops when canceled, and when the configuration is removed.
func (b *Backfiller) run(ctx context.Context, run *backfillRun, c domain.Configuration) {
	defer close(run.ended)
	defer run.cancel(nil)
	account := c.Account
	for _, s := range c.Selectors {
		if s.Scope == domain.ScopeGlobal {
			account = ""
		}
	}
	p := run.snapshot()
	b.logger.Info("backfill started", "backfill", p.ID, "configuration", c.ID, "since", p.Since, "before", p.Before)
	err := b.events.EventsBetween(ctx, account, p.Since, p.Before, func(total int, e domain.LogEvent) error {
		run.update(func(p *BackfillProgress) { p.Total, p.Scanned = total, p.Scanned+1 })
		if !c.Matches(e) {
			return nil
		}
		run.update(func(p *BackfillProgress) { p.Matched++ })
		if prior, ok, err := b.ledger.Outcome(ctx, e.ID, c.ID); err != nil {
			return err
		} else if ok && prior.Status == domain.DeliveryDelivered {
			run.update(func(p *BackfillProgress) { p.Skipped++ })
			return nil
		}
		if err := b.waitForRoom(ctx, run); err != nil {
			return err
		}
		rec, err := b.events.EventRecord(ctx, e.ID)
		if errors.Is(err, domain.ErrEventNotFound) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		job := Job{EventID: e.ID, ConfigurationID: c.ID, Account: c.Account, Kind: c.Kind, Position: rec.Position, RecordedAt: time.Now(), Trigger: domain.TriggerBackfill, Backfill: p.ID, Fact: rec.Data}
		run.mu.Lock()
		run.waiting[pairKey{e.ID, c.ID}] = true
		run.mu.Unlock()
		if err := b.publisher.Publish(ctx, job); err != nil {
			return err
		}
		run.update(func(p *BackfillProgress) { p.Published++ })
		return nil
	})
	if err == nil {
		err = b.waitForAll(ctx, run)
	}
	b.finish(ctx, run, err)
	p = run.snapshot()
	b.logger.Info("backfill finished", "backfill", p.ID, "state", p.State, "matched", p.Matched, "skipped", p.Skipped, "delivered", p.Delivered, "failed", p.Failed, "error", p.Error)
}

// finish sets the run's final state from err (and ctx's cause) and records it.
func (b *Backfiller) finish(ctx context.Context, run *backfillRun, err error) {
	run.update(func(p *BackfillProgress) {
		p.FinishedAt = b.now().UTC()
		switch {
		case err == nil:
			p.State = BackfillDone
		case errors.As(context.Cause(ctx), new(removedError)):
			p.State, p.Error = BackfillFailed, fmt.Sprintf("%v: stopped after handing %d of the %d matching events scanned to the router", context.Cause(ctx), p.Published, p.Matched)
		case ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrShutdown):
			p.State, p.Error = BackfillCanceled, "canceled: herald stopped while it ran; run it again once herald is back (it skips what was delivered)"
			if pending := len(run.waiting); pending > 0 { // update holds run.mu
				p.Error = fmt.Sprintf("canceled: herald stopped while it ran, and %d notifications it had handed to the router had not ended yet: with herald's streams in Redis they are still sent, in one process alone they are not; run the backfill again once herald is back (it skips what was delivered)", pending)
			}
		case ctx.Err() != nil: // canceled: whatever error that surfaced as
			p.State, p.Error = BackfillCanceled, "canceled"
			if pending := len(run.waiting); pending > 0 { // update holds run.mu
				p.Error = fmt.Sprintf("canceled; %d notifications it had handed to the router had not ended yet: they are still sent, and how they end shows in the delivery history, not in these counts", pending)
			}
		default:
			p.State, p.Error = BackfillFailed, err.Error()
		}
	})
	p := run.snapshot()
	finished := domain.BackfillFinished{State: string(p.State), Counts: p.BackfillCounts, Error: p.Error, At: p.FinishedAt}
	if err := b.record(ctx, domain.BackfillStream(p.ID), domain.StreamExists(), finished); err != nil {
		b.logger.Error("backfill ended, but its end could not be recorded: other instances will report it failed", "backfill", p.ID, "error", err)
	}
}

// heartbeat records the run's counts while it runs: every backfillHeartbeat when they
// changed, and at least every backfillKeepAlive.
func (b *Backfiller) heartbeat(run *backfillRun) {
	tick := time.NewTicker(backfillHeartbeat)
	defer tick.Stop()
	var sent domain.BackfillCounts
	sentAt := b.now()
	for {
		select {
		case <-run.ended:
			return
		case <-tick.C:
		}
		p := run.snapshot()
		if p.State != BackfillRunning || (p.BackfillCounts == sent && b.now().Sub(sentAt) < backfillKeepAlive) {
			continue
		}
		if err := b.record(context.Background(), domain.BackfillStream(p.ID), domain.StreamExists(), domain.BackfillProgressed{Counts: p.BackfillCounts, At: b.now().UTC()}); err != nil {
			b.logger.Warn("could not record a backfill's progress", "backfill", p.ID, "error", err)
			continue
		}
		sent, sentAt = p.BackfillCounts, b.now()
	}
}

func (b *Backfiller) waitForRoom(ctx context.Context, run *backfillRun) error {
	for {
		run.mu.Lock()
		n := len(run.waiting)
		run.mu.Unlock()
		if n < b.window {
			return nil
		}
		select {
		case <-run.settled:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *Backfiller) waitForAll(ctx context.Context, run *backfillRun) error {
	for {
		run.mu.Lock()
		n := len(run.waiting)
		run.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-run.settled:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// followOutcomes reads the ledger facts written after the run began and counts those of its
// pairs. It stops the run when the configuration's removal is recorded, or a cancel asked
// through another instance.
func (b *Backfiller) followOutcomes(ctx context.Context, run *backfillRun, from uint64) {
	configuration := domain.ConfigurationStream(run.snapshot().ConfigurationID)
	own := domain.BackfillStream(run.snapshot().ID)
	err := b.log.SubscribeAll(ctx, from, func(_ context.Context, records []domain.Record) error {
		for _, r := range records {
			if r.Stream == own && r.Type == domain.BackfillCancelRequestedType {
				run.cancel(nil) // asked through another instance
				return nil
			}
			if r.Stream == configuration && (r.Type == domain.ConfigurationDeletedType || r.Type == domain.StreamDeletedType) {
				run.cancel(removedError{configuration: run.snapshot().ConfigurationID})
				return nil
			}
			if !domain.IsDeliveryFact(r.Type) {
				continue
			}
			d, err := domain.DecodeDelivery(r.Type, r.Data)
			if err != nil {
				continue
			}
			key := pairKey{d.EventID, d.ConfigurationID}
			run.mu.Lock()
			if run.waiting[key] {
				delete(run.waiting, key)
				if d.Status == domain.DeliveryDelivered {
					run.progress.Delivered++
				} else {
					run.progress.Failed++
				}
				select {
				case run.settled <- struct{}{}:
				default:
				}
			}
			run.mu.Unlock()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		b.logger.Error("backfill stopped following outcomes", "error", err)
	}
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "bf-" + hex.EncodeToString(b[:])
}

// validRunID tells whether id has the form of newRunID's ids.
func validRunID(id string) bool {
	hexPart, ok := strings.CutPrefix(id, "bf-")
	if !ok || len(hexPart) != 16 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	Total           int // events in the window
	Scanned         int // events looked at
	Matched         int // events the configuration's selectors choose
	Skipped         int // already delivered to the configuration
	Published       int // handed to the router
	Delivered       int
	Failed          int
	Error           string
	StartedAt       time.Time
	FinishedAt      time.Time
}

// Backfiller replays windows of history through one configuration: every event of the window
// its selectors choose and the ledger does not show as delivered goes through the router, as
// a dispatch would have sent it. Runs are kept in memory on the instance that runs them.
type Backfiller struct {
	events    EventFinder
	ledger    LedgerReader
	publisher JobPublisher
	log       Log
	window    int
	logger    *slog.Logger

	mu   sync.Mutex
	runs map[string]*backfillRun
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
func NewBackfiller(events EventFinder, ledger LedgerReader, publisher JobPublisher, log Log, window int, logger *slog.Logger) (*Backfiller, error) {
	if events == nil || ledger == nil || publisher == nil || log == nil || logger == nil {
		return nil, fmt.Errorf("new backfiller: nil dependency")
	}
	if window <= 0 {
		window = 500
	}
	return &Backfiller{events: events, ledger: ledger, publisher: publisher, log: log, window: window, logger: logger.With("component", "backfill"), runs: map[string]*backfillRun{}}, nil
}

// Start begins a backfill of c over [since, before) and returns at once; Progress follows it.
// ctx bounds the run (the server's lifetime, not the request's).
func (b *Backfiller) Start(ctx context.Context, c domain.Configuration, since, before time.Time) (BackfillProgress, error) {
	if !since.IsZero() && !before.IsZero() && !since.Before(before) {
		return BackfillProgress{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "before", Message: "must be after since"}}}
	}
	if before.IsZero() {
		before = time.Now().UTC()
	}
	id := newRunID()
	ctx, cancel := context.WithCancelCause(ctx)
	run := &backfillRun{
		progress: BackfillProgress{ID: id, ConfigurationID: c.ID, Account: c.Account, Since: since, Before: before, State: BackfillRunning, StartedAt: time.Now().UTC()},
		waiting:  map[pairKey]bool{}, settled: make(chan struct{}, 1), cancel: cancel, ended: make(chan struct{}),
	}
	b.mu.Lock()
	for _, other := range b.runs {
		if p := other.snapshot(); p.ConfigurationID == c.ID && p.State == BackfillRunning {
			b.mu.Unlock()
			cancel(nil)
			return BackfillProgress{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "configurationId",
				Message: fmt.Sprintf("backfill %s of configuration %s is still running: follow it with backfillJob, or cancel it first", p.ID, c.ID)}}}
		}
	}
	b.runs[id] = run
	b.mu.Unlock()
	head, err := b.log.LastPosition(ctx)
	if err != nil {
		cancel(err)
		run.update(func(p *BackfillProgress) {
			p.State, p.Error, p.FinishedAt = BackfillFailed, err.Error(), time.Now().UTC()
		})
		close(run.ended)
		return BackfillProgress{}, err
	}
	go b.followOutcomes(ctx, run, head)
	go b.run(ctx, run, c)
	return run.snapshot(), nil
}

// Progress returns a run's progress; ok is false for an unknown id.
func (b *Backfiller) Progress(id string) (BackfillProgress, bool) {
	b.mu.Lock()
	run := b.runs[id]
	b.mu.Unlock()
	if run == nil {
		return BackfillProgress{}, false
	}
	return run.snapshot(), true
}

// Cancel stops a run and returns its progress once it has stopped (or ctx is done): it
// publishes nothing more, and what it published is still delivered. A finished run is left as
// it is. ok is false for an unknown id.
func (b *Backfiller) Cancel(ctx context.Context, id string) (p BackfillProgress, ok bool) {
	b.mu.Lock()
	run := b.runs[id]
	b.mu.Unlock()
	if run == nil {
		return BackfillProgress{}, false
	}
	run.cancel(nil)
	select {
	case <-run.ended:
	case <-ctx.Done():
	}
	return run.snapshot(), true
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
	run.update(func(p *BackfillProgress) {
		p.FinishedAt = time.Now().UTC()
		switch {
		case err == nil:
			p.State = BackfillDone
		case errors.As(context.Cause(ctx), new(removedError)):
			p.State, p.Error = BackfillFailed, fmt.Sprintf("%v: stopped after handing %d of the %d matching events scanned to the router", context.Cause(ctx), p.Published, p.Matched)
		case errors.Is(err, context.Canceled):
			p.State, p.Error = BackfillCanceled, "canceled"
		default:
			p.State, p.Error = BackfillFailed, err.Error()
		}
	})
	p = run.snapshot()
	b.logger.Info("backfill finished", "backfill", p.ID, "state", p.State, "matched", p.Matched, "skipped", p.Skipped, "delivered", p.Delivered, "failed", p.Failed, "error", p.Error)
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
// pairs. It stops the run when the configuration's removal is recorded.
func (b *Backfiller) followOutcomes(ctx context.Context, run *backfillRun, from uint64) {
	configuration := domain.ConfigurationStream(run.snapshot().ConfigurationID)
	err := b.log.SubscribeAll(ctx, from, func(_ context.Context, records []domain.Record) error {
		for _, r := range records {
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

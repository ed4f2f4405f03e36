// Package projections is herald's read side: runners that follow the event store and apply
// its facts to views, and the query services that read those views.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"herald/domain"
)

// LogFollower is the part of the event store a runner reads.
type LogFollower interface {
	SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

// Projection turns records of the log into a view.
type Projection interface {
	// Name is stable: it names the view in logs, metrics and commands.
	Name() string
	// Checkpoint is the position of the last record the view has applied.
	Checkpoint(ctx context.Context) (uint64, error)
	// Apply applies records in log order and stores the checkpoint with them.
	Apply(ctx context.Context, records []domain.Record) error
	// Reset drops the view, checkpoint included, before a rebuild.
	Reset(ctx context.Context) error
}

// Resumer is a projection with state of its own beside its checkpoint (the dispatcher's
// notifications in flight). The runner calls Resume instead of Checkpoint each time it is
// about to apply the log from the checkpoint (at start, after an error, on taking the lease),
// and Suspend when it stops applying; Checkpoint stays a plain read, which instances standing
// by poll.
type Resumer interface {
	Resume(ctx context.Context) (uint64, error)
	Suspend()
}

// RunnerMetrics receives what a runner does; cmd/herald wires Prometheus to it.
type RunnerMetrics interface {
	Applied(view string, records int, checkpoint uint64, took time.Duration)
}

// Runner keeps one projection up to date: it catches up from the view's checkpoint, then
// follows the log live. It retries after failures with backoff and tells callers when the
// view has reached a position, so that a client can read what it just wrote.
type Runner struct {
	log        LogFollower
	projection Projection
	logger     *slog.Logger
	metrics    RunnerMetrics

	mu       sync.Mutex
	applied  uint64
	head     uint64 // last position of the log when the runner started catching up
	caughtUp bool
	changed  chan struct{} // closed and replaced whenever applied moves
	ready    chan struct{} // closed the first time the view catches up
	once     sync.Once

	started   time.Time // when the current catch-up began
	startFrom uint64    // and from where
	records   uint64    // records applied since then: positions are not records in KurrentDB
	cancel    context.CancelFunc
	rebuild   bool          // a rebuild was asked for: reset the view when follow returns
	dropped   chan struct{} // closed once the view asked to be rebuilt has been dropped

	lease   Lease // nil: this instance alone applies the view
	claim   FenceClaimer
	standby bool // waiting for the lease while another instance applies the view
}

// NewRunner builds a runner. metrics may be nil.
func NewRunner(log LogFollower, projection Projection, logger *slog.Logger, metrics RunnerMetrics) (*Runner, error) {
	if log == nil || projection == nil || logger == nil {
		return nil, fmt.Errorf("new runner: %w", errors.New("nil dependency"))
	}
	return &Runner{log: log, projection: projection, logger: logger.With("view", projection.Name()), metrics: metrics, changed: make(chan struct{}), ready: make(chan struct{})}, nil
}

// progressEvery is how often catch-up progress is logged.
const progressEvery = 2 * time.Second

// Run applies the log until ctx is done.
func (r *Runner) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		lctx, done, err := r.lead(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.logger.Error("acquire the view's lease; retrying", "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return ctx.Err()
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		fctx, cancel := context.WithCancel(lctx)
		r.mu.Lock()
		r.cancel = cancel
		before := r.applied
		r.mu.Unlock()
		err = r.follow(fctx)
		r.mu.Lock()
		if r.applied > before { // it got somewhere: a new failure starts with a short pause
			backoff = 100 * time.Millisecond
		}
		r.mu.Unlock()
		cancel()
		lost := lctx.Err() != nil
		done()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if lost && !r.rebuildRequested() {
			continue // stand by for the lease again
		}
		if r.rebuildRequested() {
			if err := r.reset(ctx); err != nil {
				r.logger.Error("reset view for a rebuild; retrying", "error", err)
			} else {
				backoff = 100 * time.Millisecond
				continue
			}
		} else {
			r.logger.Error("projection stopped; retrying", "error", err, "retry_in", backoff)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// Rebuild drops the view and applies the whole log again, while the runner keeps running.
// The channel is closed once the view has been dropped; Progress tells how far the rebuild is.
func (r *Runner) Rebuild() <-chan struct{} {
	r.mu.Lock()
	r.rebuild = true
	if r.dropped == nil {
		r.dropped = make(chan struct{})
	}
	dropped, cancel := r.dropped, r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return dropped
}

func (r *Runner) rebuildRequested() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rebuild
}

func (r *Runner) reset(ctx context.Context) error {
	if err := r.projection.Reset(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	r.rebuild, r.applied, r.caughtUp = false, 0, false
	if r.dropped != nil {
		close(r.dropped)
		r.dropped = nil
	}
	r.mu.Unlock()
	r.logger.Info("view dropped for a rebuild")
	return nil
}

// Progress is how far a view is.
type Progress struct {
	View     string
	Applied  uint64  // position applied
	Target   uint64  // log head when the current catch-up began
	CaughtUp bool    // the view has reached Target and follows the log live
	Standby  bool    // another instance holds the view's lease and applies it
	Records  uint64  // records applied since the catch-up began (0 on a standby)
	Rate     float64 // records per second since the catch-up began (0 on a standby)
	// PositionRate is how fast the applied position moves, in log positions per second, for
	// an estimate of the time left. With the embedded store a record is one position; with
	// KurrentDB positions are far apart (they follow its transaction log), so this is no
	// count of records.
	PositionRate float64
	StartedAt    time.Time
}

// Progress reports how far the view is.
func (r *Runner) Progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{View: r.projection.Name(), Applied: r.applied, Target: r.head, CaughtUp: r.caughtUp, Standby: r.standby, StartedAt: r.started}
	if d := time.Since(r.started).Seconds(); d > 0 && r.applied > r.startFrom {
		p.PositionRate = float64(r.applied-r.startFrom) / d
		if !r.standby {
			p.Records, p.Rate = r.records, float64(r.records)/d
		}
	}
	return p
}

func (r *Runner) follow(ctx context.Context) error {
	var from uint64
	var err error
	if res, ok := r.projection.(Resumer); ok {
		from, err = res.Resume(ctx)
		defer res.Suspend()
	} else {
		from, err = r.projection.Checkpoint(ctx)
	}
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	head, err := r.log.LastPosition(ctx)
	if err != nil {
		return fmt.Errorf("read log head: %w", err)
	}
	r.mu.Lock()
	r.applied, r.head = from, head
	r.caughtUp = from >= head
	r.started, r.startFrom, r.records = time.Now(), from, 0
	r.mu.Unlock()
	if from >= head {
		r.once.Do(func() { close(r.ready) })
	}
	start := time.Now()
	if from < head {
		r.logger.Info("catching up view", "from", from, "to", head)
	}
	lastReport, startFrom := start, from
	var applied uint64 // records
	return r.log.SubscribeAll(ctx, from, func(ctx context.Context, records []domain.Record) error {
		t0 := time.Now()
		if err := r.projection.Apply(ctx, records); err != nil {
			return fmt.Errorf("apply records up to %d: %w", records[len(records)-1].Position, err)
		}
		last := records[len(records)-1].Position
		if r.metrics != nil {
			r.metrics.Applied(r.projection.Name(), len(records), last, time.Since(t0))
		}
		applied += uint64(len(records))
		// Log before advancing: whoever WaitFor wakes may read the log (tests do).
		switch justNow, live := r.passesHead(last); {
		case justNow:
			took := time.Since(start)
			r.logger.Info("view caught up", "position", last, "records", applied, "took", took.Round(time.Millisecond), "records_per_second", int(float64(applied)/max(took.Seconds(), 1e-6)))
		case !live && time.Since(lastReport) >= progressEvery:
			lastReport = time.Now()
			elapsed := time.Since(start)
			// The share done and the time left are reckoned in positions, the rate in records.
			done := float64(last-startFrom) / float64(max(head-startFrom, 1))
			eta := time.Duration(float64(elapsed) * (1 - done) / max(done, 1e-9))
			r.logger.Info("catching up view", "position", last, "to", head, "percent", int(done*100), "records", applied,
				"records_per_second", int(float64(applied)/elapsed.Seconds()), "eta", eta.Round(time.Second))
		}
		r.advance(last, applied)
		return nil
	})
}

// passesHead tells whether last catches the runner up with the head seen at start (justNow)
// and whether the runner is caught up already (live): past that, the records are the log's
// new writes, and there is no catching up to report. advance marks it.
func (r *Runner) passesHead(last uint64) (justNow, live bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.caughtUp && last >= r.head, r.caughtUp
}

// CaughtUp is closed once the view has first caught up with the log.
func (r *Runner) CaughtUp() <-chan struct{} { return r.ready }

// advance moves the applied position, with the records applied since the catch-up began.
func (r *Runner) advance(position, records uint64) {
	r.mu.Lock()
	// One step, so that Progress never says caught up at an older position or with fewer records.
	r.applied, r.records = position, records
	if !r.caughtUp && position >= r.head {
		r.caughtUp = true
		r.once.Do(func() { close(r.ready) })
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Status reports the applied position and whether the view has caught up with the log.
func (r *Runner) Status() (applied uint64, caughtUp bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied, r.caughtUp
}

// Name is the projection's name.
func (r *Runner) Name() string { return r.projection.Name() }

// WaitLive blocks while the view is being rebuilt or caught up, until it follows the log live
// again, or ctx is done. It returns at once when the view is live or another instance applies
// it. Readers that must not answer "unknown" from a half-built view (sign-in) wait here.
func (r *Runner) WaitLive(ctx context.Context) error {
	for {
		r.mu.Lock()
		live, changed := (r.caughtUp && !r.rebuild) || r.standby, r.changed
		r.mu.Unlock()
		if live {
			return nil
		}
		select {
		case <-changed:
		case <-time.After(20 * time.Millisecond): // an empty log catches up without applying
		case <-ctx.Done():
			return fmt.Errorf("wait for view %s to catch up: %w", r.projection.Name(), ctx.Err())
		}
	}
}

// WaitFor blocks until the view has applied the record at position, or ctx is done. A view
// shared in Redis must hold it as stored, too.
func (r *Runner) WaitFor(ctx context.Context, position uint64) error {
	shared := r.lease != nil
	for {
		r.mu.Lock()
		applied, changed, standby := r.applied, r.changed, r.standby
		r.mu.Unlock()
		if applied >= position && !shared {
			return nil
		}
		// A shared view is asked, too: another instance may apply it (standby), and Redis may
		// have lost it (its data flushed) while this instance's count stayed where it was.
		poll := standby || applied >= position
		if poll {
			if cp, err := r.projection.Checkpoint(ctx); err == nil && cp >= position {
				return nil
			}
		}
		wait := time.After(time.Hour)
		if poll {
			wait = time.After(10 * time.Millisecond)
		}
		select {
		case <-changed:
		case <-wait:
		case <-ctx.Done():
			return fmt.Errorf("wait for view %s to reach %d (at %d): %w", r.projection.Name(), position, applied, ctx.Err())
		}
	}
}

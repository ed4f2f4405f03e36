package notify

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"herald/domain"
)

// DispatcherName names the dispatcher where views are named: in logs, metrics and
// `herald projections status`.
const DispatcherName = "dispatcher"

// Log is the part of the event store the dispatcher reads.
type Log interface {
	SubscribeAll(ctx context.Context, from uint64, handle func(context.Context, []domain.Record) error) error
	LastPosition(ctx context.Context) (uint64, error)
	ReadStream(ctx context.Context, stream string) ([]domain.Record, error)
}

// ConfigurationSource is where the dispatcher finds configurations and disabled kinds
// (projections.ConfigurationView).
type ConfigurationSource interface {
	Configurations(ctx context.Context, account string, kind domain.EndpointKind) ([]domain.Configuration, error)
	DisabledEndpoints(ctx context.Context) (map[domain.EndpointKind]bool, error)
}

// LedgerReader tells what the ledger holds for a pair (commands.Ledger).
type LedgerReader interface {
	Outcome(ctx context.Context, eventID, configurationID string) (domain.Delivery, bool, error)
}

// JobPublisher hands jobs to the router (Router.Publish).
type JobPublisher interface {
	Publish(ctx context.Context, jobs ...Job) error
}

// CheckpointStore keeps the dispatcher's checkpoint: the position up to which every
// notification has been delivered or dead-lettered.
type CheckpointStore interface {
	Load(ctx context.Context) (uint64, error)
	Save(ctx context.Context, position uint64) error
}

// CheckpointCopies keeps copies of the checkpoint in the event log itself, written now and
// then: the floor the checkpoint never starts below when its own store lost it (Redis lost
// its data while every instance restarted, the views moved to Redis).
type CheckpointCopies interface {
	// Latest returns the newest copy, 0 when there is none.
	Latest(ctx context.Context) (uint64, error)
	// Copy writes a copy of position.
	Copy(ctx context.Context, position uint64) error
}

// DispatchMetrics receives what the dispatcher does.
type DispatchMetrics interface {
	Dispatched(kind domain.EndpointKind, n int)
	DispatchState(pending, lagging int, checkpoint uint64)
}

// DispatcherConfig is what a dispatcher is built from.
type DispatcherConfig struct {
	Log            Log
	Configurations ConfigurationSource
	// WaitConfigurations blocks until the configurations view has applied position, so that
	// a configuration created just before an event is known when the event is matched.
	WaitConfigurations func(ctx context.Context, position uint64) error
	Ledger             LedgerReader
	Publisher          JobPublisher
	Checkpoints        CheckpointStore
	// Copies, when set, gets a copy of the checkpoint at most every CopyEvery (default 5
	// minutes) while records other than copies pass the newest copy, and its newest copy is
	// the floor Resume never starts below. One log has one dispatcher (every instance of a
	// deployment shares it): the copies are the log's.
	Copies    CheckpointCopies
	CopyEvery time.Duration
	// System are configurations from herald.yaml (the event-log webhook): matched like the
	// others, never stored.
	System []domain.Configuration
	// Window bounds the notifications in flight per configuration; beyond it the
	// configuration falls behind and reads the log again on its own when its receiver
	// drains, so that a slow receiver never holds the others back nor fills memory.
	Window int
	// MaxInFlight bounds the notifications in flight over all configurations, so that a burst
	// of events to many configurations neither fills memory nor opens a connection per
	// notification; beyond it configurations fall behind as beyond their window.
	MaxInFlight int
	// RedeliverAfter republishes a notification with no outcome after this long (a message
	// lost with the instance that held it).
	RedeliverAfter time.Duration
	// Sweep is how often jobs are checked for RedeliverAfter.
	Sweep   time.Duration
	Logger  *slog.Logger
	Metrics DispatchMetrics // may be nil
}

// Dispatcher follows the log and publishes one job per (event, matching configuration). It is
// a projections.Projection: a runner feeds it the log from its checkpoint, under a lease when
// several instances share the work. Its checkpoint passes an event only once every job for it
// has an outcome in the ledger; the outcomes are facts of the same log, which the dispatcher
// reads as they come.
type Dispatcher struct {
	cfg DispatcherConfig

	mu          sync.Mutex
	index       *index
	configs     map[string]*domain.Configuration
	disabled    map[domain.EndpointKind]bool
	reloadAt    uint64 // configuration facts seen up to here are not in the index yet
	needReload  bool
	replayUntil uint64 // positions up to here may already have outcomes (a restart)
	applied     uint64
	states      map[string]*configState
	since       map[string]uint64    // configuration -> position of its creation, when known (notBefore)
	behind      uint64               // 0: live; else every configuration reads the log again from here
	active      bool                 // between Resume and Suspend: this instance dispatches
	epoch       uint64               // moves at Resume and Suspend; a catch-up of an older one stops
	pending     map[string]*inFlight // by the pair's ledger stream
	positions   positionHeap
	counts      map[uint64]int // jobs without an outcome, by event position
	saved       uint64
	savedAt     time.Time
	reportedAt  time.Time  // when the metrics last had the dispatch state
	lostBefore  time.Time  // RedeliverLost: jobs published before it are published again now
	seen        uint64     // the highest checkpoint loaded or saved here: it never moves back
	copied      uint64     // the newest checkpoint copy known here
	copiedAt    time.Time  // when this instance last copied the checkpoint (or tried to)
	lastReal    uint64     // the position of the newest record applied that is not a copy
	saving      sync.Mutex // held through a save (saveCheckpoint)
	wake        chan struct{}
	matches     []*domain.Configuration // scratch for index.match
}

// configState is one configuration's place in dispatch.
type configState struct {
	inFlight int
	lagFrom  uint64 // 0: live; else it reads the log again from this position
}

type inFlight struct {
	job         Job
	publishedAt time.Time
}

// NewDispatcher builds a dispatcher.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Log == nil || cfg.Configurations == nil || cfg.WaitConfigurations == nil || cfg.Ledger == nil || cfg.Publisher == nil || cfg.Checkpoints == nil || cfg.Logger == nil {
		return nil, fmt.Errorf("new dispatcher: nil dependency")
	}
	if cfg.Window <= 0 {
		cfg.Window = 1000
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 10_000
	}
	if cfg.RedeliverAfter <= 0 {
		cfg.RedeliverAfter = 15 * time.Minute
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = 30 * time.Second
	}
	if cfg.CopyEvery <= 0 {
		cfg.CopyEvery = 5 * time.Minute
	}
	cfg.Logger = cfg.Logger.With("component", DispatcherName)
	return &Dispatcher{
		cfg: cfg, configs: map[string]*domain.Configuration{}, states: map[string]*configState{}, since: map[string]uint64{},
		pending: map[string]*inFlight{}, counts: map[uint64]int{}, wake: make(chan struct{}, 1), needReload: true,
	}, nil
}

// Name implements projections.Projection.
func (d *Dispatcher) Name() string { return DispatcherName }

// Checkpoint implements projections.Projection: the position up to which every notification
// has an outcome, as last saved (by this instance or another).
func (d *Dispatcher) Checkpoint(ctx context.Context) (uint64, error) {
	cp, err := d.cfg.Checkpoints.Load(ctx)
	if err == nil {
		d.mu.Lock()
		d.seen = max(d.seen, cp)
		d.mu.Unlock()
	}
	return cp, err
}

// Resume implements projections.Resumer: the runner is about to read the log from the
// checkpoint, so everything up to the log's head may already have outcomes, and the
// dispatcher is live for every configuration from there (no catch-up starts before the
// checkpoint, safeCheckpoint).
func (d *Dispatcher) Resume(ctx context.Context) (uint64, error) {
	cp, err := d.cfg.Checkpoints.Load(ctx)
	if err != nil {
		return 0, err
	}
	var copied uint64
	if d.cfg.Copies != nil {
		if copied, err = d.cfg.Copies.Latest(ctx); err != nil {
			return 0, err
		}
	}
	head, err := d.cfg.Log.LastPosition(ctx)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.copied = max(d.copied, copied)
	// The checkpoint never moves back. One behind what this instance saw (saved, or read
	// while another instance dispatched), or behind its copy in the log, was lost with the
	// views' Redis: dispatching from it would match the whole history again, and send what
	// was never meant to be sent (events of a kind that was turned off, of selectors since
	// widened).
	switch {
	case cp < d.seen && copied <= d.seen:
		d.cfg.Logger.Warn("the dispatcher's checkpoint is behind the one this instance saw (Redis lost its data?): dispatching from the one it saw",
			"stored", cp, "seen", d.seen)
		cp = d.seen
		d.saved = 0 // written again at the next save, though it does not move
	case cp < copied:
		d.cfg.Logger.Warn("the dispatcher's checkpoint is behind its copy in the event log (Redis lost its data, or the views moved to Redis?): dispatching from the copy",
			"stored", cp, "copy", copied)
		cp = copied
		d.saved = 0
	}
	d.seen = cp
	d.epoch++
	d.active = true
	d.replayUntil = head
	d.applied = cp
	d.reloadAt, d.needReload = cp, true
	d.behind = 0
	for _, st := range d.states {
		st.lagFrom = 0
	}
	// Whoever saved cp saw an outcome for every notification of the events up to it (another
	// instance, while this one had lost the lease): their outcomes will not be read again.
	for stream, f := range d.pending {
		if f.job.Position <= cp {
			d.release(stream)
		}
	}
	return cp, nil
}

// Suspend implements projections.Resumer: the runner stopped applying (an error, the lease
// lost). Catch-ups stop, and nothing is redelivered or saved until Resume.
func (d *Dispatcher) Suspend() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.epoch++
	d.active = false
}

// Reset implements projections.Projection. The dispatcher is not rebuilt: that would send
// the whole history again. Backfill replays a chosen window instead.
func (d *Dispatcher) Reset(context.Context) error {
	return errors.New("the dispatcher is not rebuilt (that would notify the whole history again); use backfillNotifications for a time window")
}

// Apply implements projections.Projection.
func (d *Dispatcher) Apply(ctx context.Context, records []domain.Record) error {
	var jobs []Job
	d.mu.Lock()
	epoch := d.epoch
	for _, r := range records {
		var err error
		switch {
		case domain.IsDeliveryFact(r.Type):
			d.settle(r)
		case r.Type == domain.EventRecordedType:
			if err = d.reloadIfNeeded(ctx); err == nil {
				jobs, err = d.dispatch(ctx, r, jobs)
			}
		case strings.HasPrefix(r.Stream, domain.ConfigurationStreamPrefix), strings.HasPrefix(r.Stream, domain.EndpointStreamPrefix):
			d.reloadAt, d.needReload = r.Position, true
		}
		if err != nil {
			d.unpublished(jobs, nil, epoch)
			d.mu.Unlock()
			return err
		}
		d.applied = r.Position
		if r.Stream != domain.DispatchCheckpointStream {
			d.lastReal = r.Position
		}
	}
	d.mu.Unlock()
	if err := d.publish(ctx, jobs, nil, epoch); err != nil {
		return err
	}
	return d.saveCheckpoint(ctx, false)
}

// dispatch matches one recorded event and adds its jobs. When the notifications in flight
// reach MaxInFlight the dispatcher falls behind as a whole: from this event on, catchUpAll
// reads the log again for every configuration once there is room. Called with d.mu held.
func (d *Dispatcher) dispatch(ctx context.Context, r domain.Record, jobs []Job) ([]Job, error) {
	if d.behind != 0 && r.Position >= d.behind {
		return jobs, nil // catchUpAll reads it
	}
	if len(d.pending) >= d.cfg.MaxInFlight {
		d.behind = r.Position
		d.cfg.Logger.Info("dispatch waits: herald has the most notifications in flight it allows (--notify-max-in-flight); it reads the log again from here when receivers drain", "in_flight", len(d.pending), "from", r.Position)
		d.poke()
		return jobs, nil
	}
	return d.match(ctx, r, jobs)
}

// match adds the jobs of one recorded event for every configuration that is live. Called
// with d.mu held.
func (d *Dispatcher) match(ctx context.Context, r domain.Record, jobs []Job) ([]Job, error) {
	e, err := domain.DecodeEventRecordedHeader(r.Data)
	if err != nil {
		d.cfg.Logger.Error("an EventRecorded fact cannot be read; no notification for it", "position", r.Position, "error", err)
		return jobs, nil
	}
	d.matches = d.index.match(e, d.matches[:0])
	for _, c := range d.matches {
		if d.disabled[c.Kind] {
			continue
		}
		if before, err := d.beforeCreation(ctx, r.Position, c.ID); err != nil {
			return jobs, err
		} else if before {
			continue // the event came before the configuration
		}
		st := d.state(c.ID)
		if st.lagFrom != 0 && r.Position >= st.lagFrom {
			continue // it reads the log on its own until it is live again
		}
		job, ok, err := d.admit(ctx, r, e.ID, c, st)
		if err != nil {
			return jobs, err
		}
		if ok {
			jobs = append(jobs, job)
		}
	}
	return jobs, nil
}

// beforeCreation tells whether the event at position came before configuration id was
// created: a replay (positions up to replayUntil) or a catch-up reads events older than
// configurations. The creation position of a configuration added while running is where the
// dispatcher saw it; of one it found at start, the first fact of its stream, read when first
// needed (a configuration of herald.yaml has no stream: it predates everything). Called with
// d.mu held.
func (d *Dispatcher) beforeCreation(ctx context.Context, position uint64, id string) (bool, error) {
	created, known := d.since[id]
	if !known {
		if position > d.replayUntil {
			return false, nil // a live event: every configuration known at start predates it
		}
		records, err := d.cfg.Log.ReadStream(ctx, domain.ConfigurationStream(id))
		switch {
		case err == nil && len(records) > 0:
			created = records[0].Position
		case err == nil, errors.Is(err, domain.ErrStreamNotFound):
		default:
			return false, fmt.Errorf("read when configuration %s was created: %w", id, err)
		}
		d.since[id] = created
	}
	return position < created, nil
}

// admit decides about one pair: already in flight or settled (nothing to do), the window
// full (the configuration falls behind from here), or a new job. Called with d.mu held.
func (d *Dispatcher) admit(ctx context.Context, r domain.Record, eventID string, c *domain.Configuration, st *configState) (Job, bool, error) {
	key := domain.DeliveryStream(eventID, c.ID)
	if _, ok := d.pending[key]; ok {
		return Job{}, false, nil
	}
	if r.Position <= d.replayUntil {
		_, settled, err := d.cfg.Ledger.Outcome(ctx, eventID, c.ID)
		if err != nil {
			return Job{}, false, err
		}
		if settled {
			return Job{}, false, nil
		}
	}
	if st.inFlight >= d.cfg.Window {
		st.lagFrom = r.Position
		d.cfg.Logger.Warn("configuration falls behind: its receiver has too many notifications in flight; it will catch up on its own", "configuration", c.ID, "kind", c.Kind, "in_flight", st.inFlight, "from", r.Position)
		d.poke()
		return Job{}, false, nil
	}
	job := Job{EventID: eventID, ConfigurationID: c.ID, Account: c.Account, Kind: c.Kind, Position: r.Position, RecordedAt: r.Time, Trigger: domain.TriggerDispatch, Fact: r.Data}
	d.pending[key] = &inFlight{job: job, publishedAt: time.Now()}
	st.inFlight++
	if d.counts[r.Position] == 0 {
		heap.Push(&d.positions, r.Position)
	}
	d.counts[r.Position]++
	return job, true, nil
}

// settle takes a pair out of flight when its outcome is read from the log; the fact's stream
// names the pair, so facts of pairs not in flight here cost nothing. Called with d.mu held.
func (d *Dispatcher) settle(r domain.Record) {
	if configuration, ok := d.release(r.Stream); ok {
		if st := d.states[configuration]; (st != nil && st.lagFrom != 0 && d.hasRoom(st)) || d.roomForAll() {
			d.poke()
		}
	}
}

// unpublished takes back jobs that could not be published and marks where they must be read
// again: by the configuration st catching up, or (st nil) by the whole dispatcher, so that
// the checkpoint stays before them. Pairs released here that a newer subscription already
// found in flight would otherwise be lost; reading them again may publish one twice, which
// the deliverer's ledger check drops. Called with d.mu held.
func (d *Dispatcher) unpublished(jobs []Job, st *configState, epoch uint64) {
	for _, j := range jobs {
		d.release(domain.DeliveryStream(j.EventID, j.ConfigurationID))
	}
	if len(jobs) == 0 {
		return
	}
	// Marked even while suspended: Resume reads the log again from the checkpoint (and
	// clears the marks), but Flush saves the checkpoint at shutdown before any Resume, and
	// must not pass jobs taken back here.
	from := jobs[0].Position
	if epoch != d.epoch {
		st = nil // a catch-up from before the runner resumed: whatever it was, read it all again
	}
	if st != nil {
		if st.lagFrom == 0 || st.lagFrom > from {
			st.lagFrom = from
		}
	} else if d.behind == 0 || d.behind > from {
		d.behind = from
	}
	d.poke()
}

// release takes the pair of a ledger stream out of flight, telling its configuration and
// whether it was in flight. Called with d.mu held.
func (d *Dispatcher) release(stream string) (configuration string, ok bool) {
	f, ok := d.pending[stream]
	if !ok {
		return "", false
	}
	delete(d.pending, stream)
	configuration = f.job.ConfigurationID
	if st := d.states[configuration]; st != nil && st.inFlight > 0 {
		st.inFlight--
	}
	if d.counts[f.job.Position]--; d.counts[f.job.Position] <= 0 {
		delete(d.counts, f.job.Position)
	}
	return configuration, true
}

// publish hands jobs to the router; when it cannot, they are taken back (unpublished).
func (d *Dispatcher) publish(ctx context.Context, jobs []Job, st *configState, epoch uint64) error {
	if len(jobs) == 0 {
		return nil
	}
	if err := d.cfg.Publisher.Publish(ctx, jobs...); err != nil {
		d.mu.Lock()
		d.unpublished(jobs, st, epoch)
		d.mu.Unlock()
		return fmt.Errorf("publish %d notifications: %w", len(jobs), err)
	}
	if d.cfg.Metrics != nil {
		byKind := map[domain.EndpointKind]int{}
		for _, j := range jobs {
			byKind[j.Kind]++
		}
		for k, n := range byKind {
			d.cfg.Metrics.Dispatched(k, n)
		}
	}
	return nil
}

func (d *Dispatcher) state(id string) *configState {
	st := d.states[id]
	if st == nil {
		st = &configState{}
		d.states[id] = st
	}
	return st
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// reloadIfNeeded rebuilds the index once the configurations view has applied every
// configuration fact read so far. Called with d.mu held; it is released while waiting.
func (d *Dispatcher) reloadIfNeeded(ctx context.Context) error {
	if !d.needReload {
		return nil
	}
	at := d.reloadAt
	d.mu.Unlock()
	configs, disabled, err := d.load(ctx, at)
	d.mu.Lock()
	if err != nil {
		return err
	}
	previous, first := d.configs, d.index == nil
	d.configs = make(map[string]*domain.Configuration, len(configs))
	ptrs := make([]*domain.Configuration, 0, len(configs))
	for i := range configs {
		id := configs[i].ID
		d.configs[id] = &configs[i]
		ptrs = append(ptrs, &configs[i])
		if !first && previous[id] == nil {
			d.since[id] = at // a catch-up reading older events must not notify it of them
		}
	}
	for id := range d.since {
		if d.configs[id] == nil {
			delete(d.since, id)
		}
	}
	for id, st := range d.states {
		if d.configs[id] == nil && st.inFlight == 0 {
			delete(d.states, id)
		}
	}
	d.index, d.disabled = newIndex(ptrs), disabled
	if d.reloadAt == at {
		d.needReload = false
	}
	return nil
}

func (d *Dispatcher) load(ctx context.Context, at uint64) ([]domain.Configuration, map[domain.EndpointKind]bool, error) {
	if at > 0 {
		if err := d.cfg.WaitConfigurations(ctx, at); err != nil {
			return nil, nil, err
		}
	}
	stored, err := d.cfg.Configurations.Configurations(ctx, "", "")
	if err != nil {
		return nil, nil, fmt.Errorf("load configurations: %w", err)
	}
	disabled, err := d.cfg.Configurations.DisabledEndpoints(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load endpoint status: %w", err)
	}
	configs := make([]domain.Configuration, 0, len(stored)+len(d.cfg.System))
	for _, c := range stored {
		if !c.Deleted {
			configs = append(configs, c)
		}
	}
	return append(configs, d.cfg.System...), disabled, nil
}

// safeCheckpoint is the last position before the oldest event still in flight or still to be
// read by a configuration that fell behind. Called with d.mu held.
func (d *Dispatcher) safeCheckpoint() uint64 {
	safe := d.applied
	for d.positions.Len() > 0 && d.counts[d.positions[0]] == 0 {
		heap.Pop(&d.positions)
	}
	if d.positions.Len() > 0 {
		safe = min(safe, d.positions[0]-1)
	}
	for _, st := range d.states {
		if st.lagFrom != 0 {
			safe = min(safe, st.lagFrom-1)
		}
	}
	if d.behind != 0 {
		safe = min(safe, d.behind-1)
	}
	return safe
}

// checkpointEvery is how often the checkpoint is written while it moves.
const checkpointEvery = 200 * time.Millisecond

func (d *Dispatcher) saveCheckpoint(ctx context.Context, force bool) error {
	// One save at a time (Apply's and Run's), so that they land in order: a later one never
	// writes an older checkpoint over a newer one.
	d.saving.Lock()
	defer d.saving.Unlock()
	d.mu.Lock()
	if !d.active && !force {
		d.mu.Unlock()
		return nil // the checkpoint is the active instance's to move
	}
	safe := d.safeCheckpoint()
	due := force || time.Since(d.savedAt) >= checkpointEvery
	lagging := 0
	for _, st := range d.states {
		if st.lagFrom != 0 {
			lagging++
		}
	}
	pending := len(d.pending)
	if safe == d.saved || !due {
		// The checkpoint stays (a notification at its front is slow, or retrying): what is in
		// flight and behind still changes, and the metrics say so.
		report := d.cfg.Metrics != nil && time.Since(d.reportedAt) >= checkpointEvery
		if report {
			d.reportedAt = time.Now()
		}
		saved := d.saved
		d.mu.Unlock()
		if report {
			d.cfg.Metrics.DispatchState(pending, lagging, saved)
		}
		return nil
	}
	d.mu.Unlock()
	if err := d.cfg.Checkpoints.Save(ctx, safe); err != nil {
		return fmt.Errorf("save the dispatcher's checkpoint: %w", err)
	}
	d.mu.Lock()
	d.saved, d.savedAt = safe, time.Now()
	d.seen = max(d.seen, safe)
	d.reportedAt = d.savedAt
	// A copy only while records other than copies lie past the newest copy (a copy is a
	// record itself): an idle log gets no copies.
	copyNow := !force && d.cfg.Copies != nil && safe > d.copied && d.lastReal > d.copied && d.savedAt.Sub(d.copiedAt) >= d.cfg.CopyEvery
	if copyNow {
		d.copiedAt = d.savedAt
	}
	d.mu.Unlock()
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.DispatchState(pending, lagging, safe)
	}
	if copyNow {
		// Only after the checkpoint itself was saved, so that a copy is never ahead of it,
		// nor written by an instance the checkpoint's fence refused.
		if err := d.cfg.Copies.Copy(ctx, safe); err != nil {
			d.cfg.Logger.Warn("could not copy the checkpoint into the event log; trying again later", "every", d.cfg.CopyEvery, "error", err)
			return nil
		}
		d.mu.Lock()
		d.copied = max(d.copied, safe)
		d.mu.Unlock()
	}
	return nil
}

// Run catches up configurations that fell behind, republishes jobs whose outcome never came,
// and keeps the checkpoint moving while no record arrives. It returns when ctx is done.
func (d *Dispatcher) Run(ctx context.Context) error {
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.wake:
		case <-tick.C:
		}
		d.mu.Lock()
		active, room := d.active, d.roomForAll()
		d.mu.Unlock()
		if !active {
			continue // another instance dispatches, or the runner is between two subscriptions
		}
		if room {
			if err := d.catchUpAll(ctx); err != nil && ctx.Err() == nil {
				d.cfg.Logger.Error("read the log again for every configuration; retrying", "error", err)
			}
		}
		for _, id := range d.laggards() {
			if err := d.catchUp(ctx, id); err != nil && ctx.Err() == nil {
				d.cfg.Logger.Error("catch up a configuration that fell behind; retrying", "configuration", id, "error", err)
			}
		}
		d.mu.Lock()
		lost := !d.lostBefore.IsZero()
		d.mu.Unlock()
		if lost || time.Since(lastSweep) >= d.cfg.Sweep {
			lastSweep = time.Now()
			d.redeliverStale(ctx)
		}
		if err := d.saveCheckpoint(ctx, false); err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("save checkpoint", "error", err)
		}
	}
}

// hasRoom tells whether a configuration that fell behind may read the log again: its window
// and the instance's notifications in flight are at most half full. Called with d.mu held.
func (d *Dispatcher) hasRoom(st *configState) bool {
	return st.inFlight <= d.cfg.Window/2 && len(d.pending) <= d.cfg.MaxInFlight/2
}

// roomForAll tells whether the dispatcher fell behind as a whole and may read the log again:
// the notifications in flight are at most half MaxInFlight. Called with d.mu held.
func (d *Dispatcher) roomForAll() bool {
	return d.behind != 0 && len(d.pending) <= d.cfg.MaxInFlight/2
}

// live tells whether a catch-up reading position has reached what the dispatcher handles as
// it comes (or, while it is behind as a whole, what catchUpAll reads). Called with d.mu held.
func (d *Dispatcher) live(position uint64) bool {
	return position > d.applied || (d.behind != 0 && position >= d.behind)
}

// laggards are the configurations that fell behind and have room again.
func (d *Dispatcher) laggards() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for id, st := range d.states {
		if st.lagFrom != 0 && d.hasRoom(st) {
			out = append(out, id)
		}
	}
	return out
}

var (
	errLive       = errors.New("caught up with the dispatcher")
	errWindowFull = errors.New("window full")
	errStale      = errors.New("the runner resumed or stopped meanwhile")
)

// catchUp reads the log for one configuration from where it fell behind, publishing its jobs
// until its window is full again or it reaches what the dispatcher has read, where it is
// live again.
func (d *Dispatcher) catchUp(ctx context.Context, id string) error {
	d.mu.Lock()
	st, c, epoch := d.states[id], d.configs[id], d.epoch
	if st == nil || st.lagFrom == 0 {
		d.mu.Unlock()
		return nil
	}
	if c == nil { // deleted meanwhile
		st.lagFrom = 0
		d.mu.Unlock()
		return nil
	}
	from := st.lagFrom
	d.mu.Unlock()
	return d.readAgain(ctx, from, st, epoch, func(ctx context.Context, records []domain.Record) ([]Job, error) {
		return d.catchUpBatch(ctx, records, id, c, st, epoch)
	})
}

// readAgain reads the log from position from on, admits each batch's jobs with admit and
// publishes them (failures marked for st, or for the whole dispatcher when st is nil), until
// admit says to stop: live again (errLive), no more room (errWindowFull), or the runner
// resumed meanwhile (errStale).
func (d *Dispatcher) readAgain(ctx context.Context, from uint64, st *configState, epoch uint64, admit func(context.Context, []domain.Record) ([]Job, error)) error {
	err := d.cfg.Log.SubscribeAll(ctx, from-1, func(ctx context.Context, records []domain.Record) error {
		jobs, stop := admit(ctx, records)
		if err := d.publish(ctx, jobs, st, epoch); err != nil {
			return err // read again from the first of them on the next tick
		}
		return stop
	})
	if errors.Is(err, errLive) || errors.Is(err, errWindowFull) || errors.Is(err, errStale) {
		return nil
	}
	return err
}

// catchUpBatch admits one configuration's jobs of a batch read while catching up; stop ends
// the reading (errLive, errWindowFull, errStale) or is nil to go on.
func (d *Dispatcher) catchUpBatch(ctx context.Context, records []domain.Record, id string, c *domain.Configuration, st *configState, epoch uint64) (jobs []Job, stop error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.epoch != epoch {
		return nil, errStale
	}
	for _, r := range records {
		if d.live(r.Position) {
			st.lagFrom = 0
			d.cfg.Logger.Info("configuration caught up", "configuration", id, "position", r.Position)
			return jobs, errLive
		}
		if r.Type != domain.EventRecordedType {
			continue
		}
		e, err := domain.DecodeEventRecordedHeader(r.Data)
		if err != nil || !c.Matches(e) || d.disabled[c.Kind] {
			continue
		}
		if before, err := d.beforeCreation(ctx, r.Position, id); err != nil {
			return jobs, err
		} else if before {
			continue
		}
		st.lagFrom = r.Position // reading from here on, should the window fill
		if len(d.pending) >= d.cfg.MaxInFlight {
			return jobs, errWindowFull
		}
		job, ok, err := d.admit(ctx, r, e.ID, c, st)
		if err != nil {
			return jobs, err
		}
		if !ok && st.inFlight >= d.cfg.Window {
			return jobs, errWindowFull
		}
		if ok {
			jobs = append(jobs, job)
			st.lagFrom = r.Position + 1
		}
	}
	if last := records[len(records)-1].Position; last >= d.applied { // nothing more to read now
		st.lagFrom = 0
		d.cfg.Logger.Info("configuration caught up", "configuration", id, "position", last)
		return jobs, errLive
	}
	return jobs, nil
}

// catchUpAll reads the log again from where the dispatcher fell behind as a whole, matching
// every event against every configuration (except those catching up on their own), until
// MaxInFlight is reached again or it has read what the dispatcher applied, where it is live.
func (d *Dispatcher) catchUpAll(ctx context.Context) error {
	d.mu.Lock()
	from, epoch := d.behind, d.epoch
	d.mu.Unlock()
	if from == 0 {
		return nil
	}
	return d.readAgain(ctx, from, nil, epoch, func(ctx context.Context, records []domain.Record) ([]Job, error) {
		return d.catchUpAllBatch(ctx, records, epoch)
	})
}

// catchUpAllBatch admits the jobs of a batch read again for every configuration; stop ends
// the reading (errLive, errWindowFull, errStale, or a failure) or is nil to go on.
func (d *Dispatcher) catchUpAllBatch(ctx context.Context, records []domain.Record, epoch uint64) (jobs []Job, stop error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.epoch != epoch {
		return nil, errStale
	}
	for _, r := range records {
		if r.Position < d.behind {
			continue
		}
		if r.Position > d.applied {
			d.behind = 0
			d.cfg.Logger.Info("dispatch caught up", "position", r.Position)
			return jobs, errLive
		}
		if r.Type == domain.EventRecordedType {
			if len(d.pending) >= d.cfg.MaxInFlight {
				d.behind = r.Position
				return jobs, errWindowFull
			}
			var err error
			if jobs, err = d.match(ctx, r, jobs); err != nil {
				d.behind = r.Position
				return jobs, err
			}
		}
		d.behind = r.Position + 1
	}
	if d.behind > d.applied { // nothing more to read now
		d.behind = 0
		d.cfg.Logger.Info("dispatch caught up", "position", d.applied)
		return jobs, errLive
	}
	return jobs, nil
}

// RedeliverLost publishes again, without waiting for RedeliverAfter, every job without an
// outcome that was published before now: the transport says it lost what it held (Redis lost
// its data). The ledger keeps a job that was in fact delivered from being sent twice. On an
// instance that does not dispatch at the moment (the loss took the lease too), it is done
// once it dispatches again.
func (d *Dispatcher) RedeliverLost() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lostBefore = time.Now()
	d.poke()
}

// redeliverStale publishes again the jobs whose outcome has not come for RedeliverAfter, and
// those RedeliverLost asked for.
func (d *Dispatcher) redeliverStale(ctx context.Context) {
	d.mu.Lock()
	lostBefore := d.lostBefore
	d.lostBefore = time.Time{}
	var jobs []Job
	for _, f := range d.pending {
		if time.Since(f.publishedAt) >= d.cfg.RedeliverAfter || f.publishedAt.Before(lostBefore) {
			f.publishedAt = time.Now()
			jobs = append(jobs, f.job)
		}
	}
	d.mu.Unlock()
	if len(jobs) == 0 {
		return
	}
	if !lostBefore.IsZero() {
		d.cfg.Logger.Warn("publishing again the notifications the transport lost", "count", len(jobs))
	} else {
		d.cfg.Logger.Warn("publishing again notifications without an outcome", "count", len(jobs), "after", d.cfg.RedeliverAfter)
	}
	if err := d.cfg.Publisher.Publish(ctx, jobs...); err != nil {
		d.cfg.Logger.Error("publish again", "error", err)
	}
}

// Flush writes the checkpoint as it is now (at shutdown, after the runner suspended the
// dispatcher). Should another instance hold the lease by then, the checkpoint's fence refuses
// the write.
func (d *Dispatcher) Flush(ctx context.Context) error { return d.saveCheckpoint(ctx, true) }

// positionHeap is a min-heap of event positions with jobs in flight.
type positionHeap []uint64

func (h positionHeap) Len() int           { return len(h) }
func (h positionHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h positionHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *positionHeap) Push(x any)        { *h = append(*h, x.(uint64)) }
func (h *positionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

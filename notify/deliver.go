package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"golang.org/x/time/rate"

	"herald/domain"
)

// ConfigurationReader finds a configuration by id (projections.ConfigurationView).
type ConfigurationReader interface {
	Configuration(ctx context.Context, id string) (domain.Configuration, bool, error)
}

// Ledger reads and writes the delivery ledger (commands.Ledger).
type Ledger interface {
	LedgerReader
	Record(ctx context.Context, d domain.Delivery) (uint64, error)
}

// DeliveryMetrics receives what deliveries do.
type DeliveryMetrics interface {
	Sent(kind domain.EndpointKind, outcome string, took time.Duration) // outcome: delivered, retryable, final
	Retried(kind domain.EndpointKind)
	Settled(kind domain.EndpointKind, status domain.DeliveryStatus, latency time.Duration)
}

// DelivererConfig is what a deliverer is built from.
type DelivererConfig struct {
	Senders        map[domain.EndpointKind]Sender
	Configurations ConfigurationReader
	// OpenSettings opens the sealed credentials of stored settings.
	OpenSettings func(domain.Settings) (domain.Settings, error)
	Ledger       Ledger
	// System are configurations from herald.yaml, credentials in the clear.
	System []domain.Configuration
	UIURL  string
	// RateLimits bound the notifications per second of one configuration, by kind (0: none).
	RateLimits map[domain.EndpointKind]float64
	// SendTimeout bounds one send.
	SendTimeout time.Duration
	// Concurrency bounds the sends under way at once, over every configuration (tests of a
	// configuration excepted), so that a burst neither opens a connection per notification
	// nor runs out of file descriptors. Waiting for a turn does not count in SendTimeout.
	Concurrency int
	// LateWait is how long a notification may wait for a send turn and still go out as
	// dispatched; one that waited longer checks, as a retry does, that its kind is still
	// enabled and its event still in the log. 0 means DefaultLateWait.
	LateWait time.Duration
	Logger   *slog.Logger
	Metrics  DeliveryMetrics // may be nil
	Now      func() time.Time
	// Disabled tells which endpoint kinds the admin turned off (may be nil): a backfill's
	// notification to one of them is not sent, nor one that waited for a retry, its rate
	// limit or (LateWait or longer) a send turn while the kind was turned off. Dispatch
	// leaves them out itself.
	Disabled DisabledEndpoints
	// Events tells whether an event was deleted (may be nil): a notification waiting for a
	// retry, held back by its rate limit or waiting LateWait or longer for a send turn, is
	// not sent once its event is deleted.
	Events DeletedEvents
	// Removed tells from the log whether a configuration the configurations view does not
	// hold was removed (may be nil: the view is trusted). A view being rebuilt, or lost with
	// Redis's data, holds none for a while; its notifications are retried, not failed.
	Removed RemovedConfigurations
	// Pairs keeps instances from handling one (event, configuration) pair at once (nil: one
	// instance, whose own lock is enough).
	Pairs PairLocks
	// StepAside is told when a handler waits (nil: the transport does not bound what its
	// handlers hold).
	StepAside StepAside
}

// StepAside is told that a handler waits (for a retry, its rate limit, a pair another
// message holds) with the message's context, so that a transport bounding the messages
// handled at once hands out others meanwhile (localpubsub.StepAside). The handler calls back
// when its wait is over; back returns once the handler may go on.
type StepAside func(ctx context.Context) (back func())

// wait waits for done or until ctx ends, stepped aside by s (nil: nothing steps aside).
func wait[T any](ctx context.Context, s StepAside, done <-chan T) error {
	if s != nil {
		defer s(ctx)()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sleep waits for d or until ctx ends, stepped aside.
func (s StepAside) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	return wait(ctx, s, t.C)
}

// PairLocks lock an (event, configuration) pair across instances (pairlock.Locks, on Redis).
type PairLocks interface {
	// Hold waits for the pair's lock and takes it. The context returned is ctx for as long as
	// the lock is surely held, and ends (its cause says why) once that is no longer sure, so
	// that the holder stops before another one may take over. The function returned releases
	// the lock.
	Hold(ctx context.Context, eventID, configurationID string) (context.Context, func(), error)
}

// DeletedEvents tells whether an event was deleted from the log since it was recorded.
type DeletedEvents interface {
	EventDeleted(ctx context.Context, eventID string) (bool, error)
}

// RemovedConfigurations tells from the event store whether a configuration was removed (or
// never existed).
type RemovedConfigurations interface {
	ConfigurationRemoved(ctx context.Context, id string) (bool, error)
}

// EventDeletedBeforeDelivery says why a notification was not sent.
func EventDeletedBeforeDelivery(eventID string) string {
	return fmt.Sprintf("event %s was deleted before it could be delivered: not sent", eventID)
}

// KindDisabled says that nothing is sent to kind: a backfill refused or cut short, or a
// notification that waited while the kind was turned off.
func KindDisabled(kind domain.EndpointKind) string {
	return fmt.Sprintf("the admin disabled %s endpoints: nothing is sent to them, backfills included", kind)
}

// KindDisabledError refuses what would send to a disabled endpoint kind (a backfill): the
// request is sound, the system's state stands in its way.
type KindDisabledError struct{ Kind domain.EndpointKind }

func (e *KindDisabledError) Error() string {
	return KindDisabled(e.Kind) + fmt.Sprintf("; an admin enables them again with `herald notifications endpoint enable %s`", e.Kind)
}

// DisabledEndpoints reads the endpoint kinds the admin turned off.
type DisabledEndpoints interface {
	DisabledEndpoints(ctx context.Context) (map[domain.EndpointKind]bool, error)
}

// DefaultConcurrency is how many sends are under way at once unless configured.
const DefaultConcurrency = 64

// DefaultLateWait is the DelivererConfig.LateWait unless configured. Shorter waits for a turn
// are the ordinary queueing of a busy fan-out (1 to 10 ms each for most notifications in the
// fan-out benchmark, none as long as 100 ms), in which a change made meanwhile is as much a
// race as one made between dispatch and send; checking the kind and the event after each of
// them cost 11% of herald's CPU there, the event's read from the store most of it. A wait of
// a second or more is a slow receiver holding the turns, behind which a person's change can
// land.
const DefaultLateWait = time.Second

// Deliverer sends one job through its configuration's sender and records the outcome.
type Deliverer struct {
	cfg    DelivererConfig
	system map[string]domain.Configuration
	turns  chan struct{} // one token per send under way

	mu       sync.Mutex
	opened   map[string]domain.Configuration // by id, credentials opened; dropped when the revision moves
	limiters map[string]*rate.Limiter
	events   eventCache

	pairs *localPairs // pairs being handled in this process
}

// eventCache keeps the newest decoded events by log position, so that an event notified to
// many configurations is decoded once rather than once per configuration. A position names
// one record for good, so an entry never goes stale; a slot is simply overwritten.
type eventCache struct {
	mu    sync.Mutex
	slots [256]struct {
		position uint64
		event    domain.LogEvent
	}
}

func (c *eventCache) get(position uint64) (domain.LogEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[position%uint64(len(c.slots))]
	return s.event, position != 0 && s.position == position
}

func (c *eventCache) put(position uint64, e domain.LogEvent) {
	if position == 0 {
		return // no record has it: a job without one
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[position%uint64(len(c.slots))]
	s.position, s.event = position, e
}

// NewDeliverer builds a deliverer.
func NewDeliverer(cfg DelivererConfig) (*Deliverer, error) {
	if len(cfg.Senders) == 0 || cfg.Configurations == nil || cfg.OpenSettings == nil || cfg.Ledger == nil || cfg.Logger == nil || cfg.Now == nil {
		return nil, fmt.Errorf("new deliverer: nil dependency")
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.LateWait <= 0 {
		cfg.LateWait = DefaultLateWait
	}
	d := &Deliverer{
		cfg: cfg, system: map[string]domain.Configuration{}, turns: make(chan struct{}, cfg.Concurrency),
		opened: map[string]domain.Configuration{}, limiters: map[string]*rate.Limiter{}, pairs: newLocalPairs(cfg.StepAside),
	}
	for _, c := range cfg.System {
		d.system[c.ID] = c
	}
	return d, nil
}

// Kinds are the endpoint kinds the deliverer has a sender for.
func (d *Deliverer) Kinds() []domain.EndpointKind {
	var out []domain.EndpointKind
	for _, k := range domain.EndpointKinds() {
		if d.cfg.Senders[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// errTransient marks a failure of herald's own side (the ledger could not be written): not
// the receiver's fault, so the job is neither retried against the receiver nor dead-lettered;
// the router hands it over again after a pause.
var errTransient = errors.New("transient")

// Handle is the router handler of every kind: it skips what the ledger says is settled,
// sends, and records the delivery. A failure is returned for the retry and poison middleware.
func (d *Deliverer) Handle(msg *message.Message) ([]*message.Message, error) {
	job, err := JobOf(msg)
	if err != nil {
		return nil, &SendError{Err: err}
	}
	ctx := msg.Context()
	prior, settled, err := d.cfg.Ledger.Outcome(ctx, job.EventID, job.ConfigurationID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTransient, err)
	}
	if settled && (prior.Status == domain.DeliveryDelivered || job.Trigger == domain.TriggerDispatch) {
		return nil, nil // delivered (or dead-lettered) before a restart or by another instance
	}
	held, err := d.rateLimit(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTransient, err)
	}
	// Take a turn before reading what the send depends on: a notification that waits for one
	// of the Concurrency turns (behind a slow receiver, say) is sent as things are once it has
	// it, not as they were when it began to wait.
	waited, err := d.takeTurn(ctx)
	if err != nil {
		return nil, err
	}
	turn := sync.OnceFunc(func() { <-d.turns })
	defer turn() // also when a sender panics: the router recovers, and a lost turn never returns
	// A retry, a send the rate limit held back, or one that waited LateWait or longer for its
	// turn, may come long after the event was dispatched: the endpoint kind may have been
	// turned off, or the event deleted, since.
	late := held || waited >= d.cfg.LateWait || attemptOf(msg) > 1
	if (late || job.Trigger == domain.TriggerBackfill) && d.cfg.Disabled != nil {
		disabled, err := d.cfg.Disabled.DisabledEndpoints(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: read the endpoint kinds' status: %v", errTransient, err)
		}
		if disabled[job.Kind] {
			return nil, &SendError{Err: errors.New(KindDisabled(job.Kind))}
		}
	}
	if late && d.cfg.Events != nil {
		deleted, err := d.cfg.Events.EventDeleted(ctx, job.EventID)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errTransient, err)
		}
		if deleted {
			return nil, &SendError{Err: errors.New(EventDeletedBeforeDelivery(job.EventID))}
		}
	}
	// read after the wait: a configuration removed or edited meanwhile is seen as it is now
	n, err := d.notification(ctx, job)
	if err != nil {
		return nil, err
	}
	receipt, took, err := d.sendNow(ctx, n)
	turn()
	if err != nil && ctx.Err() != nil && !isStopping(ctx) {
		// herald's side gave up (its pair lock was lost), not the receiver: the message is
		// handed over again, and the ledger then says whether it went out (the send timeout
		// is the receiver's, and does not end ctx). Stopping, the send was let finish
		// (sendNow), and the receiver's answer stands.
		return nil, fmt.Errorf("%w: the send was cut short: %v", errTransient, context.Cause(ctx))
	}
	if err != nil {
		status := "" // this attempt's answer, not an earlier one's
		var se *SendError
		if errors.As(err, &se) && se.Status != 0 {
			status = strconv.Itoa(se.Status)
		}
		msg.Metadata.Set(metaStatus, status)
		d.cfg.Logger.Debug("send failed", "event", job.EventID, "configuration", job.ConfigurationID, "kind", job.Kind, "attempt", attemptOf(msg), "retryable", IsRetryable(err), "error", err, "correlation_id", middleware.MessageCorrelationID(msg))
		return nil, err
	}
	delivery := d.outcome(job, n.Event, n.Configuration, domain.DeliveryDelivered, attemptOf(msg), receipt.Status, "")
	if ctx.Err() != nil && !isStopping(ctx) {
		d.cfg.Logger.Warn("the notification went out after its pair lock was lost; another instance may send it too, with the same idempotency key", "event", job.EventID, "configuration", job.ConfigurationID, "cause", context.Cause(ctx))
	}
	// it went out: record it even when ctx has ended meanwhile (a lost pair lock, or a
	// shutdown), or it would be sent again
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.SendTimeout)
	defer cancel()
	if _, err := d.cfg.Ledger.Record(recordCtx, delivery); err != nil {
		d.cfg.Logger.Error("the receiver got the notification but the ledger could not record it; it will be sent again with the same idempotency key", "event", job.EventID, "configuration", job.ConfigurationID, "error", err)
		return nil, fmt.Errorf("%w: %v", errTransient, err)
	}
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Settled(job.Kind, domain.DeliveryDelivered, delivery.Latency)
	}
	if d.cfg.Logger.Enabled(ctx, slog.LevelDebug) { // its arguments cost five allocations per notification
		d.cfg.Logger.Debug("delivered", "event", job.EventID, "configuration", job.ConfigurationID, "kind", job.Kind, "status", receipt.Status, "took", took, "correlation_id", middleware.MessageCorrelationID(msg))
	}
	return nil, nil
}

// onePerPair is router middleware that handles one message of an (event, configuration)
// pair at a time, retries included: a backfill, or a dispatch after a restart, may publish a
// pair that is still being sent, and the second message must find the first one's outcome in
// the ledger rather than send again. With several instances, the pair's lock in Redis
// (DelivererConfig.Pairs) is taken as well, for one attempt at a time: retries on Redis Streams
// wait outside the handler.
func (d *Deliverer) onePerPair(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		event, configuration := msg.Metadata.Get(metaEvent), msg.Metadata.Get(metaConfiguration)
		outer := msg.Context()
		ctx := outer
		for _, locks := range []PairLocks{d.pairs, d.cfg.Pairs} {
			if locks == nil {
				continue
			}
			held, release, err := locks.Hold(ctx, event, configuration)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errTransient, err)
			}
			defer release()
			ctx = held
		}
		msg.SetContext(ctx) // the handler stops if a lock is lost
		defer msg.SetContext(outer)
		return h(msg)
	}
}

// localPairs are pair locks in memory, for the pairs one process handles.
type localPairs struct {
	aside StepAside // may be nil
	mu    sync.Mutex
	held  map[pairKey]chan struct{} // closed when released
}

func newLocalPairs(aside StepAside) *localPairs {
	return &localPairs{aside: aside, held: map[pairKey]chan struct{}{}}
}

// Hold implements PairLocks. A lock in memory is never lost: the context is ctx.
func (l *localPairs) Hold(ctx context.Context, eventID, configurationID string) (context.Context, func(), error) {
	key := pairKey{eventID, configurationID}
	for {
		l.mu.Lock()
		busy, ok := l.held[key]
		if !ok {
			done := make(chan struct{})
			l.held[key] = done
			l.mu.Unlock()
			return ctx, func() {
				l.mu.Lock()
				delete(l.held, key)
				l.mu.Unlock()
				close(done)
			}, nil
		}
		l.mu.Unlock()
		if err := wait(ctx, l.aside, busy); err != nil {
			return nil, nil, err
		}
	}
}

// takeTurn takes one of the Concurrency turns, waiting for it when all are taken, and says
// how long it waited; the caller gives it back (<-d.turns).
func (d *Deliverer) takeTurn(ctx context.Context) (waited time.Duration, err error) {
	select {
	case d.turns <- struct{}{}:
		return 0, nil
	default:
	}
	start := time.Now()
	select {
	case d.turns <- struct{}{}:
		return time.Since(start), nil
	case <-ctx.Done():
		return time.Since(start), fmt.Errorf("%w: %v", errTransient, ctx.Err())
	}
}

// sendNow sends n in the turn the caller holds.
func (d *Deliverer) sendNow(ctx context.Context, n Notification) (Receipt, time.Duration, error) {
	if ctx.Err() != nil { // no send starts once herald is stopping
		return Receipt{}, 0, fmt.Errorf("%w: %v", errTransient, context.Cause(ctx))
	}
	sctx, cancel := lingering(ctx) // a send under way when herald stops may finish
	defer cancel()
	r, took, err := d.send(sctx, n)
	if err != nil && sctx.Err() != nil { // herald's side ended the send, not the receiver
		return r, took, fmt.Errorf("%w: the send was cut short: %v", errTransient, context.Cause(sctx))
	}
	return r, took, err
}

// send sends with the send timeout and reports the metrics.
func (d *Deliverer) send(ctx context.Context, n Notification) (Receipt, time.Duration, error) {
	sender := d.cfg.Senders[n.Configuration.Kind]
	if sender == nil {
		return Receipt{}, 0, &SendError{Err: fmt.Errorf("no sender for %s endpoints", n.Configuration.Kind)}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	defer cancel()
	start := time.Now()
	receipt, err := sender.Send(ctx, n)
	took := time.Since(start)
	if d.cfg.Metrics != nil {
		outcome := "delivered"
		switch {
		case err != nil && IsRetryable(err):
			outcome = "retryable"
		case err != nil:
			outcome = "final"
		}
		d.cfg.Metrics.Sent(n.Configuration.Kind, outcome, took)
	}
	return receipt, took, err
}

// RecordFailure is the handler of the poison queue: it writes the NotificationFailed fact.
func (d *Deliverer) RecordFailure(msg *message.Message) error {
	job, err := JobOf(msg)
	if err != nil {
		d.cfg.Logger.Error("a message in the poison queue is not a notification; dropped", "error", err)
		return nil
	}
	c, _, _ := d.configuration(msg.Context(), job.ConfigurationID)
	if c.ID == "" { // removed since: the failure still belongs to its account
		c = domain.Configuration{ID: job.ConfigurationID, Account: job.Account, Kind: job.Kind}
	}
	status, _ := strconv.Atoi(msg.Metadata.Get(metaStatus))
	reason := msg.Metadata.Get(middleware.ReasonForPoisonedKey)
	e, err := domain.DecodeEventRecordedHeader(job.Fact)
	if err != nil {
		e = domain.LogEvent{} // unreadable: the failure is recorded without type and level
	}
	failure := d.outcome(job, e, c, domain.DeliveryFailed, attemptOf(msg), status, reason)
	if _, err := d.cfg.Ledger.Record(msg.Context(), failure); err != nil {
		return fmt.Errorf("%w: record the failure of event %s to configuration %s: %v", errTransient, job.EventID, job.ConfigurationID, err)
	}
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.Settled(job.Kind, domain.DeliveryFailed, failure.Latency)
	}
	d.cfg.Logger.Warn("notification failed", "event", job.EventID, "configuration", job.ConfigurationID, "kind", job.Kind, "attempts", failure.Attempts, "reason", reason, "correlation_id", middleware.MessageCorrelationID(msg))
	return nil
}

func (d *Deliverer) outcome(job Job, e domain.LogEvent, c domain.Configuration, status domain.DeliveryStatus, attempts, receiverStatus int, reason string) domain.Delivery {
	now := d.cfg.Now()
	out := domain.Delivery{
		EventID: job.EventID, ConfigurationID: job.ConfigurationID, Account: c.Account, Kind: job.Kind, EventType: e.Type, Level: e.Level,
		Status: status, ReceiverStatus: receiverStatus, Attempts: max(attempts, 1), Error: reason, Trigger: job.Trigger, At: now,
	}
	if !job.RecordedAt.IsZero() {
		out.Latency = max(now.Sub(job.RecordedAt), 0)
	}
	return out
}

// notification prepares what the sender gets: the event, the configuration with its
// credentials opened, and the message from the templates.
func (d *Deliverer) notification(ctx context.Context, job Job) (Notification, error) {
	c, system, err := d.configuration(ctx, job.ConfigurationID)
	if err != nil {
		return Notification{}, err
	}
	e, err := d.event(job)
	if err != nil {
		return Notification{}, &SendError{Err: fmt.Errorf("the event cannot be read: %w", err)}
	}
	if system {
		c = withEventPlaceholders(c, e)
	}
	return d.notificationOf(e, c)
}

// event decodes the job's event, or finds it decoded for another configuration. Senders
// share it and must not change it.
func (d *Deliverer) event(job Job) (domain.LogEvent, error) {
	if e, ok := d.events.get(job.Position); ok && e.ID == job.EventID {
		return e, nil
	}
	rec, err := domain.DecodeEventRecorded(job.Fact)
	if err != nil {
		return domain.LogEvent{}, err
	}
	d.events.put(job.Position, rec.Event)
	return rec.Event, nil
}

// notificationOf prepares e for c's sender: no text for one that sends the event itself, the
// short default text for one that shows the event's fields itself.
func (d *Deliverer) notificationOf(e domain.LogEvent, c domain.Configuration) (Notification, error) {
	switch d.cfg.Senders[c.Kind].(type) {
	case EventSender:
		return newEventNotification(e, c, d.cfg.UIURL), nil
	case FieldsSender:
		return newNotification(e, c, d.cfg.UIURL, defaultFieldsBody)
	}
	return NewNotification(e, c, d.cfg.UIURL)
}

// configuration returns a configuration with its credentials opened; system tells whether
// it comes from herald.yaml.
func (d *Deliverer) configuration(ctx context.Context, id string) (domain.Configuration, bool, error) {
	if c, ok := d.system[id]; ok {
		return c, true, nil
	}
	stored, ok, err := d.cfg.Configurations.Configuration(ctx, id)
	switch {
	case err != nil:
		return domain.Configuration{}, false, fmt.Errorf("%w: read configuration %s: %v", errTransient, id, err)
	case !ok && d.cfg.Removed != nil:
		removed, err := d.cfg.Removed.ConfigurationRemoved(ctx, id)
		if err != nil {
			return domain.Configuration{}, false, fmt.Errorf("%w: read configuration %s from the event store: %v", errTransient, id, err)
		}
		if !removed {
			return domain.Configuration{}, false, fmt.Errorf("%w: configuration %s is in the event store but not yet in the configurations view "+
				"(it is being rebuilt, or Redis lost its data)", errTransient, id)
		}
		fallthrough
	case !ok || stored.Deleted:
		return domain.Configuration{}, false, &SendError{Err: fmt.Errorf("configuration %s was removed", id)}
	}
	d.mu.Lock()
	cached, hit := d.opened[id]
	d.mu.Unlock()
	if hit && cached.Revision == stored.Revision {
		return cached, false, nil
	}
	if stored.Settings == nil {
		return domain.Configuration{}, false, &SendError{Err: fmt.Errorf("configuration %s has no settings", id)}
	}
	opened, err := d.cfg.OpenSettings(stored.Settings)
	if err != nil {
		return domain.Configuration{}, false, &SendError{Err: fmt.Errorf("the credentials of configuration %s cannot be opened (was the secret key changed?): %w", id, err)}
	}
	stored.Settings = opened
	d.mu.Lock()
	d.opened[id] = stored
	d.mu.Unlock()
	return stored, false, nil
}

// rateLimit waits for the configuration's rate limit; held tells whether it had to wait.
func (d *Deliverer) rateLimit(ctx context.Context, job Job) (held bool, err error) {
	r := d.limiter(job.ConfigurationID, job.Kind).Reserve()
	if !r.OK() {
		return false, fmt.Errorf("the rate limit of configuration %s admits no send", job.ConfigurationID)
	}
	delay := r.Delay()
	if delay == 0 {
		return false, nil
	}
	// A configuration removed since is not waited for: its queued notifications fail now, each
	// in its turn of the rate limit they would take up minutes (GitHub's), holding the slots
	// of the notifications in flight meanwhile. The caller reads the configuration again.
	var gone *SendError
	if _, _, err := d.configuration(ctx, job.ConfigurationID); errors.As(err, &gone) {
		r.Cancel()
		return false, nil
	}
	if err := d.cfg.StepAside.sleep(ctx, delay); err != nil {
		r.Cancel()
		return true, err
	}
	return true, nil
}

// limiter is the rate limiter of a configuration (of kind).
func (d *Deliverer) limiter(id string, kind domain.EndpointKind) *rate.Limiter {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.limiters[id]
	if l == nil {
		per := d.cfg.RateLimits[kind]
		if per <= 0 {
			l = rate.NewLimiter(rate.Inf, 0)
		} else {
			l = rate.NewLimiter(rate.Limit(per), max(1, int(per*5)))
		}
		d.limiters[id] = l
	}
	return l
}

// Test sends a test notification through a configuration (credentials opened) at once,
// outside the router: no retry, no ledger, whatever the endpoint's status.
func (d *Deliverer) Test(ctx context.Context, c domain.Configuration) TestResult {
	n, err := d.notificationOf(TestEvent(c, d.cfg.Now()), c)
	if err != nil {
		return TestResult{Error: err.Error()}
	}
	n.Test = true
	receipt, took, err := d.send(ctx, n)
	res := TestResult{Delivered: err == nil, ReceiverStatus: receipt.Status, Latency: took, Response: receipt.Body}
	if err != nil {
		res.Error = err.Error()
		var se *SendError
		if errors.As(err, &se) {
			res.ReceiverStatus, res.Retryable = se.Status, se.Retryable
		}
	}
	return res
}

// TestResult is what a test notification came to.
type TestResult struct {
	Delivered      bool
	ReceiverStatus int
	Retryable      bool
	Error          string
	Response       string
	Latency        time.Duration
}

// TestEventType is the type of test notifications.
const TestEventType = "system.notification.test"

// TestEvent is the event a test notification carries.
func TestEvent(c domain.Configuration, now time.Time) domain.LogEvent {
	return domain.LogEvent{
		ID: "test-" + strconv.FormatInt(now.UnixNano(), 36), Timestamp: now, Level: domain.LevelInfo, Type: TestEventType,
		Message:  fmt.Sprintf("This is a test notification from herald for the %s configuration %q.", c.Kind, c.Name),
		Resource: domain.Resource{UserID: c.Account, Type: "", ID: c.ID},
		Source:   domain.Source{ServiceName: "herald", HostID: "herald"},
		Details:  []byte(`{"test":true}`),
	}
}

// SystemConfigurationPrefix starts the ids of configurations that come from herald.yaml.
const SystemConfigurationPrefix = "system-"

// EventLogURL fills the engine's webhook URL placeholders for an event of account:
// <notification_type> (event_update) and <userId>.
func EventLogURL(url, account string) string {
	return strings.NewReplacer("<notification_type>", "event_update", "<userId>", account).Replace(url)
}

// withEventPlaceholders fills the URL placeholders of a system configuration for e.
func withEventPlaceholders(c domain.Configuration, e domain.LogEvent) domain.Configuration {
	if s, ok := c.Settings.(domain.WebhookSettings); ok {
		s.URL = EventLogURL(s.URL, e.Resource.UserID)
		c.Settings = s
	}
	return c
}

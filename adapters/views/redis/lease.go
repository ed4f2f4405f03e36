package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Lease lets one process at a time do a job that several herald instances could do (apply a
// view, dispatch notifications). The holder keeps the lease alive while it works; when it
// dies, the lease expires after TTL and another instance takes it over. Each acquisition
// gets a fencing token, a number larger than every earlier one, which the holder passes with
// its writes (EventLog.Fenced) so that storage refuses a former holder that woke up late.
//
// Keys: <prefix>lease:{<name>} holds the holder's random id with a TTL, and
// <prefix>lease:{<name>}:fence counts acquisitions (never expires; it starts from the clock).
type Lease struct {
	client   goredis.UniversalClient
	opts     LeaseOptions
	key      string
	fenceKey string
	owner    string // this Lease's random id, the value of the lease key while held
	scripts  leaseScripts

	mu      sync.Mutex
	holding bool
	fence   uint64
	lost    chan struct{}
	stop    context.CancelFunc // stops the keep-alive
	stopped chan struct{}      // closed when the keep-alive has returned
}

// LeaseOptions tune a Lease. The zero value is usable: setDefaults fills the gaps.
type LeaseOptions struct {
	// Prefix starts the lease's keys. Default "herald:".
	Prefix string
	// TTL is how long the lease outlives its holder's last renewal: the longest a dead
	// holder keeps others waiting. Default 10s.
	TTL time.Duration
	// RenewEvery is how often the holder renews. Default TTL/3, so that two renewals may
	// fail before the lease is at risk.
	RenewEvery time.Duration
	// RetryEvery is how often Acquire tries while another instance holds the lease.
	// Default TTL/10.
	RetryEvery time.Duration
}

func (o *LeaseOptions) setDefaults() {
	if o.Prefix == "" {
		o.Prefix = "herald:"
	}
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = o.TTL / 3
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = o.TTL / 10
	}
}

// Validate reports options that cannot keep a lease.
func (o *LeaseOptions) Validate() error {
	if o.TTL < 10*time.Millisecond {
		return fmt.Errorf("lease ttl %s is below 10ms: %w", o.TTL, errBadOptions)
	}
	if o.RenewEvery >= o.TTL {
		return fmt.Errorf("lease renewal every %s does not come before the ttl of %s: %w", o.RenewEvery, o.TTL, errBadOptions)
	}
	return nil
}

// ErrLeaseHeld means Acquire was called on a Lease that holds the lease already.
var ErrLeaseHeld = errors.New("lease already held by this instance")

// leaseScripts are the lease's Lua scripts.
type leaseScripts struct {
	// acquire takes the lease when it is free (or still this owner's) and draws a fence.
	acquire *goredis.Script
	// renew extends the lease while this owner holds it; 0 means the lease is gone.
	renew *goredis.Script
	// release frees the lease if this owner still holds it.
	release *goredis.Script
}

func newLeaseScripts() leaseScripts {
	return leaseScripts{
		// A missing counter starts from the server's clock in milliseconds, not from 0: when
		// Redis has lost its data, the fences drawn after are still newer than those drawn
		// before, which a former holder may still write with.
		acquire: goredis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) or redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if redis.call('EXISTS', KEYS[2]) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', KEYS[2], string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))
  end
  return redis.call('INCR', KEYS[2])
end
return false`),
		renew: goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`),
		release: goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`),
	}
}

// NewLease returns the lease called name (say "view:eventlog") in the Redis that client
// reaches. Every instance that competes for the job uses the same name and prefix.
func NewLease(client goredis.UniversalClient, name string, opts LeaseOptions) (*Lease, error) {
	if client == nil || name == "" {
		return nil, fmt.Errorf("new lease %q: nil client or empty name", name)
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new lease %q: %w", name, err)
	}
	key := opts.Prefix + "lease:{" + name + "}"
	lost := make(chan struct{})
	close(lost) // not held yet
	return &Lease{client: client, opts: opts, key: key, fenceKey: key + ":fence", owner: rand.Text(), scripts: newLeaseScripts(), lost: lost}, nil
}

// Acquire blocks until this instance holds the lease, or ctx is done, and returns the
// fencing token of this holding. The lease is then renewed in the background until Release
// is called, the renewals fail for too long, or another instance takes it over; Lost
// reports the end. ctx bounds only the wait.
func (l *Lease) Acquire(ctx context.Context) (uint64, error) {
	l.mu.Lock()
	held := l.holding
	l.mu.Unlock()
	if held {
		return 0, fmt.Errorf("acquire lease %s: %w", l.key, ErrLeaseHeld)
	}
	ttl := strconv.FormatInt(l.opts.TTL.Milliseconds(), 10)
	for {
		began := time.Now()
		// goredis.Nil means another instance holds the lease; other errors (Redis is
		// unreachable) are waited out the same way.
		fence, err := l.scripts.acquire.Run(ctx, l.client, []string{l.key, l.fenceKey}, l.owner, ttl).Uint64()
		if err == nil {
			l.hold(ctx, fence, began)
			return fence, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("acquire lease %s: %w", l.key, ctx.Err())
		case <-time.After(l.opts.RetryEvery):
		}
	}
}

func (l *Lease) hold(ctx context.Context, fence uint64, renewed time.Time) {
	keepCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	lost, stopped := make(chan struct{}), make(chan struct{})
	l.mu.Lock()
	l.holding, l.fence, l.lost, l.stop, l.stopped = true, fence, lost, stop, stopped
	l.mu.Unlock()
	go func() {
		defer close(stopped)
		l.keepAlive(keepCtx, renewed)
		l.mu.Lock()
		l.holding = false
		l.mu.Unlock()
		close(lost)
	}()
}

// keepAlive renews the lease until it is lost or ctx is done. The holder counts the lease
// lost a little before it can have expired in Redis (TTL from the start of the last
// successful renewal), so that it stops working before anyone else can start; a failed
// renewal is retried sooner, but never past that deadline.
func (l *Lease) keepAlive(ctx context.Context, renewed time.Time) {
	ttl := strconv.FormatInt(l.opts.TTL.Milliseconds(), 10)
	valid := l.opts.TTL * 9 / 10
	next := l.opts.RenewEvery
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := min(next, time.Until(renewed.Add(valid)))
		if wait <= 0 {
			return
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		left := time.Until(renewed.Add(valid))
		if left <= 0 {
			return
		}
		began := time.Now()
		rctx, cancel := context.WithTimeout(ctx, left)
		ok, err := l.scripts.renew.Run(rctx, l.client, []string{l.key}, l.owner, ttl).Int()
		cancel()
		switch {
		case err == nil && ok == 1:
			renewed, next = began, l.opts.RenewEvery
		case err == nil:
			return // expired, and perhaps taken over by another instance
		default:
			next = l.opts.RenewEvery / 4
		}
	}
}

// abandon stops renewing without releasing, as when the holder's process dies: the lease
// stays taken until its TTL runs out. For tests.
func (l *Lease) abandon() {
	l.mu.Lock()
	stop, stopped := l.stop, l.stopped
	l.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
}

// Lost is closed when the current (or last) holding ends; before the first Acquire it is
// closed already. A holder must stop working when it is closed.
func (l *Lease) Lost() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Fence returns the fencing token of the current (or last) holding.
func (l *Lease) Fence() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fence
}

// Release stops renewing and frees the lease, so that another instance takes it over at
// once rather than after the TTL. Releasing a lease not held does nothing.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	stop, stopped := l.stop, l.stopped
	l.stop = nil
	l.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	<-stopped
	if err := l.scripts.release.Run(ctx, l.client, []string{l.key}, l.owner).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}

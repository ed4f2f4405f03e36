package projections

import (
	"context"
	"time"
)

// Lease lets one herald instance at a time apply a view that several instances share
// (adapters/views/redis.Lease). Acquire blocks until this instance holds it and returns a
// fencing token; Lost is closed when the lease slipped away.
type Lease interface {
	Acquire(ctx context.Context) (fence uint64, err error)
	Lost() <-chan struct{}
	Release(ctx context.Context) error
}

// FenceClaimer makes the view refuse the writes of earlier lease holders; the runner calls
// it right after acquiring the lease, before it applies anything.
type FenceClaimer func(ctx context.Context, fence uint64) error

// UseLease makes the runner apply its view only while it holds the lease. Without the lease
// it stands by: queries still read the shared view, and WaitFor and Status follow the view's
// checkpoint as the holder moves it.
func (r *Runner) UseLease(l Lease, claim FenceClaimer) {
	r.lease, r.claim = l, claim
}

// standbyPoll is how often a standing-by runner reads the shared view's checkpoint.
const standbyPoll = 500 * time.Millisecond

// lead returns a context that lives while this instance may apply the view, and a function
// to call when done with it.
func (r *Runner) lead(ctx context.Context) (context.Context, func(), error) {
	if r.lease == nil {
		return ctx, func() {}, nil
	}
	r.setStandby(true)
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		r.followCheckpoint(pollCtx)
	}()
	fence, err := r.lease.Acquire(ctx)
	stopPoll()
	<-polled // from here on only follow sets Status: a late poll would undo what it sets
	if err != nil {
		return nil, nil, err
	}
	if r.claim != nil {
		if err := r.claim(ctx, fence); err != nil {
			_ = r.lease.Release(context.WithoutCancel(ctx))
			return nil, nil, err
		}
	}
	r.setStandby(false)
	r.logger.Info("holding the lease: this instance applies the view", "fence", fence)
	lctx, cancel := context.WithCancel(ctx)
	lost := r.lease.Lost()
	go func() {
		select {
		case <-lost:
			r.logger.Warn("lost the lease: standing by")
			cancel()
		case <-lctx.Done():
		}
	}()
	return lctx, func() {
		cancel()
		_ = r.lease.Release(context.WithoutCancel(ctx))
	}, nil
}

func (r *Runner) setStandby(on bool) {
	r.mu.Lock()
	r.standby = on
	r.mu.Unlock()
}

// followCheckpoint keeps Status and WaitFor current while another instance applies the view:
// the view counts as caught up once it reaches the log's head as it was one poll earlier (at
// the first poll, as it is now: an empty view is not caught up with a log that is not).
func (r *Runner) followCheckpoint(ctx context.Context) {
	var lastHead uint64
	headKnown := false
	for {
		cp, err1 := r.projection.Checkpoint(ctx)
		head, err2 := r.log.LastPosition(ctx)
		if err1 == nil && err2 == nil {
			if !headKnown {
				lastHead, headKnown = head, true
			}
			r.mu.Lock()
			if cp > r.applied || r.applied > head {
				r.applied = cp
				close(r.changed)
				r.changed = make(chan struct{})
			}
			r.head = head
			r.caughtUp = cp >= lastHead
			r.mu.Unlock()
			if cp >= lastHead {
				r.once.Do(func() { close(r.ready) })
			}
			lastHead = head
		}
		select {
		case <-time.After(standbyPoll):
		case <-ctx.Done():
			return
		}
	}
}

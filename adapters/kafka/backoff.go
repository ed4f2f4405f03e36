package kafka

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff yields exponentially growing delays with jitter, bounded by max: each delay is drawn
// from [d/2, d], where d doubles from min on every call, so that several herald instances
// retrying the same outage do not hammer it in step.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, next: min} }

func (b *backoff) delay() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.max)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx is done, and reports whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

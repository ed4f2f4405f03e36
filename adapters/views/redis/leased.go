package redis

import (
	"context"
	"sync/atomic"

	"herald/domain"
	"herald/projections"
)

// LeasedEventLog is the event-log view as a runner guarded by a lease uses it: Claim, called
// with each new fence (projections.FenceClaimer), makes every later write carry that fence.
type LeasedEventLog struct {
	base *EventLog
	cur  atomic.Pointer[EventLog]
}

// NewLeasedEventLog wraps a view; until the first Claim it writes unfenced.
func NewLeasedEventLog(base *EventLog) *LeasedEventLog {
	l := &LeasedEventLog{base: base}
	l.cur.Store(base)
	return l
}

// Claim implements projections.FenceClaimer: it fences out former holders and writes with
// fence from now on.
func (l *LeasedEventLog) Claim(ctx context.Context, fence uint64) error {
	v := l.base.Fenced(fence)
	if err := v.ClaimFence(ctx); err != nil {
		return err
	}
	l.cur.Store(v)
	return nil
}

// Apply implements projections.EventLogView.
func (l *LeasedEventLog) Apply(ctx context.Context, changes []projections.Change, checkpoint uint64) error {
	return l.cur.Load().Apply(ctx, changes, checkpoint)
}

// Checkpoint implements projections.EventLogView.
func (l *LeasedEventLog) Checkpoint(ctx context.Context) (uint64, error) {
	return l.cur.Load().Checkpoint(ctx)
}

// Page implements projections.EventLogView.
func (l *LeasedEventLog) Page(ctx context.Context, req projections.EventPageRequest) (projections.EventPage, error) {
	return l.cur.Load().Page(ctx, req)
}

// Count implements projections.EventLogView.
func (l *LeasedEventLog) Count(ctx context.Context, f domain.EventFilter) (int, error) {
	return l.cur.Load().Count(ctx, f)
}

// Entry implements projections.EventLogView.
func (l *LeasedEventLog) Entry(ctx context.Context, id string) (projections.EventEntry, bool, error) {
	return l.cur.Load().Entry(ctx, id)
}

// Types implements projections.EventLogView.
func (l *LeasedEventLog) Types(ctx context.Context) ([]string, error) { return l.cur.Load().Types(ctx) }

// Reset implements projections.EventLogView.
func (l *LeasedEventLog) Reset(ctx context.Context) error { return l.cur.Load().Reset(ctx) }

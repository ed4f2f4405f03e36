package redis

import (
	"context"
	"sync/atomic"

	"herald/domain"
	"herald/projections"
)

// LeasedDeliveries is the deliveries view as a lease-guarded runner uses it; see
// LeasedEventLog.
type LeasedDeliveries struct {
	base *Deliveries
	cur  atomic.Pointer[Deliveries]
}

// NewLeasedDeliveries wraps a view; until the first Claim it writes unfenced.
func NewLeasedDeliveries(base *Deliveries) *LeasedDeliveries {
	l := &LeasedDeliveries{base: base}
	l.cur.Store(base)
	return l
}

// Claim implements projections.FenceClaimer.
func (l *LeasedDeliveries) Claim(ctx context.Context, fence uint64) error {
	v := l.base.Fenced(fence)
	if err := v.ClaimFence(ctx); err != nil {
		return err
	}
	l.cur.Store(v)
	return nil
}

// Apply implements projections.DeliveryView.
func (l *LeasedDeliveries) Apply(ctx context.Context, deliveries []domain.Delivery, checkpoint uint64) error {
	return l.cur.Load().Apply(ctx, deliveries, checkpoint)
}

// Checkpoint implements projections.DeliveryView.
func (l *LeasedDeliveries) Checkpoint(ctx context.Context) (uint64, error) {
	return l.cur.Load().Checkpoint(ctx)
}

// Deliveries implements projections.DeliveryView.
func (l *LeasedDeliveries) Deliveries(ctx context.Context, f projections.DeliveryFilter, after uint64, limit int) (projections.DeliveryPage, error) {
	return l.cur.Load().Deliveries(ctx, f, after, limit)
}

// CountDeliveries implements projections.DeliveryView.
func (l *LeasedDeliveries) CountDeliveries(ctx context.Context, f projections.DeliveryFilter) (int, error) {
	return l.cur.Load().CountDeliveries(ctx, f)
}

// Reset implements projections.DeliveryView.
func (l *LeasedDeliveries) Reset(ctx context.Context) error { return l.cur.Load().Reset(ctx) }

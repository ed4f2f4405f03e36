package projections

import (
	"context"
	"fmt"
	"time"

	"herald/domain"
)

// DeliveriesViewName names the view of the delivery ledger.
const DeliveriesViewName = "deliveries"

// DeliveryFilter selects deliveries; zero fields select everything. Since is inclusive and
// Before exclusive, on the delivery's time (At).
type DeliveryFilter struct {
	Account         string // the configuration's account; "" for every account (admin)
	ConfigurationID string
	EventID         string
	Status          domain.DeliveryStatus
	Since, Before   time.Time
}

// Matches tells whether the filter selects d.
func (f DeliveryFilter) Matches(d domain.Delivery) bool {
	switch {
	case f.Account != "" && d.Account != f.Account,
		f.ConfigurationID != "" && d.ConfigurationID != f.ConfigurationID,
		f.EventID != "" && d.EventID != f.EventID,
		f.Status != "" && d.Status != f.Status,
		!f.Since.IsZero() && d.At.Before(f.Since),
		!f.Before.IsZero() && !d.At.Before(f.Before):
		return false
	}
	return true
}

// DeliveryPage is one page of deliveries, newest first (by ledger position).
type DeliveryPage struct {
	Deliveries []domain.Delivery
	// Next is the position to pass as After for the next page; 0 when this is the last.
	Next uint64
}

// DeliveryView is the store of the delivery history. Adapters: views/memory, views/redis.
type DeliveryView interface {
	// Apply adds deliveries (each with its Position) in log order and stores the checkpoint
	// with them; a delivery whose position is already present is not added twice.
	Apply(ctx context.Context, deliveries []domain.Delivery, checkpoint uint64) error
	Checkpoint(ctx context.Context) (uint64, error)
	// Deliveries returns up to limit deliveries matching f, newest first, strictly older than
	// position after (0: from the newest).
	Deliveries(ctx context.Context, f DeliveryFilter, after uint64, limit int) (DeliveryPage, error)
	// CountDeliveries tells how many deliveries match f.
	CountDeliveries(ctx context.Context, f DeliveryFilter) (int, error)
	Reset(ctx context.Context) error
}

// DeliveryProjection applies ledger facts to a DeliveryView.
type DeliveryProjection struct {
	view DeliveryView
}

// NewDeliveryProjection builds the projection.
func NewDeliveryProjection(view DeliveryView) (*DeliveryProjection, error) {
	if view == nil {
		return nil, fmt.Errorf("new delivery projection: nil view")
	}
	return &DeliveryProjection{view: view}, nil
}

// Name implements Projection.
func (p *DeliveryProjection) Name() string { return DeliveriesViewName }

// Checkpoint implements Projection.
func (p *DeliveryProjection) Checkpoint(ctx context.Context) (uint64, error) {
	return p.view.Checkpoint(ctx)
}

// Reset implements Projection.
func (p *DeliveryProjection) Reset(ctx context.Context) error { return p.view.Reset(ctx) }

// Apply implements Projection.
func (p *DeliveryProjection) Apply(ctx context.Context, records []domain.Record) error {
	var out []domain.Delivery
	for _, r := range records {
		if !domain.IsDeliveryFact(r.Type) {
			continue
		}
		d, err := domain.DecodeDelivery(r.Type, r.Data)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Position, err)
		}
		d.Position = r.Position
		out = append(out, d)
	}
	return p.view.Apply(ctx, out, records[len(records)-1].Position)
}

// MaxDeliveryPage bounds a page of deliveries.
const MaxDeliveryPage = 1000

// DeliveryQueries answers questions about the delivery history, within the caller's account.
type DeliveryQueries struct {
	view DeliveryView
}

// NewDeliveryQueries builds the query service.
func NewDeliveryQueries(view DeliveryView) (DeliveryQueries, error) {
	if view == nil {
		return DeliveryQueries{}, fmt.Errorf("new delivery queries: nil view")
	}
	return DeliveryQueries{view: view}, nil
}

// Deliveries lists deliveries the actor may see: its account's, or any for the admin account
// (which may narrow to one account with f.Account).
func (q DeliveryQueries) Deliveries(ctx context.Context, actor domain.Actor, f DeliveryFilter, after uint64, limit int) (DeliveryPage, error) {
	f, err := q.scope(actor, f)
	if err != nil {
		return DeliveryPage{}, err
	}
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 0 || limit > MaxDeliveryPage:
		return DeliveryPage{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "first", Message: fmt.Sprintf("is %d; it must lie between 1 and %d", limit, MaxDeliveryPage)}}}
	}
	return q.view.Deliveries(ctx, f, after, limit)
}

// Count tells how many deliveries the actor may see match f: a listing's total over all its
// pages.
func (q DeliveryQueries) Count(ctx context.Context, actor domain.Actor, f DeliveryFilter) (int, error) {
	f, err := q.scope(actor, f)
	if err != nil {
		return 0, err
	}
	return q.view.CountDeliveries(ctx, f)
}

// scope narrows f to what actor may see, and checks its time window.
func (DeliveryQueries) scope(actor domain.Actor, f DeliveryFilter) (DeliveryFilter, error) {
	if err := actor.Require(domain.ListNotificationDeliveries); err != nil {
		return f, err
	}
	if !actor.IsAdmin() {
		f.Account = actor.Account
	}
	if !f.Since.IsZero() && !f.Before.IsZero() && !f.Since.Before(f.Before) {
		return f, &domain.ValidationError{Fields: []domain.FieldError{{Field: "before", Message: "must be after since"}}}
	}
	return f, nil
}

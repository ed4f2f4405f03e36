package viewstest

import (
	"context"
	"sync"
	"testing"

	"herald/domain"
	"herald/projections"
)

// deliveryModelView is the delivery model behind a lock: the simplest view that passes the
// suite, which checks the suite itself.
type deliveryModelView struct {
	mu sync.Mutex
	m  *deliveryModel
}

func (v *deliveryModelView) Apply(_ context.Context, deliveries []domain.Delivery, checkpoint uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m.apply(deliveries, checkpoint)
	return nil
}

func (v *deliveryModelView) Checkpoint(context.Context) (uint64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.checkpoint, nil
}

func (v *deliveryModelView) Deliveries(_ context.Context, f projections.DeliveryFilter, after uint64, limit int) (projections.DeliveryPage, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.page(f, after, limit), nil
}

func (v *deliveryModelView) CountDeliveries(_ context.Context, f projections.DeliveryFilter) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.m.matching(f)), nil
}

func (v *deliveryModelView) Reset(context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m = newDeliveryModel()
	return nil
}

func TestDeliveryView_model(t *testing.T) {
	TestDeliveryView(t, func(*testing.T) projections.DeliveryView { return &deliveryModelView{m: newDeliveryModel()} })
}

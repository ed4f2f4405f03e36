package viewstest

import (
	"context"
	"sync"
	"testing"

	"herald/domain"
	"herald/projections"
)

// modelView is the model behind a lock: the simplest view that passes the suite, which
// checks the suite itself.
type modelView struct {
	mu sync.Mutex
	m  *model
}

func (v *modelView) Apply(_ context.Context, changes []projections.Change, checkpoint uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m.apply(changes, checkpoint)
	return nil
}

func (v *modelView) Checkpoint(context.Context) (uint64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.checkpoint, nil
}

func (v *modelView) Page(_ context.Context, req projections.EventPageRequest) (projections.EventPage, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.page(req), nil
}

func (v *modelView) Count(_ context.Context, f domain.EventFilter) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.count(f), nil
}

func (v *modelView) Entry(_ context.Context, id string) (projections.EventEntry, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m.entries[id]
	return e, ok, nil
}

func (v *modelView) Types(context.Context) ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m.typeList(), nil
}

func (v *modelView) Reset(context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m = newModel()
	return nil
}

func TestEventLogView_model(t *testing.T) {
	TestEventLogView(t, func(*testing.T) projections.EventLogView { return &modelView{m: newModel()} })
}

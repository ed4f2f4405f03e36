package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"herald/domain"
	"herald/projections"
)

// Configurations is the configurations view in memory: few items, read often (every
// dispatch), so a map behind a read-write lock.
type Configurations struct {
	mu         sync.RWMutex
	byID       map[string]domain.Configuration
	disabled   map[domain.EndpointKind]bool
	checkpoint uint64
}

// NewConfigurations returns an empty view.
func NewConfigurations() *Configurations {
	return &Configurations{byID: map[string]domain.Configuration{}, disabled: map[domain.EndpointKind]bool{}}
}

// Apply implements projections.ConfigurationView.
func (c *Configurations) Apply(_ context.Context, changes []projections.ConfigurationChange, checkpoint uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		switch {
		case ch.Upsert != nil:
			c.byID[ch.Upsert.ID] = *ch.Upsert
		case ch.Delete != "":
			delete(c.byID, ch.Delete)
		case ch.Status != nil:
			if ch.Status.Enabled {
				delete(c.disabled, ch.Status.Kind)
			} else {
				c.disabled[ch.Status.Kind] = true
			}
		}
	}
	c.checkpoint = max(c.checkpoint, checkpoint)
	return nil
}

// Checkpoint implements projections.ConfigurationView.
func (c *Configurations) Checkpoint(context.Context) (uint64, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.checkpoint, nil
}

// Configuration implements projections.ConfigurationView.
func (c *Configurations) Configuration(_ context.Context, id string) (domain.Configuration, bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cfg, ok := c.byID[id]
	return cfg, ok, nil
}

// Configurations implements projections.ConfigurationView.
func (c *Configurations) Configurations(_ context.Context, account string, kind domain.EndpointKind) ([]domain.Configuration, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []domain.Configuration
	for _, cfg := range c.byID {
		if (account == "" || cfg.Account == account) && (kind == "" || cfg.Kind == kind) {
			out = append(out, cfg)
		}
	}
	slices.SortFunc(out, func(a, b domain.Configuration) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DisabledEndpoints implements projections.ConfigurationView.
func (c *Configurations) DisabledEndpoints(context.Context) (map[domain.EndpointKind]bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[domain.EndpointKind]bool, len(c.disabled))
	for k, v := range c.disabled {
		out[k] = v
	}
	return out, nil
}

// Reset implements projections.ConfigurationView.
func (c *Configurations) Reset(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID = map[string]domain.Configuration{}
	c.disabled = map[domain.EndpointKind]bool{}
	c.checkpoint = 0
	return nil
}

package projections

import (
	"context"
	"fmt"
	"strings"

	"herald/domain"
)

// ConfigurationsViewName names the view of endpoint configurations and endpoint status.
const ConfigurationsViewName = "configurations"

// ConfigurationChange is one change to the configurations view. Exactly one field is set.
type ConfigurationChange struct {
	Upsert *domain.Configuration // the configuration as it now is (secrets sealed)
	Delete string                // id of a deleted configuration
	Status *domain.EndpointStatusChanged
}

// ConfigurationView is the store of endpoint configurations and endpoint status. Adapters:
// views/memory (and views/redis for several instances).
type ConfigurationView interface {
	// Apply applies changes in log order and stores the checkpoint with them.
	Apply(ctx context.Context, changes []ConfigurationChange, checkpoint uint64) error
	Checkpoint(ctx context.Context) (uint64, error)
	// Configuration returns one configuration by id; ok is false when there is none.
	Configuration(ctx context.Context, id string) (c domain.Configuration, ok bool, err error)
	// Configurations lists the configurations of an account ("" for every account), of one
	// kind ("" for every kind), sorted by name then id.
	Configurations(ctx context.Context, account string, kind domain.EndpointKind) ([]domain.Configuration, error)
	// EndpointStatus returns the kinds that were disabled; every other kind is enabled.
	DisabledEndpoints(ctx context.Context) (map[domain.EndpointKind]bool, error)
	Reset(ctx context.Context) error
}

// ConfigurationProjection applies configuration and endpoint facts to a ConfigurationView.
type ConfigurationProjection struct {
	view ConfigurationView
}

// NewConfigurationProjection builds the projection.
func NewConfigurationProjection(view ConfigurationView) (*ConfigurationProjection, error) {
	if view == nil {
		return nil, fmt.Errorf("new configuration projection: nil view")
	}
	return &ConfigurationProjection{view: view}, nil
}

// Name implements Projection.
func (p *ConfigurationProjection) Name() string { return ConfigurationsViewName }

// Checkpoint implements Projection.
func (p *ConfigurationProjection) Checkpoint(ctx context.Context) (uint64, error) {
	return p.view.Checkpoint(ctx)
}

// Reset implements Projection.
func (p *ConfigurationProjection) Reset(ctx context.Context) error { return p.view.Reset(ctx) }

// Apply implements Projection. A configuration fact changes the configuration as the view
// holds it (or as earlier records of the same batch left it).
func (p *ConfigurationProjection) Apply(ctx context.Context, records []domain.Record) error {
	var changes []ConfigurationChange
	pending := map[string]*domain.Configuration{}
	for _, r := range records {
		switch {
		case r.Type == domain.EndpointEnabledType || r.Type == domain.EndpointDisabledType:
			f, err := domain.DecodeEndpointStatusChanged(r.Type, r.Data)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Position, err)
			}
			changes = append(changes, ConfigurationChange{Status: &f})
		case strings.HasPrefix(r.Stream, domain.ConfigurationStreamPrefix):
			id := strings.TrimPrefix(r.Stream, domain.ConfigurationStreamPrefix)
			c, err := p.current(ctx, pending, id)
			if err != nil {
				return err
			}
			if r.Type == domain.StreamDeletedType {
				changes = append(changes, ConfigurationChange{Delete: id})
				delete(pending, id)
				continue
			}
			fact, err := domain.DecodeConfigurationFact(r.Type, r.Data, c.Kind)
			if err != nil {
				return fmt.Errorf("record %d: %w", r.Position, err)
			}
			next := *c
			next.Apply(fact, r.Revision)
			if next.Deleted {
				changes = append(changes, ConfigurationChange{Delete: id})
				delete(pending, id)
				continue
			}
			pending[id] = &next
			changes = append(changes, ConfigurationChange{Upsert: &next})
		}
	}
	return p.view.Apply(ctx, changes, records[len(records)-1].Position)
}

func (p *ConfigurationProjection) current(ctx context.Context, pending map[string]*domain.Configuration, id string) (*domain.Configuration, error) {
	if c, ok := pending[id]; ok {
		return c, nil
	}
	c, _, err := p.view.Configuration(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read configuration %s: %w", id, err)
	}
	return &c, nil
}

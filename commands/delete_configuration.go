package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// DeleteConfiguration removes an endpoint configuration and its selectors.
type DeleteConfiguration struct {
	Actor domain.Actor
	ID    string
}

// DeleteConfigurationHandler handles DeleteConfiguration.
type DeleteConfigurationHandler struct {
	store EventStore
	now   Clock
}

// NewDeleteConfigurationHandler builds the handler.
func NewDeleteConfigurationHandler(store EventStore, now Clock) (DeleteConfigurationHandler, error) {
	if store == nil || now == nil {
		return DeleteConfigurationHandler{}, fmt.Errorf("new delete configuration handler: %w", errNilDependency)
	}
	return DeleteConfigurationHandler{store: store, now: now}, nil
}

// Handle appends ConfigurationDeleted and returns the position of the fact.
func (h DeleteConfigurationHandler) Handle(ctx context.Context, cmd DeleteConfiguration) (uint64, error) {
	if err := cmd.Actor.Require(domain.DeleteNotificationEndpointConfiguration); err != nil {
		return 0, err
	}
	current, _, err := loadConfiguration(ctx, h.store, cmd.Actor, cmd.ID)
	if err != nil {
		return 0, err
	}
	return appendConfigurationFact(ctx, h.store, cmd.ID, domain.Exact(current.Revision), domain.ConfigurationDeleted{At: h.now()})
}

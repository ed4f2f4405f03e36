package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// SetEndpointStatus enables or disables an endpoint kind system-wide. Admin only.
// Configurations stay editable and testable while their kind is disabled.
type SetEndpointStatus struct {
	Actor   domain.Actor
	Kind    domain.EndpointKind
	Enabled bool
}

// SetEndpointStatusHandler handles SetEndpointStatus.
type SetEndpointStatusHandler struct {
	store EventStore
	now   Clock
}

// NewSetEndpointStatusHandler builds the handler.
func NewSetEndpointStatusHandler(store EventStore, now Clock) (SetEndpointStatusHandler, error) {
	if store == nil || now == nil {
		return SetEndpointStatusHandler{}, fmt.Errorf("new set endpoint status handler: %w", errNilDependency)
	}
	return SetEndpointStatusHandler{store: store, now: now}, nil
}

// Handle appends EndpointEnabled or EndpointDisabled and returns the position of the fact.
func (h SetEndpointStatusHandler) Handle(ctx context.Context, cmd SetEndpointStatus) (uint64, error) {
	if err := cmd.Actor.Require(domain.UpdateNotificationEndpoints); err != nil {
		return 0, err
	}
	if _, err := domain.ParseEndpointKind(string(cmd.Kind)); err != nil {
		return 0, err
	}
	fact := domain.EndpointStatusChanged{Kind: cmd.Kind, Enabled: cmd.Enabled, By: cmd.Actor.User, At: h.now()}
	res, err := h.store.Append(ctx, domain.EndpointStream(cmd.Kind), domain.Any(), fact.Encode())
	if err != nil {
		return 0, fmt.Errorf("append to endpoint %s: %w", cmd.Kind, err)
	}
	return res.Position, nil
}

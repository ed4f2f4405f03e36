package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// CreateConfiguration adds an endpoint configuration with its selectors. Secrets in the
// draft are plaintext; they are sealed before anything is stored.
type CreateConfiguration struct {
	Actor   domain.Actor
	Account string // "" for the caller's own
	Draft   domain.ConfigurationDraft
}

// CreateConfigurationHandler handles CreateConfiguration.
type CreateConfigurationHandler struct {
	store  EventStore
	sealer SecretSealer
	newID  func() string
	now    Clock
}

// NewCreateConfigurationHandler builds the handler.
func NewCreateConfigurationHandler(store EventStore, sealer SecretSealer, newID func() string, now Clock) (CreateConfigurationHandler, error) {
	if store == nil || sealer == nil || newID == nil || now == nil {
		return CreateConfigurationHandler{}, fmt.Errorf("new create configuration handler: %w", errNilDependency)
	}
	return CreateConfigurationHandler{store: store, sealer: sealer, newID: newID, now: now}, nil
}

// Handle checks the draft, claims its name in the account and appends ConfigurationCreated;
// it returns the new configuration's id and the position of the fact. A selector that
// repeats another is dropped (see domain.DistinctSelectors).
func (h CreateConfigurationHandler) Handle(ctx context.Context, cmd CreateConfiguration) (string, uint64, error) {
	if err := cmd.Actor.Require(domain.CreateNotificationEndpointConfiguration); err != nil {
		return "", 0, err
	}
	account, err := owningAccount(ctx, h.store, cmd.Actor, cmd.Account)
	if err != nil {
		return "", 0, err
	}
	if err := cmd.Draft.Validate(account); err != nil {
		return "", 0, err
	}
	draft := cmd.Draft
	draft.Selectors = domain.DistinctSelectors(draft.Selectors)
	if draft.Settings, err = sealSettings(draft.Settings, h.sealer); err != nil {
		return "", 0, err
	}
	id := h.newID()
	if err := claimConfigurationName(ctx, h.store, h.now(), account, draft.Name, id, 0); err != nil {
		return "", 0, err
	}
	fact := domain.ConfigurationCreated{ID: id, Account: account, Kind: draft.Settings.Kind(), Draft: draft, At: h.now()}
	pos, err := appendConfigurationFact(ctx, h.store, id, domain.NoStream(), fact)
	if err != nil {
		return "", 0, err
	}
	return id, pos, nil
}

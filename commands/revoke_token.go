package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// RevokeToken revokes an API token of a user: the user's own, or anyone's by the admin account.
type RevokeToken struct {
	Actor   domain.Actor
	Account string
	User    string
	TokenID string
}

// RevokeTokenHandler handles RevokeToken.
type RevokeTokenHandler struct {
	store EventStore
	now   Clock
}

// NewRevokeTokenHandler builds the handler.
func NewRevokeTokenHandler(store EventStore, now Clock) (RevokeTokenHandler, error) {
	if store == nil || now == nil {
		return RevokeTokenHandler{}, fmt.Errorf("new revoke token handler: %w", errNilDependency)
	}
	return RevokeTokenHandler{store: store, now: now}, nil
}

// Handle appends TokenRevoked.
func (h RevokeTokenHandler) Handle(ctx context.Context, cmd RevokeToken) error {
	if err := requireSelfOrAdmin(cmd.Actor, cmd.Account, cmd.User); err != nil {
		return err
	}
	account, err := loadAccount(ctx, h.store, cmd.Account)
	if err != nil {
		return err
	}
	u, err := account.ActiveUser(cmd.User)
	if err != nil {
		return err
	}
	if t, ok := u.Tokens[cmd.TokenID]; !ok || t.Revoked {
		return fmt.Errorf("token %s of user %s: %w", cmd.TokenID, cmd.User, domain.ErrTokenNotFound)
	}
	return appendAccountFacts(ctx, h.store, account, domain.TokenRevoked{User: cmd.User, TokenID: cmd.TokenID, At: h.now()})
}

package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// RemoveUser removes a user from an account; its tokens stop working. Admin only.
type RemoveUser struct {
	Actor   domain.Actor
	Account string
	User    string
}

// RemoveUserHandler handles RemoveUser.
type RemoveUserHandler struct {
	store EventStore
	now   Clock
}

// NewRemoveUserHandler builds the handler.
func NewRemoveUserHandler(store EventStore, now Clock) (RemoveUserHandler, error) {
	if store == nil || now == nil {
		return RemoveUserHandler{}, fmt.Errorf("new remove user handler: %w", errNilDependency)
	}
	return RemoveUserHandler{store: store, now: now}, nil
}

// Handle appends UserRemoved and frees the user name.
func (h RemoveUserHandler) Handle(ctx context.Context, cmd RemoveUser) error {
	if err := cmd.Actor.Require(domain.ManageAccounts); err != nil {
		return err
	}
	if cmd.Actor.Account == cmd.Account && cmd.Actor.User == cmd.User {
		return invalid("user", "you cannot remove yourself")
	}
	account, err := loadAccount(ctx, h.store, cmd.Account)
	if err != nil {
		return err
	}
	if _, err := account.ActiveUser(cmd.User); err != nil {
		return err
	}
	if err := appendAccountFacts(ctx, h.store, account, domain.UserRemoved{User: cmd.User, At: h.now()}); err != nil {
		return err
	}
	return releaseUserName(ctx, h.store, cmd.User, cmd.Account)
}

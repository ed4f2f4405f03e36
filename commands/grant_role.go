package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// GrantRole changes the role of a user. Admin only.
type GrantRole struct {
	Actor   domain.Actor
	Account string
	User    string
	Role    domain.Role
}

// GrantRoleHandler handles GrantRole.
type GrantRoleHandler struct {
	store EventStore
	now   Clock
}

// NewGrantRoleHandler builds the handler.
func NewGrantRoleHandler(store EventStore, now Clock) (GrantRoleHandler, error) {
	if store == nil || now == nil {
		return GrantRoleHandler{}, fmt.Errorf("new grant role handler: %w", errNilDependency)
	}
	return GrantRoleHandler{store: store, now: now}, nil
}

// Handle appends RoleGranted.
func (h GrantRoleHandler) Handle(ctx context.Context, cmd GrantRole) error {
	if err := cmd.Actor.Require(domain.ManageAccounts); err != nil {
		return err
	}
	if _, err := domain.ParseRole(string(cmd.Role)); err != nil {
		return invalid("role", "%s", err.Error())
	}
	account, err := loadAccount(ctx, h.store, cmd.Account)
	if err != nil {
		return err
	}
	if _, err := account.ActiveUser(cmd.User); err != nil {
		return err
	}
	return appendAccountFacts(ctx, h.store, account, domain.RoleGranted{User: cmd.User, Role: cmd.Role, At: h.now()})
}

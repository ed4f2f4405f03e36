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
	if account.Name == domain.AdminAccount && cmd.Role != domain.RoleReadWrite && !hasOtherAdmin(account, cmd.User) {
		return invalid("role", "%s is the last read-write user of the %s account: as %s nobody could manage accounts any more, this change included; give another user of %s the read-write role first",
			cmd.User, domain.AdminAccount, cmd.Role, domain.AdminAccount)
	}
	return appendAccountFacts(ctx, h.store, account, domain.RoleGranted{User: cmd.User, Role: cmd.Role, At: h.now()})
}

// hasOtherAdmin tells whether the admin account has an active read-write user besides user.
func hasOtherAdmin(admin domain.Account, user string) bool {
	for name, u := range admin.Users {
		if name != user && !u.Removed && u.Role == domain.RoleReadWrite {
			return true
		}
	}
	return false
}

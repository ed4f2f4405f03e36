package commands

import (
	"context"
	"errors"
	"fmt"

	"herald/domain"
)

// BootstrapAdmin creates the admin account and its first user on the first start. On later
// starts it changes nothing: the admin's password is then managed through the API.
type BootstrapAdmin struct {
	User     string
	Password string
}

// BootstrapAdminHandler handles BootstrapAdmin.
type BootstrapAdminHandler struct {
	store  EventStore
	hasher PasswordHasher
	now    Clock
}

// NewBootstrapAdminHandler builds the handler.
func NewBootstrapAdminHandler(store EventStore, hasher PasswordHasher, now Clock) (BootstrapAdminHandler, error) {
	if store == nil || hasher == nil || now == nil {
		return BootstrapAdminHandler{}, fmt.Errorf("new bootstrap admin handler: %w", errNilDependency)
	}
	return BootstrapAdminHandler{store: store, hasher: hasher, now: now}, nil
}

// Handle creates what is missing and tells whether it created the admin user.
func (h BootstrapAdminHandler) Handle(ctx context.Context, cmd BootstrapAdmin) (bool, error) {
	err := createAccount(ctx, h.store, domain.AdminAccount, h.now())
	if err != nil && !errors.Is(err, ErrAccountExists) {
		return false, err
	}
	account, err := loadAccount(ctx, h.store, domain.AdminAccount)
	if err != nil {
		return false, err
	}
	if len(account.Users) > 0 {
		return false, nil
	}
	if cmd.Password == "" {
		return false, invalid("admin_password", "the admin account has no user yet: set HERALD_ADMIN_PASSWORD (or auth.admin_password in herald.yaml) for the first start")
	}
	err = addUser(ctx, h.store, h.hasher, AddUser{Account: domain.AdminAccount, User: cmd.User, Role: domain.RoleReadWrite, Password: cmd.Password}, h.now())
	if err != nil {
		return false, err
	}
	return true, nil
}

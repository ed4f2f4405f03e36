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

// Handle creates what is missing and tells whether it created the admin user. The first
// user is checked before anything is written: a refused password (or user name) leaves the
// store as it was, not an admin account without users.
func (h BootstrapAdminHandler) Handle(ctx context.Context, cmd BootstrapAdmin) (bool, error) {
	account, err := loadAccount(ctx, h.store, domain.AdminAccount)
	switch {
	case err == nil && len(account.Users) > 0:
		return false, nil
	case err != nil && !errors.Is(err, domain.ErrAccountNotFound):
		return false, err
	}
	if err := h.checkFirstUser(cmd); err != nil {
		return false, err
	}
	err = createAccount(ctx, h.store, domain.AdminAccount, h.now())
	if err != nil && !errors.Is(err, ErrAccountExists) {
		return false, err
	}
	// Read again: another instance sharing the store may have added the first user meanwhile.
	if account, err = loadAccount(ctx, h.store, domain.AdminAccount); err != nil {
		return false, err
	}
	if len(account.Users) > 0 {
		return false, nil
	}
	err = addUser(ctx, h.store, h.hasher, AddUser{Account: domain.AdminAccount, User: cmd.User, Role: domain.RoleReadWrite, Password: cmd.Password}, h.now())
	if err != nil {
		return false, err
	}
	return true, nil
}

// checkFirstUser refuses what addUser would refuse of the first admin user, without writing.
// The password rule belongs to the hasher, so the password is checked by hashing it: once
// more than needed, on the first start only.
func (h BootstrapAdminHandler) checkFirstUser(cmd BootstrapAdmin) error {
	if cmd.Password == "" {
		return invalid("admin_password", "the admin account has no user yet: set HERALD_ADMIN_PASSWORD (or auth.admin_password in herald.yaml) for the first start")
	}
	if err := checkUserName(cmd.User); err != nil {
		return err
	}
	if _, err := h.hasher.Hash(cmd.Password); err != nil {
		return invalid("password", "%s", err.Error())
	}
	return nil
}

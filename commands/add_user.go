package commands

import (
	"context"
	"fmt"
	"time"

	"herald/domain"
)

// AddUser adds a user with a role to an account. Admin only. Password may be empty for a
// user that signs in with API tokens alone.
type AddUser struct {
	Actor    domain.Actor
	Account  string
	User     string
	Role     domain.Role
	Password string
}

// AddUserHandler handles AddUser.
type AddUserHandler struct {
	store  EventStore
	hasher PasswordHasher
	now    Clock
}

// NewAddUserHandler builds the handler.
func NewAddUserHandler(store EventStore, hasher PasswordHasher, now Clock) (AddUserHandler, error) {
	if store == nil || hasher == nil || now == nil {
		return AddUserHandler{}, fmt.Errorf("new add user handler: %w", errNilDependency)
	}
	return AddUserHandler{store: store, hasher: hasher, now: now}, nil
}

// Handle claims the user name, then appends UserAdded to the account.
func (h AddUserHandler) Handle(ctx context.Context, cmd AddUser) error {
	if err := cmd.Actor.Require(domain.ManageAccounts); err != nil {
		return err
	}
	return addUser(ctx, h.store, h.hasher, cmd, h.now())
}

// checkUserName refuses what cannot be a user name.
func checkUserName(user string) error {
	if !domain.ValidAccountName(user) {
		return invalid("user", "%s is not a user name: %s", domain.Quote(user), domain.AccountNameRule)
	}
	return nil
}

func addUser(ctx context.Context, store EventStore, hasher PasswordHasher, cmd AddUser, now time.Time) error {
	if err := checkUserName(cmd.User); err != nil {
		return err
	}
	if _, err := domain.ParseRole(string(cmd.Role)); err != nil {
		return invalid("role", "%s", err.Error())
	}
	var hash string
	if cmd.Password != "" {
		var err error
		if hash, err = hasher.Hash(cmd.Password); err != nil {
			return invalid("password", "%s", err.Error())
		}
	}
	account, err := loadAccount(ctx, store, cmd.Account)
	if err != nil {
		return err
	}
	if err := claimUserName(ctx, store, cmd.User, cmd.Account); err != nil {
		return err
	}
	return appendAccountFacts(ctx, store, account, domain.UserAdded{User: cmd.User, Role: cmd.Role, PasswordHash: hash, At: now})
}

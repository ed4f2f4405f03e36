package commands

import (
	"context"
	"fmt"

	"herald/domain"
)

// ChangePassword sets a user's password: the user itself, or the admin account for anyone.
type ChangePassword struct {
	Actor    domain.Actor
	Account  string
	User     string
	Password string
}

// ChangePasswordHandler handles ChangePassword.
type ChangePasswordHandler struct {
	store  EventStore
	hasher PasswordHasher
	now    Clock
}

// NewChangePasswordHandler builds the handler.
func NewChangePasswordHandler(store EventStore, hasher PasswordHasher, now Clock) (ChangePasswordHandler, error) {
	if store == nil || hasher == nil || now == nil {
		return ChangePasswordHandler{}, fmt.Errorf("new change password handler: %w", errNilDependency)
	}
	return ChangePasswordHandler{store: store, hasher: hasher, now: now}, nil
}

// Handle appends PasswordChanged with the new hash.
func (h ChangePasswordHandler) Handle(ctx context.Context, cmd ChangePassword) error {
	self := cmd.Actor.Account == cmd.Account && cmd.Actor.User == cmd.User
	switch {
	case self && cmd.Actor.ByToken:
		// a leaked token must not become the account for good
		return fmt.Errorf("changing your own password needs your current one: sign in with it (Basic), not with an API token: %w", domain.ErrForbidden)
	case !self:
		if err := cmd.Actor.Require(domain.ManageAccounts); err != nil {
			return err
		}
	}
	hash, err := h.hasher.Hash(cmd.Password)
	if err != nil {
		return invalid("password", "%s", err.Error())
	}
	account, err := loadAccount(ctx, h.store, cmd.Account)
	if err != nil {
		return err
	}
	if _, err := account.ActiveUser(cmd.User); err != nil {
		return err
	}
	return appendAccountFacts(ctx, h.store, account, domain.PasswordChanged{User: cmd.User, PasswordHash: hash, At: h.now()})
}

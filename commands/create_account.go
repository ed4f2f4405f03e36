package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/domain"
)

// ErrAccountExists means an account of that name already exists.
var ErrAccountExists = errors.New("account already exists")

// CreateAccount adds an account. Admin only.
type CreateAccount struct {
	Actor domain.Actor
	Name  string
}

// CreateAccountHandler handles CreateAccount.
type CreateAccountHandler struct {
	store EventStore
	now   Clock
}

// NewCreateAccountHandler builds the handler.
func NewCreateAccountHandler(store EventStore, now Clock) (CreateAccountHandler, error) {
	if store == nil || now == nil {
		return CreateAccountHandler{}, fmt.Errorf("new create account handler: %w", errNilDependency)
	}
	return CreateAccountHandler{store: store, now: now}, nil
}

// Handle appends AccountCreated to a new account stream.
func (h CreateAccountHandler) Handle(ctx context.Context, cmd CreateAccount) error {
	if err := cmd.Actor.Require(domain.ManageAccounts); err != nil {
		return err
	}
	return createAccount(ctx, h.store, cmd.Name, h.now())
}

func createAccount(ctx context.Context, store EventStore, name string, now time.Time) error {
	if !domain.ValidAccountName(name) {
		return invalid("name", "%s is not an account name: %s", domain.Quote(name), domain.AccountNameRule)
	}
	fact, err := domain.EncodeAccountFact(domain.AccountCreated{Name: name, At: now})
	if err != nil {
		return err
	}
	_, err = store.Append(ctx, domain.AccountStream(name), domain.NoStream(), fact)
	switch {
	case errors.Is(err, domain.ErrConcurrency), errors.Is(err, domain.ErrStreamDeleted):
		return fmt.Errorf("account %s: %w", name, ErrAccountExists)
	case err != nil:
		return fmt.Errorf("create account %s: %w", name, err)
	}
	return nil
}

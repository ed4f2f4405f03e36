package commands

import (
	"context"
	"errors"
	"fmt"

	"herald/domain"
)

// PasswordHasher hashes and checks passwords.
type PasswordHasher interface {
	Hash(password string) (string, error)
}

// loadAccount reads an account's stream and replays its facts.
func loadAccount(ctx context.Context, store EventStore, name string) (domain.Account, error) {
	records, err := store.ReadStream(ctx, domain.AccountStream(name))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return domain.Account{}, fmt.Errorf("account %s: %w", name, domain.ErrAccountNotFound)
	case err != nil:
		return domain.Account{}, fmt.Errorf("read account %s: %w", name, err)
	}
	var a domain.Account
	for _, r := range records {
		fact, err := domain.DecodeAccountFact(r.Type, r.Data)
		if err != nil {
			return domain.Account{}, err
		}
		a.Apply(fact, r.Revision)
	}
	if a.Deleted {
		return domain.Account{}, fmt.Errorf("account %s: %w", name, domain.ErrAccountNotFound)
	}
	return a, nil
}

// appendAccountFacts appends facts to an account expected at revision.
func appendAccountFacts(ctx context.Context, store EventStore, a domain.Account, facts ...any) error {
	encoded := make([]domain.Fact, len(facts))
	for i, f := range facts {
		e, err := domain.EncodeAccountFact(f)
		if err != nil {
			return err
		}
		encoded[i] = e
	}
	if _, err := store.Append(ctx, domain.AccountStream(a.Name), domain.Exact(a.Revision), encoded...); err != nil {
		return fmt.Errorf("append to account %s: %w", a.Name, err)
	}
	return nil
}

// userNameStream reserves a user name across accounts: users sign in with their name alone,
// so a name belongs to one account at most. Appending with "no stream" makes the claim atomic.
func userNameStream(user string) string { return domain.UserNameStreamPrefix + user }

const userNameClaimedType = "UserNameClaimed"

func invalid(field, format string, args ...any) error {
	return &domain.ValidationError{Fields: []domain.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

package projections

import (
	"context"
	"fmt"
	"strings"

	"herald/domain"
)

// AccountsViewName names the view of accounts, users and tokens.
const AccountsViewName = "accounts"

// AccountView holds every account as its facts left it (credentials hashed), for signing in
// and for the admin's listings.
type AccountView interface {
	// Apply stores the accounts as they now are, with the checkpoint.
	Apply(ctx context.Context, accounts []domain.Account, checkpoint uint64) error
	Checkpoint(ctx context.Context) (uint64, error)
	Account(ctx context.Context, name string) (a domain.Account, ok bool, err error)
	Accounts(ctx context.Context) ([]domain.Account, error)
	// UserAccount finds the account of a user name (names are unique across accounts).
	UserAccount(ctx context.Context, user string) (account string, ok bool, err error)
	// TokenOwner finds the account and user of an API token id.
	TokenOwner(ctx context.Context, tokenID string) (account, user string, ok bool, err error)
	Reset(ctx context.Context) error
}

// AccountsProjection applies account facts to an AccountView.
type AccountsProjection struct {
	view AccountView
}

// NewAccountsProjection builds the projection.
func NewAccountsProjection(view AccountView) (*AccountsProjection, error) {
	if view == nil {
		return nil, fmt.Errorf("new accounts projection: nil view")
	}
	return &AccountsProjection{view: view}, nil
}

// Name implements Projection.
func (p *AccountsProjection) Name() string { return AccountsViewName }

// Checkpoint implements Projection.
func (p *AccountsProjection) Checkpoint(ctx context.Context) (uint64, error) {
	return p.view.Checkpoint(ctx)
}

// Reset implements Projection.
func (p *AccountsProjection) Reset(ctx context.Context) error { return p.view.Reset(ctx) }

// Apply implements Projection.
func (p *AccountsProjection) Apply(ctx context.Context, records []domain.Record) error {
	changed := map[string]*domain.Account{}
	var order []string
	for _, r := range records {
		name, ok := strings.CutPrefix(r.Stream, domain.AccountStreamPrefix)
		if !ok || r.Type == domain.StreamDeletedType {
			continue
		}
		a, seen := changed[name]
		if !seen {
			current, _, err := p.view.Account(ctx, name)
			if err != nil {
				return fmt.Errorf("read account %s: %w", name, err)
			}
			if !seen && current.Users == nil {
				current.Users = map[string]*domain.User{}
			}
			a = &current
			changed[name] = a
			order = append(order, name)
		}
		fact, err := domain.DecodeAccountFact(r.Type, r.Data)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Position, err)
		}
		a.Apply(fact, r.Revision)
	}
	accounts := make([]domain.Account, 0, len(order))
	for _, name := range order {
		accounts = append(accounts, *changed[name])
	}
	return p.view.Apply(ctx, accounts, records[len(records)-1].Position)
}

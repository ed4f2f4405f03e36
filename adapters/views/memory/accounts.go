package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"herald/domain"
)

// Accounts is the accounts view in memory. It hands out deep copies, so that callers (the
// projection applies facts to what it reads) never touch what readers see.
type Accounts struct {
	mu         sync.RWMutex
	byName     map[string]domain.Account
	users      map[string]string    // user name -> account
	tokens     map[string][2]string // token id -> account, user
	checkpoint uint64
}

// NewAccounts returns an empty view.
func NewAccounts() *Accounts {
	return &Accounts{byName: map[string]domain.Account{}, users: map[string]string{}, tokens: map[string][2]string{}}
}

// Apply implements projections.AccountView.
func (v *Accounts) Apply(_ context.Context, accounts []domain.Account, checkpoint uint64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, a := range accounts {
		a = a.Clone()
		v.byName[a.Name] = a
		for name, u := range a.Users {
			if u.Removed {
				if v.users[name] == a.Name {
					delete(v.users, name)
				}
			} else {
				v.users[name] = a.Name
			}
			for id := range u.Tokens {
				v.tokens[id] = [2]string{a.Name, name}
			}
		}
	}
	v.checkpoint = max(v.checkpoint, checkpoint)
	return nil
}

// Checkpoint implements projections.AccountView.
func (v *Accounts) Checkpoint(context.Context) (uint64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.checkpoint, nil
}

// Account implements projections.AccountView.
func (v *Accounts) Account(_ context.Context, name string) (domain.Account, bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.byName[name]
	if !ok {
		return domain.Account{}, false, nil
	}
	return a.Clone(), true, nil
}

// Accounts implements projections.AccountView.
func (v *Accounts) Accounts(context.Context) ([]domain.Account, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]domain.Account, 0, len(v.byName))
	for _, a := range v.byName {
		if !a.Deleted {
			out = append(out, a.Clone())
		}
	}
	slices.SortFunc(out, func(a, b domain.Account) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// UserAccount implements projections.AccountView.
func (v *Accounts) UserAccount(_ context.Context, user string) (string, bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.users[user]
	return a, ok, nil
}

// TokenOwner implements projections.AccountView.
func (v *Accounts) TokenOwner(_ context.Context, id string) (string, string, bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	o, ok := v.tokens[id]
	return o[0], o[1], ok, nil
}

// Reset implements projections.AccountView.
func (v *Accounts) Reset(context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.byName, v.users, v.tokens, v.checkpoint = map[string]domain.Account{}, map[string]string{}, map[string][2]string{}, 0
	return nil
}

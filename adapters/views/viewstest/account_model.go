package viewstest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// accountModel is what an accounts view must hold: the accounts as last applied, a user
// name's account while the user is active there, a token's owner from its issue on.
type accountModel struct {
	byName     map[string]domain.Account
	users      map[string]string    // user -> account
	tokens     map[string][2]string // token id -> account, user
	checkpoint uint64
	// every name, user and token ever applied, to check lookups that must fail
	names, userNames, tokenIDs map[string]bool
}

func newAccountModel() *accountModel {
	return &accountModel{
		byName: map[string]domain.Account{}, users: map[string]string{}, tokens: map[string][2]string{},
		names: map[string]bool{}, userNames: map[string]bool{}, tokenIDs: map[string]bool{},
	}
}

func (m *accountModel) apply(accounts []domain.Account, checkpoint uint64) {
	for _, a := range accounts {
		a = a.Clone()
		m.byName[a.Name], m.names[a.Name] = a, true
		for name, u := range a.Users {
			m.userNames[name] = true
			if !u.Removed {
				m.users[name] = a.Name
			} else if m.users[name] == a.Name {
				delete(m.users, name)
			}
			for id := range u.Tokens {
				m.tokens[id], m.tokenIDs[id] = [2]string{a.Name, name}, true
			}
		}
	}
	m.checkpoint = max(m.checkpoint, checkpoint)
}

// accountFixture drives one view and the model side by side.
type accountFixture struct {
	t        *testing.T
	ctx      context.Context
	view     projections.AccountView
	model    *accountModel
	position uint64
}

func newAccountFixture(t *testing.T, newView NewAccountView) *accountFixture {
	return &accountFixture{t: t, ctx: t.Context(), view: newView(t), model: newAccountModel()}
}

func (fx *accountFixture) apply(accounts ...domain.Account) {
	fx.t.Helper()
	fx.position += uint64(len(accounts)) + 1
	fx.applyAt(fx.position, accounts...)
}

func (fx *accountFixture) applyAt(checkpoint uint64, accounts ...domain.Account) {
	fx.t.Helper()
	if err := fx.view.Apply(fx.ctx, accounts, checkpoint); err != nil {
		fx.t.Fatalf("Apply(%d accounts, checkpoint %d): %v", len(accounts), checkpoint, err)
	}
	fx.model.apply(accounts, checkpoint)
}

// check compares the whole view with the model: every account, user and token ever applied,
// the listing and the checkpoint.
func (fx *accountFixture) check() {
	fx.t.Helper()
	for _, name := range append(slices.Sorted(maps.Keys(fx.model.names)), "never-created") {
		want, held := fx.model.byName[name]
		got, ok, err := fx.view.Account(fx.ctx, name)
		switch {
		case err != nil:
			fx.t.Fatalf("Account(%s): %v", name, err)
		case ok != held:
			fx.t.Fatalf("Account(%s) found = %v, want %v", name, ok, held)
		case held:
			if d := diffAccount(want, got); d != "" {
				fx.t.Fatalf("Account(%s): %s", name, d)
			}
		}
	}
	got, err := fx.view.Accounts(fx.ctx)
	if err != nil {
		fx.t.Fatalf("Accounts: %v", err)
	}
	var want []domain.Account
	for _, name := range slices.Sorted(maps.Keys(fx.model.byName)) {
		if a := fx.model.byName[name]; !a.Deleted {
			want = append(want, a)
		}
	}
	if len(got) != len(want) {
		fx.t.Fatalf("Accounts = %v, want %v", accountNames(got), accountNames(want))
	}
	for i := range want {
		if d := diffAccount(want[i], got[i]); d != "" {
			fx.t.Fatalf("Accounts = %v, want %v: item %d: %s", accountNames(got), accountNames(want), i, d)
		}
	}
	for _, user := range append(slices.Sorted(maps.Keys(fx.model.userNames)), "never-added") {
		want, held := fx.model.users[user]
		got, ok, err := fx.view.UserAccount(fx.ctx, user)
		if err != nil || ok != held || got != want {
			fx.t.Fatalf("UserAccount(%s) = %q, %v, %v; want %q, %v", user, got, ok, err, want, held)
		}
	}
	for _, id := range append(slices.Sorted(maps.Keys(fx.model.tokenIDs)), "never-issued") {
		want, held := fx.model.tokens[id]
		account, user, ok, err := fx.view.TokenOwner(fx.ctx, id)
		if err != nil || ok != held || account != want[0] || user != want[1] {
			fx.t.Fatalf("TokenOwner(%s) = %q, %q, %v, %v; want %q, %q, %v", id, account, user, ok, err, want[0], want[1], held)
		}
	}
	if cp, err := fx.view.Checkpoint(fx.ctx); err != nil || cp != fx.model.checkpoint {
		fx.t.Fatalf("Checkpoint = %d, %v; want %d", cp, err, fx.model.checkpoint)
	}
}

func accountNames(list []domain.Account) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Name
	}
	return out
}

// diffAccount describes how got differs from want, or returns "" when they hold the same:
// fields, instants, and users and tokens under the same keys (nil and empty maps alike).
func diffAccount(want, got domain.Account) string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	if want.Name != got.Name || want.Revision != got.Revision || want.Deleted != got.Deleted {
		add("name, revision, deleted = %s, %d, %v; want %s, %d, %v", got.Name, got.Revision, got.Deleted, want.Name, want.Revision, want.Deleted)
	}
	sameTime(add, "CreatedAt", want.CreatedAt, got.CreatedAt)
	if !slices.Equal(slices.Sorted(maps.Keys(want.Users)), slices.Sorted(maps.Keys(got.Users))) {
		add("users %v, want %v", slices.Sorted(maps.Keys(got.Users)), slices.Sorted(maps.Keys(want.Users)))
		return strings.Join(d, "; ")
	}
	for name, w := range want.Users {
		g := got.Users[name]
		if w == nil || g == nil {
			if (w == nil) != (g == nil) {
				add("user %s = %v, want %v", name, g, w)
			}
			continue
		}
		if w.Name != g.Name || w.Role != g.Role || w.PasswordHash != g.PasswordHash || w.Removed != g.Removed {
			add("user %s = %s %s %q removed %v; want %s %s %q removed %v", name, g.Name, g.Role, g.PasswordHash, g.Removed, w.Name, w.Role, w.PasswordHash, w.Removed)
		}
		if !slices.Equal(slices.Sorted(maps.Keys(w.Tokens)), slices.Sorted(maps.Keys(g.Tokens))) {
			add("user %s tokens %v, want %v", name, slices.Sorted(maps.Keys(g.Tokens)), slices.Sorted(maps.Keys(w.Tokens)))
			continue
		}
		for id, wt := range w.Tokens {
			gt := g.Tokens[id]
			if wt.ID != gt.ID || wt.Description != gt.Description || wt.Hash != gt.Hash || wt.Revoked != gt.Revoked {
				add("token %s = %+v, want %+v", id, gt, wt)
			}
			sameTime(add, "token "+id+" IssuedAt", wt.IssuedAt, gt.IssuedAt)
			sameTime(add, "token "+id+" ExpiresAt", wt.ExpiresAt, gt.ExpiresAt)
		}
	}
	return strings.Join(d, "; ")
}

func sameTime(add func(string, ...any), what string, want, got time.Time) {
	if !want.Equal(got) || want.IsZero() != got.IsZero() {
		add("%s = %s, want %s", what, got, want)
	}
}

// accountOf replays facts into an account, as the projection does.
func accountOf(facts ...any) domain.Account {
	var a domain.Account
	for i, f := range facts {
		a.Apply(f, uint64(i))
	}
	return a
}

// sampleAccount returns an account with users of both roles, one signing in with tokens
// only, one removed, and tokens expiring, not expiring and revoked.
func sampleAccount(name string) domain.Account {
	at := func(h int) time.Time { return sampleStart.Add(time.Duration(h) * time.Hour) }
	admin, viewer, robot, gone := name+".admin@example.com", name+"-viewer", name+"_ci", name+"-gone"
	return accountOf(
		domain.AccountCreated{Name: name, At: at(0)},
		domain.UserAdded{User: admin, Role: domain.RoleReadWrite, PasswordHash: "$2a$10$" + name + "N9qo8uLOickgx2ZMRZoMye", At: at(1)},
		domain.UserAdded{User: viewer, Role: domain.RoleReadWrite, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", At: at(2)},
		domain.RoleGranted{User: viewer, Role: domain.RoleReadOnly, At: at(3)},
		domain.UserAdded{User: robot, Role: domain.RoleReadOnly, At: at(4)},
		domain.TokenIssued{User: robot, Token: domain.Token{ID: name + "-tok-1", Description: "CI — nightly \"scan\"", Hash: "sha256:0f1e", IssuedAt: at(5)}},
		domain.TokenIssued{User: robot, Token: domain.Token{ID: name + "-tok-2", Hash: "sha256:2d3c", IssuedAt: at(6), ExpiresAt: at(24 * 90)}},
		domain.TokenIssued{User: admin, Token: domain.Token{ID: name + "-tok-3", Hash: "sha256:4b5a", IssuedAt: at(7)}},
		domain.TokenRevoked{User: robot, TokenID: name + "-tok-1", At: at(8)},
		domain.PasswordChanged{User: admin, PasswordHash: "$2a$10$changed" + name, At: at(9)},
		domain.UserAdded{User: gone, Role: domain.RoleReadWrite, PasswordHash: "$2a$10$gone", At: at(10)},
		domain.TokenIssued{User: gone, Token: domain.Token{ID: name + "-tok-4", Hash: "sha256:6978", IssuedAt: at(11)}},
		domain.UserRemoved{User: gone, At: at(12)},
		domain.RetentionSet{MaxAge: 30 * 24 * time.Hour, At: at(13)},
	)
}

package viewstest

import (
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// NewAccountView returns a fresh, empty accounts view for one test.
type NewAccountView func(t *testing.T) projections.AccountView

// TestAccountView runs the contract suite of projections.AccountView against the views
// newView makes, each test in parallel on a view of its own, checking the answers against a
// model made of maps.
func TestAccountView(t *testing.T, newView func(t *testing.T) projections.AccountView) {
	tests := []struct {
		name string
		test func(*testing.T, NewAccountView)
	}{
		{"ReadBack", TestAccountReadBack},
		{"IsACopy", TestAccountIsACopy},
		{"Listing", TestAccountsListing},
		{"UserAccount", TestUserAccount},
		{"TokenOwner", TestTokenOwner},
		{"Checkpoint", TestAccountCheckpoint},
		{"Reset", TestAccountReset},
		{"AppliedTwice", TestAccountAppliedTwice},
		{"RandomHistory", TestAccountRandomHistory},
		{"ConcurrentReadsAndApplies", TestAccountConcurrentReadsAndApplies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newView)
		})
	}
}

// TestAccountReadBack: an account reads back as applied: users with roles and hashed
// credentials (none for a token-only user), removed users, tokens with and without expiry,
// revoked, with descriptions; revision beyond 2^53; an account without users; zero times.
func TestAccountReadBack(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	admin := sampleAccount(domain.AdminAccount)
	admin.Revision = 1<<53 + 3
	bare := accountOf(domain.AccountCreated{Name: "bare", At: sampleStart})
	zero := domain.Account{Name: "zero", Users: map[string]*domain.User{}}
	fx.apply(sampleAccount("acme"), admin, bare, zero)
	fx.check()
}

// TestAccountIsACopy: neither the account given to Apply nor one handed out by Account or
// Accounts shares anything with the view: changing them (as the projection does when it
// applies facts to what it read) changes nothing the view holds.
func TestAccountIsACopy(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	given := sampleAccount("acme")
	fx.apply(given)
	mutateAccount(&given)
	fx.check()

	got, ok, err := fx.view.Account(fx.ctx, "acme")
	if err != nil || !ok {
		t.Fatalf("Account(acme) = %v, %v", ok, err)
	}
	mutateAccount(&got)
	fx.check()

	list, err := fx.view.Accounts(fx.ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("Accounts = %v, %v", accountNames(list), err)
	}
	mutateAccount(&list[0])
	fx.check()
}

// mutateAccount changes everything reachable from a: users, their fields, tokens, also by
// applying facts to it as the projection does (which needs every map to be writable).
func mutateAccount(a *domain.Account) {
	for name := range a.Users {
		a.Apply(domain.TokenIssued{User: name, Token: domain.Token{ID: "planted-" + name, Hash: "h", IssuedAt: sampleStart}}, 98)
	}
	for name, u := range a.Users {
		u.Role, u.PasswordHash, u.Removed = "changed", "changed", !u.Removed
		for id, tok := range u.Tokens {
			tok.Revoked, tok.Hash = !tok.Revoked, "changed"
			u.Tokens[id] = tok
		}
		u.Tokens["planted"] = domain.Token{ID: "planted"}
		delete(a.Users, name)
		break
	}
	a.Apply(domain.UserAdded{User: "planted", Role: domain.RoleReadWrite, At: sampleStart}, 99)
	a.Apply(domain.AccountDeleted{At: sampleStart}, 100)
}

// TestAccountsListing: Accounts lists accounts sorted by name (byte order), without deleted
// ones, which Account still returns, marked deleted.
func TestAccountsListing(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	gone := accountOf(domain.AccountCreated{Name: "gone", At: sampleStart}, domain.AccountDeleted{At: sampleStart.Add(time.Hour)})
	fx.apply(sampleAccount("zeta"), sampleAccount("Acme"), gone)
	fx.apply(sampleAccount("acme"), sampleAccount("beta"), sampleAccount(domain.AdminAccount))
	fx.check()
	list, _ := fx.view.Accounts(fx.ctx)
	if names := accountNames(list); len(names) != 5 || names[0] != "Acme" || names[4] != "zeta" {
		t.Fatalf("Accounts = %v, want Acme admin acme beta zeta", names)
	}
	a, ok, err := fx.view.Account(fx.ctx, "gone")
	if err != nil || !ok || !a.Deleted {
		t.Fatalf("Account(gone) = deleted %v, %v, %v; want the deleted account", a.Deleted, ok, err)
	}
	recreated := accountOf(domain.AccountCreated{Name: "gone", At: sampleStart.Add(2 * time.Hour)})
	fx.apply(recreated)
	fx.check()
}

// TestUserAccount: a user name leads to its account while the user is active there; a
// removed user is not found; a name removed from one account and added to another leads to
// the other, whatever the order in a batch, and stays there when the first account is
// applied again.
func TestUserAccount(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	at := sampleStart
	added := func(u string) domain.UserAdded { return domain.UserAdded{User: u, Role: domain.RoleReadWrite, At: at} }
	removed := func(u string) domain.UserRemoved { return domain.UserRemoved{User: u, At: at} }
	a := accountOf(domain.AccountCreated{Name: "a", At: at}, added("u1"), added("u2"), added("u4"), added("u5"))
	b := accountOf(domain.AccountCreated{Name: "b", At: at}, added("u3"))
	fx.apply(a, b)
	fx.check()

	a.Apply(removed("u1"), 10)
	fx.apply(a)
	fx.check()
	if _, ok, _ := fx.view.UserAccount(fx.ctx, "u1"); ok {
		t.Fatal("a removed user is found")
	}

	b.Apply(added("u1"), 11)
	fx.apply(b)
	a.Apply(domain.RoleGranted{User: "u2", Role: domain.RoleReadOnly, At: at}, 12)
	fx.apply(a)
	fx.check()
	if acc, ok, _ := fx.view.UserAccount(fx.ctx, "u1"); !ok || acc != "b" {
		t.Fatalf("UserAccount(u1) = %q, %v after it moved to b", acc, ok)
	}

	// Moves within one batch, in both orders.
	a.Apply(removed("u4"), 13)
	a.Apply(removed("u5"), 14)
	b.Apply(added("u4"), 15)
	b.Apply(added("u5"), 16)
	fx.apply(a, b)
	fx.check()
	a.Apply(added("u6"), 17)
	fx.apply(b, a)
	a.Apply(removed("u6"), 18)
	b.Apply(added("u6"), 19)
	fx.apply(b, a)
	fx.check()
	if acc, ok, _ := fx.view.UserAccount(fx.ctx, "u6"); !ok || acc != "b" {
		t.Fatalf("UserAccount(u6) = %q, %v; want b", acc, ok)
	}

	// Removed and added again in the same account.
	b.Apply(removed("u3"), 20)
	fx.apply(b)
	b.Apply(added("u3"), 21)
	fx.apply(b)
	fx.check()
}

// TestTokenOwner: a token id leads to its account and user from its issue on, also once it
// is revoked or its user removed (the authenticator tells those apart); unknown ids lead
// nowhere.
func TestTokenOwner(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	fx.apply(sampleAccount("acme"), sampleAccount("globex"))
	fx.check()
	for _, tc := range []struct{ id, account, user string }{
		{"acme-tok-1", "acme", "acme_ci"}, // revoked
		{"acme-tok-2", "acme", "acme_ci"}, // expires
		{"globex-tok-3", "globex", "globex.admin@example.com"},
		{"acme-tok-4", "acme", "acme-gone"}, // of a removed user
	} {
		account, user, ok, err := fx.view.TokenOwner(fx.ctx, tc.id)
		if err != nil || !ok || account != tc.account || user != tc.user {
			t.Fatalf("TokenOwner(%s) = %q, %q, %v, %v; want %q, %q", tc.id, account, user, ok, err, tc.account, tc.user)
		}
	}
	acme := sampleAccount("acme")
	acme.Apply(domain.TokenIssued{User: "acme-viewer", Token: domain.Token{ID: "acme-tok-5", Hash: "h", IssuedAt: sampleStart}}, 50)
	fx.apply(acme)
	fx.check()
}

// TestAccountCheckpoint: the checkpoint is stored with each Apply, also an empty one, and
// never moves back: an Apply with an older checkpoint still applies its accounts.
func TestAccountCheckpoint(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	fx.check()
	fx.applyAt(5)
	fx.check()
	fx.applyAt(9, sampleAccount("acme"))
	fx.check()
	fx.applyAt(7, sampleAccount("globex"))
	fx.check()
	for _, cp := range []uint64{1<<60 + 1, 1<<60 + 2, 1 << 60, 1<<64 - 1, 3} {
		fx.applyAt(cp)
		fx.check()
	}
}

// TestAccountReset: Reset drops accounts, users, tokens and checkpoint, and the view can be
// rebuilt after it.
func TestAccountReset(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	fx.apply(sampleAccount("acme"), sampleAccount("globex"))
	fx.check()
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	forget := func() {
		m := newAccountModel()
		m.names, m.userNames, m.tokenIDs = fx.model.names, fx.model.userNames, fx.model.tokenIDs // check they are gone
		fx.model = m
	}
	forget()
	fx.check()
	fx.apply(sampleAccount("globex"))
	fx.check()
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset of an empty view: %v", err)
	}
	forget()
	fx.check()
}

// TestAccountAppliedTwice: applying the same batch again (a replay after a crash) leaves the
// view as the first application did; so does a batch that holds an account twice.
func TestAccountAppliedTwice(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	acme, globex := sampleAccount("acme"), sampleAccount("globex")
	fx.apply(acme, globex)
	before := acme.Clone()
	acme.Apply(domain.UserRemoved{User: "acme-viewer", At: sampleStart}, 40)
	globex.Apply(domain.UserAdded{User: "acme-viewer", Role: domain.RoleReadOnly, At: sampleStart}, 41)
	globex.Apply(domain.TokenIssued{User: "acme-viewer", Token: domain.Token{ID: "moved-tok", Hash: "h", IssuedAt: sampleStart}}, 42)
	batch := []domain.Account{before, acme, globex, accountOf(domain.AccountCreated{Name: "initech", At: sampleStart})}
	fx.position += 10
	fx.applyAt(fx.position, batch...)
	fx.check()
	fx.applyAt(fx.position, batch...)
	fx.check()
}

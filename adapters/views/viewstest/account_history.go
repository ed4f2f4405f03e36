package viewstest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"herald/domain"
)

// accountHistory produces random batches of accounts as the projection hands them over:
// every account changed by the batch's facts, once, as they left it. Facts create and
// delete accounts, add, remove and move users (a name is active in one account at most),
// grant roles, change passwords, issue and revoke tokens.
type accountHistory struct {
	rng      *rand.Rand
	accounts map[string]*domain.Account
	revision uint64
	tokens   int
	at       time.Time
}

func newAccountHistory(seed uint64) *accountHistory {
	return &accountHistory{rng: rand.New(rand.NewPCG(seed, 0x6163636f756e74)), accounts: map[string]*domain.Account{}, at: sampleStart}
}

var historyUsers = []string{"alice", "bob", "carol@example.com", "dave.ops", "erin_ci", "frank-bot", "grace", "heidi"}

// active returns the account a user is active in, if any.
func (h *accountHistory) active(user string) (*domain.Account, bool) {
	for _, a := range h.accounts {
		if u := a.Users[user]; u != nil && !u.Removed && !a.Deleted {
			return a, true
		}
	}
	return nil, false
}

// fact returns an account and a fact to apply to it.
func (h *accountHistory) fact() (string, any) {
	h.at = h.at.Add(time.Duration(1+h.rng.IntN(3600)) * time.Second)
	user := historyUsers[h.rng.IntN(len(historyUsers))]
	a, isActive := h.active(user)
	names := []string{domain.AdminAccount, "acme", "globex", "initech"}
	switch r := h.rng.IntN(40); {
	case r < 2:
		name := names[h.rng.IntN(len(names))]
		if b := h.accounts[name]; b == nil || b.Deleted {
			return name, domain.AccountCreated{Name: name, At: h.at}
		}
	case r < 12 && !isActive:
		for _, name := range names {
			if b := h.accounts[name]; b != nil && !b.Deleted && h.rng.IntN(2) == 0 {
				return name, domain.UserAdded{User: user, Role: domain.RoleReadWrite, PasswordHash: fmt.Sprintf("hash-%d", h.rng.IntN(1000)), At: h.at}
			}
		}
	case r < 15 && isActive:
		return a.Name, domain.UserRemoved{User: user, At: h.at}
	case r < 18 && isActive:
		return a.Name, domain.RoleGranted{User: user, Role: []domain.Role{domain.RoleReadOnly, domain.RoleReadWrite}[h.rng.IntN(2)], At: h.at}
	case r < 20 && isActive:
		return a.Name, domain.PasswordChanged{User: user, PasswordHash: fmt.Sprintf("hash-%d", h.rng.IntN(1000)), At: h.at}
	case r < 30 && isActive:
		h.tokens++
		t := domain.Token{ID: fmt.Sprintf("tok-%03d", h.tokens), Description: "token", Hash: fmt.Sprintf("sha256:%x", h.rng.Uint32()), IssuedAt: h.at}
		if h.rng.IntN(2) == 0 {
			t.ExpiresAt = h.at.Add(30 * 24 * time.Hour)
		}
		return a.Name, domain.TokenIssued{User: user, Token: t}
	case r < 34 && isActive:
		if ids := slices.Sorted(maps.Keys(a.Users[user].Tokens)); len(ids) > 0 {
			return a.Name, domain.TokenRevoked{User: user, TokenID: ids[h.rng.IntN(len(ids))], At: h.at}
		}
	case r == 34 && h.rng.IntN(4) == 0:
		name := names[h.rng.IntN(len(names))]
		if b := h.accounts[name]; b != nil && !b.Deleted {
			return name, domain.AccountDeleted{At: h.at}
		}
	}
	return "", nil
}

// batch applies 1 to 10 facts and returns the accounts they changed.
func (h *accountHistory) batch() []domain.Account {
	var order []string
	for n := 1 + h.rng.IntN(10); n > 0; {
		name, f := h.fact()
		if f == nil {
			continue
		}
		n--
		a := h.accounts[name]
		if a == nil {
			a = &domain.Account{}
			h.accounts[name] = a
		}
		h.revision++
		a.Apply(f, h.revision)
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	out := make([]domain.Account, len(order))
	for i, name := range order {
		out[i] = h.accounts[name].Clone()
	}
	return out
}

// TestAccountRandomHistory: after every batch of a random history, the whole view is what
// the model holds.
func TestAccountRandomHistory(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	h := newAccountHistory(43)
	for round := range 60 {
		fx.apply(h.batch()...)
		if round%5 == 4 {
			fx.check()
		}
	}
	fx.check()
}

// TestAccountConcurrentReadsAndApplies: readers look accounts, users and tokens up, and
// change what they get, while a writer applies a random history. Every account read must be
// one that was applied, whole; the listing sorted and without deleted accounts; the
// checkpoint must never go back. Run it with -race.
func TestAccountConcurrentReadsAndApplies(t *testing.T, newView NewAccountView) {
	fx := newAccountFixture(t, newView)
	h := newAccountHistory(44)
	var applied sync.Map // "name/revision" -> domain.Account, stored before it is applied
	done := make(chan struct{})
	var writerErr error
	go func() {
		defer close(done)
		for range 60 {
			batch := h.batch()
			for _, a := range batch {
				applied.Store(fmt.Sprintf("%s/%d", a.Name, a.Revision), a.Clone())
			}
			fx.position += uint64(len(batch))
			if err := fx.view.Apply(fx.ctx, batch, fx.position); err != nil {
				writerErr = err
				return
			}
			fx.model.apply(batch, fx.position)
		}
	}()
	readWhole := func(got domain.Account) error {
		want, ok := applied.Load(fmt.Sprintf("%s/%d", got.Name, got.Revision))
		if !ok {
			return fmt.Errorf("read account %s revision %d, which was never applied", got.Name, got.Revision)
		}
		if d := diffAccount(want.(domain.Account), got); d != "" {
			return fmt.Errorf("read account %s revision %d: %s", got.Name, got.Revision, d)
		}
		mutateAccount(&got)
		return nil
	}
	readWhileWriting(t, done, 8, func(rng *rand.Rand, last *uint64) error {
		return readAccountsOnce(fx, rng, readWhole, last)
	})
	<-done
	if writerErr != nil {
		t.Fatalf("Apply: %v", writerErr)
	}
	fx.check()
}

func readAccountsOnce(fx *accountFixture, rng *rand.Rand, readWhole func(domain.Account) error, last *uint64) error {
	list, err := fx.view.Accounts(fx.ctx)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	for i, a := range list {
		if a.Deleted || (i > 0 && list[i-1].Name >= a.Name) {
			return fmt.Errorf("accounts = %v: deleted or out of order at %d", accountNames(list), i)
		}
		if err := readWhole(a); err != nil {
			return err
		}
	}
	user := historyUsers[rng.IntN(len(historyUsers))]
	name, ok, err := fx.view.UserAccount(fx.ctx, user)
	if err != nil {
		return fmt.Errorf("user account(%s): %w", user, err)
	}
	if ok {
		a, found, err := fx.view.Account(fx.ctx, name)
		if err != nil || !found {
			return fmt.Errorf("account(%s) of user %s = %v, %w", name, user, found, err)
		}
		if err := readWhole(a); err != nil {
			return err
		}
	}
	id := fmt.Sprintf("tok-%03d", 1+rng.IntN(40))
	if _, _, _, err := fx.view.TokenOwner(fx.ctx, id); err != nil {
		return fmt.Errorf("token owner(%s): %w", id, err)
	}
	cp, err := fx.view.Checkpoint(fx.ctx)
	if err != nil || cp < *last {
		return fmt.Errorf("checkpoint = %d, %v after %d", cp, err, *last)
	}
	*last = cp
	return nil
}

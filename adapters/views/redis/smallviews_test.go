package redis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"herald/adapters/views/redis/redistest"
	"herald/domain"
	"herald/projections"
)

// testConfiguration returns a small valid configuration of account.
func testConfiguration(t testing.TB, id, account string) domain.Configuration {
	t.Helper()
	sel, err := domain.NewSelector(domain.ScopeAccount, "error", `regex:^system\..*$`, domain.MatchAny, false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
	return domain.Configuration{
		ID: id, Account: account, Kind: domain.KindWebhook, Name: "hook " + id, VerifyTLS: true,
		Settings: domain.WebhookSettings{
			URL: "https://hooks.example.com/x", HMACSecret: domain.NewSecret("sealed:hmac"),
			Headers: map[string]domain.Secret{"Authorization": domain.NewSecret("sealed:bearer")},
		},
		Selectors: []domain.Selector{sel}, CreatedAt: at, UpdatedAt: at, Revision: 3,
	}
}

// testAccount returns an account with a user holding a token.
func testAccount(name string) domain.Account {
	var a domain.Account
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range []any{
		domain.AccountCreated{Name: name, At: at},
		domain.UserAdded{User: name + "-user", Role: domain.RoleReadWrite, PasswordHash: "$2a$10$hash", At: at},
		domain.TokenIssued{User: name + "-user", Token: domain.Token{ID: name + "-tok", Hash: "sha256:ab", IssuedAt: at}},
	} {
		a.Apply(f, uint64(i+1))
	}
	return a
}

func upsertChange(c domain.Configuration) []projections.ConfigurationChange {
	return []projections.ConfigurationChange{{Upsert: &c}}
}

// TestSmallViews_fencedByOneLease: one lease guards the event log, configurations and
// accounts views alike. Once a new holder has claimed them, every write of the former one is
// refused with ErrFenced (also after a Reset, which keeps the fence) and changes nothing;
// an unfenced writer is refused too; the new holder writes.
func TestSmallViews_fencedByOneLease(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client, prefix := shared.Client(t), redistest.Prefix(t)
	events, err := NewEventLog(client, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	configs, accounts := newTestConfigurations(t, prefix), newTestAccounts(t, prefix)
	a, b := newTestLease(t, client, prefix), newTestLease(t, client, prefix)

	fa, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	configsA, accountsA, eventsA := configs.Fenced(fa), accounts.Fenced(fa), events.Fenced(fa)
	for _, claim := range []func(context.Context) error{configsA.ClaimFence, accountsA.ClaimFence, eventsA.ClaimFence} {
		if err := claim(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := configsA.Apply(ctx, upsertChange(testConfiguration(t, "cfg-1", "acme")), 10); err != nil {
		t.Fatal(err)
	}
	if err := accountsA.Apply(ctx, []domain.Account{testAccount("acme")}, 10); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}

	fb, err := b.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	configsB, accountsB := configs.Fenced(fb), accounts.Fenced(fb)
	for _, claim := range []func(context.Context) error{configsB.ClaimFence, accountsB.ClaimFence, events.Fenced(fb).ClaimFence} {
		if err := claim(ctx); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("%s with a stale fence = %v, want ErrFenced", what, err)
		}
	}
	assertUnchanged := func() {
		t.Helper()
		if _, ok, _ := configs.Configuration(ctx, "cfg-2"); ok {
			t.Fatal("a configuration of a refused Apply is held")
		}
		if _, ok, _ := accounts.Account(ctx, "globex"); ok {
			t.Fatal("an account of a refused Apply is held")
		}
		for _, cp := range []func(context.Context) (uint64, error){configs.Checkpoint, accounts.Checkpoint} {
			if got, err := cp(ctx); err != nil || got != 10 {
				t.Fatalf("checkpoint after refused writes = %d, %v; want 10", got, err)
			}
		}
	}
	refused("configurations Apply", configsA.Apply(ctx, upsertChange(testConfiguration(t, "cfg-2", "acme")), 20))
	refused("configurations Apply without a fence", configs.Apply(ctx, nil, 20))
	refused("configurations Reset", configsA.Reset(ctx))
	refused("configurations ClaimFence", configsA.ClaimFence(ctx))
	refused("accounts Apply", accountsA.Apply(ctx, []domain.Account{testAccount("globex")}, 20))
	refused("accounts Apply without a fence", accounts.Apply(ctx, nil, 20))
	refused("accounts Reset", accountsA.Reset(ctx))
	refused("accounts ClaimFence", accountsA.ClaimFence(ctx))
	refused("event log ClaimFence", eventsA.ClaimFence(ctx))
	assertUnchanged()

	if err := configsB.Reset(ctx); err != nil {
		t.Fatalf("Reset by the new holder: %v", err)
	}
	if err := accountsB.Reset(ctx); err != nil {
		t.Fatalf("Reset by the new holder: %v", err)
	}
	refused("configurations Apply after a Reset", configsA.Apply(ctx, nil, 30))
	refused("accounts Apply after a Reset", accountsA.Apply(ctx, nil, 30))
	if err := configsB.Apply(ctx, upsertChange(testConfiguration(t, "cfg-3", "acme")), 30); err != nil {
		t.Fatalf("Apply by the new holder: %v", err)
	}
	if err := accountsB.Apply(ctx, []domain.Account{testAccount("initech")}, 30); err != nil {
		t.Fatalf("Apply by the new holder: %v", err)
	}
	if _, ok, err := configs.Configuration(ctx, "cfg-3"); err != nil || !ok {
		t.Fatalf("Configuration(cfg-3) after the new holder's Apply = %v, %v", ok, err)
	}
	if account, ok, err := accounts.UserAccount(ctx, "initech-user"); err != nil || !ok || account != "initech" {
		t.Fatalf("UserAccount(initech-user) = %q, %v, %v", account, ok, err)
	}
}

// TestSmallViews_scriptCacheLost: after the server forgets its scripts (a restart, SCRIPT
// FLUSH), every script of both views runs again.
func TestSmallViews_scriptCacheLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client := redistest.Start(t, redistest.Options{}).Client(t)
	configs, err := NewConfigurations(client, Options{})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := NewAccounts(client, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := configs.Fenced(1).ClaimFence(ctx); err != nil {
			t.Fatalf("round %d: ClaimFence: %v", round, err)
		}
		if err := configs.Fenced(1).Apply(ctx, upsertChange(testConfiguration(t, "cfg-1", "acme")), 5); err != nil {
			t.Fatalf("round %d: Apply: %v", round, err)
		}
		if list, err := configs.Configurations(ctx, "acme", ""); err != nil || len(list) != 1 {
			t.Fatalf("round %d: Configurations = %d, %v", round, len(list), err)
		}
		if err := accounts.Apply(ctx, []domain.Account{testAccount("acme")}, 5); err != nil {
			t.Fatalf("round %d: accounts Apply: %v", round, err)
		}
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := configs.Fenced(1).Reset(ctx); err != nil {
			t.Fatalf("round %d: Reset: %v", round, err)
		}
		if err := accounts.Reset(ctx); err != nil {
			t.Fatalf("round %d: accounts Reset: %v", round, err)
		}
	}
}

// TestConfigurations_readerOfAnotherInstance: a view that only reads (another instance's)
// sees every change the writer makes, though it keeps what it decoded between reads.
func TestConfigurations_readerOfAnotherInstance(t *testing.T) {
	t.Parallel()
	ctx, prefix := t.Context(), redistest.Prefix(t)
	writer, reader := newTestConfigurations(t, prefix), newTestConfigurations(t, prefix)
	c := testConfiguration(t, "cfg-1", "acme")
	for round := range 3 {
		c.Name, c.Revision = fmt.Sprintf("round %d", round), uint64(round)
		if err := writer.Apply(ctx, upsertChange(c), uint64(round+1)); err != nil {
			t.Fatal(err)
		}
		for _, account := range []string{"", "acme"} {
			list, err := reader.Configurations(ctx, account, "")
			if err != nil || len(list) != 1 || list[0].Name != c.Name {
				t.Fatalf("round %d: Configurations(%q) = %v, %v; want %q", round, account, list, err, c.Name)
			}
		}
		if got, ok, err := reader.Configuration(ctx, "cfg-1"); err != nil || !ok || got.Name != c.Name {
			t.Fatalf("round %d: Configuration = %q, %v, %v; want %q", round, got.Name, ok, err, c.Name)
		}
	}
	if err := writer.Apply(ctx, []projections.ConfigurationChange{{Delete: "cfg-1"}}, 9); err != nil {
		t.Fatal(err)
	}
	if list, err := reader.Configurations(ctx, "", ""); err != nil || len(list) != 0 {
		t.Fatalf("Configurations after the delete = %d, %v", len(list), err)
	}
	if _, ok, _ := reader.Configuration(ctx, "cfg-1"); ok {
		t.Fatal("the reader still finds the deleted configuration")
	}
}

// BenchmarkConfigurations_all reads every configuration of a thousand, as the dispatcher does.
func BenchmarkConfigurations_all(b *testing.B) {
	ctx := b.Context()
	v := newTestConfigurations(b, redistest.Prefix(b))
	var changes []projections.ConfigurationChange
	for i := range 1000 {
		changes = append(changes, upsertChange(testConfiguration(b, fmt.Sprintf("cfg-%04d", i), fmt.Sprintf("account-%d", i%50)))...)
	}
	if err := v.Apply(ctx, changes, 1); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if list, err := v.Configurations(ctx, "", ""); err != nil || len(list) != 1000 {
			b.Fatal(len(list), err)
		}
	}
}

// BenchmarkAccounts_signIn reads what authentication reads per request.
func BenchmarkAccounts_signIn(b *testing.B) {
	ctx := b.Context()
	v := newTestAccounts(b, redistest.Prefix(b))
	if err := v.Apply(ctx, []domain.Account{testAccount("acme")}, 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		account, ok, err := v.UserAccount(ctx, "acme-user")
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		if _, ok, err := v.Account(ctx, account); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

package projections_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/secrets"
	"herald/adapters/views/memory"
	"herald/commands"
	"herald/domain"
	"herald/projections"
)

func TestAuthenticator_passwordsAndTokensFromTheAccountsView(t *testing.T) {
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := func() time.Time { return now }
	hasher := secrets.NewPasswords(bcrypt.MinCost)
	view := memory.NewAccounts()
	projection, _ := projections.NewAccountsProjection(view)
	runner, _ := projections.NewRunner(store, projection, slog.New(slog.DiscardHandler), nil)
	go func() { _ = runner.Run(ctx) }()

	boot, _ := commands.NewBootstrapAdminHandler(store, hasher, clock)
	if _, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "admin-password"}); err != nil {
		t.Fatal(err)
	}
	admin := domain.Actor{Account: domain.AdminAccount, User: "admin", Role: domain.RoleReadWrite}
	create, _ := commands.NewCreateAccountHandler(store, clock)
	add, _ := commands.NewAddUserHandler(store, hasher, clock)
	issue, _ := commands.NewIssueTokenHandler(store, secrets.NewToken, clock)
	revoke, _ := commands.NewRevokeTokenHandler(store, clock)
	if err := create.Handle(ctx, commands.CreateAccount{Actor: admin, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := add.Handle(ctx, commands.AddUser{Actor: admin, Account: "alice", User: "ann", Role: domain.RoleReadOnly, Password: "ann-password"}); err != nil {
		t.Fatal(err)
	}
	ann := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadOnly}
	tok, err := issue.Handle(ctx, commands.IssueToken{Actor: ann, Account: "alice", User: "ann", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := store.LastPosition(ctx)
	if err := runner.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}

	auth, _ := projections.NewAuthenticator(view, secrets.Checker{Passwords: hasher}, clock)
	if got, err := auth.Password(ctx, "ann", "ann-password"); err != nil || got != ann {
		t.Fatalf("password: %+v %v", got, err)
	}
	if _, err := auth.Password(ctx, "ann", "wrong-password"); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := auth.Password(ctx, "nobody", "whatever-pass"); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("unknown user: %v", err)
	}
	annByToken := ann
	annByToken.ByToken, annByToken.TokenExpires = true, tok.ExpiresAt
	if got, err := auth.Token(ctx, tok.Token); err != nil || got != annByToken {
		t.Fatalf("token: %#v %v", got, err)
	}
	if _, err := auth.Token(ctx, tok.Token+"0"); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("altered token: %v", err)
	}
	expired, _ := projections.NewAuthenticator(view, secrets.Checker{Passwords: hasher}, func() time.Time { return now.Add(2 * time.Hour) })
	if _, err := expired.Token(ctx, tok.Token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("expired token: %v", err)
	}
	if err := revoke.Handle(ctx, commands.RevokeToken{Actor: ann, Account: "alice", User: "ann", TokenID: tok.ID}); err != nil {
		t.Fatal(err)
	}
	head, _ = store.LastPosition(ctx)
	_ = runner.WaitFor(ctx, head)
	if _, err := auth.Token(ctx, tok.Token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}

	// a view that cannot be read turns nobody down: the error is not ErrUnauthenticated
	down, _ := projections.NewAuthenticator(unreadableView{view}, secrets.Checker{Passwords: hasher}, clock)
	if _, err := down.Password(ctx, "ann", "ann-password"); err == nil || errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("password with the view unreadable: %v, want an error that is not ErrUnauthenticated", err)
	}
}

// unreadableView fails every lookup of users, as a Redis view does while Redis is down.
type unreadableView struct{ projections.AccountView }

func (unreadableView) UserAccount(context.Context, string) (string, bool, error) {
	return "", false, errors.New("redis: connection refused")
}

// gatedProjection holds Apply after a Reset until open is closed: a rebuild in progress.
type gatedProjection struct {
	projections.Projection
	reset chan struct{}
	open  chan struct{}
}

func (g *gatedProjection) Reset(ctx context.Context) error {
	close(g.reset)
	return g.Projection.Reset(ctx)
}

func (g *gatedProjection) Apply(ctx context.Context, records []domain.Record) error {
	select {
	case <-g.reset:
		select {
		case <-g.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	default:
	}
	return g.Projection.Apply(ctx, records)
}

func TestAuthenticator_signInWaitsWhileTheAccountsViewIsRebuilt(t *testing.T) {
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := func() time.Time { return now }
	hasher := secrets.NewPasswords(bcrypt.MinCost)
	view := memory.NewAccounts()
	inner, _ := projections.NewAccountsProjection(view)
	gate := &gatedProjection{Projection: inner, reset: make(chan struct{}), open: make(chan struct{})}
	runner, _ := projections.NewRunner(store, gate, slog.New(slog.DiscardHandler), nil)
	go func() { _ = runner.Run(ctx) }()
	boot, _ := commands.NewBootstrapAdminHandler(store, hasher, clock)
	if _, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "admin-password"}); err != nil {
		t.Fatal(err)
	}
	head, _ := store.LastPosition(ctx)
	if err := runner.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	auth, _ := projections.NewAuthenticator(view, secrets.Checker{Passwords: hasher}, clock)
	auth.WaitForView(runner.WaitLive)

	<-runner.Rebuild() // the view is empty now, and stays so until the gate opens
	signedIn := make(chan error, 1)
	go func() {
		_, err := auth.Password(ctx, "admin", "admin-password")
		signedIn <- err
	}()
	select {
	case err := <-signedIn:
		t.Fatalf("sign-in answered from a view being rebuilt: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(gate.open)
	select {
	case err := <-signedIn:
		if err != nil {
			t.Fatalf("sign-in after the rebuild: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sign-in still waiting after the rebuild")
	}
	if _, err := auth.Password(ctx, "nobody", "whatever-pass"); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("unknown user once live: %v", err)
	}
}

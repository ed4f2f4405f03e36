package commands_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"herald/adapters/secrets"
	"herald/commands"
	"herald/domain"
)

var (
	admin  = domain.Actor{Account: domain.AdminAccount, User: "admin", Role: domain.RoleReadWrite}
	hasher = secrets.NewPasswords(bcrypt.MinCost)
)

func TestAccounts_bootstrapAddUsersAndTokens(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	boot, _ := commands.NewBootstrapAdminHandler(store, hasher, clock)
	if _, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin"}); err == nil {
		t.Fatal("bootstrap without a password succeeded")
	}
	created, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "admin-password"})
	if err != nil || !created {
		t.Fatalf("first bootstrap: %v %v", created, err)
	}
	if created, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "other-password"}); err != nil || created {
		t.Fatalf("second bootstrap changed something: %v %v", created, err)
	}

	createAccount, _ := commands.NewCreateAccountHandler(store, clock)
	addUser, _ := commands.NewAddUserHandler(store, hasher, clock)
	if err := createAccount.Handle(ctx, commands.CreateAccount{Actor: admin, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := createAccount.Handle(ctx, commands.CreateAccount{Actor: admin, Name: "alice"}); !errors.Is(err, commands.ErrAccountExists) {
		t.Fatalf("creating alice twice: %v", err)
	}
	aliceWriter := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	if err := createAccount.Handle(ctx, commands.CreateAccount{Actor: aliceWriter, Name: "mallory"}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a non-admin created an account: %v", err)
	}
	if err := addUser.Handle(ctx, commands.AddUser{Actor: admin, Account: "alice", User: "ann", Role: domain.RoleReadWrite, Password: "ann-password"}); err != nil {
		t.Fatal(err)
	}
	if err := addUser.Handle(ctx, commands.AddUser{Actor: admin, Account: domain.AdminAccount, User: "ann", Role: domain.RoleReadOnly}); !errors.Is(err, commands.ErrUserNameTaken) {
		t.Fatalf("user name reused across accounts: %v", err)
	}
	if err := addUser.Handle(ctx, commands.AddUser{Actor: admin, Account: "alice", User: "bob", Role: "owner"}); err == nil {
		t.Fatal("unknown role accepted")
	}

	issue, _ := commands.NewIssueTokenHandler(store, secrets.NewToken, clock)
	tok, err := issue.Handle(ctx, commands.IssueToken{Actor: aliceWriter, Account: "alice", User: "ann", Description: "ci", TTL: time.Hour})
	if err != nil || tok.Token == "" || !tok.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("issue own token: %+v %v", tok, err)
	}
	if _, err := issue.Handle(ctx, commands.IssueToken{Actor: aliceWriter, Account: domain.AdminAccount, User: "admin"}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("ann issued a token for admin: %v", err)
	}
	revoke, _ := commands.NewRevokeTokenHandler(store, clock)
	if err := revoke.Handle(ctx, commands.RevokeToken{Actor: aliceWriter, Account: "alice", User: "ann", TokenID: tok.ID}); err != nil {
		t.Fatal(err)
	}
	if err := revoke.Handle(ctx, commands.RevokeToken{Actor: aliceWriter, Account: "alice", User: "ann", TokenID: tok.ID}); !errors.Is(err, domain.ErrTokenNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}

	remove, _ := commands.NewRemoveUserHandler(store, clock)
	if err := remove.Handle(ctx, commands.RemoveUser{Actor: admin, Account: "alice", User: "ann"}); err != nil {
		t.Fatal(err)
	}
	if err := addUser.Handle(ctx, commands.AddUser{Actor: admin, Account: domain.AdminAccount, User: "ann", Role: domain.RoleReadOnly}); err != nil {
		t.Fatalf("a removed user's name could not be reused: %v", err)
	}
}

// TestTokens_whatATokenMayDoToItsUsersCredentials: a token cannot issue a token that outlives
// it, nor change its user's password; signed in with the password, the user can do both, and
// the admin can still change others' passwords.
func TestTokens_whatATokenMayDoToItsUsersCredentials(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	createAccount, _ := commands.NewCreateAccountHandler(store, clock)
	addUser, _ := commands.NewAddUserHandler(store, hasher, clock)
	if err := createAccount.Handle(ctx, commands.CreateAccount{Actor: admin, Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := addUser.Handle(ctx, commands.AddUser{Actor: admin, Account: "bob", User: "bo", Role: domain.RoleReadWrite, Password: "bo-password"}); err != nil {
		t.Fatal(err)
	}
	issue, _ := commands.NewIssueTokenHandler(store, secrets.NewToken, clock)
	change, _ := commands.NewChangePasswordHandler(store, hasher, clock)
	byPassword := domain.Actor{Account: "bob", User: "bo", Role: domain.RoleReadWrite}
	byShortToken := byPassword
	byShortToken.ByToken, byShortToken.TokenExpires = true, now.Add(time.Minute)
	byToken := byPassword
	byToken.ByToken = true

	for _, ttl := range []time.Duration{0, 2 * time.Minute} {
		_, err := issue.Handle(ctx, commands.IssueToken{Actor: byShortToken, Account: "bob", User: "bo", TTL: ttl})
		var v *domain.ValidationError
		if !errors.As(err, &v) || !strings.Contains(err.Error(), "at most 1m0s (60 seconds)") {
			t.Errorf("a 1-minute token issued one of ttl %s: %v", ttl, err)
		}
	}
	if tok, err := issue.Handle(ctx, commands.IssueToken{Actor: byShortToken, Account: "bob", User: "bo", TTL: 30 * time.Second}); err != nil || !tok.ExpiresAt.Equal(now.Add(30*time.Second)) {
		t.Errorf("a 1-minute token issuing a 30-second one: %+v %v", tok, err)
	}
	if _, err := issue.Handle(ctx, commands.IssueToken{Actor: byToken, Account: "bob", User: "bo"}); err != nil {
		t.Errorf("a token that never expires issuing another: %v", err)
	}
	if _, err := issue.Handle(ctx, commands.IssueToken{Actor: byPassword, Account: "bob", User: "bo"}); err != nil {
		t.Errorf("signed in with the password: %v", err)
	}

	if err := change.Handle(ctx, commands.ChangePassword{Actor: byToken, Account: "bob", User: "bo", Password: "taken-over-1"}); !errors.Is(err, domain.ErrForbidden) || !strings.Contains(err.Error(), "sign in with it") {
		t.Errorf("a token changed its user's password: %v", err)
	}
	if err := change.Handle(ctx, commands.ChangePassword{Actor: byPassword, Account: "bob", User: "bo", Password: "new-bo-password"}); err != nil {
		t.Errorf("signed in with the password: %v", err)
	}
	adminByToken := admin
	adminByToken.ByToken = true
	if err := change.Handle(ctx, commands.ChangePassword{Actor: adminByToken, Account: "bob", User: "bo", Password: "reset-by-admin"}); err != nil {
		t.Errorf("the admin resetting bo's password with a token: %v", err)
	}
}

// The admin account keeps a read-write user: its last one cannot be made read-only, which
// would leave nobody able to manage accounts, that change included. With another read-write
// admin, the role changes.
func TestGrantRole_keepsAReadWriteAdmin(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	boot, _ := commands.NewBootstrapAdminHandler(store, hasher, clock)
	if _, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "admin-password"}); err != nil {
		t.Fatal(err)
	}
	grant, _ := commands.NewGrantRoleHandler(store, clock)
	addUser, _ := commands.NewAddUserHandler(store, hasher, clock)
	if err := addUser.Handle(ctx, commands.AddUser{Actor: admin, Account: domain.AdminAccount, User: "ops", Role: domain.RoleReadOnly, Password: "ops-password"}); err != nil {
		t.Fatal(err)
	}
	err := grant.Handle(ctx, commands.GrantRole{Actor: admin, Account: domain.AdminAccount, User: "admin", Role: domain.RoleReadOnly})
	var invalid *domain.ValidationError
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "admin is the last read-write user of the admin account") {
		t.Fatalf("the last read-write admin made read-only: %v", err)
	}
	if err := grant.Handle(ctx, commands.GrantRole{Actor: admin, Account: domain.AdminAccount, User: "ops", Role: domain.RoleReadWrite}); err != nil {
		t.Fatal(err)
	}
	if err := grant.Handle(ctx, commands.GrantRole{Actor: admin, Account: domain.AdminAccount, User: "admin", Role: domain.RoleReadOnly}); err != nil {
		t.Fatalf("with ops read-write, admin made read-only: %v", err)
	}
	ops := domain.Actor{Account: domain.AdminAccount, User: "ops", Role: domain.RoleReadWrite}
	if err := grant.Handle(ctx, commands.GrantRole{Actor: ops, Account: domain.AdminAccount, User: "ops", Role: domain.RoleReadOnly}); err == nil {
		t.Fatal("ops, now the last read-write admin, made read-only")
	}
}

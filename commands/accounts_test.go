package commands_test

import (
	"context"
	"errors"
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

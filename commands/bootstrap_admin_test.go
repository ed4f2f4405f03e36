package commands_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"herald/commands"
	"herald/domain"
)

// TestBootstrapAdmin_aRefusedFirstUserWritesNothing: a first admin user the hasher or the
// name rule refuses is refused before the admin account is created, so that the store holds
// no admin account nobody can sign in to; a valid one afterwards creates both.
func TestBootstrapAdmin_aRefusedFirstUserWritesNothing(t *testing.T) {
	cases := map[string]struct {
		cmd          commands.BootstrapAdmin
		field, words string
	}{
		"short password": {commands.BootstrapAdmin{User: "admin", Password: "abc"}, "password", "password is 3 characters long; use at least 8"},
		"no password":    {commands.BootstrapAdmin{User: "admin"}, "admin_password", "HERALD_ADMIN_PASSWORD"},
		"bad user name":  {commands.BootstrapAdmin{User: "bad user!", Password: "admin-password"}, "user", `"bad user!" is not a user name`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			store := openStore(t)
			ctx := context.Background()
			boot, _ := commands.NewBootstrapAdminHandler(store, hasher, clock)
			created, err := boot.Handle(ctx, c.cmd)
			var v *domain.ValidationError
			if created || !errors.As(err, &v) || v.Fields[0].Field != c.field || !strings.Contains(v.Fields[0].Message, c.words) {
				t.Fatalf("created %v, error %v; want an error on %s saying %q", created, err, c.field, c.words)
			}
			if records, err := store.ReadStream(ctx, domain.AccountStream(domain.AdminAccount)); !errors.Is(err, domain.ErrStreamNotFound) {
				t.Fatalf("the admin account was written before the error: %d records, %v", len(records), err)
			}
			created, err = boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "admin-password"})
			if err != nil || !created {
				t.Fatalf("then a valid first user: created %v, %v", created, err)
			}
		})
	}
}

// TestBootstrapAdmin_completesAnAdminAccountWithoutUsers: older versions created the admin
// account before refusing its first user; the next start with a valid password adds the user.
func TestBootstrapAdmin_completesAnAdminAccountWithoutUsers(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	createAccount, _ := commands.NewCreateAccountHandler(store, clock)
	if err := createAccount.Handle(ctx, commands.CreateAccount{Actor: domain.SystemActor(), Name: domain.AdminAccount}); err != nil {
		t.Fatal(err)
	}
	boot, _ := commands.NewBootstrapAdminHandler(store, hasher, clock)
	if created, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "abc"}); err == nil || created {
		t.Fatalf("a short password: created %v, %v", created, err)
	}
	if created, err := boot.Handle(ctx, commands.BootstrapAdmin{User: "admin", Password: "admin-password"}); err != nil || !created {
		t.Fatalf("a valid password: created %v, %v", created, err)
	}
}

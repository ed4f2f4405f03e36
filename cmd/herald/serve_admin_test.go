package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/domain"
	"herald/internal/testtool"
)

// TestServe_aShortAdminPasswordLeavesNoAdminAccount: on a fresh data directory, an
// --admin-password the password rule refuses stops herald with an error naming the flag and
// the rule, before the admin account is created; started again with a valid password, herald
// creates the admin, who can sign in. Nor is a secret key generated before the refusal.
func TestServe_aShortAdminPasswordLeavesNoAdminAccount(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := testServeConfig(dataDir, "") // a key would be generated in the data directory
	cfg.Listen, cfg.Port = "127.0.0.1", freePort(t)
	cfg.Auth.AdminPassword = "short"
	logs := &testtool.Buffer{}
	err := serve(context.Background(), cfg, debugLogger(logs))
	if err == nil {
		t.Fatal("herald started")
	}
	for _, want := range []string{"--admin-password", "password is 5 characters long; use at least 8"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	if _, err := os.Stat(filepath.Join(dataDir, "secret.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused start generated a secret key: %v", err)
	}
	store, err := openEventStore(cfg, debugLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	records, err := store.ReadStream(context.Background(), domain.AccountStream(domain.AdminAccount))
	store.Close()
	if !errors.Is(err, domain.ErrStreamNotFound) {
		t.Fatalf("the refused start created the admin account: %d records, %v; logs:\n%s", len(records), err, logs)
	}

	cfg.Auth.AdminPassword = testAdminPassword
	app := startTestAppConfig(t, cfg)
	data := app.mustGQL(basicAuth("admin", testAdminPassword), `{ viewer { account user admin } }`, nil)
	if v, _ := data["viewer"].(map[string]any); v["user"] != "admin" || v["admin"] != true {
		t.Fatalf("viewer %v", data)
	}
}

// The generated first password is written to <data-dir>/admin-password; once the admin changes
// it, the file goes (kept, it would hold a password that no longer signs in, where the CLI's
// hints send users). Another user's password change leaves it.
func TestServe_theGeneratedPasswordsFileGoesWhenThePasswordChanges(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := testServeConfig(dataDir, testSecretKey)
	cfg.Auth.AdminPassword = ""
	app := startTestAppConfig(t, cfg)
	path := filepath.Join(dataDir, "admin-password")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no generated password: %v", err)
	}
	admin := basicAuth("admin", strings.TrimSpace(string(raw)))
	const changed = `mutation($account: String, $user: String, $password: String!) { changePassword(account: $account, user: $user, password: $password) }`
	app.mustGQL(admin, `mutation { addUser(account: "admin", user: "ops", password: "ops-password-1", role: READ_WRITE) { name } }`, nil)
	app.mustGQL(admin, changed, map[string]any{"user": "ops", "password": "ops-password-2"})
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("another user's password change removed the file: %v", err)
	}
	app.mustGQL(admin, changed, map[string]any{"password": "a-new-admin-password"})
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file of the changed password is still there: %v", err)
	}
	data := app.mustGQL(basicAuth("admin", "a-new-admin-password"), `{ viewer { user } }`, nil)
	if v, _ := data["viewer"].(map[string]any); v["user"] != "admin" {
		t.Fatalf("viewer %v", data)
	}
	if !strings.Contains(app.logs.String(), "removed the file of the generated admin password") {
		t.Errorf("the log does not say the file was removed:\n%s", app.logs)
	}
}

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

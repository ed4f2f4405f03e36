package redis

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"herald/adapters/views/redis/redistest"
	"herald/domain"
	"herald/projections"
)

// viewKeys lists the keys under prefix, without it, sorted.
func viewKeys(t *testing.T, prefix string) []string {
	t.Helper()
	keys, err := shared.Client(t).Keys(t.Context(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, prefix)
	}
	slices.Sort(keys)
	return keys
}

// TestConfigurations_storedLayout: the keys of the view share the hash tag {configurations};
// a configuration is versioned JSON with its secrets as given (sealed), indexed by account;
// Reset leaves nothing (no fence was used).
func TestConfigurations_storedLayout(t *testing.T) {
	t.Parallel()
	ctx, client, prefix := t.Context(), shared.Client(t), redistest.Prefix(t)
	v := newTestConfigurations(t, prefix)
	c := testConfiguration(t, "cfg-1", "acme")
	changes := append(upsertChange(c), projections.ConfigurationChange{Status: &domain.EndpointStatusChanged{Kind: domain.KindSlack}})
	if err := v.Apply(ctx, changes, 7); err != nil {
		t.Fatal(err)
	}
	want := []string{"{configurations}:a:acme", "{configurations}:c", "{configurations}:cp", "{configurations}:disabled", "{configurations}:owner"}
	if got := viewKeys(t, prefix); !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	raw, err := client.HGet(ctx, v.keys.configurations, "cfg-1").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		V        int `json:"v"`
		Settings struct {
			HMACSecret string            `json:"hmac_secret"`
			Headers    map[string]string `json:"headers"`
		} `json:"settings"`
		Selectors []map[string]string `json:"selectors"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("stored configuration %s: %v", raw, err)
	}
	if stored.V != 1 || stored.Settings.HMACSecret != "sealed:hmac" || stored.Settings.Headers["Authorization"] != "sealed:bearer" ||
		len(stored.Selectors) != 1 || stored.Selectors[0]["type"] != `regex:^system\..*$` {
		t.Fatalf("stored configuration = %s", raw)
	}
	if err := v.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := viewKeys(t, prefix); len(got) != 0 {
		t.Fatalf("keys after Reset = %v", got)
	}
}

// TestAccounts_storedLayout: the keys of the view share the hash tag {accounts}; an account
// is versioned JSON with its hashes as given; the lookups hold user and token.
func TestAccounts_storedLayout(t *testing.T) {
	t.Parallel()
	ctx, client, prefix := t.Context(), shared.Client(t), redistest.Prefix(t)
	v := newTestAccounts(t, prefix)
	if err := v.Apply(ctx, []domain.Account{testAccount("acme")}, 7); err != nil {
		t.Fatal(err)
	}
	want := []string{"{accounts}:acct", "{accounts}:cp", "{accounts}:tokens", "{accounts}:users"}
	if got := viewKeys(t, prefix); !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	raw, err := client.HGet(ctx, v.keys.accounts, "acme").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, `{"v":1,`) || !strings.Contains(raw, `"password_hash":"$2a$10$hash"`) || !strings.Contains(raw, `"hash":"sha256:ab"`) {
		t.Fatalf("stored account = %s", raw)
	}
	if owner, _ := client.HGet(ctx, v.keys.tokens, "acme-tok").Result(); owner != `["acme","acme-user"]` {
		t.Fatalf("stored token owner = %s", owner)
	}
}

// TestStoredValues_versioned: values of another version, or not JSON, are refused rather
// than misread; zero values survive.
func TestStoredValues_versioned(t *testing.T) {
	for _, data := range []string{`{"v":2,"id":"x"}`, `{"id":"x"}`} {
		if _, err := decodeConfiguration([]byte(data)); !errors.Is(err, errUnknownVersion) {
			t.Errorf("decodeConfiguration(%s) = %v, want errUnknownVersion", data, err)
		}
		if _, err := decodeAccount([]byte(data)); !errors.Is(err, errUnknownVersion) {
			t.Errorf("decodeAccount(%s) = %v, want errUnknownVersion", data, err)
		}
	}
	if _, err := decodeConfiguration([]byte("not json")); err == nil {
		t.Error("decodeConfiguration of garbage succeeded")
	}
	if _, err := decodeConfiguration([]byte(`{"v":1,"kind":"fax","settings":{}}`)); err == nil {
		t.Error("decodeConfiguration of an unknown kind's settings succeeded")
	}
	if _, err := decodeConfiguration([]byte(`{"v":1,"kind":"slack","selectors":[{"scope":"account","level":"loud","type":"*","resource_type":"*"}]}`)); err == nil {
		t.Error("decodeConfiguration of an invalid selector succeeded")
	}
	blob, err := encodeConfiguration(&domain.Configuration{ID: "bare", Kind: domain.KindSlack})
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeConfiguration(blob)
	if err != nil || c.ID != "bare" || c.Settings != nil || c.Selectors != nil || !c.CreatedAt.IsZero() {
		t.Fatalf("bare configuration read back as %+v, %v", c, err)
	}
	if _, err := encodeConfiguration(&domain.Configuration{ID: "odd", Kind: domain.KindEmail, Settings: domain.SlackSettings{}}); err == nil {
		t.Error("encodeConfiguration of settings of another kind succeeded")
	}
}

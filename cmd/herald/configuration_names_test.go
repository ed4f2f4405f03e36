package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/domain"
)

// TestConfigurationNames_aTakenNameIsBadUserInputOnTheName: through GraphQL, a name another
// configuration of the account has is BAD_USER_INPUT on input.name, naming that configuration,
// on create and on rename; another account may use it, and an edit keeping it passes.
func TestConfigurationNames_aTakenNameIsBadUserInputOnTheName(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, app) // alice has "alice alerts", ts.aliceSlack
	const create = `mutation($in: ConfigurationInput!, $a: String) {
		createNotificationEndpointConfiguration(kind: SLACK, input: $in, account: $a) { id name } }`
	const update = `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in) { id name } }`
	slack := func(name string) map[string]any {
		return map[string]any{"name": name, "slack": map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/x"}, "quickSelections": []string{"all"}}
	}
	taken := `account "alice" already has a configuration named "alice alerts" (id ` + ts.aliceSlack + `); choose another name or edit that one`
	refused := func(what string, res gqlResult) {
		t.Helper()
		if res.code() != badUserInput || res.field() != "input.name" || len(res.Errors) != 1 || res.Errors[0].Message != "invalid input: input.name: "+taken {
			t.Errorf("%s: want BAD_USER_INPUT on input.name saying %q, got %s", what, taken, res.Raw)
		}
	}

	refused("alice again", app.gql(ts.aliceRW, create, map[string]any{"in": slack("  Alice Alerts ")}))
	refused("the admin, for alice", app.gql(ts.admin, create, map[string]any{"in": slack("ALICE ALERTS"), "a": "alice"}))
	app.mustGQL(ts.bobRW, create, map[string]any{"in": slack("alice alerts")})

	data := app.mustGQL(ts.aliceRW, create, map[string]any{"in": slack("dev alerts")})
	dev := data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	refused("renaming another onto it", app.gql(ts.aliceRW, update, map[string]any{"id": dev, "in": slack("alice  alerts")}))
	data = app.mustGQL(ts.aliceRW, update, map[string]any{"id": ts.aliceSlack, "in": slack("Alice Alerts")})
	if got := data["updateNotificationEndpointConfiguration"].(map[string]any)["name"]; got != "Alice Alerts" {
		t.Errorf("an edit keeping the name stored %q", got)
	}
}

// TestConfigurationLimits_aHugeURLIsBadUserInputWithItsLength: a 100 KB webhook URL is refused
// on its field, with its length and the limit.
func TestConfigurationLimits_aHugeURLIsBadUserInputWithItsLength(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	admin := basicAuth("admin", testAdminPassword)
	url := "https://hooks.example.com/" + strings.Repeat("a", 102400-len("https://hooks.example.com/"))
	res := app.gql(admin, `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "huge", "webhook": map[string]any{"url": url}, "quickSelections": []string{"all"}}})
	const want = "invalid input: input.webhook.url: is 102400 characters long, the limit is 2048"
	if res.code() != badUserInput || res.field() != "input.webhook.url" || len(res.Errors) != 1 || res.Errors[0].Message != want {
		t.Fatalf("want BAD_USER_INPUT on input.webhook.url, got %.500s", res.Raw)
	}
}

// TestConfigurationNames_namesStoredBeforeAreClaimedAtStart: configurations an older version
// stored without claiming their names (two with one name) have them claimed at the next start,
// the oldest first: a new configuration with that name is then BAD_USER_INPUT naming the
// oldest, and both old ones are listed and edited as before.
func TestConfigurationNames_namesStoredBeforeAreClaimedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testServeConfig(dir, testSecretKey)
	startTestAppConfig(t, cfg).stop() // the data dir of a herald that ran before

	sealer, err := sealerFor(cfg.Auth, dir, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	webhook, err := sealer.Seal("https://hooks.slack.com/services/T0/B0/old")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	store, err := embedded.Open(dir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []struct {
		id, name string
		at       time.Time
	}{
		{"old-newer", "ops alerts", time.Now().Add(-time.Hour)},
		{"old-oldest", "Ops Alerts", time.Now().Add(-48 * time.Hour)},
	} {
		draft := domain.ConfigurationDraft{Name: old.name, VerifyTLS: true, Settings: domain.SlackSettings{WebhookURL: domain.NewSecret(webhook)}, Selectors: []domain.Selector{sel}}
		fact, err := domain.EncodeConfigurationFact(domain.ConfigurationCreated{ID: old.id, Account: domain.AdminAccount, Kind: domain.KindSlack, Draft: draft, At: old.at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(context.Background(), domain.ConfigurationStream(old.id), domain.NoStream(), fact); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	app := startTestAppConfig(t, cfg)
	waitFor(t, "the names claimed at start", 10*time.Second, func() bool {
		return strings.Contains(app.logs.String(), "claimed the names of configurations stored before names were unique")
	})
	slack := map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/old"}
	res := app.gql(adminAuth(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: SLACK, input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": " OPS  alerts", "slack": slack, "quickSelections": []string{"all"}}})
	taken := `account "admin" already has a configuration named "Ops Alerts" (id old-oldest); choose another name or edit that one`
	if res.code() != badUserInput || res.field() != "input.name" || len(res.Errors) != 1 || res.Errors[0].Message != "invalid input: input.name: "+taken {
		t.Fatalf("want BAD_USER_INPUT on input.name saying %q, got %s", taken, res.Raw)
	}
	for _, id := range []string{"old-newer", "old-oldest"} {
		data := app.mustGQL(adminAuth(), `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in) { name } }`,
			map[string]any{"id": id, "in": map[string]any{"name": "ops alerts", "description": "edited", "slack": slack, "quickSelections": []string{"all"}}})
		if got := data["updateNotificationEndpointConfiguration"].(map[string]any)["name"]; got != "ops alerts" {
			t.Errorf("%s edited keeping its name is named %q", id, got)
		}
	}
}

// TestConfigurationUpdate_aNegativeExpectedRevisionIsBadUserInput: a revision below 0 is
// refused on its argument, instead of reading as a huge revision and a conflict, and the
// configuration keeps its name.
func TestConfigurationUpdate_aNegativeExpectedRevisionIsBadUserInput(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, app)
	res := app.gql(ts.aliceRW, `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in, expectedRevision: -1) { id } }`,
		map[string]any{"id": ts.aliceSlack, "in": map[string]any{"name": "renamed", "slack": map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/x"}, "quickSelections": []string{"all"}}})
	const want = "invalid input: expectedRevision: is -1; a revision is 0 or more (the configuration's revision field)"
	if res.code() != badUserInput || res.field() != "expectedRevision" || len(res.Errors) != 1 || res.Errors[0].Message != want {
		t.Errorf("want BAD_USER_INPUT on expectedRevision, got %s", res.Raw)
	}
	data := app.mustGQL(ts.aliceRW, `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { name } }`, map[string]any{"id": ts.aliceSlack})
	if got := data["getNotificationEndpointConfiguration"].(map[string]any)["name"]; got != "alice alerts" {
		t.Errorf("the refused update renamed the configuration to %q", got)
	}
}

// TestConfigurationList_anUnknownAccountIsNotFound: the admin listing the configurations of
// an account that does not exist (a typo, another case) is told so, not shown an empty list;
// an account without configurations lists none.
func TestConfigurationList_anUnknownAccountIsNotFound(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, app)
	const list = `query($a: String) { listNotificationEndpointConfigurations(account: $a) { id } }`
	for _, name := range []string{"nosuch", "ALICE"} {
		res := app.gql(ts.admin, list, map[string]any{"a": name})
		if res.code() != "NOT_FOUND" || !strings.Contains(res.Raw, `no account \"`+name+`\" (names match exactly, case included`) {
			t.Errorf("%s: %s", name, res.Raw)
		}
	}
	app.mustGQL(ts.admin, `mutation { createAccount(name: "carol") { name } }`, nil)
	if got := app.mustGQL(ts.admin, list, map[string]any{"a": "carol"})["listNotificationEndpointConfigurations"].([]any); len(got) != 0 {
		t.Errorf("carol has %d configurations", len(got))
	}
}

// TestConfigurationUpdate_keepsWhatIsLeftOut: an update that leaves out the description or
// verifyTls keeps them, as it keeps selectors and templates; "" clears the description.
func TestConfigurationUpdate_keepsWhatIsLeftOut(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	const fields = `{ name description verifyTls }`
	slack := func(name string) map[string]any {
		return map[string]any{"name": name, "slack": map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/x"}, "quickSelections": []string{"all"}}
	}
	in := slack("ops")
	in["description"], in["verifyTls"] = "the ops channel", false
	data := app.mustGQL(adminAuth(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: SLACK, input: $in) { id } }`, map[string]any{"in": in})
	id := data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	update := func(in map[string]any) map[string]any {
		t.Helper()
		data := app.mustGQL(adminAuth(), `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in) `+fields+` }`, map[string]any{"id": id, "in": in})
		return data["updateNotificationEndpointConfiguration"].(map[string]any)
	}
	if got := update(slack("ops renamed")); got["description"] != "the ops channel" || got["verifyTls"] != false || got["name"] != "ops renamed" {
		t.Errorf("an update leaving out description and verifyTls: %v", got)
	}
	cleared := slack("ops renamed")
	cleared["description"], cleared["verifyTls"] = "", true
	if got := update(cleared); got["description"] != "" || got["verifyTls"] != true {
		t.Errorf("an update clearing the description and verifying TLS again: %v", got)
	}
	data = app.mustGQL(adminAuth(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: SLACK, input: $in) `+fields+` }`, map[string]any{"in": slack("dev")})
	if got := data["createNotificationEndpointConfiguration"].(map[string]any); got["verifyTls"] != true || got["description"] != "" {
		t.Errorf("created without description or verifyTls: %v", got)
	}
}

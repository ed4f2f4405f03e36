package main

import (
	"strings"
	"testing"
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

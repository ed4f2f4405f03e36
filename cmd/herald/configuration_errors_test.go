package main

import (
	"slices"
	"strings"
	"testing"
)

// TestConfigurationErrors_nameTheInputField: a configuration that cannot work is refused with
// BAD_USER_INPUT and extensions.field naming the GraphQL input field at fault (the path a
// client sent: input.email.port), on create and on edit.
func TestConfigurationErrors_nameTheInputField(t *testing.T) {
	t.Parallel()
	base := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, base)
	const create = `mutation($k: EndpointKind!, $in: ConfigurationInput!, $a: String) {
		createNotificationEndpointConfiguration(kind: $k, input: $in, account: $a) { id } }`
	const update = `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in) { id } }`
	webhook := map[string]any{"url": "https://hooks.example.com/herald"}
	email := map[string]any{"host": "smtp.example.com", "from": "herald@example.com", "to": []string{"ops@example.com"}}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{k: v}
		for key, val := range m {
			if key != k {
				out[key] = val
			}
		}
		return out
	}
	all := []string{"all"}

	cases := []struct {
		name     string
		auth     string
		kind     string // create a configuration of this kind; "" edits alice's Slack configuration
		account  string
		input    map[string]any
		field    string
		mentions string
	}{
		{"bad URL", ts.aliceRW, "WEBHOOK", "", map[string]any{"webhook": with(webhook, "url", "ftp://hooks.example.com/herald"), "quickSelections": all},
			"input.webhook.url", "http or https"},
		{"URL without host", ts.aliceRW, "JIRA", "", map[string]any{"jira": map[string]any{"url": "https://", "username": "bot", "apiToken": "t", "projectKey": "SEC"}, "quickSelections": all},
			"input.jira.url", "host"},
		{"bad port", ts.aliceRW, "EMAIL", "", map[string]any{"email": with(email, "port", 70000), "quickSelections": all},
			"input.email.port", "70000 is not a port"},
		{"bad recipient", ts.aliceRW, "EMAIL", "", map[string]any{"email": with(email, "to", []string{"ops@example.com", "not an address"}), "quickSelections": all},
			"input.email.to[1]", "not an email address"},
		{"bad regex selector", ts.aliceRW, "WEBHOOK", "", map[string]any{"webhook": webhook, "selectors": []any{map[string]any{"type": "user.checks.*"}, map[string]any{"type": "regex:user.(checks"}}},
			"input.selectors[1].type", "regex"},
		{"bad selector level", ts.aliceRW, "WEBHOOK", "", map[string]any{"webhook": webhook, "selectors": []any{map[string]any{"type": "*", "level": "warn"}}},
			"input.selectors[0].level", `"warn"`},
		{"unknown quick selection", ts.aliceRW, "WEBHOOK", "", map[string]any{"webhook": webhook, "quickSelections": []string{"errors", "everything"}},
			"input.quickSelections[1]", `"everything" is not a quick selection; use one of all, policy-and-vulnerability, errors,`},
		{"global scope by a non-admin", ts.aliceRW, "WEBHOOK", "", map[string]any{"webhook": webhook, "selectors": []any{map[string]any{"scope": "GLOBAL", "type": "*"}}},
			"input.selectors[0].scope", "global scope is reserved to the admin account"},
		{"global quick selection by a non-admin", ts.aliceRW, "WEBHOOK", "", map[string]any{"webhook": webhook, "quickSelections": []string{"global-all"}},
			"input.quickSelections[0]", "global-all: global scope is reserved to the admin account; use all"},
		{"global scope by the admin for another account", ts.admin, "WEBHOOK", "alice", map[string]any{"webhook": webhook, "selectors": []any{map[string]any{"scope": "GLOBAL", "type": "*"}}},
			"input.selectors[0].scope", "global scope is reserved to the admin account"},
		{"settings of the wrong kind", ts.aliceRW, "SLACK", "", map[string]any{"webhook": webhook, "quickSelections": all},
			"input.webhook", "this is a slack configuration: give its settings in slack"},
		{"no settings", ts.aliceRW, "TEAMS", "", map[string]any{"quickSelections": all},
			"input.teams", "the teams settings are required"},
		{"edit: bad webhook URL", ts.aliceRW, "", "", map[string]any{"slack": map[string]any{"webhookUrl": "hooks.slack.com/services/T0"}},
			"input.slack.webhookUrl", "http or https URL"},
		{"edit: settings of another kind", ts.aliceRW, "", "", map[string]any{"email": email},
			"input.email", "this is a slack configuration: give its settings in slack"},
		{"edit: bad regex selector", ts.aliceRW, "", "", map[string]any{"slack": map[string]any{}, "selectors": []any{map[string]any{"type": "regex:["}}},
			"input.selectors[0].type", "regex"},
		{"edit: unknown quick selection", ts.aliceRW, "", "", map[string]any{"slack": map[string]any{}, "quickSelections": []string{"nope"}},
			"input.quickSelections[0]", `"nope" is not a quick selection`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := base.in(t)
			in := with(c.input, "name", "bad configuration")
			var res gqlResult
			if c.kind == "" {
				res = app.gql(c.auth, update, map[string]any{"id": ts.aliceSlack, "in": in})
			} else {
				vars := map[string]any{"k": c.kind, "in": in}
				if c.account != "" {
					vars["a"] = c.account
				}
				res = app.gql(c.auth, create, vars)
			}
			if res.code() != badUserInput || res.field() != c.field {
				t.Errorf("code %q, field %q; want BAD_USER_INPUT on %s: %s", res.code(), res.field(), c.field, res.Raw)
			}
			if len(res.Errors) > 0 && !strings.Contains(res.Errors[0].Message, c.mentions) {
				t.Errorf("message %q does not mention %q", res.Errors[0].Message, c.mentions)
			}
		})
	}

	// The required settings are nullable in the schema so that herald, not GraphQL's
	// validation (which stops at the first), tells every one missing in one answer.
	t.Run("every missing setting at once", func(t *testing.T) {
		app := base.in(t)
		for kind, want := range map[string][]string{
			"EMAIL":   {"input.email.host", "input.email.from", "input.email.to"},
			"JIRA":    {"input.jira.url", "input.jira.username", "input.jira.projectKey"},
			"GITHUB":  {"input.github.owner", "input.github.repository"},
			"WEBHOOK": {"input.webhook.url"},
		} {
			res := app.gql(ts.aliceRW, create, map[string]any{"k": kind, "in": map[string]any{
				"name": "incomplete", strings.ToLower(kind): map[string]any{}, "quickSelections": all}})
			var got []string
			if len(res.Errors) == 1 {
				fields, _ := res.Errors[0].Extensions["fields"].([]any)
				for _, f := range fields {
					f, _ := f.(map[string]any)
					if name, _ := f["field"].(string); f["message"] == "is required" || f["message"] == "needs at least one address" {
						got = append(got, name)
					}
				}
			}
			for _, f := range want {
				if !slices.Contains(got, f) {
					t.Errorf("%s: no error that %s is required among %v: %s", kind, f, got, res.Raw)
				}
			}
		}
	})
	t.Run("the admin account may use the global scope", func(t *testing.T) {
		app := base.in(t)
		app.mustGQL(ts.admin, create, map[string]any{"k": "WEBHOOK", "in": map[string]any{"name": "global", "webhook": webhook, "quickSelections": []string{"global-all"}}})
	})
	t.Run("nothing of the refused configurations was stored", func(t *testing.T) {
		app := base.in(t)
		data := app.mustGQL(ts.aliceRW, `{ listNotificationEndpointConfigurations { name revision } }`, nil)
		list := data["listNotificationEndpointConfigurations"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["name"] != "alice alerts" || list[0].(map[string]any)["revision"].(float64) != 0 {
			t.Errorf("alice's configurations after the refused ones: %v", list)
		}
	})
}

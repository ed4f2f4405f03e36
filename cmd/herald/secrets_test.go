package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/commands"
	"herald/internal/testtool"
)

// Every credential these tests hand to herald contains secretMarker, so that one search finds
// any of them wherever it leaks.
const secretMarker = "S3CRET"

const configurationFields = `fragment cfg on NotificationEndpointConfiguration {
	id account kind name description verifyTls revision createdAt updatedAt
	selectors { scope level type resourceType }
	settings {
		__typename
		... on EmailSettings { host port username hasPassword useTls from to }
		... on GitHubSettings { apiUrl owner repository hasAccessToken milestone labels assignees }
		... on JiraSettings { url jiraUsername: username hasApiToken projectKey issueType priority assignee labels }
		... on SlackSettings { hasWebhookUrl }
		... on TeamsSettings { hasWebhookUrl }
		... on WebhookSettings { url username hasPassword hasHmacSecret headerNames }
	}
}`

// secretSettings are settings of kind whose every credential is set, the n-th generation of them;
// without secrets (withSecrets false) they are what an edit that keeps the stored ones sends.
func secretSettings(kind string, n int, withSecrets bool) map[string]any {
	secret := func(what string) string {
		return fmt.Sprintf("%s-%s-%s-%d", secretMarker, strings.ToLower(kind), what, n)
	}
	var s map[string]any
	switch kind {
	case "EMAIL":
		s = map[string]any{"host": "smtp.example.com", "port": 587, "username": "herald", "password": secret("password"), "from": "herald@example.com", "to": []string{"ops@example.com"}}
	case "GITHUB":
		s = map[string]any{"owner": "acme", "repository": "alerts", "accessToken": secret("token"), "labels": []string{"security"}}
	case "JIRA":
		s = map[string]any{"url": "https://acme.atlassian.net", "username": "bot@acme.com", "apiToken": secret("token"), "projectKey": "SEC"}
	case "SLACK":
		s = map[string]any{"webhookUrl": "https://hooks.slack.com/services/T000/B000/" + secret("url")}
	case "TEAMS":
		s = map[string]any{"webhookUrl": "https://acme.webhook.office.com/webhookb2/" + secret("url")}
	case "WEBHOOK":
		s = map[string]any{"url": "https://hooks.example.com/herald", "username": "herald", "password": secret("password"), "hmacSecret": secret("hmac"),
			"headers": []any{map[string]any{"name": "X-Api-Key", "value": secret("header")}}}
	}
	if !withSecrets {
		for _, k := range []string{"password", "accessToken", "apiToken", "webhookUrl", "hmacSecret", "headers"} {
			delete(s, k)
		}
	}
	return s
}

var endpointKinds = []string{"EMAIL", "GITHUB", "JIRA", "SLACK", "TEAMS", "WEBHOOK"}

// secretFlags are the has<Credential> flags of a kind's settings.
var secretFlags = map[string][]string{
	"EMAIL": {"hasPassword"}, "GITHUB": {"hasAccessToken"}, "JIRA": {"hasApiToken"},
	"SLACK": {"hasWebhookUrl"}, "TEAMS": {"hasWebhookUrl"}, "WEBHOOK": {"hasPassword", "hasHmacSecret"},
}

// TestSecrets_neverLeaveHerald creates, edits, lists and reads configurations of every kind
// with distinctive credentials, provokes validation errors on them, and then searches every
// response body, every log line (debug level) and every file of the data directory for them.
func TestSecrets_neverLeaveHerald(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, app)
	const create = `mutation($k: EndpointKind!, $in: ConfigurationInput!, $a: String) {
		createNotificationEndpointConfiguration(kind: $k, input: $in, account: $a) { ...cfg } }` + configurationFields
	const update = `mutation($id: ID!, $in: ConfigurationInput!) {
		updateNotificationEndpointConfiguration(id: $id, input: $in) { ...cfg } }` + configurationFields
	checkFlags := func(t *testing.T, kind string, cfg map[string]any) {
		t.Helper()
		settings := cfg["settings"].(map[string]any)
		for _, flag := range secretFlags[kind] {
			if settings[flag] != true {
				t.Errorf("%s configuration: %s is %v, want true: %v", kind, flag, settings[flag], settings)
			}
		}
		if kind == "WEBHOOK" && fmt.Sprint(settings["headerNames"]) != "[X-Api-Key]" {
			t.Errorf("webhook headerNames %v, want [X-Api-Key]", settings["headerNames"])
		}
	}

	ids := map[string]string{}
	for _, kind := range endpointKinds {
		in := map[string]any{"name": "secret-test-" + strings.ToLower(kind), kind2field(kind): secretSettings(kind, 1, true), "quickSelections": []string{"errors"}}
		cfg := app.mustGQL(ts.aliceRW, create, map[string]any{"k": kind, "in": in})["createNotificationEndpointConfiguration"].(map[string]any)
		ids[kind] = cfg["id"].(string)
		checkFlags(t, kind, cfg)
	}
	// The admin account adds one to another account.
	adminMade := app.mustGQL(ts.admin, create, map[string]any{"k": "WEBHOOK", "a": "bob",
		"in": map[string]any{"name": "secret-test-admin-webhook", "webhook": secretSettings("WEBHOOK", 7, true), "quickSelections": []string{"all"}}})
	checkFlags(t, "WEBHOOK", adminMade["createNotificationEndpointConfiguration"].(map[string]any))

	for _, kind := range endpointKinds {
		for n, withSecrets := range []bool{true, false} { // new credentials, then none (keep them)
			in := map[string]any{"name": fmt.Sprintf("secret-test-%s-edit-%d", strings.ToLower(kind), n), kind2field(kind): secretSettings(kind, 2, withSecrets)}
			cfg := app.mustGQL(ts.aliceRW, update, map[string]any{"id": ids[kind], "in": in})["updateNotificationEndpointConfiguration"].(map[string]any)
			checkFlags(t, kind, cfg)
		}
	}

	for _, auth := range []string{ts.aliceRW, ts.aliceRO, ts.admin} {
		list := app.mustGQL(auth, `{ listNotificationEndpointConfigurations { ...cfg } }`+configurationFields, nil)
		if n := len(list["listNotificationEndpointConfigurations"].([]any)); n < len(endpointKinds) {
			t.Errorf("listing shows %d configurations, want at least %d", n, len(endpointKinds))
		}
		for _, kind := range endpointKinds {
			got := app.mustGQL(auth, `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { ...cfg } }`+configurationFields, map[string]any{"id": ids[kind]})
			checkFlags(t, kind, got["getNotificationEndpointConfiguration"].(map[string]any))
		}
	}

	// Validation errors about settings that carry credentials.
	bad := []struct {
		name, kind string
		id         string // update this configuration instead of creating one
		settings   map[string]any
		field      string // the input field the settings go in, if not the kind's
	}{
		{"slack webhook URL that is no URL", "SLACK", "", map[string]any{"webhookUrl": secretMarker + "-slack-url-3 is not a URL"}, ""},
		{"teams webhook URL of another scheme", "TEAMS", "", map[string]any{"webhookUrl": "ftp://teams.example.com/" + secretMarker + "-teams-url-3"}, ""},
		{"webhook URL carrying credentials", "WEBHOOK", "", map[string]any{"url": "https://herald:" + secretMarker + "-webhook-url-3@hooks.example.com/x"}, ""},
		{"reserved webhook header", "WEBHOOK", "", map[string]any{"url": "https://hooks.example.com/x", "headers": []any{map[string]any{"name": "X-Herald-Signature", "value": secretMarker + "-webhook-header-3"}}}, ""},
		{"email password without user", "EMAIL", "", map[string]any{"host": "smtp.example.com", "password": secretMarker + "-email-password-3", "from": "herald@example.com", "to": []string{"ops@example.com"}}, ""},
		{"github API URL of another scheme", "GITHUB", "", map[string]any{"apiUrl": "ftp://github.example.com", "owner": "acme", "repository": "alerts", "accessToken": secretMarker + "-github-token-3"}, ""},
		{"jira without project", "JIRA", "", map[string]any{"url": "https://acme.atlassian.net", "username": "bot", "apiToken": secretMarker + "-jira-token-3", "projectKey": ""}, ""},
		{"bad port on edit with a new password", "EMAIL", ids["EMAIL"], map[string]any{"host": "smtp.example.com", "port": 70000, "username": "u", "password": secretMarker + "-email-password-4", "from": "herald@example.com", "to": []string{"ops@example.com"}}, ""},
		{"bad slack URL on edit", "SLACK", ids["SLACK"], map[string]any{"webhookUrl": "mailto:" + secretMarker + "-slack-url-4"}, ""},
		{"settings of another kind", "EMAIL", "", map[string]any{"webhookUrl": "https://hooks.slack.com/services/" + secretMarker + "-slack-url-5"}, "slack"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			app := app.in(t)
			field := c.field
			if field == "" {
				field = kind2field(c.kind)
			}
			in := map[string]any{"name": "secret-test-bad", field: c.settings, "quickSelections": []string{"all"}}
			var res gqlResult
			if c.id != "" {
				res = app.gql(ts.aliceRW, update, map[string]any{"id": c.id, "in": in})
			} else {
				res = app.gql(ts.aliceRW, create, map[string]any{"k": c.kind, "in": in})
			}
			if res.code() != badUserInput {
				t.Errorf("want BAD_USER_INPUT, got %s", res.Raw)
			}
		})
	}
	// A credential of the wrong GraphQL type is refused by the parser.
	res := app.gql(ts.aliceRW, create, map[string]any{"k": "EMAIL", "in": map[string]any{"name": "x",
		"email": map[string]any{"host": "h", "username": "u", "password": []any{secretMarker + "-email-password-6"}, "from": "a@b.c", "to": []string{"a@b.c"}}}})
	if len(res.Errors) == 0 {
		t.Errorf("a list as password was accepted: %s", res.Raw)
	}

	app.stop()
	if !strings.Contains(app.bodies.String(), `"hasPassword":true`) || !strings.Contains(app.logs.String(), "level=") {
		t.Fatal("nothing was captured: the search below would prove nothing")
	}
	if lines := linesWith(app.bodies.String(), secretMarker); lines != "" {
		t.Errorf("credentials in response bodies:\n%s", lines)
	}
	if lines := linesWith(app.logs.String(), secretMarker); lines != "" {
		t.Errorf("credentials in the server log:\n%s", lines)
	}
	var names, sealed bool
	err := filepath.WalkDir(app.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if i := bytes.Index(data, []byte(secretMarker)); i >= 0 {
			t.Errorf("credential in plain text in %s: %q", path, data[max(0, i-40):min(len(data), i+60)])
		}
		names = names || bytes.Contains(data, []byte("secret-test-webhook"))
		sealed = sealed || bytes.Contains(data, []byte("aesgcm1:"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !names || !sealed {
		t.Errorf("the data directory shows configuration names in plain text: %v, sealed values: %v; want both, or the search proves nothing", names, sealed)
	}
}

// TestSecrets_unparsableURLErrorsDoNotQuoteCredentials: a URL setting that carries a password
// and also fails to parse must be refused without quoting the password back.
func TestSecrets_unparsableURLErrorsDoNotQuoteCredentials(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	admin := basicAuth("admin", testAdminPassword)
	const create = `mutation($k: EndpointKind!, $in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: $k, input: $in) { id } }`
	leaky := "https://herald:" + secretMarker + "-in-url@hooks.example.com/%zz"
	for _, c := range []struct {
		kind     string
		settings map[string]any
	}{
		{"WEBHOOK", map[string]any{"url": leaky}},
		{"JIRA", map[string]any{"url": leaky, "username": "bot", "apiToken": "t", "projectKey": "SEC"}},
		{"GITHUB", map[string]any{"apiUrl": leaky, "owner": "acme", "repository": "alerts", "accessToken": "t"}},
	} {
		res := app.gql(admin, create, map[string]any{"k": c.kind, "in": map[string]any{"name": "leak", kind2field(c.kind): c.settings, "quickSelections": []string{"all"}}})
		if res.code() != badUserInput {
			t.Errorf("%s: want BAD_USER_INPUT, got %s", c.kind, res.Raw)
		}
		if strings.Contains(res.Raw, secretMarker) {
			t.Errorf("%s: the error quotes the password of the URL: %s", c.kind, res.Raw)
		}
	}
}

// TestSecrets_restartWithAnotherKeyFailsClearly: herald refuses to start on a data directory
// whose credentials were sealed under another key, and names the secret key as the cause.
func TestSecrets_restartWithAnotherKeyFailsClearly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := startTestApp(t, dir, testSecretKey)
	created := app.mustGQL(basicAuth("admin", testAdminPassword), `mutation {
		createNotificationEndpointConfiguration(kind: SLACK, input: {name: "before restart", slack: {webhookUrl: "https://hooks.slack.com/services/k1"}, quickSelections: ["all"]}) { id } }`, nil)
	id := created["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	app.stop()

	logs := &testtool.Buffer{}
	other, err := newApp(testServeConfig(dir, otherSecretKey), debugLogger(logs))
	if err == nil {
		other.Close()
		t.Fatal("herald started with another secret key than the one that sealed the stored credentials")
	}
	if !errors.Is(err, commands.ErrWrongSecretKey) || !strings.Contains(err.Error(), "secret key") || !strings.Contains(err.Error(), "HERALD_SECRET_KEY") {
		t.Errorf("error %q does not say clearly that the secret key is wrong", err)
	}

	again := startTestApp(t, dir, testSecretKey) // the right key still opens the data
	data := again.mustGQL(basicAuth("admin", testAdminPassword), `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { settings { ... on SlackSettings { hasWebhookUrl } } } }`, map[string]any{"id": id})
	if fmt.Sprint(data) != "map[getNotificationEndpointConfiguration:map[settings:map[hasWebhookUrl:true]]]" {
		t.Errorf("after a restart with the right key: %v", data)
	}
}

// kind2field is the ConfigurationInput field of a kind's settings.
func kind2field(kind string) string { return strings.ToLower(kind) }

// linesWith returns the lines of s that contain substr.
func linesWith(s, substr string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestSecrets_anEmptyCredentialRemovesIt: on update, a credential given as "" is removed (and
// one left out kept); the CLI's --set key= sends "". A required one cannot be removed.
func TestSecrets_anEmptyCredentialRemovesIt(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	in := map[string]any{"name": "hook", "quickSelections": []string{"all"},
		"webhook": map[string]any{"url": "https://hooks.example.com/h", "username": "u", "password": "pw", "hmacSecret": "key"}}
	data := app.mustGQL(adminAuth(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`, map[string]any{"in": in})
	id := data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	const update = `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in) { settings { ... on WebhookSettings { hasPassword hasHmacSecret } } } }`
	in["webhook"] = map[string]any{"url": "https://hooks.example.com/h", "username": "u", "hmacSecret": ""}
	data = app.mustGQL(adminAuth(), update, map[string]any{"id": id, "in": in})
	if got := data["updateNotificationEndpointConfiguration"].(map[string]any)["settings"].(map[string]any); got["hasHmacSecret"] != false || got["hasPassword"] != true {
		t.Errorf("hmacSecret given empty, password left out: %v; want the first removed, the second kept", got)
	}
	if _, errOut, err := runCLI(t, "", "notifications", "config", "edit", id, "--set", "password=", "--url", app.url, "--user", "admin", "--password", testAdminPassword); err != nil {
		t.Fatalf("config edit --set password=: %v\n%s", err, errOut)
	}
	data = app.mustGQL(adminAuth(), `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { settings { ... on WebhookSettings { hasPassword hasHmacSecret } } } }`, map[string]any{"id": id})
	if got := data["getNotificationEndpointConfiguration"].(map[string]any)["settings"].(map[string]any); got["hasPassword"] != false {
		t.Errorf("after config edit --set password=: %v; want the password removed", got)
	}

	slack := map[string]any{"name": "chat", "quickSelections": []string{"all"}, "slack": map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/x"}}
	data = app.mustGQL(adminAuth(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: SLACK, input: $in) { id } }`, map[string]any{"in": slack})
	chat := data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	slack["slack"] = map[string]any{"webhookUrl": ""}
	if res := app.gql(adminAuth(), update, map[string]any{"id": chat, "in": slack}); res.code() != badUserInput || !strings.Contains(res.field(), "webhookUrl") {
		t.Errorf("removing a required credential: %s", res.Raw)
	}
}

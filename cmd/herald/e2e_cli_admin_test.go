package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2E_notificationsAndAccountsCLI drives the notifications, account and projections
// commands of the real binary against a server that requires credentials.
func TestE2E_notificationsAndAccountsCLI(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, freePort(t), "--require-auth=true", "--admin-password", "admin-password-1")
	admin := func(args ...string) string {
		t.Helper()
		return s.mustCLI(append(args, "--user", "admin", "--password", "admin-password-1")...)
	}
	if _, errOut, err := s.cli("", "notifications", "endpoints"); err == nil || !strings.Contains(errOut, "needs credentials") {
		t.Fatalf("anonymous endpoints: %v %s", err, errOut)
	}
	out := admin("notifications", "endpoints")
	for _, kind := range []string{"email", "github", "jira", "slack", "teams", "webhook"} {
		if !strings.Contains(out, kind+" ") || !strings.Contains(out, "enabled") {
			t.Fatalf("endpoints do not list %s enabled:\n%s", kind, out)
		}
	}
	if out := admin("notifications", "endpoint", "disable", "slack"); out != "Disabled the slack endpoint\n" {
		t.Fatalf("disable printed %q", out)
	}
	if out := admin("notifications", "endpoints"); !strings.Contains(out, "slack       disabled") {
		t.Fatalf("slack not shown disabled:\n%s", out)
	}
	admin("notifications", "endpoint", "enable", "slack")

	// An account with a read-write user who signs in with a token.
	admin("account", "create", "alice")
	admin("account", "user", "add", "alice", "ann", "--role", "read-write", "--new-password", "ann-password-1")
	token := strings.TrimSpace(admin("account", "token", "issue", "alice", "ann", "--description", "cli test"))
	if !strings.HasPrefix(token, "hrld_") {
		t.Fatalf("token %q", token)
	}
	ann := func(args ...string) string {
		t.Helper()
		return s.mustCLI(append(args, "--token", token)...)
	}
	if out := ann("account", "whoami"); out != "user ann of account alice (read-write)\n" {
		t.Fatalf("whoami %q", out)
	}
	// A user lists its own tokens (no admin needed), sees which are revoked, and an admin
	// lists anyone's.
	_, issued, err := s.cli("", "account", "token", "issue", "--description", "laptop", "--ttl", "1d", "--token", token)
	second, _, _ := strings.Cut(strings.TrimPrefix(issued, "Token "), " ")
	if err != nil || second == "" {
		t.Fatalf("ann issues a token: %v %q", err, issued)
	}
	ann("account", "token", "revoke", second)
	listed := ann("account", "token", "list")
	if named := ann("account", "token", "list", "alice", "ann"); named != listed {
		t.Fatalf("ann's tokens named by ann:\n%s\nwant\n%s", named, listed)
	}
	if lines := strings.Split(strings.TrimSpace(listed), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "active") || !strings.Contains(lines[1], "never") ||
		!strings.HasSuffix(lines[1], "cli test") || !strings.HasPrefix(lines[2], second) || !strings.Contains(lines[2], "revoked") || !strings.HasSuffix(lines[2], "laptop") {
		t.Fatalf("ann's token list:\n%s", listed)
	}
	if out := admin("account", "token", "list", "alice", "ann", "-o", "json"); !strings.Contains(out, `"id": "`+second+`"`) || !strings.Contains(out, `"revoked": true`) {
		t.Fatalf("the admin's list of ann's tokens:\n%s", out)
	}
	if _, errOut, err := s.cli("", "account", "token", "list", "alice", "bob", "--user", "admin", "--password", "admin-password-1"); err == nil || !strings.Contains(errOut, "account alice has no user bob") {
		t.Fatalf("listing the tokens of a user who does not exist: %v %q", err, errOut)
	}
	if _, errOut, err := s.cli("", "account", "token", "list", "admin", "admin", "--token", token); err == nil || !strings.Contains(errOut, "not allowed") {
		t.Fatalf("ann listing the admin's tokens: %v %q, want refused", err, errOut)
	}
	if out := admin("account", "retention", "alice", "30d"); out != "Events of account alice are kept 30d\n" {
		t.Fatalf("account retention printed %q", out)
	}
	if out := admin("account", "list"); !strings.Contains(out, "alice") || !strings.Contains(out, "30d") {
		t.Fatalf("account list does not show alice's retention:\n%s", out)
	}
	if _, stderr, err := s.cli("", "account", "retention", "alice", "30m", "--user", "admin", "--password", "admin-password-1"); err == nil || !strings.Contains(stderr, "shorter than the shortest retention") {
		t.Fatalf("a retention of 30m: %v %q, want refused", err, stderr)
	}
	if out := admin("account", "retention", "alice", "default"); !strings.Contains(out, "as long as the server's --retention says") {
		t.Fatalf("account retention default printed %q", out)
	}

	// Slack configuration with a selector, from a secret kept in a file.
	urlFile := filepath.Join(dir, "slack-url.txt")
	if err := os.WriteFile(urlFile, []byte("https://hooks.slack.com/services/T0/B0/SECRETPART\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = ann("notifications", "config", "add", "slack", "--name", "ops-alerts", "--set", "webhookUrl=@"+urlFile,
		"--quick-selection", "errors", "--selector", "user.checks.*,level=*")
	if !strings.HasPrefix(out, "Added slack configuration ") {
		t.Fatalf("add printed %q", out)
	}
	id := strings.Fields(out)[3]
	list := ann("notifications", "config", "list")
	if !strings.Contains(list, id) || !strings.Contains(list, "account/*/user.checks.*/*, account/error/*/*") {
		t.Fatalf("list:\n%s", list)
	}
	get := ann("notifications", "config", "get", id)
	if !strings.Contains(get, "hasWebhookUrl: true") {
		t.Fatalf("get does not show the webhook URL as set:\n%s", get)
	}
	// the keys are the API's and --set's, as in the settings: no snake_case beside camelCase
	if !strings.Contains(get, "verifyTls: true") || !strings.Contains(get, "resourceType:") || !strings.Contains(get, "createdAt:") || strings.Contains(get, "verify_tls") {
		t.Fatalf("get's keys:\n%s", get)
	}
	if strings.Contains(get+list, "SECRETPART") {
		t.Fatal("the webhook URL was printed")
	}
	// An empty file is a slip, not a removal: the stored URL stays (and a password, a template).
	emptyFile := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"notifications", "config", "edit", id, "--set", "webhookUrl=@" + emptyFile}, "--set webhookUrl: read " + emptyFile + ": it is empty; to remove the setting, give --set webhookUrl= with nothing after the ="},
		{[]string{"notifications", "config", "edit", id, "--body-template", "@-"}, `--body-template: read stdin: it is empty; to restore the default template, give --body-template ""`},
		{[]string{"account", "user", "add", "alice", "bob", "--new-password", "@" + emptyFile}, "--new-password: read " + emptyFile + ": it is empty"},
		{[]string{"account", "user", "password", "--new-password", "@-"}, "--new-password: read stdin: it is empty"},
		{[]string{"notifications", "config", "edit", id, "--set", "webhookUrl=@-", "--title-template", "@-"}, "--set webhookUrl, --title-template each read stdin (@-), which can be read only once: give one of them @-, and the others @FILE"},
	} {
		if _, errOut, err := s.cli("", append(c.args, "--token", token)...); err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %v %q, want %q", c.args, err, errOut, c.want)
		}
	}
	if get := ann("notifications", "config", "get", id); !strings.Contains(get, "hasWebhookUrl: true") {
		t.Fatalf("an empty file removed the webhook URL:\n%s", get)
	}
	if out := ann("notifications", "config", "edit", id, "--name", "ops", "--selector", "system.*,level=error"); out != "Updated configuration "+id+"\n" {
		t.Fatalf("edit printed %q", out)
	}
	// the same again (the webhook URL given again too) records nothing
	if out := ann("notifications", "config", "edit", id, "--name", "ops", "--selector", "system.*,level=error", "--set", "webhookUrl=@"+urlFile); out != "Configuration "+id+" is unchanged: it has those values already\n" {
		t.Fatalf("an edit that changes nothing printed %q", out)
	}
	// so does one of a GitHub configuration without labels (stored as none, shown as [])
	out = ann("notifications", "config", "add", "github", "--name", "gh", "--set", "owner=acme", "--set", "repository=alerts", "--set", "accessToken=ghp_x", "--quick-selection", "errors")
	ghID := strings.Fields(out)[3]
	if out := ann("notifications", "config", "edit", ghID, "--name", "gh"); out != "Configuration "+ghID+" is unchanged: it has those values already\n" {
		t.Fatalf("an edit of a GitHub configuration that changes nothing printed %q", out)
	}
	ann("notifications", "config", "remove", ghID, "--yes")
	if get := ann("notifications", "config", "get", id); !strings.Contains(get, "name: ops") || !strings.Contains(get, "system.*") || strings.Contains(get, "user.checks") || strings.Contains(get, "templates") {
		t.Fatalf("after edit:\n%s", get)
	}
	// templates are shown once set, and one that would fail every send is refused
	ann("notifications", "config", "edit", id, "--title-template", "{{.Level | upper}}: {{.Type}}")
	if get := ann("notifications", "config", "get", id); !strings.Contains(get, "templates:\n  title: '{{.Level | upper}}: {{.Type}}'") {
		t.Fatalf("get does not show the title template:\n%s", get)
	}
	if _, errOut, err := s.cli("", "notifications", "config", "edit", id, "--title-template", "{{.Nope}}", "--token", token); err == nil || !strings.Contains(errOut, "uses a field events do not have, Nope") {
		t.Fatalf("a template with a field events lack: %v %s", err, errOut)
	}
	if _, errOut, err := s.cli("", "notifications", "config", "add", "slack", "--name", "x", "--set", "webhookUrl=nope", "--quick-selection", "all", "--token", token); err == nil || !strings.Contains(errOut, "--set webhookUrl: ") || strings.Contains(errOut, "input.") {
		t.Fatalf("bad URL: %v %s", err, errOut)
	}
	// every refusal names the flag, not the GraphQL input's field
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "add", "slack", "--name", "x", "--set", "webhookUrl=https://hooks.slack.com/services/T0/B0/x"}, "--selector or --quick-selection: "},
		{[]string{"config", "add", "webhook", "--name", "x", "--set", "url=https://hooks.example.com/", "--quick-selection", "all", "--title-template", "{{.Type}}"}, "--title-template or --body-template: "},
		{[]string{"config", "test", "--kind", "teams", "--set", "webhookUrl=nope"}, "--set webhookUrl: "},
		{[]string{"config", "add", "slack", "--name", "x", "--set", "webhookUrl=https://hooks.slack.com/services/T0/B0/x", "--selector", "system.*,scope=everyone"}, `--selector "system.*,scope=everyone": scope=everyone: use scope=account or scope=global`},
	} {
		if _, errOut, err := s.cli("", append(append([]string{"notifications"}, c.args...), "--token", token)...); err == nil || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "input.") {
			t.Errorf("%v: %v %s; want %q", c.args, err, errOut, c.want)
		}
	}
	if _, errOut, err := s.cli("", "notifications", "config", "add", "slack", "--name", "x", "--set", "webhookUrl=https://x", "--quick-selection", "global-all", "--token", token); err == nil || !strings.Contains(errOut, "--quick-selection #1: global-all: global scope is reserved to the admin account; use all") {
		t.Fatalf("global scope by a non-admin: %v %s", err, errOut)
	}
	if out := ann("notifications", "config", "remove", id, "--yes"); out != "Removed configuration "+id+"\n" {
		t.Fatalf("remove printed %q", out)
	}
	if list := ann("notifications", "config", "list"); strings.Contains(list, id) {
		t.Fatalf("removed configuration still listed:\n%s", list)
	}

	// Projections: status and a rebuild with its progress bar.
	status := admin("projections", "status")
	for _, view := range []string{"eventlog", "configurations", "accounts"} {
		if !strings.Contains(status, view) || !strings.Contains(status, "live") {
			t.Fatalf("status:\n%s", status)
		}
	}
	out, errOut, err := s.cli("", "projections", "rebuild", "--user", "admin", "--password", "admin-password-1")
	if err != nil || !strings.Contains(out, "Rebuilt in") || !strings.Contains(errOut, "100%") {
		t.Fatalf("rebuild: %v\n%s\n%s", err, out, errOut)
	}
	if _, errOut, err := s.cli("", "projections", "status", "--token", token); err == nil || !strings.Contains(errOut, "not allowed") {
		t.Fatalf("a non-admin read the projections: %v %s", err, errOut)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// runCLI runs herald with args in this process, with stdin as its standard input.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// flagLine is the line of help's flag list that describes --name, or "".
func flagLine(help, name string) string {
	_, flags, _ := strings.Cut(help, "\nFlags:\n")
	for _, line := range strings.Split(flags, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "--"+name+" ") || (strings.HasPrefix(l, "-") && strings.Contains(l, ", --"+name+" ")) {
			return line
		}
	}
	return ""
}

func TestHelp_configFlagsNameTheirValues(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"add", "edit"} {
		help, _, err := runCLI(t, "", "notifications", "config", cmd, "--help")
		if err != nil {
			t.Fatal(err)
		}
		for flag, want := range map[string]string{"quick-selection": "--quick-selection NAME", "selector": "--selector SELECTOR", "set": "--set key=value"} {
			if line := flagLine(help, flag); !strings.Contains(line, want) {
				t.Errorf("config %s --help shows %q, want %q", cmd, line, want)
			}
		}
		if line := flagLine(help, "quick-selection"); !strings.Contains(line, "policy-and-vulnerability") || !strings.Contains(line, "global-all") {
			t.Errorf("config %s --help: --quick-selection does not list the quick selections: %q", cmd, line)
		}
	}
}

func TestHelp_configTestTakesOnlyWhatATestUses(t *testing.T) {
	t.Parallel()
	help, _, err := runCLI(t, "", "notifications", "config", "test", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"account", "name", "description", "selector", "quick-selection"} {
		if line := flagLine(help, flag); line != "" {
			t.Errorf("config test --help lists --%s: %q", flag, line)
		}
	}
	for _, flag := range []string{"kind", "set", "no-verify-tls", "title-template", "body-template"} {
		if flagLine(help, flag) == "" {
			t.Errorf("config test --help does not list --%s", flag)
		}
	}
}

func TestHelp_rebuildListsEveryView(t *testing.T) {
	t.Parallel()
	help, _, err := runCLI(t, "", "projections", "rebuild", "--help")
	if err != nil {
		t.Fatal(err)
	}
	line := flagLine(help, "view")
	for _, view := range []string{projections.EventLogViewName, projections.ConfigurationsViewName, projections.AccountsViewName, projections.DeliveriesViewName} {
		if !strings.Contains(line, view) {
			t.Errorf("--view does not list the %s view: %q", view, line)
		}
	}
}

func TestConfigSettings_headersIsTheDocumentedNameAndHeaderStillWorks(t *testing.T) {
	f := configFlags{set: []string{"url=https://hooks.example.com", "headers=X-Team: ops", "header=X-Env: prod"}}
	got, err := f.settings(domain.KindWebhook, nil, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"name": "X-Team", "value": "ops"}, {"name": "X-Env", "value": "prod"}}
	if fmt.Sprint(got["headers"]) != fmt.Sprint(want) || len(got) != 2 {
		t.Errorf("settings = %v, want url and headers %v", got, want)
	}
	f = configFlags{set: []string{"headers=no colon"}}
	if _, err := f.settings(domain.KindWebhook, nil, strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "--set headers=") {
		t.Errorf("a header without a colon: %v", err)
	}
	f = configFlags{set: []string{"nope=1"}}
	if _, err := f.settings(domain.KindWebhook, nil, strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "headers, hmacSecret, password, url, username") {
		t.Errorf("an unknown setting: %v", err)
	}
}

func TestConfigSettings_listsRefuseEmptyItems(t *testing.T) {
	f := configFlags{set: []string{"to=a@example.com, b@example.com"}}
	got, err := f.settings(domain.KindEmail, nil, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got["to"]) != "[a@example.com b@example.com]" {
		t.Errorf("to = %v", got["to"])
	}
	for value, want := range map[string]string{
		"a@example.com,,c@example.com": `--set to="a@example.com,,c@example.com": item 2 of 3 is empty; remove the extra comma`,
		"a@example.com, ":              `--set to="a@example.com, ": item 2 of 2 is empty; remove the extra comma`,
	} {
		f := configFlags{set: []string{"to=" + value}}
		if _, err := f.settings(domain.KindEmail, nil, strings.NewReader("")); err == nil || err.Error() != want {
			t.Errorf("to=%s: error = %v, want %s", value, err, want)
		}
	}
}

func TestConfigSettings_useTlsTakesAnyCase(t *testing.T) {
	f := configFlags{set: []string{"useTls=StartTLS"}}
	got, err := f.settings(domain.KindEmail, nil, strings.NewReader(""))
	if err != nil || got["useTls"] != "STARTTLS" {
		t.Fatalf("useTls=StartTLS: %v, %v", got, err)
	}
	f = configFlags{set: []string{"useTls=ssl"}}
	want := `--set useTls="ssl": use starttls, tls or none`
	if _, err := f.settings(domain.KindEmail, nil, strings.NewReader("")); err == nil || err.Error() != want {
		t.Errorf("useTls=ssl: error = %v, want %s", err, want)
	}
}

// TestConfigSettings_removingASettingWithADefaultRestoresIt: --set key= removes a setting;
// for one with a default (port, useTls, apiUrl, issueType) that is the default, sent as such,
// since an edit keeps what it leaves out. Others are sent empty, which removes them.
func TestConfigSettings_removingASettingWithADefaultRestoresIt(t *testing.T) {
	for kind, want := range map[domain.EndpointKind]map[string]any{
		domain.KindEmail:  {"port": 587, "useTls": "STARTTLS", "username": ""},
		domain.KindGitHub: {"apiUrl": "https://api.github.com"},
		domain.KindJira:   {"issueType": "Bug", "priority": ""},
	} {
		var set []string
		for key := range want {
			set = append(set, key+"=")
		}
		f := configFlags{set: set}
		got, err := f.settings(kind, nil, strings.NewReader(""))
		if err != nil {
			t.Fatalf("%s %v: %v", kind, set, err)
		}
		for key, w := range want {
			if got[key] != w {
				t.Errorf("%s --set %s=: sends %#v, want %#v", kind, key, got[key], w)
			}
		}
	}
	f := configFlags{set: []string{"issueType=@-"}}
	if _, err := f.settings(domain.KindJira, nil, strings.NewReader("\n")); err == nil || !strings.Contains(err.Error(), "it is empty") {
		t.Errorf("issueType=@- from an empty stdin: %v, want it refused as empty", err)
	}
}

// TestConfigSettings_anEmailPortFollowsUseTls: where the user chose no port, the port goes
// with useTls: --set port= restores the usual port of the security in effect, and a change of
// useTls moves a port left at the old security's default to the new one's. A port of the
// user's own stays.
func TestConfigSettings_anEmailPortFollowsUseTls(t *testing.T) {
	starttls587 := map[string]any{"port": 587.0, "useTls": "STARTTLS"} // as the API's JSON decodes
	for _, tc := range []struct {
		base map[string]any
		set  []string
		want any
	}{
		{nil, []string{"useTls=tls"}, 465},
		{starttls587, []string{"useTls=tls"}, 465},
		{starttls587, []string{"useTls=none"}, 25},
		{starttls587, []string{"useTls=tls", "port=2465"}, 2465},
		{map[string]any{"port": 2525.0, "useTls": "STARTTLS"}, []string{"useTls=tls"}, 2525.0},
		{map[string]any{"port": 2465.0, "useTls": "TLS"}, []string{"port="}, 465},
		{map[string]any{"port": 2525.0, "useTls": "STARTTLS"}, []string{"host=mail.example.com"}, 2525.0},
	} {
		f := configFlags{set: tc.set}
		got, err := f.settings(domain.KindEmail, tc.base, strings.NewReader(""))
		if err != nil {
			t.Fatalf("%v on %v: %v", tc.set, tc.base, err)
		}
		if got["port"] != tc.want {
			t.Errorf("--set %v on %v: sends port %#v, want %#v", tc.set, tc.base, got["port"], tc.want)
		}
	}
}

// TestTokenIssue_ttlInDays: --ttl takes days as the retention flags do, and the refusal of a
// token that would outlive the one it is issued with names ttlSeconds and says the longest
// lifetime in a form --ttl takes, and in seconds.
func TestTokenIssue_ttlInDays(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	admin := []string{"--url", app.url, "--user", "admin", "--password", testAdminPassword}
	token, errOut, err := runCLI(t, "", append([]string{"account", "token", "issue", "--ttl", "3d"}, admin...)...)
	if err != nil {
		t.Fatalf("--ttl 3d: %v\n%s", err, errOut)
	}
	_, _, err = runCLI(t, "", "account", "token", "issue", "--ttl", "30d", "--url", app.url, "--token", strings.TrimSpace(token))
	if err == nil {
		t.Fatal("a token issued with a 3-day token outlives it")
	}
	msg := err.Error()
	if !strings.Contains(msg, "invalid input: ttlSeconds: ") || !strings.Contains(msg, "ask for at most 71h59m0s (2591") {
		t.Errorf("error = %q, want ttlSeconds named and the longest lifetime as 71h59m0s", msg)
	}
}

// TestOutputFlag_refusesFormatsACommandDoesNotOffer: every -o names the formats it takes, and
// refuses others before asking the server anything.
func TestOutputFlag_refusesFormatsACommandDoesNotOffer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd          []string
		bad, formats string
	}{
		{[]string{"event", "list"}, "yaml", "table, wide or json"},
		{[]string{"event", "types"}, "yaml", "table or json"},
		{[]string{"event", "get", "ID"}, "table", "yaml or json"},
		{[]string{"notifications", "deliveries"}, "yaml", "table or json"},
		{[]string{"notifications", "endpoints"}, "yaml", "table or json"},
		{[]string{"notifications", "config", "list"}, "yaml", "table or json"},
		{[]string{"notifications", "config", "get", "ID"}, "xml", "yaml or json"},
		{[]string{"account", "list"}, "yaml", "table or json"},
		{[]string{"projections", "status"}, "yaml", "table or json"},
	} {
		name := strings.Join(tc.cmd, " ")
		out, _, err := runCLI(t, "", append(tc.cmd, "-o", tc.bad, "--url", "http://127.0.0.1:1")...)
		if want := fmt.Sprintf("-o %q: use %s", tc.bad, tc.formats); err == nil || err.Error() != want || out != "" {
			t.Errorf("herald %s -o %s: %v, stdout %q; want the error %q", name, tc.bad, err, out, want)
		}
		help, _, _ := runCLI(t, "", append(tc.cmd, "--help")...)
		if line := flagLine(help, "output"); !strings.Contains(line, "output format: "+tc.formats) {
			t.Errorf("herald %s --help: -o says %q", name, line)
		}
	}
}

// TestEventList_jsonSaysOnStderrThatMoreEventsMatch: -o json keeps stdout parseable and still
// says that only the first 100 events are shown.
func TestEventList_jsonSaysOnStderrThatMoreEventsMatch(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	admin := basicAuth("admin", testAdminPassword)
	var events []any
	for i := range 101 {
		events = append(events, tenantEvent(fmt.Sprintf("many-%d", i), "admin", i))
	}
	app.mustGQL(admin, recordEventsOp, map[string]any{"in": events})
	out, errOut, err := runCLI(t, "", "event", "list", "-o", "json", "--url", app.url, "--user", "admin", "--password", testAdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 100 {
		t.Errorf("stdout is not a JSON array of 100 events (%v): %.200s", err, out)
	}
	if !strings.Contains(errOut, "Showing the first 100 of 101 events; use --all") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestWithElapsed_showsProgressOnlyWhileALongRequestRuns(t *testing.T) {
	t.Parallel()
	var w bytes.Buffer
	if err := withElapsedEvery(&w, "deleting events", 50*time.Millisecond, 50*time.Millisecond, func() error { return nil }); err != nil || w.Len() != 0 {
		t.Errorf("a quick request: %v, output %q", err, w.String())
	}
	err := withElapsedEvery(&w, "deleting events", 50*time.Millisecond, 50*time.Millisecond, func() error {
		time.Sleep(180 * time.Millisecond)
		return io.ErrUnexpectedEOF
	})
	if err != io.ErrUnexpectedEOF {
		t.Errorf("error = %v, want the request's", err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) < 2 || len(lines) > 4 || !strings.HasPrefix(lines[0], "deleting events… ") {
		t.Errorf("progress = %q, want a line every 50ms from 50ms on", w.String())
	}
}

// TestEventDelete_showsProgressWhileTheServerClears: a bulk delete that takes the server more
// than 2 s says so on stderr while it runs; stdout has the result alone.
func TestEventDelete_showsProgressWhileTheServerClears(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte("deleteEvents")) {
			http.Error(w, "unexpected operation", http.StatusBadRequest)
			return
		}
		time.Sleep(2300 * time.Millisecond) // a clear of many events
		fmt.Fprint(w, `{"data":{"deleteEvents":{"count":60000}}}`)
	}))
	defer srv.Close()
	out, errOut, err := runCLI(t, "", "event", "delete", "--account", "acme", "--url", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if out != "Deleted 60000 events\n" {
		t.Errorf("stdout = %q", out)
	}
	if errOut != "deleting events… 2s\n" {
		t.Errorf("stderr = %q, want one progress line", errOut)
	}
}

// TestCLI_aMistypedSubcommandFails: a word that is not a command of its group fails with a
// suggestion, where cobra alone would print the group's help and exit 0; the group alone
// still prints its help.
func TestCLI_aMistypedSubcommandFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"notifications", "endpoint", "disabl", "slack"}, `unknown command "disabl" for "herald notifications endpoint"; did you mean disable?`},
		{[]string{"event", "lst"}, `unknown command "lst" for "herald event"; did you mean get or list?`},
		{[]string{"projections", "xyzzy"}, `unknown command "xyzzy" for "herald projections" (see 'herald projections --help')`},
	} {
		if _, _, err := runCLI(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("herald %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	out, _, err := runCLI(t, "", "notifications", "endpoint")
	if err != nil || !strings.Contains(out, "Available Commands:") {
		t.Errorf("herald notifications endpoint: %v, %q; want its help", err, out)
	}
}

// TestCLI_theWrongNumberOfArgumentsSaysTheUsage: a command given too few or too many
// arguments names itself and shows how it is used.
func TestCLI_theWrongNumberOfArgumentsSaysTheUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"event", "get"}, "event get: accepts 1 arg(s), received 0; usage: herald event get ID [flags]"},
		{[]string{"notifications", "backfill"}, "notifications backfill: accepts 1 arg(s), received 0; usage: herald notifications backfill CONFIGURATION-ID [flags]"},
		{[]string{"account", "user", "add", "alice"}, "account user add: accepts 2 arg(s), received 1; usage: herald account user add ACCOUNT USER [flags]"},
		{[]string{"notifications", "deliveries", "extra"}, `notifications deliveries: takes no arguments, received "extra"; usage: herald notifications deliveries [flags]`},
	} {
		if _, _, err := runCLI(t, "", tc.args...); err == nil || err.Error() != tc.want {
			t.Errorf("herald %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// TestConfigTest_ofASavedConfigurationRefusesOtherSettings: a test through a saved
// configuration sends with its saved settings; --set and the like were silently ignored.
func TestConfigTest_ofASavedConfigurationRefusesOtherSettings(t *testing.T) {
	t.Parallel()
	_, _, err := runCLI(t, "", "notifications", "config", "test", "cfg-1", "--set", "url=https://other.example.com/", "--no-verify-tls", "--url", "http://127.0.0.1:1")
	want := "--set, --no-verify-tls: a test through a saved configuration (ID) uses its saved settings; to try other settings, give --kind with --set instead of the ID, or change the configuration first (herald notifications config edit cfg-1)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestConfigSettings_aKeyGivenTwiceIsRefused: --set url=a --set url=b kept b silently;
// headers, one --set each, may repeat.
func TestConfigSettings_aKeyGivenTwiceIsRefused(t *testing.T) {
	f := configFlags{set: []string{"url=https://a.example.com/", "url=https://b.example.com/"}}
	if _, err := f.settings(domain.KindWebhook, nil, strings.NewReader("")); err == nil || err.Error() != "--set url is given twice; give it once" {
		t.Errorf("url twice: %v", err)
	}
	f = configFlags{set: []string{"headers=X-A: 1", "headers=X-B: 2"}}
	if got, err := f.settings(domain.KindWebhook, nil, strings.NewReader("")); err != nil || len(got["headers"].([]map[string]any)) != 2 {
		t.Errorf("two headers: %v, %v", got, err)
	}
}

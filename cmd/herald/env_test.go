package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestEnv_warnsOfVariablesNoCommandReads: a HERALD_* variable that sets no flag of any herald
// command is a typo, warned of on stderr with the closest variable when one is close; one
// that another command reads (HERALD_KAFKA_BROKERS is serve's, not version's) is not, since
// one environment often serves several commands. Nothing is refused.
func TestEnv_warnsOfVariablesNoCommandReads(t *testing.T) {
	t.Setenv("HERALD_KAFKA_BROKRES", "k:9092")
	t.Setenv("HERALD_KAFKA_BROKERS", "k:9092")
	t.Setenv("HERALD_URL", "http://herald:8228")
	t.Setenv("HERALD_NO_SUCH_SETTING", "1")
	t.Setenv("HERALD_TEST_SOMETHING", "1") // the test suite's own
	stdout, stderr, err := runCLI(t, "", "version")
	if err != nil || !strings.HasPrefix(stdout, "herald ") {
		t.Fatalf("version: %q, %v", stdout, err)
	}
	for _, want := range []string{
		"herald: warning: HERALD_KAFKA_BROKRES is set but no herald command has a flag it sets; did you mean HERALD_KAFKA_BROKERS?\n",
		"herald: warning: HERALD_NO_SUCH_SETTING is set but no herald command has a flag it sets\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	for _, quiet := range []string{"HERALD_KAFKA_BROKERS is", "HERALD_URL", "HERALD_TEST_SOMETHING"} {
		if strings.Contains(stderr, quiet) {
			t.Errorf("stderr %q warns of %s", stderr, quiet)
		}
	}
}

// The check is cheap where it runs for every command: a variable the running command reads
// costs a lookup in its flags, and herald's other commands (hundreds of flags) are looked at
// only for a variable it does not read.
func TestWarnUnknownEnv_costsALookupPerVariableOfTheCommand(t *testing.T) {
	root := newRootCommand()
	serve, _, err := root.Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/bin", "HERALD_DATA_DIR=/d", "HERALD_KAFKA_BROKERS=k:9092", "HERALD_KAFKA_SASL_PASSWORD=x=y"}
	var out bytes.Buffer
	allocs := testing.AllocsPerRun(20, func() { warnUnknownEnv(serve, env, &out) })
	if out.Len() != 0 {
		t.Errorf("warned: %q", out.String())
	}
	if allocs > 50 { // a few per variable; collecting the other commands' flags takes hundreds
		t.Errorf("%.0f allocations for 3 variables of the command's own: the other commands' flags were collected", allocs)
	}
	warnUnknownEnv(serve, append(env, "HERALD_URL=http://h:8228"), &out) // another command's: looked up there
	if out.Len() != 0 {
		t.Errorf("warned: %q", out.String())
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3},
		{"HERALD_KAFKA_BROKRES", "HERALD_KAFKA_BROKERS", 2}, {"HERALD_PORTS", "HERALD_PORT", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// An error that names a flag set from the environment says so, once; flags that only begin
// like a named one, and flags given on the command line, are not noted.
func TestEnv_errorsSayWhereTheFlagsTheyNameWereSet(t *testing.T) {
	t.Setenv("HERALD_KAFKA_SASL_PASSWORD", "secret")
	t.Setenv("HERALD_KAFKA_TOPIC", "herald.events")
	_, _, err := runCLI(t, "{}\n", "event", "send", "--to", "kafka", "--kafka-brokers", "k:9092", "--kafka-sasl-username", "alice")
	want := "--kafka-sasl-username and --kafka-sasl-password need --kafka-sasl-mechanism (plain, scram-sha-256 or scram-sha-512) (--kafka-sasl-password is set by HERALD_KAFKA_SASL_PASSWORD)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}

	t.Setenv("HERALD_KAFKA_GROUP", "g")
	_, _, err = runCLI(t, "", "serve", "--data-dir", t.TempDir())
	if err == nil || strings.Count(err.Error(), "HERALD_KAFKA_GROUP") != 1 {
		t.Errorf("error = %v, want HERALD_KAFKA_GROUP named once", err)
	}
}

func TestNamesFlag(t *testing.T) {
	for _, tc := range []struct {
		msg, flag string
		want      bool
	}{
		{"--kafka-tls-ca /x: open", "kafka-tls-ca", true},
		{"--kafka-tls-ca /x: open", "kafka-tls", false},
		{"needs --kafka-tls", "kafka-tls", true},
		{"--kafka-tls-cert and --kafka-tls, together", "kafka-tls", true},
		{"--kafka-tls2", "kafka-tls", false},
		{"no flag here", "url", false},
	} {
		if got := namesFlag(tc.msg, tc.flag); got != tc.want {
			t.Errorf("namesFlag(%q, %q) = %v, want %v", tc.msg, tc.flag, got, tc.want)
		}
	}
}

func TestFlagValues_sayWhatTheyWant(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"event", "send", "--batch-size", "abc"}, `--batch-size "abc": want a whole number`},
		{nil, []string{"event", "send", "--batch-size", "99999999999999999999"}, `--batch-size "99999999999999999999": is out of range`},
		{nil, []string{"serve", "--kafka-batch-wait", "5"}, `--kafka-batch-wait "5": want a duration such as 500ms, 30s, 5m or 1h30m`},
		{nil, []string{"event", "delete", "--yes=maybe"}, `--yes "maybe": want true or false`},
		// herald's own flag types name the value once, then what they want
		{nil, []string{"serve", "--retention", "abc"}, `--retention "abc": want a number of days such as 90d, or a duration such as 720h`},
		{nil, []string{"serve", "--retention", "90s"}, `--retention "90s": is shorter than the shortest retention, 1h0m0s, as for accounts: give days (90d) or hours (720h), or 0 to keep events forever`},
		{map[string]string{"HERALD_BATCH_SIZE": "ten"}, []string{"event", "send"}, `HERALD_BATCH_SIZE="ten" (--batch-size): want a whole number`},
		{map[string]string{"HERALD_RETENTION": "abc"}, []string{"serve"}, `HERALD_RETENTION="abc" (--retention): want a number of days such as 90d, or a duration such as 720h`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, _, err := runCLI(t, "", tc.args...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

// HERALD_YES does not answer "delete everything?": a variable left in a shell or a container
// would answer it for every later run. It is ignored, with a warning, and the question asked.
func TestEnv_yesIsTakenFromTheCommandLineOnly(t *testing.T) {
	t.Setenv("HERALD_YES", "true")
	_, stderr, err := runCLI(t, "n\n", "event", "delete", "--url", "http://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error()+stderr, "nothing deleted") {
		t.Fatalf("event delete with HERALD_YES set: %v, stderr %q; want the question asked and answered no", err, stderr)
	}
	if want := "herald: warning: HERALD_YES is ignored: --yes is taken from the command line only\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}
}

// serve's start-up errors say where the flags they name were set, as other commands' do.
func TestEnv_serveErrorsSayWhereTheFlagsWereSet(t *testing.T) {
	t.Setenv("HERALD_SECRET_KEY", "abc")
	_, stderr, err := runCLI(t, "", "serve", "--data-dir", t.TempDir(), "--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	if err == nil || !strings.Contains(stderr, "32 bytes") || !strings.Contains(stderr, "(--secret-key is set by HERALD_SECRET_KEY)") {
		t.Errorf("serve with a short HERALD_SECRET_KEY: %v, stderr %q; want the error to name the variable", err, stderr)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests build the real binary, run `herald serve` as a child process, and
// drive it through GraphQL and the CLI, as a user would.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running `herald serve`.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	url     string
	dataDir string
	port    int
	logs    *bytes.Buffer
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startServer(t *testing.T, dataDir string, port int, flags ...string) *server {
	t.Helper()
	s := &server{t: t, dataDir: dataDir, port: port, url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}}
	args := []string{"serve", "--listen", "127.0.0.1", "--port", fmt.Sprint(port), "--data-dir", dataDir, "--log-level", "debug"}
	if !slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(f, "--require-auth") }) {
		args = append(args, "--require-auth=false") // these tests drive herald as a local user; e2e_auth_test.go covers access control
	}
	args = append(args, flags...)
	s.cmd = exec.Command(heraldBinary(t), args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server not ready within 30s; logs:\n%s", s.logs)
	return nil
}

func (s *server) kill() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
	}
}

// graphql posts one operation and returns the decoded response.
func (s *server) graphql(query string, vars map[string]any) (data map[string]any, errs []map[string]any) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(s.url+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		s.t.Fatalf("response is not JSON: %s", raw)
	}
	return out.Data, out.Errors
}

const recordMutation = `mutation($in: [EventInput!]!) { recordEvents(input: $in) { recorded duplicates results { id status } } }`

func (s *server) record(events ...map[string]any) map[string]any {
	s.t.Helper()
	data, errs := s.graphql(recordMutation, map[string]any{"in": events})
	if len(errs) > 0 {
		s.t.Fatalf("recordEvents: %v", errs)
	}
	return data["recordEvents"].(map[string]any)
}

func (s *server) count(filter map[string]any) int {
	s.t.Helper()
	data, errs := s.graphql(`query($f: EventFilter) { events(filter: $f, first: 1) { totalCount } }`, map[string]any{"f": filter})
	if len(errs) > 0 {
		s.t.Fatalf("events: %v", errs)
	}
	return int(data["events"].(map[string]any)["totalCount"].(float64))
}

// cli runs a herald client command against the server.
func (s *server) cli(stdin string, args ...string) (stdout, stderr string, err error) {
	s.t.Helper()
	cmd := exec.Command(heraldBinary(s.t), args...)
	cmd.Env = append(os.Environ(), "HERALD_URL="+s.url)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (s *server) mustCLI(args ...string) string {
	s.t.Helper()
	out, errOut, err := s.cli("", args...)
	if err != nil {
		s.t.Fatalf("herald %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// The three events of the engine's documentation, plus one about a watched tag.
func seedEvents() []map[string]any {
	return []map[string]any{
		{"id": "9b0078d22cca4a2fa677cdc0d632435a", "timestamp": "2018-06-28T22:36:37.250529Z", "level": "INFO",
			"type": "system.feeds.sync.completed", "message": "Feed sync completed",
			"resource": map[string]any{"id": "vulnerabilities", "type": "feeds", "userId": "admin"},
			"source":   map[string]any{"serviceName": "policy_engine", "hostId": "dockerhostid-localhost"}},
		{"id": "67946415c113488b8fff8b335272a45b", "timestamp": "2018-06-28T22:36:26.512589Z", "level": "ERROR",
			"type": "system.repository.list_tags_fail", "message": "Failed to list tags in repository",
			"resource": map[string]any{"id": "docker.io/library/nginx", "type": "repository", "userId": "admin"},
			"source":   map[string]any{"serviceName": "catalog", "hostId": "dockerhostid-localhost", "baseUrl": "http://localhost:8082"}},
		{"id": "3b75967268824f4ca12c57d76c97d32c", "timestamp": "2018-06-28T22:36:08.740953Z", "level": "INFO",
			"type": "system.feeds.sync.started", "message": "Feed sync started",
			"resource": map[string]any{"id": "vulnerabilities", "type": "feeds", "userId": "admin"},
			"source":   map[string]any{"serviceName": "policy_engine", "hostId": "dockerhostid-localhost"}},
		{"id": "d77736ac78a043a9b84b3a1b8171aa44", "timestamp": "2018-06-30T03:56:27.711071Z", "level": "ERROR",
			"type": "system.repository.list_tags_fail", "message": "Failed to list tags in repository",
			"resource": map[string]any{"id": "docker.io/wazowskis/sixwheeldrive", "type": "repository", "userId": "admin"},
			"source":   map[string]any{"serviceName": "catalog", "hostId": "dockerhostid-localhost", "baseUrl": "http://localhost:8082"},
			"details": map[string]any{"SkopeoError": map[string]any{
				"cmd": "/bin/sh -c skopeo inspect docker://index.docker.io/wazowskis/sixwheeldrive:latest", "exitcode": 1,
				"msg": "Error encountered in skopeo operation", "stdout": nil,
			}}},
	}
}

func TestE2E_cliAgainstRealServer(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t))
	res := s.record(seedEvents()...)
	if res["recorded"].(float64) != 4 || res["duplicates"].(float64) != 0 {
		t.Fatalf("recordEvents = %v", res)
	}
	if again := s.record(seedEvents()...); again["recorded"].(float64) != 0 || again["duplicates"].(float64) != 4 {
		t.Fatalf("recording the same ids again = %v, want 4 duplicates", again)
	}

	t.Run("list shows the engine's columns, newest first", func(t *testing.T) {
		out := s.mustCLI("event", "list")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("want a header and 4 rows, got:\n%s", out)
		}
		if got := strings.Fields(lines[0]); strings.Join(got, " ") != "Timestamp Level Service Host Event ID" {
			t.Fatalf("header %q", lines[0])
		}
		wantIDs := []string{"d77736ac78a043a9b84b3a1b8171aa44", "9b0078d22cca4a2fa677cdc0d632435a", "67946415c113488b8fff8b335272a45b", "3b75967268824f4ca12c57d76c97d32c"}
		for i, id := range wantIDs {
			f := strings.Fields(lines[i+1])
			if len(f) != 6 || f[5] != id {
				t.Fatalf("row %d = %q, want id %s", i+1, lines[i+1], id)
			}
		}
		if f := strings.Fields(lines[3]); f[0] != "2018-06-28T22:36:26.512589Z" || f[1] != "ERROR" || f[2] != "catalog" || f[3] != "dockerhostid-localhost" || f[4] != "system.repository.list_tags_fail" {
			t.Fatalf("row 3 = %q", lines[3])
		}
	})

	t.Run("list filters", func(t *testing.T) {
		cases := []struct {
			args []string
			ids  []string
		}{
			{[]string{"docker.io/wazowskis/sixwheeldrive"}, []string{"d77736ac78a043a9b84b3a1b8171aa44"}},
			{[]string{"--level", "ERROR"}, []string{"d77736ac78a043a9b84b3a1b8171aa44", "67946415c113488b8fff8b335272a45b"}},
			{[]string{"--level", "info", "--service", "policy_engine"}, []string{"9b0078d22cca4a2fa677cdc0d632435a", "3b75967268824f4ca12c57d76c97d32c"}},
			{[]string{"--host", "dockerhostid-localhost", "--type", "system.feeds.*"}, []string{"9b0078d22cca4a2fa677cdc0d632435a", "3b75967268824f4ca12c57d76c97d32c"}},
			{[]string{"--type", "system.feeds.sync.started"}, []string{"3b75967268824f4ca12c57d76c97d32c"}},
			{[]string{"--type", "System.Feeds.*"}, []string{"9b0078d22cca4a2fa677cdc0d632435a", "3b75967268824f4ca12c57d76c97d32c"}}, // types are recorded in lower case
			{[]string{"--since", "2018-06-28T22:36:26.512589Z", "--before", "2018-06-29T00:00:00Z"}, []string{"9b0078d22cca4a2fa677cdc0d632435a", "67946415c113488b8fff8b335272a45b"}},
			{[]string{"--resource-type", "repository", "--service", "nobody"}, nil},
		}
		for _, c := range cases {
			out := s.mustCLI(append([]string{"event", "list"}, c.args...)...)
			if got := idsOf(out); strings.Join(got, ",") != strings.Join(c.ids, ",") {
				t.Errorf("event list %v: ids %v, want %v\n%s", c.args, got, c.ids, out)
			}
		}
	})

	t.Run("list json is the producer form", func(t *testing.T) {
		out := s.mustCLI("event", "list", "--level", "error", "-o", "json")
		var events []map[string]any
		if err := json.Unmarshal([]byte(out), &events); err != nil || len(events) != 2 {
			t.Fatalf("-o json: %v\n%s", err, out)
		}
		e := events[1]
		if e["level"] != "error" || e["message"] != "Failed to list tags in repository" || e["source"].(map[string]any)["base_url"] != "http://localhost:8082" || e["resource"].(map[string]any)["user_id"] != "admin" {
			t.Fatalf("event %v", e)
		}
	})

	t.Run("list -o wide adds the account and the resource", func(t *testing.T) {
		out := s.mustCLI("event", "list", "docker.io/library/nginx", "-o", "wide")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "Timestamp Level Service Host Event ID Account Resource" {
			t.Fatalf("-o wide:\n%s", out)
		}
		if f := strings.Fields(lines[1]); len(f) != 9 || f[5] != "67946415c113488b8fff8b335272a45b" || f[6] != "admin" || f[7] != "repository" || f[8] != "docker.io/library/nginx" {
			t.Fatalf("-o wide row %q", lines[1])
		}
	})

	t.Run("types lists the catalog and the types only seen in the log", func(t *testing.T) {
		s.record(map[string]any{"timestamp": "2018-06-28T00:00:00Z", "level": "INFO", "type": "acme.builds.finished", "message": "built",
			"resource": map[string]any{"id": "x", "type": "image_tag", "userId": "admin"}, "source": map[string]any{"serviceName": "ci", "hostId": "ci-1"}})
		out := s.mustCLI("event", "types")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if strings.Join(strings.Fields(lines[0]), " ") != "Type Level Resource type Description" {
			t.Fatalf("header %q", lines[0])
		}
		var known, seen string
		for _, line := range lines[1:] {
			switch f := strings.Fields(line); f[0] {
			case "system.repository.list_tags_fail":
				known = strings.Join(f[1:3], " ")
			case "acme.builds.finished":
				seen = line
			}
		}
		if known != "error repository" || !strings.Contains(seen, "(not in herald's catalog; seen in the log)") {
			t.Fatalf("event types:\n%s", out)
		}
		var types []map[string]any
		if err := json.Unmarshal([]byte(s.mustCLI("event", "types", "-o", "json")), &types); err != nil || len(types) != len(lines)-1 || types[0]["name"] != "acme.builds.finished" || types[0]["known"] != false {
			t.Fatalf("event types -o json: %v, %d types, want %d", err, len(types), len(lines)-1)
		}
		if out := s.mustCLI("event", "delete", "--type", "acme.builds.finished"); out != "Deleted 1 event\n" {
			t.Fatalf("deleting the extra event printed %q", out)
		}
	})

	t.Run("get prints the engine's YAML layout", func(t *testing.T) {
		out := s.mustCLI("event", "get", "d77736ac78a043a9b84b3a1b8171aa44")
		want := `details:
  SkopeoError:
    cmd: /bin/sh -c skopeo inspect docker://index.docker.io/wazowskis/sixwheeldrive:latest
    exitcode: 1
    msg: Error encountered in skopeo operation
    stdout: null
level: ERROR
message: Failed to list tags in repository
resource:
  id: docker.io/wazowskis/sixwheeldrive
  type: repository
  user_id: admin
source:
  base_url: http://localhost:8082
  hostid: dockerhostid-localhost
  servicename: catalog
timestamp: "2018-06-30T03:56:27.711071Z"
type: system.repository.list_tags_fail
`
		if out != want {
			t.Fatalf("event get printed:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("bad input gets a precise error", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"event", "list", "--level", "warn"}, `--level "warn": supported levels are info and error`},
			{[]string{"event", "list", "--since", "yesterday"}, `--since "yesterday": not an RFC 3339 timestamp`},
			{[]string{"event", "list", "--resource-type", "container"}, `--resource-type "container"`},
			{[]string{"event", "get", "no-such-event"}, "no event with id no-such-event"},
		} {
			_, errOut, err := s.cli("", c.args...)
			if err == nil || !strings.Contains(errOut, c.want) {
				t.Errorf("herald %v: err %v, stderr %q, want %q", c.args, err, errOut, c.want)
			}
		}
	})

	t.Run("more than 100 events: first page unless --all", func(t *testing.T) {
		batch := make([]map[string]any, 150)
		for i := range batch {
			batch[i] = map[string]any{"timestamp": fmt.Sprintf("2019-01-01T00:%02d:%02dZ", i/60, i%60), "level": "INFO",
				"type": "user.image.analysis.completed", "message": "analyzed",
				"resource": map[string]any{"id": fmt.Sprintf("sha256:%064d", i), "type": "image_digest", "userId": "admin"},
				"source":   map[string]any{"serviceName": "analyzer", "hostId": "bulk-host"}}
		}
		s.record(batch...)
		out, errOut, err := s.cli("", "event", "list", "--host", "bulk-host")
		if err != nil || len(idsOf(out)) != 100 || !strings.Contains(errOut, "first 100 of 150") {
			t.Fatalf("without --all: %d rows, stderr %q, err %v", len(idsOf(out)), errOut, err)
		}
		if all := s.mustCLI("event", "list", "--host", "bulk-host", "--all"); len(idsOf(all)) != 150 {
			t.Fatalf("with --all: %d rows", len(idsOf(all)))
		}
		if out := s.mustCLI("event", "delete", "--host", "bulk-host"); out != "Deleted 150 events\n" {
			t.Fatalf("bulk delete printed %q", out)
		}
	})

	t.Run("delete one, by filter, and all after confirmation", func(t *testing.T) {
		if out := s.mustCLI("event", "delete", "67946415c113488b8fff8b335272a45b"); out != "Deleted event 67946415c113488b8fff8b335272a45b\n" {
			t.Fatalf("delete printed %q", out)
		}
		if _, errOut, err := s.cli("", "event", "get", "67946415c113488b8fff8b335272a45b"); err == nil || !strings.Contains(errOut, "no event with id") {
			t.Fatalf("deleted event still readable: %v %s", err, errOut)
		}
		if out := s.mustCLI("event", "delete", "--before", "2018-06-28T22:36:30Z"); out != "Deleted 1 event\n" {
			t.Fatalf("delete --before printed %q", out)
		}
		out, _, err := s.cli("n\n", "event", "delete")
		if err == nil || !strings.Contains(out, "Really delete (clear) every event you can see? (y/N)") || s.count(nil) != 2 {
			t.Fatalf("answering n: out %q err %v count %d", out, err, s.count(nil))
		}
		out, _, err = s.cli("y\n", "event", "delete")
		if err != nil || !strings.Contains(out, "Deleted 2 events") || s.count(nil) != 0 {
			t.Fatalf("answering y: out %q err %v count %d", out, err, s.count(nil))
		}
	})
}

func TestE2E_badInputStoresNothing(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t))
	good := seedEvents()[0]
	cases := []struct {
		name   string
		event  map[string]any
		field  string
		detail string
	}{
		{"wrong level", map[string]any{"level": "WARN"}, "", "Level"},
		{"bad timestamp", map[string]any{"timestamp": "28/06/2018"}, "", "RFC 3339"},
		{"bad type", map[string]any{"type": "Not A Type"}, "input[1].type", "category.subcategory.event"},
		{"unknown resource type", map[string]any{"resource": map[string]any{"type": "container"}}, "input[1].resource.type", "not a resource type"},
		{"oversize details", map[string]any{"details": map[string]any{"blob": strings.Repeat("x", 70_000)}}, "input[1].details", "64 KiB"},
		{"details array", map[string]any{"details": []any{1, 2}}, "", "JSON object"},
		// EventInput's own names, not the JSON form's (resource.user_id, source.servicename)
		{"control in account", map[string]any{"resource": map[string]any{"userId": "ali\tce"}}, "input[1].resource.userId", "U+0009"},
		{"control in service", map[string]any{"source": map[string]any{"serviceName": "cat\alog"}}, "input[1].source.serviceName", "U+0007"},
		{"blank message", map[string]any{"message": "   "}, "input[1].message", "is blank"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := map[string]any{}
			for k, v := range good {
				bad[k] = v
			}
			bad["id"] = "bad-" + strings.ReplaceAll(c.name, " ", "-")
			for k, v := range c.event {
				bad[k] = v
			}
			ok := map[string]any{"id": "ok-" + strings.ReplaceAll(c.name, " ", "-"), "level": "INFO", "type": "a.b", "message": "fine"}
			_, errs := s.graphql(recordMutation, map[string]any{"in": []any{ok, bad}})
			if len(errs) == 0 {
				t.Fatal("accepted")
			}
			msg, _ := errs[0]["message"].(string)
			ext, _ := errs[0]["extensions"].(map[string]any)
			if !strings.Contains(msg, c.detail) {
				t.Fatalf("error %q does not mention %q", msg, c.detail)
			}
			if c.field != "" && (ext["code"] != "BAD_USER_INPUT" || ext["field"] != c.field) {
				t.Fatalf("extensions %v, want BAD_USER_INPUT on %s", ext, c.field)
			}
		})
	}
	resp, err := http.Post(s.url+"/graphql", "application/json", strings.NewReader(`{"query": "mutation { recordEvents(input: [{level: INFO`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "errors") {
		t.Fatalf("malformed request answered %s", raw)
	}
	_, errs := s.graphql(`query { events(filter: {type: "system.*.failed"}) { totalCount } }`, nil)
	if len(errs) == 0 || errs[0]["extensions"].(map[string]any)["field"] != "filter.type" {
		t.Fatalf("unknown filter value: %v", errs)
	}
	// The query's own arguments are named as they are, not as fields of the filter.
	for query, field := range map[string]string{
		`query { events(after: "garbage", filter: {type: "a.b"}) { totalCount } }`: "after",
		`query { events(first: 5000) { totalCount } }`:                             "first",
	} {
		_, errs := s.graphql(query, nil)
		if len(errs) == 0 || errs[0]["extensions"].(map[string]any)["field"] != field {
			t.Fatalf("%s: %v, want BAD_USER_INPUT on %s", query, errs, field)
		}
	}
	if n := s.count(nil); n != 0 {
		t.Fatalf("bad input stored %d events", n)
	}
}

// TestE2E_killAfterAckLosesNothing records batches, kills the server with SIGKILL right after
// an acknowledgement, restarts it on the same data, and checks that every acknowledged event
// is there and no deleted one came back.
func TestE2E_killAfterAckLosesNothing(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	s := startServer(t, dir, port)
	var acked []string
	for b := range 5 {
		batch := make([]map[string]any, 200)
		for i := range batch {
			id := fmt.Sprintf("crash%02d%04d", b, i)
			batch[i] = map[string]any{"id": id, "level": "ERROR", "type": "user.image.analysis.failed", "message": "analysis failed",
				"resource": map[string]any{"id": "sha256:" + id, "type": "image_digest"}}
			acked = append(acked, id)
		}
		s.record(batch...)
	}
	s.mustCLI("event", "delete", "crash000007")
	s.mustCLI("event", "delete", "--type", "user.image.analysis.failed", "--before", "1970-01-02T00:00:00Z") // matches none
	last := make([]map[string]any, 100)
	for i := range last {
		id := fmt.Sprintf("crashlast%04d", i)
		last[i] = map[string]any{"id": id, "level": "INFO", "type": "system.service.state_transition", "message": "up"}
		acked = append(acked, id)
	}
	s.record(last...)
	s.kill() // SIGKILL right after the acknowledgement

	s = startServer(t, dir, port)
	if n := s.count(nil); n != len(acked)-1 {
		t.Fatalf("after restart the log holds %d events, want %d", n, len(acked)-1)
	}
	for _, id := range []string{"crash000000", "crash040199", "crashlast0099"} {
		data, errs := s.graphql(`query($id: ID!) { event(id: $id) { id message } }`, map[string]any{"id": id})
		if len(errs) > 0 || data["event"] == nil {
			t.Fatalf("acknowledged event %s missing after restart: %v", id, errs)
		}
	}
	data, errs := s.graphql(`query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": "crash000007"})
	if len(errs) > 0 || data["event"] != nil {
		t.Fatalf("deleted event came back after restart: %v %v", data, errs)
	}
	if res := s.record(map[string]any{"id": "crash000007", "level": "INFO", "type": "a.b", "message": "again"}); res["duplicates"].(float64) != 1 {
		t.Fatalf("a deleted id was recorded again: %v", res)
	}
}

// idsOf returns the ID column of a table printed by `event list`.
func idsOf(table string) []string {
	var ids []string
	for i, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		if i == 0 || line == "" {
			continue
		}
		f := strings.Fields(line)
		ids = append(ids, f[len(f)-1])
	}
	return ids
}

func TestE2E_recordEventsJSONTakesTheProducerForm(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t))
	const mutation = `mutation($e: String!) { recordEventsJSON(events: $e) { recorded duplicates results { id status } } }`
	ndjson := `{"id":"p1","timestamp":"2018-06-28T22:36:26.512589Z","level":"error","type":"system.repository.list_tags_fail","message":"Failed to list tags","resource":{"id":"docker.io/library/nginx","type":"repository","user_id":"admin"},"source":{"servicename":"catalog","hostid":"h1"},"details":"skopeo failed"}
{"id":"p2","level":"INFO","type":"system.feeds.sync.completed","message":"done"}
`
	data, errs := s.graphql(mutation, map[string]any{"e": ndjson})
	if len(errs) > 0 || data["recordEventsJSON"].(map[string]any)["recorded"].(float64) != 2 {
		t.Fatalf("NDJSON batch: %v %v", data, errs)
	}
	array := `[{"id":"p2","level":"info","type":"a.b","message":"again"},{"id":"p3","level":"info","type":"a.b","message":"new"}]`
	data, errs = s.graphql(mutation, map[string]any{"e": array})
	if res := data["recordEventsJSON"].(map[string]any); len(errs) > 0 || res["recorded"].(float64) != 1 || res["duplicates"].(float64) != 1 {
		t.Fatalf("array batch: %v %v", data, errs)
	}
	if out := s.mustCLI("event", "get", "p1", "-o", "json"); !strings.Contains(out, `"msg": "skopeo failed"`) {
		t.Fatalf("string details not wrapped: %s", out)
	}
	_, errs = s.graphql(mutation, map[string]any{"e": `{"level":"info","type":"a.b","message":"ok"}` + "\n" + `{"level":"warn","type":"a.b","message":"bad"}`})
	if len(errs) == 0 || errs[0]["extensions"].(map[string]any)["field"] != "events[1].level" {
		t.Fatalf("bad level in line 2: %v", errs)
	}
	if n := s.count(nil); n != 3 {
		t.Fatalf("the log holds %d events, want 3 (nothing of the bad batch)", n)
	}
}

func TestE2E_serveRunsOneGoProcessorMoreForTheEmbeddedStore(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t))
	s.kill() // the logs are read once the process is gone
	line := fmt.Sprintf("gomaxprocs=%d cpus=%d", runtime.GOMAXPROCS(0)+1, runtime.GOMAXPROCS(0))
	if os.Getenv("GOMAXPROCS") != "" {
		if strings.Contains(s.logs.String(), "gomaxprocs=") {
			t.Fatalf("GOMAXPROCS is set, yet herald changed it; logs:\n%s", s.logs)
		}
		return
	}
	if !strings.Contains(s.logs.String(), line) {
		t.Fatalf("no %q in the logs:\n%s", line, s.logs)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/internal/testtool"
)

// The in-process tests build herald with newApp, serve it with httptest and drive it through
// GraphQL with access control on, as the access-control requirements (issue 5) describe. They
// are fast enough to run with -race on every change.

const (
	testAdminPassword = "admin-Passw0rd-for-tests"
	testSecretKey     = "8f14e45fceea167a5a36dedd4bea2543c4ca4238a0b923820dcc509a6f75849b"
	otherSecretKey    = "45c48cce2e2d7fbdea1afc51c7c6ad26d67d7f4b5b2d8e3b1c0a9f8e7d6c5b4a"
)

// testApp is one herald wired by newApp, with every log line (debug level) and every GraphQL
// response body kept for inspection.
type testApp struct {
	t       testing.TB
	url     string
	dataDir string
	logs    *testtool.Buffer
	bodies  *testtool.Buffer
	stop    func()
}

func testServeConfig(dataDir, secretKey string) serveConfig {
	return serveConfig{DataDir: dataDir, Auth: authFlags{
		RequireAuth: true, AdminUser: "admin", AdminPassword: testAdminPassword, SecretKey: secretKey,
	}}
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startTestApp starts herald on dataDir with require_auth on and waits until /readyz is 200.
// It stops when the test ends, or earlier by app.stop().
func startTestApp(t *testing.T, dataDir, secretKey string) *testApp {
	t.Helper()
	return startTestAppConfig(t, testServeConfig(dataDir, secretKey))
}

// startTestAppConfig is startTestApp with a configuration of the test's own.
func startTestAppConfig(t testing.TB, cfg serveConfig) *testApp {
	t.Helper()
	return startTestAppLogging(t, cfg, slog.LevelDebug)
}

// startTestAppLogging is startTestAppConfig keeping log lines from level up.
func startTestAppLogging(t testing.TB, cfg serveConfig, level slog.Level) *testApp {
	t.Helper()
	dataDir := cfg.DataDir
	logs := &testtool.Buffer{}
	a, err := newApp(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})))
	if err != nil {
		t.Fatalf("newApp: %v\nlogs:\n%s", err, logs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = a.Run(ctx)
	}()
	srv := httptest.NewServer(a.Handler())
	app := &testApp{t: t, url: srv.URL, dataDir: dataDir, logs: logs, bodies: &testtool.Buffer{}}
	var once sync.Once
	app.stop = func() {
		once.Do(func() {
			srv.Close()
			cancel()
			<-ran
			a.Close()
		})
	}
	t.Cleanup(app.stop)
	app.waitReady()
	return app
}

// in returns the app for use by the (sub)test t.
func (a *testApp) in(t *testing.T) *testApp {
	c := *a
	c.t = t
	return &c
}

// waitReady waits until every view has caught up with the log.
func (a *testApp) waitReady() {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(a.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("herald not ready within 10s: %v\nlogs:\n%s", err, a.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func bearer(token string) string { return "Bearer " + token }

type gqlTestError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// gqlResult is one decoded GraphQL response.
type gqlResult struct {
	Status int
	Raw    string
	Data   map[string]any
	Errors []gqlTestError
}

// code is extensions.code of the first error, "" without errors.
func (r gqlResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// field is extensions.field of the first error: the input field a validation error is about.
func (r gqlResult) field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	f, _ := r.Errors[0].Extensions["field"].(string)
	return f
}

// gql posts one operation with the Authorization header auth ("" for none).
func (a *testApp) gql(auth, query string, vars map[string]any) gqlResult {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		a.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, a.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a.bodies.Write(append(raw, '\n'))
	res := gqlResult{Status: resp.StatusCode, Raw: string(raw)}
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlTestError `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("response is not JSON (%s): %s", resp.Status, raw)
	}
	res.Data, res.Errors = out.Data, out.Errors
	return res
}

// mustGQL is gql for operations that must succeed; it returns the data.
func (a *testApp) mustGQL(auth, query string, vars map[string]any) map[string]any {
	a.t.Helper()
	res := a.gql(auth, query, vars)
	if len(res.Errors) > 0 || res.Status != http.StatusOK {
		a.t.Fatalf("%s\nfailed: %s", oneLine(query), res.Raw)
	}
	return res.Data
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// subscribe starts one subscription over graphql-transport-ws, authenticated by the
// connection_init payload, and returns its first result. Subscriptions start asynchronously,
// so trigger (which should cause a matching event) runs every 150 ms until a result arrives.
func (a *testApp) subscribe(auth, query string, vars map[string]any, trigger func()) gqlResult {
	a.t.Helper()
	c, _, err := dialWS(a.t, a, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	type received struct {
		wsMessage
		err error
	}
	messages := make(chan received, 8)
	c.init(auth)
	go func() {
		for {
			m, err := c.read()
			messages <- received{m, err}
			if err != nil {
				return
			}
		}
	}()
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(10 * time.Second)
	for {
		select {
		case m := <-messages:
			res := gqlResult{Raw: string(m.Payload)}
			switch m.Type {
			case "next":
				var p struct {
					Data   map[string]any `json:"data"`
					Errors []gqlTestError `json:"errors"`
				}
				_ = json.Unmarshal(m.Payload, &p)
				res.Data, res.Errors = p.Data, p.Errors
			case "error":
				_ = json.Unmarshal(m.Payload, &res.Errors)
			default:
				a.t.Fatalf("subscription answered %q %s %v", m.Type, m.Payload, m.err)
			}
			return res
		case <-tick.C:
			if trigger != nil {
				trigger()
			}
		case <-limit:
			a.t.Fatal("no result on the subscription within 10s")
		}
	}
}

// tenants are the accounts most tests need, set up through the API by the admin: alice with
// a read-write and a read-only user, bob with a read-write user, their API tokens, a Slack
// configuration of alice and a few events of each.
type tenants struct {
	admin, aliceRW, aliceRO, bobRW string // Authorization header values
	aliceSlack                     string // id of alice's Slack configuration
	aliceEvents, bobEvents         []string
}

// tenantsBase is when the tenants' events happened: bob's two before alice's three.
var tenantsBase = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

const recordEventsOp = `mutation($in: [EventInput!]!) { recordEvents(input: $in) { recorded duplicates results { id status } } }`

func setUpTenants(t *testing.T, app *testApp) tenants {
	t.Helper()
	ts := tenants{admin: basicAuth("admin", testAdminPassword)}
	for _, account := range []string{"alice", "bob"} {
		app.mustGQL(ts.admin, `mutation($n: String!) { createAccount(name: $n) { name } }`, map[string]any{"n": account})
	}
	users := []struct {
		account, user, role string
		auth                *string
	}{
		{"alice", "alice-rw", "READ_WRITE", &ts.aliceRW},
		{"alice", "alice-ro", "READ_ONLY", &ts.aliceRO},
		{"bob", "bob-rw", "READ_WRITE", &ts.bobRW},
	}
	for _, u := range users {
		app.mustGQL(ts.admin, `mutation($a: String!, $u: String!, $r: Role!) { addUser(account: $a, user: $u, role: $r) { name } }`,
			map[string]any{"a": u.account, "u": u.user, "r": u.role})
		*u.auth = bearer(issueToken(t, app, ts.admin, u.account, u.user))
	}
	data := app.mustGQL(ts.aliceRW, `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: SLACK, input: $in) { id account } }`,
		map[string]any{"in": map[string]any{"name": "alice alerts", "slack": map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/alice"}, "quickSelections": []string{"all"}}})
	ts.aliceSlack = data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	for i := range 2 {
		ts.bobEvents = append(ts.bobEvents, fmt.Sprintf("bob-ev-%d", i))
		app.mustGQL(ts.bobRW, recordEventsOp, map[string]any{"in": []any{tenantEvent(ts.bobEvents[i], "bob", i)}})
	}
	for i := range 3 {
		ts.aliceEvents = append(ts.aliceEvents, fmt.Sprintf("alice-ev-%d", i))
		app.mustGQL(ts.aliceRW, recordEventsOp, map[string]any{"in": []any{tenantEvent(ts.aliceEvents[i], "alice", 2+i)}})
	}
	return ts
}

// tenantEvent is an event of account, the n-th minute after tenantsBase.
func tenantEvent(id, account string, n int) map[string]any {
	return map[string]any{
		"id": id, "timestamp": tenantsBase.Add(time.Duration(n) * time.Minute).Format(time.RFC3339Nano),
		"level": "ERROR", "type": "user.image.analysis.failed", "message": "analysis failed",
		"resource": map[string]any{"id": "docker.io/" + account + "/app:latest", "type": "image_tag", "userId": account},
		"source":   map[string]any{"serviceName": "analyzer", "hostId": account + "-host"},
	}
}

// issueToken issues an API token to a user as auth and returns it.
func issueToken(t *testing.T, app *testApp, auth, account, user string) string {
	t.Helper()
	data := app.mustGQL(auth, `mutation($a: String, $u: String) { issueApiToken(account: $a, user: $u, description: "tests") { id token } }`,
		map[string]any{"a": account, "u": user})
	return data["issueApiToken"].(map[string]any)["token"].(string)
}

// eventIDs returns the ids of an events connection's nodes.
func eventIDs(data map[string]any) []string {
	var ids []string
	for _, n := range data["events"].(map[string]any)["nodes"].([]any) {
		ids = append(ids, n.(map[string]any)["id"].(string))
	}
	return ids
}

// totalCount returns events.totalCount of auth's events matching filter.
func totalCount(t *testing.T, app *testApp, auth string, filter map[string]any) int {
	t.Helper()
	data := app.mustGQL(auth, `query($f: EventFilter) { events(filter: $f, first: 1) { totalCount } }`, map[string]any{"f": filter})
	return int(data["events"].(map[string]any)["totalCount"].(float64))
}

// metricValue adds up every series of a metric on a herald's /metrics (baseURL + /metrics);
// a metric the page does not have is an error.
func metricValue(baseURL, name string) (float64, error) {
	resp, err := http.Get(baseURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", line, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("/metrics has no %s", name)
	}
	return sum, nil
}

package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The authorisation matrix: every field of the schema, called by every kind of caller, against
// the expected outcome, from one table.

type caller int

const (
	asAdmin   caller = iota // read-write user of the admin account (Basic auth)
	asAliceRW               // read-write user of alice (Bearer token)
	asAliceRO               // read-only user of alice
	asBob                   // read-write user of bob, acting on alice's objects
	asAnonymous
	callerCount
)

var callerNames = [callerCount]string{"admin", "alice-rw", "alice-ro", "bob-rw", "anonymous"}

// Outcomes of a call. A denial is named by its extensions.code.
const (
	allowed         = "allowed" // no error and a result
	hidden          = "hidden"  // no error, but null: the object is invisible to the caller
	unauthenticated = "UNAUTHENTICATED"
	forbidden       = "FORBIDDEN"
	notFound        = "NOT_FOUND"
	badUserInput    = "BAD_USER_INPUT"
)

// expect is a row's outcome per caller, in the order admin, alice-rw, alice-ro, bob, anonymous.
type expect [callerCount]string

// matrixEnv makes the objects the operations act on, fresh where a call consumes them, so
// that every call's variables are valid and a denial can only come from access control.
type matrixEnv struct {
	t    *testing.T
	app  *testApp
	ts   tenants
	next int
}

func (m *matrixEnv) unique(prefix string) string {
	m.next++
	return fmt.Sprintf("%s-%d", prefix, m.next)
}

// aliceEvent records a new event of alice (as the admin) and returns its id.
func (m *matrixEnv) aliceEvent(resource string) string {
	id := m.unique("matrix-ev")
	e := tenantEvent(id, "alice", 30)
	e["resource"].(map[string]any)["id"] = resource
	m.app.mustGQL(m.ts.admin, recordEventsOp, map[string]any{"in": []any{e}})
	return id
}

// aliceUser adds a new read-only user to alice (as the admin) and returns its name.
func (m *matrixEnv) aliceUser() string {
	name := m.unique("matrix-user")
	m.app.mustGQL(m.ts.admin, `mutation($u: String!) { addUser(account: "alice", user: $u, role: READ_ONLY) { name } }`, map[string]any{"u": name})
	return name
}

// aliceConfiguration creates a new Slack configuration of alice (as the admin).
func (m *matrixEnv) aliceConfiguration() string {
	data := m.app.mustGQL(m.ts.admin, createSlackOp, map[string]any{"a": "alice", "in": slackInput(m.unique("matrix-config"))})
	return data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
}

// ownTarget names whose credentials a self-or-admin operation touches: alice's users their
// own (account and user left out, so they default to the caller), everyone else alice-rw's.
func ownTarget(who caller) map[string]any {
	switch who {
	case asAliceRW, asAliceRO:
		return map[string]any{}
	}
	return map[string]any{"a": "alice", "u": "alice-rw"}
}

// tokenOwner is the user ownTarget designates.
func tokenOwner(who caller) string {
	switch who {
	case asAliceRW:
		return "alice-rw"
	case asAliceRO:
		return "alice-ro"
	}
	return "alice-rw"
}

const createSlackOp = `mutation($in: ConfigurationInput!, $a: String) { createNotificationEndpointConfiguration(kind: SLACK, input: $in, account: $a) { id account } }`

func slackInput(name string) map[string]any {
	return map[string]any{"name": name, "slack": map[string]any{"webhookUrl": "https://hooks.slack.com/services/T0/B0/matrix"}, "quickSelections": []string{"all"}}
}

type matrixRow struct {
	field string
	op    string
	vars  func(m *matrixEnv, who caller) map[string]any
	want  expect
}

func authMatrix() []matrixRow {
	aliceOnly := func(*matrixEnv, caller) map[string]any { return map[string]any{"a": "alice"} }
	return []matrixRow{
		// Event log.
		{field: "events", op: `query($f: EventFilter) { events(filter: $f, first: 5) { totalCount nodes { id } } }`,
			vars: func(*matrixEnv, caller) map[string]any {
				return map[string]any{"f": map[string]any{"account": "alice"}}
			},
			want: expect{allowed, allowed, allowed, forbidden, unauthenticated}},
		{field: "event", op: `query($id: ID!) { event(id: $id) { id resource { userId } } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"id": m.ts.aliceEvents[0]} },
			want: expect{allowed, allowed, allowed, hidden, unauthenticated}},
		{field: "eventTypes", op: `{ eventTypes { name known } }`,
			want: expect{allowed, allowed, allowed, allowed, unauthenticated}},
		{field: "recordEvents", op: `mutation($in: [EventInput!]!) { recordEvents(input: $in) { recorded } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				return map[string]any{"in": []any{tenantEvent(m.unique("matrix-rec"), "alice", 40)}}
			},
			want: expect{allowed, allowed, forbidden, badUserInput, unauthenticated}},
		{field: "recordEventsJSON", op: `mutation($e: String!) { recordEventsJSON(events: $e) { recorded } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				return map[string]any{"e": fmt.Sprintf(`{"id":%q,"level":"info","type":"user.image.analysis.completed","message":"ok","resource":{"user_id":"alice"}}`, m.unique("matrix-json"))}
			},
			want: expect{allowed, allowed, forbidden, badUserInput, unauthenticated}},
		{field: "deleteEvent", op: `mutation($id: ID!) { deleteEvent(id: $id) { id } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				return map[string]any{"id": m.aliceEvent("docker.io/alice/app:latest")}
			},
			want: expect{allowed, allowed, forbidden, notFound, unauthenticated}},
		{field: "deleteEvents", op: `mutation($f: EventFilter) { deleteEvents(filter: $f) { count } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				resource := m.unique("docker.io/alice/doomed")
				m.aliceEvent(resource)
				return map[string]any{"f": map[string]any{"account": "alice", "resource": resource}}
			},
			want: expect{allowed, allowed, forbidden, forbidden, unauthenticated}},
		{field: "eventRecorded", op: `subscription($f: EventFilter) { eventRecorded(filter: $f) { id resource { userId } } }`,
			vars: func(*matrixEnv, caller) map[string]any {
				return map[string]any{"f": map[string]any{"account": "alice"}}
			},
			want: expect{allowed, allowed, allowed, forbidden, unauthenticated}},

		// Accounts, users and tokens.
		{field: "viewer", op: `{ viewer { account user role admin permissions } }`,
			want: expect{allowed, allowed, allowed, allowed, unauthenticated}},
		{field: "accounts", op: `{ accounts { name users { name } } }`,
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "account", op: `query($a: String!) { account(name: $a) { name } }`, vars: aliceOnly,
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "createAccount", op: `mutation($n: String!) { createAccount(name: $n) { name } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"n": m.unique("matrix-account")} },
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "addUser", op: `mutation($a: String!, $u: String!) { addUser(account: $a, user: $u, role: READ_ONLY) { name } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				return map[string]any{"a": "alice", "u": m.unique("matrix-new")}
			},
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "removeUser", op: `mutation($a: String!, $u: String!) { removeUser(account: $a, user: $u) }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"a": "alice", "u": m.aliceUser()} },
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "grantRole", op: `mutation($a: String!, $u: String!) { grantRole(account: $a, user: $u, role: READ_WRITE) { name role } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"a": "alice", "u": m.aliceUser()} },
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "setAccountRetention", op: `mutation { setAccountRetention(account: "alice", retention: "30d") { name retention } }`,
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		// alice's users sign in with API tokens here, and a token may not change its user's
		// password (that needs the current one, over Basic; see commands' tests)
		{field: "changePassword", op: `mutation($a: String, $u: String) { changePassword(account: $a, user: $u, password: "n3w-Password-ok") }`,
			vars: func(_ *matrixEnv, who caller) map[string]any { return ownTarget(who) },
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "issueApiToken", op: `mutation($a: String, $u: String) { issueApiToken(account: $a, user: $u, description: "matrix") { id token } }`,
			vars: func(_ *matrixEnv, who caller) map[string]any { return ownTarget(who) },
			want: expect{allowed, allowed, allowed, forbidden, unauthenticated}},
		{field: "revokeApiToken", op: `mutation($a: String, $u: String, $id: ID!) { revokeApiToken(account: $a, user: $u, id: $id) }`,
			vars: func(m *matrixEnv, who caller) map[string]any {
				data := m.app.mustGQL(m.ts.admin, `mutation($u: String!) { issueApiToken(account: "alice", user: $u) { id } }`, map[string]any{"u": tokenOwner(who)})
				vars := ownTarget(who)
				vars["id"] = data["issueApiToken"].(map[string]any)["id"]
				return vars
			},
			want: expect{allowed, allowed, allowed, forbidden, unauthenticated}},

		// Notifications.
		{field: "listNotificationEndpoints", op: `{ listNotificationEndpoints { kind enabled } }`,
			want: expect{allowed, allowed, allowed, allowed, unauthenticated}},
		{field: "listNotificationEndpointConfigurations", op: `query($a: String) { listNotificationEndpointConfigurations(account: $a) { id } }`, vars: aliceOnly,
			want: expect{allowed, allowed, allowed, forbidden, unauthenticated}},
		{field: "getNotificationEndpointConfiguration", op: `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { id account } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"id": m.ts.aliceSlack} },
			want: expect{allowed, allowed, allowed, hidden, unauthenticated}},
		{field: "quickSelections", op: `{ quickSelections { name } }`,
			want: expect{allowed, allowed, allowed, allowed, unauthenticated}},
		{field: "createNotificationEndpointConfiguration", op: createSlackOp,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				return map[string]any{"a": "alice", "in": slackInput(m.unique("matrix-created"))}
			},
			want: expect{allowed, allowed, forbidden, forbidden, unauthenticated}},
		{field: "updateNotificationEndpointConfiguration", op: `mutation($id: ID!, $in: ConfigurationInput!) { updateNotificationEndpointConfiguration(id: $id, input: $in) { id revision } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any {
				return map[string]any{"id": m.ts.aliceSlack, "in": map[string]any{"name": m.unique("alice alerts"), "slack": map[string]any{}}}
			},
			want: expect{allowed, allowed, forbidden, notFound, unauthenticated}},
		{field: "deleteNotificationEndpointConfiguration", op: `mutation($id: ID!) { deleteNotificationEndpointConfiguration(id: $id) }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"id": m.aliceConfiguration()} },
			want: expect{allowed, allowed, forbidden, notFound, unauthenticated}},
		{field: "testNotificationEndpointConfiguration", op: `mutation($id: ID) { testNotificationEndpointConfiguration(id: $id) { delivered } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"id": m.ts.aliceSlack} },
			want: expect{allowed, allowed, forbidden, notFound, unauthenticated}},
		{field: "notificationDeliveries", op: `{ notificationDeliveries { deliveries { eventId } totalCount } }`,
			want: expect{allowed, allowed, allowed, allowed, unauthenticated}},
		// a configuration of its own per caller: a second backfill of one is refused while the first runs
		{field: "backfillNotifications", op: `mutation($id: ID!) { backfillNotifications(configurationId: $id) { id state } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"id": m.aliceConfiguration()} },
			want: expect{allowed, allowed, forbidden, notFound, unauthenticated}},
		{field: "backfillJob", op: `{ backfillJob(id: "bf-0000000000000000") { id } }`,
			want: expect{hidden, hidden, forbidden, hidden, unauthenticated}},
		{field: "backfillJobs", op: `query($id: ID!) { backfillJobs(configurationId: $id) { id } }`,
			vars: func(m *matrixEnv, _ caller) map[string]any { return map[string]any{"id": m.ts.aliceSlack} },
			want: expect{allowed, allowed, forbidden, notFound, unauthenticated}},
		{field: "cancelBackfill", op: `mutation { cancelBackfill(id: "bf-0000000000000000") { id } }`,
			want: expect{hidden, hidden, forbidden, hidden, unauthenticated}},
		{field: "updateNotificationEndpointStatus", op: `mutation { updateNotificationEndpointStatus(kind: TEAMS, enabled: true) { kind enabled } }`,
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},

		// Views.
		{field: "projections", op: `{ projections { name caughtUp } }`,
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
		{field: "rebuildProjection", op: `mutation { rebuildProjection(name: "configurations") { name } }`,
			want: expect{allowed, forbidden, forbidden, forbidden, unauthenticated}},
	}
}

func TestAuthMatrix_everyFieldForEveryCaller(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, app)
	m := &matrixEnv{t: t, app: app, ts: ts}
	auth := [callerCount]string{ts.admin, ts.aliceRW, ts.aliceRO, ts.bobRW, ""}
	for _, row := range authMatrix() {
		for who := range callerCount {
			t.Run(row.field+"/"+callerNames[who], func(t *testing.T) {
				app := app.in(t)
				m.t, m.app = t, app
				var vars map[string]any
				if row.vars != nil {
					vars = row.vars(m, who)
				}
				var res gqlResult
				if strings.HasPrefix(row.op, "subscription") {
					res = app.subscribe(auth[who], row.op, vars, func() { m.aliceEvent("docker.io/alice/live:latest") })
				} else {
					res = app.gql(auth[who], row.op, vars)
				}
				checkOutcome(t, res, row.field, row.want[who])
				app.waitReady() // a rebuild must finish before the next call reads the views
			})
		}
	}

	t.Run("credentials that do not check out are refused with 401", func(t *testing.T) {
		app := app.in(t)
		for _, auth := range []string{basicAuth("admin", "wrong-password"), bearer("hrld_nope_nope"), "Digest whatever"} {
			res := app.gql(auth, `{ quickSelections { name } }`, nil)
			if res.Status != http.StatusUnauthorized || res.code() != unauthenticated {
				t.Errorf("%s: status %d, code %q, want 401 UNAUTHENTICATED: %s", auth, res.Status, res.code(), res.Raw)
			}
		}
	})
}

// checkOutcome compares one call's result with the outcome its row expects.
func checkOutcome(t *testing.T, res gqlResult, field, want string) {
	t.Helper()
	switch want {
	case allowed:
		if len(res.Errors) > 0 || res.Data[field] == nil {
			t.Errorf("want %s allowed, got: %s", field, res.Raw)
		}
	case hidden:
		if len(res.Errors) > 0 || res.Data == nil || res.Data[field] != nil {
			t.Errorf("want %s to answer null without an error, got: %s", field, res.Raw)
		}
	default:
		if res.code() != want {
			t.Errorf("want %s denied with %s, got code %q: %s", field, want, res.code(), res.Raw)
		}
		if res.Data != nil && res.Data[field] != nil {
			t.Errorf("denied %s still answered: %s", field, res.Raw)
		}
	}
}

// TestAuthMatrix_coversEverySchemaField fails when a field is added to the schema without a
// row in the matrix (or a row names a field the schema no longer has).
func TestAuthMatrix_coversEverySchemaField(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	data := app.mustGQL(basicAuth("admin", testAdminPassword), `{ __schema {
		queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }`, nil)
	schema := data["__schema"].(map[string]any)
	var fields []string
	for _, root := range []string{"queryType", "mutationType", "subscriptionType"} {
		for _, f := range schema[root].(map[string]any)["fields"].([]any) {
			fields = append(fields, f.(map[string]any)["name"].(string))
		}
	}
	var rows []string
	for _, row := range authMatrix() {
		rows = append(rows, row.field)
	}
	for _, f := range fields {
		if !slices.Contains(rows, f) {
			t.Errorf("schema field %s has no row in authMatrix", f)
		}
	}
	for _, r := range rows {
		if !slices.Contains(fields, r) {
			t.Errorf("authMatrix row %s names no field of the schema", r)
		}
	}
	if len(rows) != len(fields) {
		t.Errorf("authMatrix has %d rows for %d schema fields (a field listed twice?)", len(rows), len(fields))
	}
}

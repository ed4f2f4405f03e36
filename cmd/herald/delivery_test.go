package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a webhook endpoint with a behaviour per path, which records every request.
type receiver struct {
	mu       sync.Mutex
	srv      *httptest.Server
	requests map[string][]receivedRequest // by path
	calls    map[string]int
}

type receivedRequest struct {
	key, eventID, signature string
	body                    []byte
	at                      time.Time
}

// behaviour per path: /ok answers 200; /flaky 503 to its first 3 requests; /bad 400;
// /limited 429 with Retry-After: 1 to its first request; /slow... answers 200 after 10 ms.
func newReceiver(t testing.TB) *receiver {
	r := &receiver{requests: map[string][]receivedRequest{}, calls: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls[req.URL.Path]++
		n := r.calls[req.URL.Path]
		r.mu.Unlock()
		status := http.StatusOK
		if strings.HasPrefix(req.URL.Path, "/slow") {
			time.Sleep(10 * time.Millisecond)
		}
		switch {
		case req.URL.Path == "/flaky" && n <= 3:
			status = http.StatusServiceUnavailable
		case req.URL.Path == "/bad":
			status = http.StatusBadRequest
		case req.URL.Path == "/limited" && n == 1:
			w.Header().Set("Retry-After", "1")
			status = http.StatusTooManyRequests
		}
		if status == http.StatusOK {
			r.mu.Lock()
			r.requests[req.URL.Path] = append(r.requests[req.URL.Path], receivedRequest{
				key: req.Header.Get("Idempotency-Key"), eventID: req.Header.Get("X-Herald-Event-Id"),
				signature: req.Header.Get("X-Herald-Signature"), body: body, at: time.Now(),
			})
			r.mu.Unlock()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received(path string) []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.requests[path]...)
}

func (r *receiver) callCount(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[path]
}

func deliveryServeConfig(dataDir string) serveConfig {
	cfg := testServeConfig(dataDir, "")
	cfg.NotificationsEnabled = true
	cfg.Notify.RetryInterval = 50 * time.Millisecond
	cfg.Notify.MaxAttempts = 5
	cfg.Notify.RateLimits = "webhook=0"
	cfg.Notify.OutboundAllow = "127.0.0.1/32"
	cfg.Notify.OutboundDeny = "loopback,link-local,metadata"
	cfg.UIURL = "https://ui.example"
	return cfg
}

const createWebhookOp = `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in, account: "alice") { id } }`

func createWebhook(app *testApp, auth, name, url string) string {
	data := app.mustGQL(auth, createWebhookOp, map[string]any{"in": map[string]any{
		"name": name, "webhook": map[string]any{"url": url, "hmacSecret": "sign-" + name}, "quickSelections": []string{"all"},
	}})
	return data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
}

func adminAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+testAdminPassword))
}

// deliveries returns the delivery history of a configuration, by status.
func deliveriesOf(app *testApp, configID string) map[string]int {
	data := app.mustGQL(adminAuth(), `query($c: ID) { notificationDeliveries(configurationId: $c, first: 1000) { deliveries { status attempts receiverStatus error } } }`, map[string]any{"c": configID})
	out := map[string]int{}
	for _, d := range data["notificationDeliveries"].(map[string]any)["deliveries"].([]any) {
		out[d.(map[string]any)["status"].(string)]++
	}
	return out
}

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func recordAliceEvents(app *testApp, prefix string, n int) []string {
	var events []any
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		ids = append(ids, id)
		events = append(events, tenantEvent(id, "alice", i))
	}
	app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": events})
	return ids
}

// Receivers slower than events come: each configuration's window fills and it falls behind,
// the notifications in flight reach --notify-max-in-flight and dispatch falls behind as a
// whole; both read the log again as receivers drain. Every notification arrives once.
func TestDelivery_fallingBehindLosesNothingAndSendsNothingTwice(t *testing.T) {
	for _, tc := range []struct {
		name                string
		window, maxInFlight int
		says                string
	}{
		{"configuration window", 4, 10_000, "configuration falls behind"},
		{"max in flight", 1000, 6, "dispatch waits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := deliveryServeConfig(t.TempDir())
			cfg.Notify.Window, cfg.Notify.MaxInFlight, cfg.Notify.Concurrency = tc.window, tc.maxInFlight, 2
			checkSlowReceivers(t, cfg, tc.says)
		})
	}
}

func checkSlowReceivers(t *testing.T, cfg serveConfig, says string) {
	rcv := newReceiver(t)
	app := startTestAppConfig(t, cfg)
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	paths := []string{"/slow-a", "/slow-b", "/slow-c"}
	ids := map[string]string{}
	for _, p := range paths {
		ids[p] = createWebhook(app, adminAuth(), p[1:], rcv.srv.URL+p)
	}
	const n = 40
	var events []string
	for batch := range 4 {
		events = append(events, recordAliceEvents(app, fmt.Sprintf("burst%d", batch), n/4)...)
	}
	waitFor(t, "every notification delivered", 60*time.Second, func() bool {
		for _, p := range paths {
			if deliveriesOf(app, ids[p])["DELIVERED"] != n {
				return false
			}
		}
		return true
	})
	for _, p := range paths {
		got := map[string]int{}
		for _, r := range rcv.received(p) {
			got[r.eventID]++
		}
		for _, e := range events {
			if got[e] != 1 {
				t.Errorf("%s received event %s %d times, want once", p, e, got[e])
			}
		}
	}
	for _, want := range []string{says, "caught up"} {
		if !strings.Contains(app.logs.String(), want) {
			t.Errorf("the logs do not say %q", want)
		}
	}
	if waiting, err := metricValue(app.url, "herald_notifications_waiting_turn"); err != nil || waiting != 0 {
		t.Errorf("herald_notifications_waiting_turn is %v (%v) once everything was delivered, want 0", waiting, err)
	}
}

func TestDelivery_retriesPoisonRetryAfterLedgerAndRestart(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	app := startTestAppConfig(t, deliveryServeConfig(dir))
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	ok := createWebhook(app, adminAuth(), "ok", rcv.srv.URL+"/ok")
	flaky := createWebhook(app, adminAuth(), "flaky", rcv.srv.URL+"/flaky")
	bad := createWebhook(app, adminAuth(), "bad", rcv.srv.URL+"/bad")
	limited := createWebhook(app, adminAuth(), "limited", rcv.srv.URL+"/limited")

	const n = 20
	ids := recordAliceEvents(app, "ev", n)
	waitFor(t, "every notification settled", 20*time.Second, func() bool {
		return deliveriesOf(app, ok)["DELIVERED"] == n && deliveriesOf(app, flaky)["DELIVERED"] == n &&
			deliveriesOf(app, bad)["FAILED"] == n && deliveriesOf(app, limited)["DELIVERED"] == n
	})

	// Every event reached /ok once, signed, with the webhook body; the receiver that was down
	// for a while got each once too (the failed attempts were answered 503 and not kept).
	for _, path := range []string{"/ok", "/flaky", "/limited"} {
		got := rcv.received(path)
		keys := map[string]bool{}
		for _, r := range got {
			if keys[r.key] {
				t.Errorf("%s got idempotency key %s twice", path, r.key)
			}
			keys[r.key] = true
		}
		if len(got) != n {
			t.Errorf("%s received %d notifications, want %d", path, len(got), n)
		}
	}
	first := rcv.received("/ok")[0]
	mac := hmac.New(sha256.New, []byte("sign-ok"))
	mac.Write(first.body)
	if first.signature != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature %q does not sign the body", first.signature)
	}
	var body map[string]any
	if err := json.Unmarshal(first.body, &body); err != nil || body["level"] != "error" || body["resource"].(map[string]any)["account_name"] != "alice" {
		t.Errorf("webhook body: %s (%v)", first.body, err)
	}

	// A 400 is final: one attempt per notification, no retry storm.
	if calls := rcv.callCount("/bad"); calls != n {
		t.Errorf("/bad was called %d times for %d notifications; a 400 must not be retried", calls, n)
	}
	data := app.mustGQL(adminAuth(), `query($c: ID) { notificationDeliveries(configurationId: $c, status: FAILED, first: 1) { deliveries { attempts receiverStatus error } } }`, map[string]any{"c": bad})
	failed := data["notificationDeliveries"].(map[string]any)["deliveries"].([]any)[0].(map[string]any)
	if failed["attempts"].(float64) != 1 || failed["receiverStatus"].(float64) != 400 || !strings.Contains(failed["error"].(string), "400") {
		t.Errorf("failure recorded as %v", failed)
	}
	// 429 with Retry-After: 1 was honoured: the retry came a second later at the earliest.
	if calls := rcv.callCount("/limited"); calls != n+1 {
		t.Errorf("/limited was called %d times, want %d (one 429, then each once)", calls, n+1)
	}

	// Endpoint disabled: nothing goes to webhooks, a test still sends; enabled again: new
	// events flow.
	app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: false) { enabled } }`, nil)
	recordAliceEvents(app, "while-disabled", 2)
	test := app.mustGQL(adminAuth(), `mutation($id: ID) { testNotificationEndpointConfiguration(id: $id) { delivered receiverStatus error } }`, map[string]any{"id": ok})
	if res := test["testNotificationEndpointConfiguration"].(map[string]any); res["delivered"] != true || res["receiverStatus"].(float64) != 200 {
		t.Fatalf("test while disabled: %v", res)
	}
	time.Sleep(300 * time.Millisecond)
	if got := len(rcv.received("/ok")); got != n+1 { // the test notification only
		t.Fatalf("/ok received %d while webhooks were disabled, want %d", got, n+1)
	}
	app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: true) { enabled } }`, nil)
	recordAliceEvents(app, "after-enabled", 1)
	waitFor(t, "an event after re-enabling", 10*time.Second, func() bool { return len(rcv.received("/ok")) == n+2 })

	// Unsaved settings can be tested too, and a refused destination says why.
	unsaved := app.mustGQL(adminAuth(), `mutation($in: ConfigurationInput) { testNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { delivered error } }`,
		map[string]any{"in": map[string]any{"name": "try", "webhook": map[string]any{"url": "http://169.254.169.254/latest/meta-data"}}})
	if res := unsaved["testNotificationEndpointConfiguration"].(map[string]any); res["delivered"] != false || !strings.Contains(fmt.Sprint(res["error"]), "outbound policy") {
		t.Fatalf("metadata address: %v", res)
	}

	// Backfill: a configuration added later gets the history; a second run sends nothing.
	late := createWebhook(app, adminAuth(), "late", rcv.srv.URL+"/late")
	job := app.mustGQL(adminAuth(), `mutation($c: ID!) { backfillNotifications(configurationId: $c) { id } }`, map[string]any{"c": late})
	jobID := job["backfillNotifications"].(map[string]any)["id"].(string)
	var progress map[string]any
	waitFor(t, "backfill done", 20*time.Second, func() bool {
		progress = app.mustGQL(adminAuth(), `query($id: ID!) { backfillJob(id: $id) { state matched skipped delivered failed } }`, map[string]any{"id": jobID})["backfillJob"].(map[string]any)
		return progress["state"] == "DONE"
	})
	total := n + 2 + 1
	if progress["matched"].(float64) != float64(total) || progress["delivered"].(float64) != float64(total) || len(rcv.received("/late")) != total {
		t.Fatalf("backfill: %v, /late received %d", progress, len(rcv.received("/late")))
	}
	again := app.mustGQL(adminAuth(), `mutation($c: ID!) { backfillNotifications(configurationId: $c) { id } }`, map[string]any{"c": late})
	againID := again["backfillNotifications"].(map[string]any)["id"].(string)
	waitFor(t, "second backfill done", 20*time.Second, func() bool {
		progress = app.mustGQL(adminAuth(), `query($id: ID!) { backfillJob(id: $id) { state skipped published } }`, map[string]any{"id": againID})["backfillJob"].(map[string]any)
		return progress["state"] == "DONE"
	})
	if progress["skipped"].(float64) != float64(total) || progress["published"].(float64) != 0 {
		t.Fatalf("second backfill: %v", progress)
	}

	// A restart on the same data sends nothing again.
	before := len(rcv.received("/ok"))
	app.stop()
	app = startTestAppConfig(t, deliveryServeConfig(dir))
	recordAliceEvents(app, "after-restart", 1)
	waitFor(t, "the event after the restart", 10*time.Second, func() bool { return len(rcv.received("/ok")) == before+1 })
	time.Sleep(300 * time.Millisecond)
	if got := len(rcv.received("/ok")); got != before+1 {
		t.Fatalf("after a restart /ok received %d, want %d", got, before+1)
	}
	_ = ids
}

// TestDelivery_aDeletedEventIsNotSentOnRetry: an event deleted while its notification waits
// for a retry (the receiver answers 503) is not sent again; its delivery fails, saying why.
func TestDelivery_aDeletedEventIsNotSentOnRetry(t *testing.T) {
	var requests atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	app := startTestAppConfig(t, deliveryServeConfig(t.TempDir()))
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	id := createWebhook(app, adminAuth(), "down", down.URL+"/x")
	ids := recordAliceEvents(app, "gone", 1)
	waitFor(t, "the first attempt", 10*time.Second, func() bool { return requests.Load() == 1 })
	app.mustGQL(adminAuth(), `mutation($id: ID!) { deleteEvent(id: $id) { id } }`, map[string]any{"id": ids[0]})

	var got map[string]any
	waitFor(t, "the delivery settled", 10*time.Second, func() bool {
		list := app.mustGQL(adminAuth(), `query($c: ID) { notificationDeliveries(configurationId: $c) { deliveries { status error } } }`, map[string]any{"c": id})["notificationDeliveries"].(map[string]any)["deliveries"].([]any)
		if len(list) == 0 {
			return false
		}
		got = list[0].(map[string]any)
		return true
	})
	if got["status"] != "FAILED" || !strings.Contains(got["error"].(string), "was deleted before it could be delivered") || requests.Load() != 1 {
		t.Errorf("delivery %v after %d requests; want FAILED because the event was deleted, after the one request before", got, requests.Load())
	}
}

// TestDeliveries_anUnknownIdIsNotFound: the delivery history refuses a configuration or event
// id that is unknown (a typo would otherwise read as "nothing was sent"), lists nothing
// without an error for a known id without matching history, and keeps listing the history of
// a removed configuration and of a deleted event.
func TestDeliveries_anUnknownIdIsNotFound(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rcv.Close)
	app := startTestAppConfig(t, deliveryServeConfig(t.TempDir()))
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	config := createWebhook(app, adminAuth(), "hook", rcv.URL+"/x")
	event := recordAliceEvents(app, "hist", 1)[0]
	waitFor(t, "the delivery", 10*time.Second, func() bool { return deliveriesOf(app, config)["DELIVERED"] == 1 })

	const byConfig = `query($c: ID, $s: DeliveryStatus) { notificationDeliveries(configurationId: $c, status: $s) { deliveries { status } } }`
	const byEvent = `query($e: ID) { notificationDeliveries(eventId: $e) { deliveries { status } } }`
	for _, tc := range []struct {
		query string
		vars  map[string]any
		want  string
	}{
		{byConfig, map[string]any{"c": "nosuch"}, "no endpoint configuration with id nosuch"},
		{byEvent, map[string]any{"e": "nosuch"}, "no event with id nosuch"},
	} {
		res := app.gql(adminAuth(), tc.query, tc.vars)
		if res.code() != "NOT_FOUND" || !strings.Contains(res.Raw, tc.want) {
			t.Errorf("%v: %s; want NOT_FOUND saying %q", tc.vars, res.Raw, tc.want)
		}
	}
	count := func(query string, vars map[string]any) int {
		return len(app.mustGQL(adminAuth(), query, vars)["notificationDeliveries"].(map[string]any)["deliveries"].([]any))
	}
	if n := count(byConfig, map[string]any{"c": config, "s": "FAILED"}); n != 0 {
		t.Errorf("%d failed deliveries of a configuration that has none", n)
	}
	app.mustGQL(adminAuth(), `mutation($id: ID!) { deleteEvent(id: $id) { id } }`, map[string]any{"id": event})
	app.mustGQL(adminAuth(), `mutation($id: ID!) { deleteNotificationEndpointConfiguration(id: $id) }`, map[string]any{"id": config})
	if n := count(byConfig, map[string]any{"c": config}); n != 1 {
		t.Errorf("the removed configuration's history lists %d deliveries, want its 1", n)
	}
	if n := count(byEvent, map[string]any{"e": event}); n != 1 {
		t.Errorf("the deleted event's history lists %d deliveries, want its 1", n)
	}
}

// TestDeliveries_totalCountIsEveryPageTheCallerMaySee: totalCount counts what the filter
// selects over all pages, not the page's; an account's user counts its own account's
// deliveries only, whatever it asks.
func TestDeliveries_totalCountIsEveryPageTheCallerMaySee(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(rcv.Close)
	app := startTestAppConfig(t, deliveryServeConfig(t.TempDir()))
	for _, account := range []string{"alice", "bob"} {
		app.mustGQL(adminAuth(), `mutation($n: String!) { createAccount(name: $n) { name } }`, map[string]any{"n": account})
	}
	aliceHook := createWebhook(app, adminAuth(), "alice-hook", rcv.URL+"/alice")
	app.mustGQL(adminAuth(), `mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in, account: "bob") { id } }`,
		map[string]any{"in": map[string]any{"name": "bob-hook", "webhook": map[string]any{"url": rcv.URL + "/bob"}, "quickSelections": []string{"all"}}})
	app.mustGQL(adminAuth(), `mutation { addUser(account: "alice", user: "alice-ro", role: READ_ONLY) { name } }`, nil)
	alice := bearer(issueToken(t, app, adminAuth(), "alice", "alice-ro"))
	recordAliceEvents(app, "count", 5)
	app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": []any{tenantEvent("bob-1", "bob", 1), tenantEvent("bob-2", "bob", 2)}})
	waitFor(t, "seven deliveries", 10*time.Second, func() bool {
		n, _ := app.mustGQL(adminAuth(), `{ notificationDeliveries { totalCount } }`, nil)["notificationDeliveries"].(map[string]any)["totalCount"].(float64)
		return n == 7
	})

	const query = `query($c: ID, $s: DeliveryStatus) { notificationDeliveries(configurationId: $c, status: $s, first: 2) { totalCount deliveries { eventId } } }`
	for _, tc := range []struct {
		who, auth string
		vars      map[string]any
		want      float64
	}{
		{"admin", adminAuth(), nil, 7},
		{"admin", adminAuth(), map[string]any{"c": aliceHook}, 5},
		{"admin", adminAuth(), map[string]any{"c": aliceHook, "s": "DELIVERED"}, 5},
		{"admin", adminAuth(), map[string]any{"s": "FAILED"}, 0},
		{"alice", alice, nil, 5},
		{"alice", alice, map[string]any{"s": "DELIVERED"}, 5},
	} {
		page := app.mustGQL(tc.auth, query, tc.vars)["notificationDeliveries"].(map[string]any)
		if got := page["totalCount"].(float64); got != tc.want || len(page["deliveries"].([]any)) > 2 {
			t.Errorf("%s with %v: totalCount %v on a page of %d; want %v", tc.who, tc.vars, got, len(page["deliveries"].([]any)), tc.want)
		}
	}
}

// TestPageSizes_outOfRangeIsBadUserInputOnFirst: a page size of 0, below 0 or above 1,000 is
// refused on first, for events and deliveries alike (0 read as "the default", and the
// deliveries' error named a field "limit" the schema does not have); the CLI says --limit.
func TestPageSizes_outOfRangeIsBadUserInputOnFirst(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	for _, q := range []string{
		`query($n: Int) { events(first: $n) { nodes { id } } }`,
		`query($n: Int) { notificationDeliveries(first: $n) { deliveries { status } } }`,
	} {
		for _, n := range []int{0, -5, 2000} {
			res := app.gql(adminAuth(), q, map[string]any{"n": n})
			want := fmt.Sprintf("invalid input: first: is %d; it must lie between 1 and 1000", n)
			if res.code() != badUserInput || res.field() != "first" || len(res.Errors) != 1 || res.Errors[0].Message != want {
				t.Errorf("%s with %d: %s; want %q", q, n, res.Raw, want)
			}
		}
		app.mustGQL(adminAuth(), q, map[string]any{"n": 1000})
		app.mustGQL(adminAuth(), q, nil)
	}
	_, _, err := runCLI(t, "", "notifications", "deliveries", "--url", app.url, "--limit", "0")
	if err == nil || err.Error() != "--limit is 0: it must lie between 1 and 1000" {
		t.Errorf("deliveries --limit 0: %v", err)
	}
}

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingReceiver answers 200 after delay and counts the requests of each event.
type countingReceiver struct {
	mu    sync.Mutex
	srv   *httptest.Server
	byEv  map[string]int
	total int
}

func newCountingReceiver(t *testing.T, delay time.Duration) *countingReceiver {
	r := &countingReceiver{byEv: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		_, _ = io.ReadAll(req.Body)
		time.Sleep(delay)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.byEv[req.Header.Get("X-Herald-Event-Id")]++
		r.total++
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// counts returns how many events arrived and how many requests in all.
func (r *countingReceiver) counts() (events, requests int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byEv), r.total
}

func backfillAll(app *testApp, configuration string) gqlResult {
	return app.gql(adminAuth(), `mutation($c: ID!) { backfillNotifications(configurationId: $c) { id } }`, map[string]any{"c": configuration})
}

func waitBackfill(t *testing.T, app *testApp, job string) map[string]any {
	t.Helper()
	var p map[string]any
	waitFor(t, "backfill "+job+" ends", 20*time.Second, func() bool {
		p = app.mustGQL(adminAuth(), `query($id: ID!) { backfillJob(id: $id) { state delivered failed error } }`, map[string]any{"id": job})["backfillJob"].(map[string]any)
		return p["state"] != "RUNNING"
	})
	return p
}

// startBackfillOfOld records n events while webhooks are disabled (so dispatch sends none of
// them), creates a webhook configuration named name for rcv, starts its backfill and waits
// for the first notification to arrive. It returns the configuration and backfill ids.
func startBackfillOfOld(t *testing.T, app *testApp, rcv *countingReceiver, name string, n int) (configuration, job string) {
	t.Helper()
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: false) { enabled } }`, nil)
	recordAliceEvents(app, name, n)
	app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: true) { enabled } }`, nil)
	configuration = createWebhook(app, adminAuth(), name, rcv.srv.URL+"/x")
	started := backfillAll(app, configuration)
	if len(started.Errors) > 0 {
		t.Fatal(started.Raw)
	}
	job = started.Data["backfillNotifications"].(map[string]any)["id"].(string)
	waitFor(t, "the first notification received", 10*time.Second, func() bool { n, _ := rcv.counts(); return n > 0 })
	return configuration, job
}

// TestBackfill_overlapsSendNothingTwice: a backfill started while dispatch still sends the
// same events, or while another backfill of the configuration runs, sends each event once (a
// Slack message, a GitHub issue or a Jira ticket cannot be taken back).
func TestBackfill_overlapsSendNothingTwice(t *testing.T) {
	t.Run("beside dispatch", func(t *testing.T) {
		rcv := newCountingReceiver(t, 50*time.Millisecond)
		app := startTestAppConfig(t, deliveryServeConfig(t.TempDir()))
		app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
		id := createWebhook(app, adminAuth(), "w", rcv.srv.URL+"/x")
		recordAliceEvents(app, "inf", 10) // dispatch starts sending at once
		res := backfillAll(app, id)
		if len(res.Errors) > 0 {
			t.Fatal(res.Raw)
		}
		waitBackfill(t, app, res.Data["backfillNotifications"].(map[string]any)["id"].(string))
		waitFor(t, "10 events received", 10*time.Second, func() bool { n, _ := rcv.counts(); return n == 10 })
		time.Sleep(300 * time.Millisecond) // anything sent twice would arrive now
		if events, requests := rcv.counts(); requests != events {
			t.Errorf("the receiver got %d requests for %d events", requests, events)
		}
	})
	t.Run("a second backfill of the configuration", func(t *testing.T) {
		rcv := newCountingReceiver(t, 50*time.Millisecond)
		app := startTestAppConfig(t, deliveryServeConfig(t.TempDir()))
		app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
		app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: false) { enabled } }`, nil)
		recordAliceEvents(app, "cc", 20)
		app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: true) { enabled } }`, nil)
		id := createWebhook(app, adminAuth(), "late", rcv.srv.URL+"/x")
		first := backfillAll(app, id)
		second := backfillAll(app, id)
		if len(first.Errors) > 0 || second.code() != "CONFLICT" || !strings.Contains(second.Raw, "is still running") {
			t.Fatalf("two backfills at once: %s / %s", first.Raw, second.Raw)
		}
		p := waitBackfill(t, app, first.Data["backfillNotifications"].(map[string]any)["id"].(string))
		if events, requests := rcv.counts(); p["delivered"] != float64(20) || events != 20 || requests != 20 {
			t.Errorf("backfill %v; the receiver got %d requests for %d events", p, requests, events)
		}
		if again := backfillAll(app, id); len(again.Errors) > 0 { // once the first is over, a new one may start
			t.Errorf("a backfill after the first ended: %s", again.Raw)
		}
	})
}

// TestBackfill_disabledKind: while the admin has webhooks disabled, a backfill through a
// webhook configuration is refused, and sends nothing.
func TestBackfill_disabledKind(t *testing.T) {
	rcv := newCountingReceiver(t, 0)
	app := startTestAppConfig(t, deliveryServeConfig(t.TempDir()))
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: false) { enabled } }`, nil)
	id := createWebhook(app, adminAuth(), "late", rcv.srv.URL+"/x")
	recordAliceEvents(app, "dis", 5)
	res := backfillAll(app, id)
	if res.code() != "CONFLICT" || !strings.Contains(res.Raw, "the admin disabled webhook endpoints: nothing is sent to them, backfills included; an admin enables them again with `herald notifications endpoint enable webhook`") {
		t.Fatalf("backfill while webhooks are disabled: %s", res.Raw)
	}
	time.Sleep(300 * time.Millisecond)
	if _, requests := rcv.counts(); requests != 0 {
		t.Errorf("%d notifications sent to a disabled kind", requests)
	}
}

// TestBackfill_cancel: cancelBackfill stops a backfill at once; what it had handed to the
// router is still delivered, and nothing more is sent. The configuration may then be
// backfilled again.
func TestBackfill_cancel(t *testing.T) {
	rcv := newCountingReceiver(t, 100*time.Millisecond)
	cfg := deliveryServeConfig(t.TempDir())
	cfg.Notify.Window = 20 // notifications a backfill keeps in flight
	app := startTestAppConfig(t, cfg)
	id, job := startBackfillOfOld(t, app, rcv, "slow", 200)

	canceled := app.mustGQL(adminAuth(), `mutation($id: ID!) { cancelBackfill(id: $id) { state published matched error } }`, map[string]any{"id": job})["cancelBackfill"].(map[string]any)
	published := int(canceled["published"].(float64))
	if canceled["state"] != "CANCELED" || published == 0 || published >= 200 {
		t.Fatalf("cancelBackfill answered %v, want CANCELED with part of the 200 events sent", canceled)
	}
	// The receiver takes 100 ms a request, so some of what was handed off has not ended.
	if msg, _ := canceled["error"].(string); !strings.HasPrefix(msg, "canceled; ") || !strings.Contains(msg, "notifications it had handed to the router had not ended yet: they are still sent, and how they end shows in the delivery history") {
		t.Errorf("the canceled backfill's error does not say its counts stop at the cancel: %q", msg)
	}
	waitFor(t, "what was published delivered", 30*time.Second, func() bool { n, _ := rcv.counts(); return n == published })
	time.Sleep(500 * time.Millisecond) // anything sent after the cancel would arrive now
	if events, requests := rcv.counts(); events != published || requests != published {
		t.Errorf("after a cancel with %d published, the receiver got %d requests for %d events", published, requests, events)
	}
	if again := app.mustGQL(adminAuth(), `mutation($id: ID!) { cancelBackfill(id: $id) { state } }`, map[string]any{"id": job})["cancelBackfill"].(map[string]any); again["state"] != "CANCELED" {
		t.Errorf("canceling a canceled backfill: %v", again)
	}
	if unknown := app.gql(adminAuth(), `mutation { cancelBackfill(id: "bf-unknown") { state } }`, nil); len(unknown.Errors) > 0 || unknown.Data["cancelBackfill"] != nil {
		t.Errorf("canceling an unknown backfill: %s, want null", unknown.Raw)
	}
	if again := backfillAll(app, id); len(again.Errors) > 0 {
		t.Errorf("a backfill after the cancel: %s", again.Raw)
	}
}

// TestBackfill_stopsWhenItsConfigurationIsRemoved: removing the configuration of a running
// backfill stops it, and the job says why, instead of running on through the window with
// every event failing.
func TestBackfill_stopsWhenItsConfigurationIsRemoved(t *testing.T) {
	rcv := newCountingReceiver(t, 100*time.Millisecond)
	cfg := deliveryServeConfig(t.TempDir())
	cfg.Notify.Window = 20
	app := startTestAppConfig(t, cfg)
	id, job := startBackfillOfOld(t, app, rcv, "doomed", 200)
	app.mustGQL(adminAuth(), `mutation($id: ID!) { deleteNotificationEndpointConfiguration(id: $id) }`, map[string]any{"id": id})

	var p map[string]any
	waitFor(t, "the backfill stops", 10*time.Second, func() bool {
		p = app.mustGQL(adminAuth(), `query($id: ID!) { backfillJob(id: $id) { state published matched error } }`, map[string]any{"id": job})["backfillJob"].(map[string]any)
		return p["state"] != "RUNNING"
	})
	published := int(p["published"].(float64))
	if p["state"] != "FAILED" || !strings.Contains(p["error"].(string), "configuration "+id+" was removed while the backfill ran") || published >= 200 {
		t.Fatalf("backfill after its configuration was removed: %v, want FAILED saying the configuration was removed, with part of the 200 events published", p)
	}
	time.Sleep(500 * time.Millisecond)
	if _, requests := rcv.counts(); requests > published {
		t.Errorf("the receiver got %d requests, more than the %d the backfill published before the removal", requests, published)
	}
}

// TestBackfill_aServerStoppingMidwayRecordsItCanceled: stopping the server ends a running
// backfill, and the server waits until that end is recorded before it closes the store, so
// the next start reports the backfill canceled, with its counts, rather than still running
// or lost with a crashed instance.
func TestBackfill_aServerStoppingMidwayRecordsItCanceled(t *testing.T) {
	rcv := newCountingReceiver(t, 100*time.Millisecond)
	dir := t.TempDir()
	cfg := deliveryServeConfig(dir)
	cfg.Notify.Window = 5
	app := startTestAppConfig(t, cfg)
	_, job := startBackfillOfOld(t, app, rcv, "slow", 100)
	app.stop()

	app = startTestAppConfig(t, cfg)
	p := app.mustGQL(adminAuth(), `query($id: ID!) { backfillJob(id: $id) { state published error } }`, map[string]any{"id": job})["backfillJob"].(map[string]any)
	if p["state"] != "CANCELED" || !strings.HasPrefix(p["error"].(string), "canceled") || p["published"].(float64) == 0 {
		t.Fatalf("after a stop mid-backfill the restarted server reports %v, want CANCELED with the notifications it published", p)
	}
}

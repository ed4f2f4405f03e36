package main

import (
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/adapters/checkpoint"
	"herald/adapters/eventstore/embedded"
	"herald/adapters/views/redis/redistest"
	"herald/domain"
)

// With Redis Streams each subscription hands out one message at a time. A receiver that is
// down must not hold back the other configurations of its stream while its notifications
// wait for their next attempt: the retries wait in the retry queue, not in the subscription.
// One shard, so that both configurations share the one webhook stream.
func TestDelivery_redisStreamsRetryHoldsNothingBack(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := deliveryServeConfig(t.TempDir())
	cfg.Auth.SecretKey = testSecretKey
	cfg.Redis.URL = "redis://" + srv.Addr() + "/0"
	cfg.Notify.Shards, cfg.Notify.MaxAttempts = 1, 20
	app := startTestAppConfig(t, cfg)
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)

	var mu sync.Mutex
	got := map[string]int{}
	downUntil := time.Now().Add(time.Hour) // set when the events are recorded
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/down" && time.Now().Before(downUntil) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got[r.URL.Path+" "+r.Header.Get("Idempotency-Key")]++
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	down := createWebhook(app, adminAuth(), "down", hook.URL+"/down")
	up := createWebhook(app, adminAuth(), "up", hook.URL+"/up")
	count := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for k := range got {
			if k[:len(path)+1] == path+" " {
				n++
			}
		}
		return n
	}

	const n = 20
	mu.Lock()
	downUntil = time.Now().Add(3 * time.Second)
	mu.Unlock()
	recordAliceEvents(app, "held", n)
	waitFor(t, "the healthy receiver served while the other one is down", 2500*time.Millisecond, func() bool { return count("/up") == n })
	if d := count("/down"); d != 0 {
		t.Fatalf("the receiver that is down got %d notifications", d)
	}
	waitFor(t, "the waiting retries shown in /metrics", time.Second, func() bool {
		waiting, err := metricValue(app.url, "herald_notifications_waiting_retry")
		return err == nil && waiting > 0
	})

	waitFor(t, "every notification delivered once the receiver is back", 30*time.Second, func() bool {
		return deliveriesOf(app, down)["DELIVERED"] == n && deliveriesOf(app, up)["DELIVERED"] == n
	})
	mu.Lock()
	defer mu.Unlock()
	for k, times := range got {
		if times != 1 {
			t.Errorf("%s received %d times", k, times)
		}
	}
}

// Redis losing its data (a FLUSHALL, a restart without persistence) takes the router's
// consumer groups with it, and the notifications waiting there for a retry. Herald recreates
// the groups and publishes the lost notifications again at once: every notification is
// delivered, each once, and the ones delivered before are not sent again.
func TestDelivery_redisLosingItsDataLosesNoNotification(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := deliveryServeConfig(t.TempDir())
	cfg.Auth.SecretKey = testSecretKey
	cfg.Redis.URL = "redis://" + srv.Addr() + "/0"
	app := startTestAppConfig(t, cfg)
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(app.logs.String())
		}
	})

	var mu sync.Mutex
	got := map[string]int{}
	down := false
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got[r.Header.Get("Idempotency-Key")]++
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	config := createWebhook(app, adminAuth(), "hook", hook.URL)
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}

	recordAliceEvents(app, "before", 5)
	waitFor(t, "the first notifications delivered", 10*time.Second, func() bool { return received() == 5 })
	mu.Lock()
	down = true
	mu.Unlock()
	recordAliceEvents(app, "waiting", 5)
	waitFor(t, "notifications waiting for a retry in Redis", 10*time.Second, func() bool {
		waiting, err := metricValue(app.url, "herald_notifications_waiting_retry")
		return err == nil && waiting == 5
	})
	if err := srv.Client(t).FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	waitFor(t, "the views rebuilt", 10*time.Second, func() bool {
		r := app.gql(adminAuth(), `{ accounts { name } }`, nil)
		return len(r.Errors) == 0
	})
	recordAliceEvents(app, "after", 5)
	waitFor(t, "notifications delivered after Redis lost its data", 20*time.Second, func() bool { return received() == 15 })
	waitFor(t, "the ledger holding all fifteen", 10*time.Second, func() bool { return deliveriesOf(app, config)["DELIVERED"] == 15 })
	time.Sleep(time.Second) // anything sent twice would come now
	logs := app.logs.String()
	if n := strings.Count(logs, "herald recreated them"); n != 1 {
		t.Errorf("the recreated groups are told %d times, want once:\n%s", n, logs)
	}
	for line := range strings.Lines(logs) {
		if strings.Contains(line, "NOGROUP") && !strings.Contains(line, "level=DEBUG") {
			t.Errorf("a lost group is logged above debug level: %s", line)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for key, times := range got {
		if times != 1 {
			t.Errorf("%s received %d times", key, times)
		}
	}
}

// Views in Redis follow one event store: a second instance with an embedded store of its own
// is refused at start, saying what to do, and the first one goes on; the first one restarted
// on its own store is welcome.
func TestServe_viewsInRedisFollowOneEmbeddedStore(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	first := testServeConfig(t.TempDir(), testSecretKey)
	first.Redis.URL = "redis://" + srv.Addr() + "/0"
	app := startTestAppConfig(t, first)
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	recordAliceEvents(app, "kept", 1)

	second := first
	second.DataDir = t.TempDir()
	_, err := newApp(second, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("a second instance with its own embedded store started on the same views")
	}
	for _, want := range []string{"built from another event store", "--eventstore-url", "--redis-prefix", "redis-cli --scan --pattern 'herald:*'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
	if got := app.mustGQL(adminAuth(), `{ events(first: 10) { totalCount } }`, nil)["events"].(map[string]any)["totalCount"]; got != 1.0 {
		t.Errorf("the first instance counts %v events, want 1", got)
	}

	own := second
	own.Redis.Prefix = "other:"
	other := startTestAppConfig(t, own)
	if r := other.gql(adminAuth(), `{ accounts { name } }`, nil); len(r.Errors) != 0 {
		t.Errorf("an instance with views of its own (--redis-prefix) does not answer: %s\nlogs:\n%s", r.Raw, other.logs)
	}
}

// The dispatcher's checkpoint lives beside the views. When that place has lost it and no
// running instance remembers it (Redis lost its data while herald was down; the views moved
// from the embedded mode to Redis), the dispatcher starts from the checkpoint's copy in the
// event log, not from the log's start: events of a kind that was turned off when they came
// are not sent now that it is on again.
func TestDispatcher_startsFromTheCheckpointsCopyWhenItsPlaceLostIt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(cfg *serveConfig, redisURL string) // the first run's views
		lose   func(t *testing.T, srv *redistest.Server)
	}{
		{"Redis lost its data", func(cfg *serveConfig, url string) { cfg.Redis.URL = url }, func(t *testing.T, srv *redistest.Server) {
			if err := srv.Client(t).FlushAll(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{"the views moved to Redis", func(*serveConfig, string) {}, func(*testing.T, *redistest.Server) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			url := "redis://" + srv.Addr() + "/0"
			var mu sync.Mutex
			got := map[string]int{}
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				got[r.Header.Get("X-Herald-Event-Id")]++
			}))
			t.Cleanup(hook.Close)
			received := func() map[string]int {
				mu.Lock()
				defer mu.Unlock()
				return maps.Clone(got)
			}

			cfg := deliveryServeConfig(t.TempDir())
			cfg.Auth.SecretKey = testSecretKey
			cfg.Notify.checkpointCopyEvery = 50 * time.Millisecond
			first := cfg
			tc.before(&first, url)
			app := startTestAppConfig(t, first)
			app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
			createWebhook(app, adminAuth(), "hook", hook.URL)
			app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: false) { enabled } }`, nil)
			off := recordAliceEvents(app, "off", 5)
			app.mustGQL(adminAuth(), `mutation { updateNotificationEndpointStatus(kind: WEBHOOK, enabled: true) { enabled } }`, nil)
			recordAliceEvents(app, "on", 1)
			waitFor(t, "the event recorded once webhooks were on again delivered", 10*time.Second, func() bool { return received()["on-000"] == 1 })
			time.Sleep(500 * time.Millisecond) // its outcome passes the checkpoint, which is copied
			app.stop()

			store, err := embedded.Open(cfg.DataDir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			copies := checkpoint.NewCopies(store, time.Now)
			copied, err := copies.Latest(t.Context())
			last, rerr := store.ReadLast(t.Context(), domain.LogEventStream(off[len(off)-1]))
			store.Close()
			if err != nil || rerr != nil || copied < last.Position {
				t.Fatalf("the checkpoint's copy is at %d (%v), not past the last event sent to no one at %d (%v)", copied, err, last.Position, rerr)
			}

			tc.lose(t, srv)
			second := cfg
			second.Redis.URL = url
			app = startTestAppConfig(t, second)
			recordAliceEvents(app, "again", 1)
			waitFor(t, "an event recorded after the restart delivered", 10*time.Second, func() bool { return received()["again-000"] == 1 })
			time.Sleep(time.Second) // events of the history would come now
			for id, n := range received() {
				if strings.HasPrefix(id, "off-") {
					t.Errorf("%s, recorded while webhooks were off, was sent %d times after the restart", id, n)
				}
			}
			if logs := app.logs.String(); !strings.Contains(logs, "behind its copy in the event log") {
				t.Errorf("the log does not say the dispatcher started from the copy:\n%s", logs)
			}
		})
	}
}

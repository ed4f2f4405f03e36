package main

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"herald/adapters/views/redis/redistest"
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

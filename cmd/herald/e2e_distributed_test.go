package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/adapters/eventstore/kurrentdb/standin"
	"herald/adapters/kafka"
	"herald/adapters/views/redis/redistest"
)

// TestE2E_distributedThreeInstances runs the distributed topology: three herald processes on
// one Kafka (in-process broker), one KurrentDB (the in-process stand-in of its gRPC protocol)
// and one redis-server. Events come through Kafka while one instance is killed with SIGKILL;
// every event is recorded once, and every notification reaches the webhook once (by
// idempotency key) with one delivery in the ledger.
func TestE2E_distributedThreeInstances(t *testing.T) {
	rds := redistest.Start(t, redistest.Options{})
	broker := newKafkaCluster(t)
	store, err := standin.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	t.Logf("KurrentDB: the in-process stand-in at %s", store.Addr())
	rcv := &dedupingReceiver{seen: map[string]int{}}
	hook := httptest.NewServer(http.HandlerFunc(rcv.handler))
	t.Cleanup(hook.Close)

	flags := []string{
		"--eventstore-url", store.URL(), "--redis-url", "redis://" + rds.Addr() + "/0", "--redis-lease-ttl", "1s",
		"--secret-key", strings.Repeat("cd", 32), "--kafka-brokers", broker, "--kafka-group", "distributed",
		"--kafka-session-timeout", "6s", "--outbound-allow", "127.0.0.1/32", "--notify-retry-interval", "50ms",
		"--notify-rate-limits", "webhook=0", "--log-level", "info",
	}
	var instances []*server
	for range 3 {
		instances = append(instances, startServer(t, t.TempDir(), freePort(t), flags...))
	}
	first, second, third := instances[0], instances[1], instances[2]
	data, errs := first.graphql(`mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "sink", "webhook": map[string]any{"url": hook.URL + "/hook"}, "quickSelections": []string{"all"}}})
	if len(errs) > 0 {
		t.Fatalf("create the webhook: %v", errs)
	}
	configID := data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	waitFor(t, "the configuration seen by the third instance", 10*time.Second, func() bool {
		d, _ := third.graphql(`query { listNotificationEndpointConfigurations { id } }`, nil)
		return d != nil && strings.Contains(fmt.Sprint(d), configID)
	})

	const total = 1500
	produce(t, broker, "dist", 0, 600)
	waitFor(t, "ingest under way", 30*time.Second, func() bool { return second.count(nil) >= 200 })
	first.kill() // it started first: it holds the views' and the dispatcher's leases
	killedAt, _ := rcv.counts()
	produce(t, broker, "dist", 600, total)

	second.waitForCount(total, 90*time.Second)
	third.waitForCount(total, 30*time.Second)
	waitFor(t, "every notification received", 60*time.Second, func() bool { d, _ := rcv.counts(); return d >= total })
	distinct, requests := rcv.counts()
	if distinct != total {
		t.Fatalf("the webhook received %d distinct notifications, want %d", distinct, total)
	}
	t.Logf("first instance killed after %d notifications; %d requests in all, %d sent again (same idempotency key)", killedAt, requests, requests-distinct)

	// Each event once in the log: every id, none twice (count is exact above).
	ids := map[string]bool{}
	for _, id := range second.eventIDs() {
		if ids[id] {
			t.Fatalf("event %s is in the log twice", id)
		}
		ids[id] = true
	}
	for i := range total {
		if id := fmt.Sprintf("dist-%05d", i); !ids[id] {
			t.Fatalf("event %s is missing from the log", id)
		}
	}

	// One delivery per event in the ledger, whichever instance sent it.
	waitFor(t, "one delivery per event in the ledger", 30*time.Second, func() bool {
		return deliveredCount(t, third, configID) == total
	})

	// A backfill runs on the instance that started it; any other reports it, refuses a second
	// one for the configuration and cancels it, through the backfill's facts in the log.
	slow := newCountingReceiver(t, 200*time.Millisecond)
	data, errs = second.graphql(`mutation($in: ConfigurationInput!) { createNotificationEndpointConfiguration(kind: WEBHOOK, input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "late", "webhook": map[string]any{"url": slow.srv.URL + "/late"}, "quickSelections": []string{"all"}}})
	if len(errs) > 0 {
		t.Fatalf("create the second webhook: %v", errs)
	}
	lateID := data["createNotificationEndpointConfiguration"].(map[string]any)["id"].(string)
	data, errs = second.graphql(`mutation($c: ID!) { backfillNotifications(configurationId: $c) { id } }`, map[string]any{"c": lateID})
	if len(errs) > 0 {
		t.Fatalf("start a backfill: %v", errs)
	}
	job := data["backfillNotifications"].(map[string]any)["id"].(string)
	backfill := func(s *server) map[string]any {
		d, errs := s.graphql(`query($id: ID!) { backfillJob(id: $id) { state published error } }`, map[string]any{"id": job})
		if len(errs) > 0 || d["backfillJob"] == nil {
			t.Fatalf("backfillJob %s on another instance: %v %v", job, d, errs)
		}
		return d["backfillJob"].(map[string]any)
	}
	if p := backfill(third); p["state"] != "RUNNING" {
		t.Fatalf("the backfill read on the third instance: %v, want RUNNING", p)
	}
	if _, errs := third.graphql(`mutation($c: ID!) { backfillNotifications(configurationId: $c) { id } }`, map[string]any{"c": lateID}); len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), "is still running") {
		t.Errorf("a second backfill of the configuration on the third instance: %v, want refused", errs)
	}
	data, errs = third.graphql(`mutation($id: ID!) { cancelBackfill(id: $id) { state published error } }`, map[string]any{"id": job})
	if len(errs) > 0 || data["cancelBackfill"].(map[string]any)["state"] != "CANCELED" {
		t.Fatalf("cancel the backfill on the third instance: %v %v", data, errs)
	}
	if p := backfill(second); p["state"] != "CANCELED" || p["published"].(float64) >= total {
		t.Errorf("the backfill on the instance running it, after the cancel: %v", p)
	}

	// The consumer groups split the work: both survivors consumed from Kafka, and both sent
	// notifications read from the router's Redis Streams.
	for i, s := range []*server{second, third} {
		if consumed, err := metricValue(s.url, "herald_kafka_messages_consumed_total"); err != nil || consumed == 0 {
			t.Errorf("instance %d consumed nothing from Kafka (%v)", i+2, err)
		}
		if sent, err := metricValue(s.url, "herald_notification_sends_total"); err != nil || sent == 0 {
			t.Errorf("instance %d sent no notification (%v)", i+2, err)
		}
	}
}

// produce writes events id-from..id-to to herald.events, with ids.
func produce(t *testing.T, broker, prefix string, from, to int) {
	t.Helper()
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: []string{broker}, Topic: "herald.events"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []kafka.Message
	for i := from; i < to; i++ {
		value, _ := json.Marshal(map[string]any{
			"id": fmt.Sprintf("%s-%05d", prefix, i), "level": "error", "type": "system.service.down", "message": "down",
			"timestamp": time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			"resource":  map[string]any{"id": "svc", "type": "service", "user_id": "admin"},
			"source":    map[string]any{"servicename": "catalog", "hostid": "h"},
		})
		msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(i)), Value: value})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Send(ctx, msgs); err != nil {
		t.Fatal(err)
	}
}

// deliveredCount is how many deliveries of a configuration the ledger holds.
func deliveredCount(t *testing.T, s *server, configID string) int {
	t.Helper()
	n := 0
	after := any(nil)
	for {
		d, errs := s.graphql(`query($c: ID, $after: String) { notificationDeliveries(configurationId: $c, status: DELIVERED, first: 1000, after: $after) { next deliveries { eventId } } }`,
			map[string]any{"c": configID, "after": after})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		page := d["notificationDeliveries"].(map[string]any)
		n += len(page["deliveries"].([]any))
		if page["next"] == nil {
			return n
		}
		after = page["next"]
	}
}

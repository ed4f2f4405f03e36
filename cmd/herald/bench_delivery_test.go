package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"herald/internal/testtool"
)

// BenchmarkDelivery measures notification delivery through `herald serve`'s wiring (embedded
// store, memory views, in-process router, webhook sender) to a local webhook sink:
//
//   - latency: one webhook configuration, events posted to the GraphQL API one per request at
//     1,000 events/s (on a schedule, not waiting for answers); the time from the moment a
//     request is sent to the moment the sink receives its notification. That span includes
//     recording the event durably, so it is an upper bound of "recorded -> received".
//   - fanout: 100 webhook configurations matching every event, 1,000 events recorded in
//     batches of 100; notifications received per second, first request to last receipt.
func BenchmarkDelivery(b *testing.B) {
	b.Run("latency", benchmarkDeliveryLatency)
	b.Run("fanout", benchmarkDeliveryFanout)
	b.Run("fanout-apart", benchmarkDeliveryFanoutApart)
}

func benchmarkDeliveryLatency(b *testing.B) {
	defer asServe(serveConfig{})()
	const warmup, events, perSecond = 500, 5_000, 1_000
	var all []time.Duration
	for range b.N {
		app, sink := startDeliveryBench(b, 1)
		send := func(i int) (time.Time, string) {
			id := fmt.Sprintf("lat-%06d", i)
			body := recordOneBody(tenantEvent(id, "alice", i))
			sent := time.Now()
			go postRecorded(b, app.url, adminAuth(), body, 1)
			return sent, id
		}
		sentAt := make(map[string]time.Time, warmup+events)
		start := time.Now()
		for i := range warmup + events {
			if wait := time.Until(start.Add(time.Duration(i) * time.Second / perSecond)); wait > 0 {
				time.Sleep(wait)
			}
			at, id := send(i)
			if i >= warmup {
				sentAt[id] = at
			}
		}
		sink.wait(b, warmup+events, 30*time.Second)
		for id, at := range sentAt {
			all = append(all, sink.receivedAt(id)-at.Sub(sink.epoch))
		}
		app.stop()
	}
	slices.Sort(all)
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
}

func benchmarkDeliveryFanout(b *testing.B) {
	defer asServe(serveConfig{})()
	var elapsed time.Duration
	for range b.N {
		app, sink := startDeliveryBench(b, fanoutConfigurations)
		start := time.Now()
		recordFanoutEvents(app)
		sink.wait(b, fanoutConfigurations*fanoutEvents, 2*time.Minute)
		elapsed += sink.last().Sub(start)
		app.stop()
	}
	b.ReportMetric(float64(fanoutConfigurations*fanoutEvents*b.N)/elapsed.Seconds(), "notifications/s")
}

// benchmarkDeliveryFanoutApart is fanout with the sink in a process of its own, as a
// receiver on another machine would be (it still shares this machine's cores): the rate,
// and the CPU time herald's process spends per notification, the receiver's share left out.
func benchmarkDeliveryFanoutApart(b *testing.B) {
	defer asServe(serveConfig{})()
	var elapsed, cpu time.Duration
	for range b.N {
		sink := startSinkProcess(b, fanoutConfigurations*fanoutEvents)
		app := startDeliveryBenchTo(b, sink.url, fanoutConfigurations)
		cpu0 := testtool.ProcessCPU(b)
		start := time.Now()
		recordFanoutEvents(app)
		sink.wait(b, 2*time.Minute)
		elapsed += time.Since(start)
		cpu += testtool.ProcessCPU(b) - cpu0
		app.stop()
	}
	n := float64(fanoutConfigurations * fanoutEvents * b.N)
	b.ReportMetric(n/elapsed.Seconds(), "apart-notifications/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "herald-cpu-us/notification")
}

// The fan-out benchmarks' load: fanoutConfigurations webhook configurations matching every
// event, fanoutEvents events recorded in GraphQL batches of fanoutBatch.
const fanoutConfigurations, fanoutEvents, fanoutBatch = 100, 1_000, 100

func recordFanoutEvents(app *testApp) {
	for i := 0; i < fanoutEvents; i += fanoutBatch {
		var in []any
		for j := i; j < i+fanoutBatch; j++ {
			in = append(in, tenantEvent(fmt.Sprintf("fan-%06d", j), "alice", j))
		}
		app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": in})
	}
}

// startDeliveryBench starts herald with notifications on, account alice, and n webhook
// configurations of hers matching every event, all posting to one sink.
func startDeliveryBench(b *testing.B, n int) (*testApp, *benchSink) {
	b.Helper()
	sink := newBenchSink(b)
	return startDeliveryBenchTo(b, sink.srv.URL, n), sink
}

// startDeliveryBenchTo is startDeliveryBench posting to the sink at url.
func startDeliveryBenchTo(b *testing.B, url string, n int) *testApp {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	cfg := deliveryServeConfig(b.TempDir())
	app := startTestAppLogging(b, cfg, slog.LevelWarn) // per-notification debug lines would be measured too
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	for i := range n {
		createWebhook(app, adminAuth(), fmt.Sprintf("sink-%03d", i), fmt.Sprintf("%s/c/%03d", url, i))
	}
	return app
}

func recordOneBody(event map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{"query": recordEventsOp, "variables": map[string]any{"in": []any{event}}})
	return body
}

// benchSink is a webhook receiver that keeps when each event's first notification arrived.
type benchSink struct {
	srv   *httptest.Server
	epoch time.Time
	mu    sync.Mutex
	first map[string]time.Duration // event id -> since epoch
	count int
	at    time.Duration // of the last notification
}

func newBenchSink(b *testing.B) *benchSink {
	s := &benchSink{epoch: time.Now(), first: map[string]time.Duration{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Since(s.epoch)
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("X-Herald-Event-Id")
		s.mu.Lock()
		if _, ok := s.first[id]; !ok {
			s.first[id] = at
		}
		s.count++
		s.at = max(s.at, at)
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(s.srv.Close)
	return s
}

func (s *benchSink) wait(b *testing.B, n int, limit time.Duration) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for {
		s.mu.Lock()
		count := s.count
		s.mu.Unlock()
		if count >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the sink received %d notifications of %d within %s", count, n, limit)
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *benchSink) receivedAt(id string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first[id]
}

func (s *benchSink) last() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epoch.Add(s.at)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

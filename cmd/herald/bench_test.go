package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/eventstore/kurrentdb/standin"
	"herald/adapters/views/memory"
	"herald/commands"
	"herald/domain"
	"herald/projections"
)

var benchTypes = domain.Catalog()

// benchEvent makes the i-th event of a realistic mix: a handful of accounts, services and
// hosts, the catalog's types, ~10,000 resources. Timestamps follow the recording order with a
// few seconds of jitter, as live producers emit them (one event every 2 ms from base).
func benchEvent(r *rand.Rand, i int, base time.Time) domain.LogEvent {
	t := benchTypes[r.IntN(len(benchTypes))]
	return domain.LogEvent{
		ID:        fmt.Sprintf("%032x", uint64(i)*2654435761+uint64(r.Uint32())<<32),
		Timestamp: base.Add(time.Duration(i)*2*time.Millisecond + time.Duration(r.Int64N(int64(5*time.Second)))).Truncate(time.Microsecond),
		Level:     t.Level,
		Type:      t.Name,
		Message:   "Failed to list tags in repository docker.io/library/nginx",
		Resource: domain.Resource{
			ID:   fmt.Sprintf("docker.io/team%d/app%d:latest", r.IntN(50), r.IntN(200)),
			Type: t.ResourceType, UserID: fmt.Sprintf("account%d", r.IntN(8)),
		},
		Source:  domain.Source{ServiceName: []string{"catalog", "policy_engine", "analyzer", "notifications"}[r.IntN(4)], HostID: "host-" + strconv.Itoa(r.IntN(20)), BaseURL: "http://localhost:8228"},
		Details: json.RawMessage(`{"msg":"Error encountered in skopeo operation","exitcode":1,"stderr":"level=fatal msg=\"Error reading manifest latest in docker.io/library/nginx: errors: denied: requested access to the resource is denied\""}`),
	}
}

func graphqlBatch(events []domain.LogEvent) []byte {
	input := make([]map[string]any, len(events))
	for i, e := range events {
		input[i] = map[string]any{
			"id": e.ID, "timestamp": domain.FormatTimestamp(e.Timestamp), "level": e.Level.Upper(), "type": e.Type,
			"message": e.Message, "resource": map[string]any{"id": e.Resource.ID, "type": e.Resource.Type, "userId": e.Resource.UserID},
			"source":  map[string]any{"serviceName": e.Source.ServiceName, "hostId": e.Source.HostID, "baseUrl": e.Source.BaseURL},
			"details": e.Details,
		}
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($input: [EventInput!]!) { recordEvents(input: $input) { recorded duplicates } }`,
		"variables": map[string]any{"input": input},
	})
	return body
}

// producerBatch is a recordEventsJSON request: the events in the producer (Kafka) form.
func producerBatch(events []domain.LogEvent) []byte {
	var lines bytes.Buffer
	for _, e := range events {
		line, _ := json.Marshal(map[string]any{
			"id": e.ID, "timestamp": domain.FormatTimestamp(e.Timestamp), "level": e.Level.String(), "type": e.Type,
			"message": e.Message, "resource": e.Resource, "source": e.Source, "details": e.Details,
		})
		lines.Write(line)
		lines.WriteByte('\n')
	}
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($events: String!) { recordEventsJSON(events: $events) { recorded duplicates } }`,
		"variables": map[string]any{"events": lines.String()},
	})
	return body
}

// BenchmarkIngestGraphQL measures durable ingest through the GraphQL API: batches of 1,000
// events from 8 concurrent clients into a server with the embedded store and memory views.
// A batch is answered once it is on disk and applied to the views. "JSON" sends the batch
// with recordEventsJSON (the producer form, as one string); "typed" with recordEvents (one
// GraphQL input object per event, which gqlgen decodes and validates field by field).
func BenchmarkIngestGraphQL(b *testing.B) {
	b.Run("JSON", func(b *testing.B) { benchmarkIngest(b, producerBatch, 200_000, embeddedStore) })
	b.Run("typed", func(b *testing.B) { benchmarkIngest(b, graphqlBatch, 200_000, embeddedStore) })
}

// asServe sets the GOMAXPROCS `herald serve` chooses for cfg (setServeProcs) and returns what
// puts the previous one back. Each benchmark function that runs serve's wiring calls it: the
// testing package sets GOMAXPROCS again before every run of a benchmark.
func asServe(cfg serveConfig) (restore func()) {
	before, _ := setServeProcs(cfg)
	return func() { runtime.GOMAXPROCS(before) }
}

// BenchmarkIngestKurrentDB is BenchmarkIngestGraphQL/JSON with the event log in KurrentDB: the
// in-process stand-in of its gRPC protocol (adapters/eventstore/kurrentdb/standin), not a
// real server. It measures herald's adapter and the official client (one append per event
// stream, 64 at once), and the stand-in's own cost on the same two cores.
func BenchmarkIngestKurrentDB(b *testing.B) {
	benchmarkIngest(b, producerBatch, 50_000, func(b *testing.B, cfg *serveConfig) {
		s, err := standin.StartWith(standin.Options{StatsEvery: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
		cfg.EventStore.URL = s.URL()
	})
}

// embeddedStore leaves the configuration on the embedded store.
func embeddedStore(*testing.B, *serveConfig) {}

func benchmarkIngest(b *testing.B, encode func([]domain.LogEvent) []byte, total int, store func(*testing.B, *serveConfig)) {
	const batch, clients = 1000, 8
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Now().Add(-3 * time.Hour)
	bodies := make([][]byte, 0, total/batch)
	for i := 0; i < total; i += batch {
		events := make([]domain.LogEvent, batch)
		for j := range events {
			events[j] = benchEvent(r, i+j, base)
		}
		bodies = append(bodies, encode(events))
	}
	b.ResetTimer()
	var elapsed time.Duration
	for range b.N {
		b.StopTimer()
		cfg := serveConfig{DataDir: b.TempDir()}
		store(b, &cfg)
		restore := asServe(cfg)
		a, err := newApp(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = a.Run(ctx) }()
		srv := httptest.NewServer(a.Handler())
		b.StartTimer()
		start := time.Now()
		work := make(chan []byte)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for body := range work {
					postRecorded(b, srv.URL, "", body, 1000)
				}
			})
		}
		for _, body := range bodies {
			work <- body
		}
		close(work)
		wg.Wait()
		elapsed += time.Since(start)
		b.StopTimer()
		srv.Close()
		cancel()
		a.Close()
		restore()
		b.StartTimer()
	}
	b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "events/s")
}

// postRecorded posts a ready recordEvents(JSON) request (with auth when set) and checks that
// n events were recorded.
func postRecorded(b *testing.B, url, auth string, body []byte, n int) {
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(out, fmt.Appendf(nil, `"recorded":%d`, n)) {
		b.Errorf("events not recorded: %s %.300s", resp.Status, out)
	}
}

// BenchmarkRebuild measures how fast the views are rebuilt from a log of 1M events, and the
// resident memory the process needs per event once they are (embedded store + memory views).
func BenchmarkRebuild(b *testing.B) {
	defer asServe(serveConfig{})()
	const total = 1_000_000
	dir := b.TempDir()
	fillStore(b, dir, total)
	b.ResetTimer()
	var elapsed time.Duration
	var rssPerEvent float64
	for range b.N {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		before := rss()
		b.StartTimer()
		start := time.Now()
		store, err := embedded.Open(dir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		view := memory.NewEventLog()
		projection, _ := projections.NewEventLogProjection(view, projections.NewFeed())
		runner, _ := projections.NewRunner(store, projection, slog.New(slog.DiscardHandler), nil)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = runner.Run(ctx) }()
		head, _ := store.LastPosition(ctx)
		if err := runner.WaitFor(ctx, head); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		cancel()
		runtime.GC()
		debug.FreeOSMemory()
		rssPerEvent = float64(rss()-before) / total
		if n, _ := view.Count(context.Background(), domain.EventFilter{}); n != total {
			b.Fatalf("view holds %d events, want %d", n, total)
		}
		runtime.KeepAlive(view)
		store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(rssPerEvent, "rss-bytes/event")
}

// fillStore records total events through the RecordEvents command, in batches of 1,000.
func fillStore(b *testing.B, dir string, total int) {
	store, err := embedded.Open(dir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	record, _ := commands.NewRecordEventsHandler(store, func() time.Time { return time.Now() }, commands.NewEventID)
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Now().Add(-3 * time.Hour)
	var wg sync.WaitGroup
	batches := make(chan []domain.LogEvent, 4)
	for range 4 {
		wg.Go(func() {
			for events := range batches {
				if _, err := record.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor(), Events: events}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := 0; i < total; i += 1000 {
		events := make([]domain.LogEvent, 1000)
		for j := range events {
			events[j] = benchEvent(r, i+j, base)
		}
		batches <- events
	}
	close(batches)
	wg.Wait()
}

// rss returns the resident set size of this process in bytes.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

package redis

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
	"herald/projections"
)

// The benchmarks use the memory adapter's workload: timestamps over 30 days, mostly in
// recording order, 50,000 resources; Page and Rebuild hold a million entries, as the targets
// (BENCHMARKS.md) are stated for. Each benchmark starts a redis-server of its own.
const (
	benchEntries = 1_000_000
	benchBatch   = 1000 // changes per Apply: the records the runner gets per catch-up read
	benchSpan    = 30 * 24 * time.Hour
)

func benchGenerator() *viewstest.Generator {
	return viewstest.NewGenerator(viewstest.GeneratorConfig{
		Seed: 2024, Span: benchSpan, InOrder: true, Expected: benchEntries, Resources: 50_000,
	})
}

func benchView(b *testing.B) (*EventLog, goredis.UniversalClient) {
	srv := redistest.Start(b, redistest.Options{})
	client := goredis.NewClient(srv.ClientOptions())
	b.Cleanup(func() { _ = client.Close() })
	v, err := NewEventLog(client, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return v, client
}

// apply records n entries in batches of benchBatch, timing only Apply, and returns every
// hundredth entry.
func apply(b *testing.B, v *EventLog, gen *viewstest.Generator, n int) []projections.EventEntry {
	var sample []projections.EventEntry
	ctx := context.Background()
	for done := 0; done < n; done += benchBatch {
		b.StopTimer()
		entries := gen.Entries(min(benchBatch, n-done))
		changes := viewstest.Recorded(entries...)
		for i := 0; i < len(entries); i += 100 {
			sample = append(sample, entries[i])
		}
		b.StartTimer()
		if err := v.Apply(ctx, changes, gen.Position()); err != nil {
			b.Fatal(err)
		}
	}
	return sample
}

// BenchmarkApply records 200,000 entries into an empty view, in Applies of 1,000 changes as
// the runner sends them during catch-up.
func BenchmarkApply(b *testing.B) {
	const n = 200_000
	v, client := benchView(b)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := client.FlushAll(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		apply(b, v, benchGenerator(), n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkRebuild rebuilds a view of a million entries: Reset, then every entry again.
func BenchmarkRebuild(b *testing.B) {
	v, _ := benchView(b)
	b.StopTimer()
	apply(b, v, benchGenerator(), benchEntries)
	b.ResetTimer()
	for range b.N {
		if err := v.Reset(context.Background()); err != nil {
			b.Fatal(err)
		}
		apply(b, v, benchGenerator(), benchEntries)
	}
	b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPage asks for the first page of 100 entries with one filter and a time window of
// one to seven days, the filter's value taken from a random entry, like the memory adapter's
// BenchmarkPage. Each op is queriesPerOp queries; p50-ms and p99-ms are latencies of single
// queries, round trip included.
func BenchmarkPage(b *testing.B) {
	v, _ := benchView(b)
	sample := apply(b, v, benchGenerator(), benchEntries)
	viewstest.BenchmarkPage(b, v, sample, benchSpan, 1000)
}

package memory

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"herald/adapters/views/viewstest"
	"herald/projections"
)

// The benchmarks hold a million entries, as the targets (BENCHMARKS.md) are stated for:
// timestamps over 30 days, mostly in recording order, 50,000 resources.
const (
	benchEntries = 1_000_000
	benchBatch   = 4096 // changes per Apply, as the projection runner sends them
	benchSpan    = 30 * 24 * time.Hour
)

func benchGenerator(inOrder bool) *viewstest.Generator {
	return viewstest.NewGenerator(viewstest.GeneratorConfig{
		Seed: 2024, Span: benchSpan, InOrder: inOrder, Expected: benchEntries, Resources: 50_000,
	})
}

// load records n entries into v and returns every hundredth of them.
func load(b *testing.B, v *EventLog, gen *viewstest.Generator, n int) []projections.EventEntry {
	var sample []projections.EventEntry
	for done := 0; done < n; done += benchBatch {
		entries := gen.Entries(min(benchBatch, n-done))
		if err := v.Apply(context.Background(), viewstest.Recorded(entries...), gen.Position()); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(entries); i += 100 {
			sample = append(sample, entries[i])
		}
	}
	return sample
}

// BenchmarkPage asks for the first page of 100 entries with one filter and a time window of
// one to seven days, the filter's value taken from a random entry (so busy values are asked
// for more often, as people do). Each op is queriesPerOp queries; p50-ms and p99-ms are
// latencies of single queries.
func BenchmarkPage(b *testing.B) {
	v := NewEventLog()
	sample := load(b, v, benchGenerator(true), benchEntries)
	viewstest.BenchmarkPage(b, v, sample, benchSpan, 2000)
}

// BenchmarkApply records a million entries into an empty view, as a rebuild does: timestamps
// mostly in recording order ("in-order"), or uniformly spread over 30 days ("shuffled", as when
// a backlog is replayed). Only Apply is timed; the entries are made batch by batch, so that
// the heap holds the view and one batch, as in a rebuild.
func BenchmarkApply(b *testing.B) {
	for _, inOrder := range []bool{true, false} {
		name := "in-order"
		if !inOrder {
			name = "shuffled"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				v := NewEventLog()
				gen := benchGenerator(inOrder)
				runtime.GC()
				for done := 0; done < benchEntries; done += benchBatch {
					batch := viewstest.Recorded(decoded(gen.Entries(min(benchBatch, benchEntries-done)))...)
					b.StartTimer()
					if err := v.Apply(ctx, batch, gen.Position()); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
				}
			}
			b.ReportMetric(float64(benchEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// decoded gives every entry strings of its own, as decoding facts does: the generator's share
// a pool, which would make Apply read memory no decoder hands it.
func decoded(entries []projections.EventEntry) []projections.EventEntry {
	for i := range entries {
		e := &entries[i]
		e.Type, e.Account, e.ResourceID = strings.Clone(e.Type), strings.Clone(e.Account), strings.Clone(e.ResourceID)
		e.ResourceType, e.Service, e.Host = strings.Clone(e.ResourceType), strings.Clone(e.Service), strings.Clone(e.Host)
	}
	return entries
}

// BenchmarkMemory reports the Go heap the view holds per entry at a million entries.
func BenchmarkMemory(b *testing.B) {
	for range b.N {
		gen := benchGenerator(true)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		v := NewEventLog()
		load(b, v, gen, benchEntries)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(v)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchEntries, "bytes/entry")
	}
}

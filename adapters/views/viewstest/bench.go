package viewstest

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// BenchmarkPage asks view for the first page of 100 entries with one filter and a time
// window of one to seven days within span, the filter's value taken from a random entry of
// sample (so busy values are asked for more often, as people do). Each op is queriesPerOp
// queries; p50-ms, p99-ms and max-ms are latencies of single queries. Every view adapter runs
// it on its own loaded view, so their figures compare.
func BenchmarkPage(b *testing.B, view projections.EventLogView, sample []projections.EventEntry, span time.Duration, queriesPerOp int) {
	start := slices.MinFunc(sample, func(a, b projections.EventEntry) int { return a.Timestamp.Compare(b.Timestamp) }).Timestamp
	for _, kind := range []struct {
		name string
		set  func(*domain.EventFilter, projections.EventEntry)
	}{
		{"account", func(f *domain.EventFilter, e projections.EventEntry) { f.Account = e.Account }},
		{"level", func(f *domain.EventFilter, e projections.EventEntry) { f.Level = e.Level }},
		{"service", func(f *domain.EventFilter, e projections.EventEntry) { f.Service = e.Service }},
		{"host", func(f *domain.EventFilter, e projections.EventEntry) { f.Host = e.Host }},
		{"type", func(f *domain.EventFilter, e projections.EventEntry) { f.Type = e.Type }},
		{"type-prefix", func(f *domain.EventFilter, e projections.EventEntry) { f.Type = typePrefixOf(e.Type) }},
		{"resource-type", func(f *domain.EventFilter, e projections.EventEntry) { f.ResourceType = e.ResourceType }},
		{"resource-id", func(f *domain.EventFilter, e projections.EventEntry) { f.ResourceID = e.ResourceID }},
		{"window-only", func(*domain.EventFilter, projections.EventEntry) {}},
		{"account+level", func(f *domain.EventFilter, e projections.EventEntry) {
			f.Account, f.Level = e.Account, domain.LevelError
		}},
	} {
		b.Run(kind.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 7))
			reqs := make([]projections.EventPageRequest, queriesPerOp)
			for i := range reqs {
				var f domain.EventFilter
				kind.set(&f, sample[rng.IntN(len(sample))])
				f.Since = start.Add(time.Duration(rng.Int64N(int64(span - 7*24*time.Hour))))
				f.Before = f.Since.Add(time.Duration(1+rng.IntN(7)) * 24 * time.Hour)
				reqs[i] = projections.EventPageRequest{Filter: f, Limit: 100}
			}
			ctx := context.Background()
			var latencies []time.Duration
			b.ResetTimer()
			for range b.N {
				for _, req := range reqs {
					began := time.Now()
					if _, err := view.Page(ctx, req); err != nil {
						b.Fatal(err)
					}
					latencies = append(latencies, time.Since(began))
				}
			}
			b.StopTimer()
			slices.Sort(latencies)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
			b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
			b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
		})
	}
}

// typePrefixOf returns the pattern of a type's first two segments ("system.feeds.*").
func typePrefixOf(t string) string {
	dots := 0
	for i := range len(t) {
		if t[i] == '.' {
			if dots++; dots == 2 {
				return t[:i] + ".*"
			}
		}
	}
	return t
}

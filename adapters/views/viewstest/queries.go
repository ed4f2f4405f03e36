package viewstest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// TestEntryByID: every recorded entry reads back whole by its id; unknown ids are absent.
func TestEntryByID(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 1})
	entries := fx.record(500, 64)
	for _, e := range entries {
		got, ok, err := fx.view.Entry(fx.ctx, e.ID)
		if err != nil || !ok || !sameEntry(got, e) {
			t.Fatalf("Entry(%s) = %s, %v, %v; want %s", e.ID, formatEntry(got), ok, err, formatEntry(e))
		}
	}
	fx.assertAbsent("no-such-event")
	fx.assertAbsent(entries[0].ID + "0")
	fx.assertAbsent(entries[0].ID[:10])
}

// TestPageEachFilter: each filter field alone, for each of its values and one unknown value,
// with and without a time window, agrees with EventFilter.Matches in Page and Count.
func TestPageEachFilter(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 2, Resources: 300})
	fx.record(2000, 250)
	fields := []struct {
		name  string
		value func(projections.EventEntry) string
		set   func(*domain.EventFilter, string)
	}{
		{"account", func(e projections.EventEntry) string { return e.Account }, func(f *domain.EventFilter, v string) { f.Account = v }},
		{"level", func(e projections.EventEntry) string { return e.Level.String() }, func(f *domain.EventFilter, v string) { f.Level, _ = domain.ParseLevel(v) }},
		{"service", func(e projections.EventEntry) string { return e.Service }, func(f *domain.EventFilter, v string) { f.Service = v }},
		{"host", func(e projections.EventEntry) string { return e.Host }, func(f *domain.EventFilter, v string) { f.Host = v }},
		{"type", func(e projections.EventEntry) string { return e.Type }, func(f *domain.EventFilter, v string) { f.Type = v }},
		{"resourceType", func(e projections.EventEntry) string { return e.ResourceType }, func(f *domain.EventFilter, v string) { f.ResourceType = v }},
		{"resourceID", func(e projections.EventEntry) string { return e.ResourceID }, func(f *domain.EventFilter, v string) { f.ResourceID = v }},
	}
	for _, field := range fields {
		values := fx.values(field.value)
		if len(values) > 30 { // resource ids: the busiest and a random sample of the rest
			rest := values[15:]
			fx.rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
			values = values[:30]
		}
		if field.name != "level" {
			values = append(values, "unknown-"+field.name)
		}
		for _, v := range values {
			var f domain.EventFilter
			field.set(&f, v)
			fx.check(f)
			f.Since, f.Before = fx.window(fx.model.pick(fx.rng.IntN(1 << 30)))
			fx.check(f)
		}
	}
}

// values lists the distinct non-empty values of one field among held entries, most frequent first.
func (fx *fixture) values(of func(projections.EventEntry) string) []string {
	counts := map[string]int{}
	for _, e := range fx.model.entries {
		if v := of(e); v != "" {
			counts[v]++
		}
	}
	out := make([]string, 0, len(counts))
	for v := range counts {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return out
}

// TestPageCombinedFilters: filters that combine several fields, type patterns and windows.
func TestPageCombinedFilters(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 3})
	fx.record(2000, 500)
	e := fx.model.pick(7)
	fx.check(domain.EventFilter{Account: e.Account, Level: e.Level})
	fx.check(domain.EventFilter{Account: e.Account, Type: "user.*", Level: domain.LevelError})
	fx.check(domain.EventFilter{Host: e.Host, Service: e.Service, ResourceType: e.ResourceType})
	fx.check(domain.EventFilter{ResourceID: e.ResourceID, Type: e.Type, Since: e.Timestamp})
	fx.check(domain.EventFilter{Account: e.Account, Host: "unknown-host"})
	for range 200 {
		fx.check(fx.randomFilter())
	}
}

// TestPageTimeWindows: Since is inclusive and Before exclusive, to the nanosecond, also when
// several entries share the boundary's timestamp.
func TestPageTimeWindows(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 4})
	fx.record(1500, 100)
	all := fx.model.matching(domain.EventFilter{}, nil)
	newest, oldest := all[0].Timestamp, all[len(all)-1].Timestamp
	for _, w := range [][2]time.Time{
		{oldest, newest}, {oldest, newest.Add(time.Nanosecond)}, {oldest.Add(time.Nanosecond), {}},
		{{}, oldest}, {{}, oldest.Add(time.Nanosecond)}, {newest, {}}, {newest.Add(time.Nanosecond), {}},
		{oldest.Add(-48 * time.Hour), oldest.Add(-24 * time.Hour)}, {newest.Add(time.Hour), {}},
		{oldest.Add(-time.Hour), newest.Add(time.Hour)},
	} {
		fx.check(domain.EventFilter{Since: w[0], Before: w[1]})
	}
	// Boundaries on timestamps that several entries share.
	var shared []time.Time
	for i := 1; i < len(all); i++ {
		if all[i].Timestamp.Equal(all[i-1].Timestamp) {
			shared = append(shared, all[i].Timestamp)
		}
	}
	if len(shared) == 0 {
		t.Fatal("the generator made no equal timestamps")
	}
	for _, ts := range shared[:min(20, len(shared))] {
		fx.check(domain.EventFilter{Since: ts})
		fx.check(domain.EventFilter{Before: ts})
		fx.check(domain.EventFilter{Since: ts, Before: ts.Add(time.Nanosecond)})
		fx.check(domain.EventFilter{Since: ts.Add(-time.Nanosecond), Before: ts})
		fx.check(domain.EventFilter{Since: ts, Before: ts}) // empty
		if got := fx.count(domain.EventFilter{Since: ts, Before: ts.Add(time.Nanosecond)}); got < 2 {
			t.Fatalf("window [%s, +1ns) counts %d entries, want the %d or more that share it", domain.FormatTimestamp(ts), got, 2)
		}
	}
	for range 60 {
		a, b := all[fx.rng.IntN(len(all))].Timestamp, all[fx.rng.IntN(len(all))].Timestamp
		fx.check(domain.EventFilter{Since: a, Before: b})
		fx.check(domain.EventFilter{Since: a})
		fx.check(domain.EventFilter{Before: b})
	}
}

// TestPageTypePatterns: exact types, prefix patterns ("system.feeds.*") at every depth, "*",
// and patterns that match nothing.
func TestPageTypePatterns(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 5})
	fx.record(1500, 300)
	patterns := map[string]bool{
		"*": true, "nosuch.*": true, "system.feeds.sync.started.*": true, "system.feeds.sync": true,
		"system.feeds": true, "list_tags_fail": true, "user.checks.tag.vulnerabilities.update": true,
	}
	for _, typ := range fx.values(func(e projections.EventEntry) string { return e.Type }) {
		for _, p := range typePatterns(typ) {
			patterns[p] = true
		}
	}
	for _, p := range sorted(mapKeys(patterns)) {
		fx.check(domain.EventFilter{Type: p})
		e := fx.model.pick(fx.rng.IntN(1 << 30))
		since, before := fx.window(e)
		fx.check(domain.EventFilter{Type: p, Since: since, Before: before})
		fx.check(domain.EventFilter{Type: p, Level: e.Level, Account: e.Account})
	}
	feeds := fx.page(projections.EventPageRequest{Filter: domain.EventFilter{Type: "system.feeds.*"}, Limit: 10_000})
	for _, e := range feeds.Entries {
		if len(e.Type) < len("system.feeds.") || e.Type[:len("system.feeds.")] != "system.feeds." {
			t.Fatalf("system.feeds.* selected %s", formatEntry(e))
		}
	}
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPageNewestFirst: pages list entries by timestamp, newest first, and entries with equal
// timestamps by position, highest first, whatever order they were recorded in.
func TestPageNewestFirst(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 6})
	entries := fx.gen.Entries(800)
	stamps := make([]time.Time, 25) // few timestamps, so that most entries tie with others
	for i := range stamps {
		stamps[i] = fx.gen.cfg.Start.Add(time.Duration(fx.rng.Int64N(int64(72 * time.Hour)))).Truncate(time.Microsecond)
	}
	for i := range entries {
		entries[i].Timestamp = stamps[fx.rng.IntN(len(stamps))]
	}
	for start := 0; start < len(entries); start += 100 {
		fx.apply(Recorded(entries[start:min(len(entries), start+100)]...)...)
	}
	got := fx.page(projections.EventPageRequest{Limit: 1000}).Entries
	if len(got) != len(entries) {
		t.Fatalf("got %d entries, want %d", len(got), len(entries))
	}
	for i := 1; i < len(got); i++ {
		prev, cur := got[i-1], got[i]
		if !prev.Timestamp.After(cur.Timestamp) && !(prev.Timestamp.Equal(cur.Timestamp) && prev.Position > cur.Position) {
			t.Fatalf("entry %d %s comes after %s", i, formatEntry(cur), formatEntry(prev))
		}
	}
	fx.checkPages(domain.EventFilter{}, 7)
	for range 30 {
		fx.checkPages(fx.randomFilter(), 1+fx.rng.IntN(5))
	}
}

// TestPaginationWalksEveryEntry: following cursors visits every entry exactly once, in order,
// and HasMore is false on the last page only.
func TestPaginationWalksEveryEntry(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 7})
	fx.record(600, 100)
	want := fx.model.matching(domain.EventFilter{}, nil)
	for _, limit := range []int{1, 2, 7, 50, 599, 600, 601} {
		var walked []projections.EventEntry
		var after *projections.Cursor
		pages := 0
		for {
			p := fx.page(projections.EventPageRequest{After: after, Limit: limit})
			pages++
			if len(p.Entries) > limit {
				t.Fatalf("limit %d: page %d holds %d entries", limit, pages, len(p.Entries))
			}
			walked = append(walked, p.Entries...)
			if !p.HasMore {
				break
			}
			if len(walked) > len(want) {
				t.Fatalf("limit %d: the walk goes on past the %d entries", limit, len(want))
			}
			if len(p.Entries) == 0 {
				t.Fatalf("limit %d: page %d is empty but HasMore", limit, pages)
			}
			last := p.Entries[len(p.Entries)-1]
			after = &projections.Cursor{Timestamp: last.Timestamp, Position: last.Position}
		}
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
			t.Fatalf("limit %d: walked %d pages, want %d", limit, pages, wantPages)
		}
		assertEntries(t, "walk", want, walked)
	}
	fx.checkPages(domain.EventFilter{Account: domain.DefaultAccount}, 3)
	fx.checkPages(domain.EventFilter{Type: "system.feeds.*"}, 4)
}

// TestPaginationWhileRecording: entries recorded or deleted between two pages do not disturb
// the walk: a page after a cursor holds only entries strictly older than the cursor, every
// entry held when the walk started (and not deleted since) is visited once, and entries
// recorded older than the cursor show up on later pages.
func TestPaginationWhileRecording(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 8})
	fx.record(300, 100)
	for _, f := range []domain.EventFilter{{}, {Account: domain.DefaultAccount}, {Type: "system.feeds.*"}, {Level: domain.LevelError}} {
		start := fx.model.matching(f, nil)
		seen := map[string]bool{}
		deleted := map[string]bool{}
		var after *projections.Cursor
		for n := 1; ; n++ {
			req := projections.EventPageRequest{Filter: f, After: after, Limit: 15}
			p := fx.page(req)
			assertPage(t, "page "+describe(f), fx.model.page(req), p)
			for _, e := range p.Entries {
				if seen[e.ID] {
					t.Fatalf("page %d of %s repeats %s", n, describe(f), formatEntry(e))
				}
				if after != nil && !after.Before(e) {
					t.Fatalf("page %d of %s holds %s, not older than the cursor", n, describe(f), formatEntry(e))
				}
				seen[e.ID] = true
			}
			if !p.HasMore {
				break
			}
			last := p.Entries[len(p.Entries)-1]
			after = &projections.Cursor{Timestamp: last.Timestamp, Position: last.Position}
			fx.recordAround(*after)
			if older := fx.model.matching(f, after); len(older) > 3 && n%2 == 0 {
				victim := older[fx.rng.IntN(len(older))].ID
				deleted[victim] = true
				fx.apply(projections.Change{Deleted: victim, At: fx.gen.NextPosition()})
			}
		}
		for _, e := range start {
			if !seen[e.ID] && !deleted[e.ID] {
				t.Fatalf("walk of %s missed %s", describe(f), formatEntry(e))
			}
		}
	}
}

// recordAround records entries newer than the cursor, older than it, and at its very
// timestamp (which, having higher positions, come before it in newest-first order).
func (fx *fixture) recordAround(c projections.Cursor) {
	entries := fx.gen.Entries(9)
	for i := range entries {
		switch i % 3 {
		case 0:
			entries[i].Timestamp = c.Timestamp
		case 1:
			entries[i].Timestamp = c.Timestamp.Add(-time.Duration(1 + fx.rng.Int64N(int64(time.Hour)))).Truncate(time.Microsecond)
		case 2:
			entries[i].Timestamp = c.Timestamp.Add(time.Duration(1 + fx.rng.Int64N(int64(time.Hour)))).Truncate(time.Microsecond)
		}
	}
	fx.apply(Recorded(entries...)...)
}

// Package viewstest is the contract every event-log view adapter must pass. An adapter's own
// test calls TestEventLogView with a constructor of fresh, empty views; the suite runs every
// contract test against it in parallel, each test on a view of its own, and checks the
// answers against a brute-force model built on domain.EventFilter.Matches.
//
// TestConfigurationView and TestAccountView are the same for the configurations and accounts
// views, against models made of maps.
package viewstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// NewView returns a fresh, empty view for one test.
type NewView func(t *testing.T) projections.EventLogView

// TestEventLogView runs the contract suite against the views newView makes.
func TestEventLogView(t *testing.T, newView func(t *testing.T) projections.EventLogView) {
	tests := []struct {
		name string
		test func(*testing.T, NewView)
	}{
		{"EntryByID", TestEntryByID},
		{"PageEachFilter", TestPageEachFilter},
		{"PageCombinedFilters", TestPageCombinedFilters},
		{"PageTimeWindows", TestPageTimeWindows},
		{"PageTypePatterns", TestPageTypePatterns},
		{"PageNewestFirst", TestPageNewestFirst},
		{"PaginationWalksEveryEntry", TestPaginationWalksEveryEntry},
		{"PaginationWhileRecording", TestPaginationWhileRecording},
		{"RecordedTwice", TestRecordedTwice},
		{"Deleted", TestDeleted},
		{"Cleared", TestCleared},
		{"ClearedKeepsLaterEntries", TestClearedKeepsLaterEntries},
		{"ClearedStopsAtUpTo", TestClearedStopsAtUpTo},
		{"TypesIncludeDeleted", TestTypesIncludeDeleted},
		{"Checkpoint", TestCheckpoint},
		{"Reset", TestReset},
		{"RandomHistory", TestRandomHistory},
		{"ConcurrentReadsAndApplies", TestConcurrentReadsAndApplies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newView)
		})
	}
}

// fixture drives one view and the model side by side.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	view  projections.EventLogView
	model *model
	gen   *Generator
	rng   *rand.Rand
}

func newFixture(t *testing.T, newView NewView, cfg GeneratorConfig) *fixture {
	return &fixture{
		t: t, ctx: t.Context(), view: newView(t), model: newModel(), gen: NewGenerator(cfg),
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x7669657773)),
	}
}

// apply applies changes to the view and the model, with the generator's position as checkpoint.
func (fx *fixture) apply(changes ...projections.Change) {
	fx.t.Helper()
	checkpoint := fx.gen.Position()
	if err := fx.view.Apply(fx.ctx, changes, checkpoint); err != nil {
		fx.t.Fatalf("Apply: %v", err)
	}
	fx.model.apply(changes, checkpoint)
}

// record records n new entries, in batches of at most batch.
func (fx *fixture) record(n, batch int) []projections.EventEntry {
	fx.t.Helper()
	entries := fx.gen.Entries(n)
	for start := 0; start < n; start += batch {
		fx.apply(Recorded(entries[start:min(n, start+batch)]...)...)
	}
	return entries
}

func (fx *fixture) page(req projections.EventPageRequest) projections.EventPage {
	fx.t.Helper()
	p, err := fx.view.Page(fx.ctx, req)
	if err != nil {
		fx.t.Fatalf("Page(%s, limit %d): %v", describe(req.Filter), req.Limit, err)
	}
	return p
}

func (fx *fixture) count(f domain.EventFilter) int {
	fx.t.Helper()
	n, err := fx.view.Count(fx.ctx, f)
	if err != nil {
		fx.t.Fatalf("Count(%s): %v", describe(f), err)
	}
	return n
}

// limitFor picks a page size for a filter that matches n entries: sometimes small enough to
// need several pages, sometimes exactly n, sometimes more.
func (fx *fixture) limitFor(n int) int {
	switch fx.rng.IntN(6) {
	case 0:
		return max(1, n)
	case 1:
		return n + 1
	case 2:
		return max(1, n-1)
	case 3:
		return 100
	default:
		return max(1, n/(2+fx.rng.IntN(6)))
	}
}

// check compares Count and every page of f, walked with cursors, with the model.
func (fx *fixture) check(f domain.EventFilter) {
	fx.t.Helper()
	want := fx.model.count(f)
	fx.checkPages(f, fx.limitFor(want))
}

func (fx *fixture) checkPages(f domain.EventFilter, limit int) {
	fx.t.Helper()
	want := fx.model.count(f)
	if got := fx.count(f); got != want {
		fx.t.Fatalf("Count(%s) = %d, want %d", describe(f), got, want)
	}
	var after *projections.Cursor
	seen := 0
	for n := 1; ; n++ {
		req := projections.EventPageRequest{Filter: f, After: after, Limit: limit}
		got := fx.page(req)
		assertPage(fx.t, fmt.Sprintf("page %d of %s, limit %d", n, describe(f), limit), fx.model.page(req), got)
		seen += len(got.Entries)
		if !got.HasMore {
			break
		}
		if seen > want {
			fx.t.Fatalf("pages of %s, limit %d, go on past the %d matching entries", describe(f), limit, want)
		}
		last := got.Entries[len(got.Entries)-1]
		after = &projections.Cursor{Timestamp: last.Timestamp, Position: last.Position}
	}
	if seen != want {
		fx.t.Fatalf("pages of %s held %d entries, want %d", describe(f), seen, want)
	}
}

// checkEverything compares the whole view with the model: every entry, in order, by id,
// and the types.
func (fx *fixture) checkEverything() {
	fx.t.Helper()
	all := fx.model.matching(domain.EventFilter{}, nil)
	fx.checkPages(domain.EventFilter{}, len(all)+1)
	for _, e := range all {
		got, ok, err := fx.view.Entry(fx.ctx, e.ID)
		if err != nil || !ok || !sameEntry(got, e) {
			fx.t.Fatalf("Entry(%s) = %s, %v, %v; want %s", e.ID, formatEntry(got), ok, err, formatEntry(e))
		}
	}
	fx.checkTypes()
}

func (fx *fixture) checkTypes() {
	fx.t.Helper()
	got, err := fx.view.Types(fx.ctx)
	if err != nil {
		fx.t.Fatalf("Types: %v", err)
	}
	want := fx.model.typeList()
	if fmt.Sprint(sorted(got)) != fmt.Sprint(want) {
		fx.t.Fatalf("Types = %v, want %v", sorted(got), want)
	}
}

func (fx *fixture) assertAbsent(id string) {
	fx.t.Helper()
	if e, ok, err := fx.view.Entry(fx.ctx, id); err != nil || ok {
		fx.t.Fatalf("Entry(%s) = %s, %v, %v; want nothing", id, formatEntry(e), ok, err)
	}
}

// randomFilter returns a filter built from the values of one held entry, so that it matches
// something: each field kept with probability one half, the type sometimes widened to a
// prefix pattern, and sometimes a time window around the entry.
func (fx *fixture) randomFilter() domain.EventFilter {
	e := fx.model.pick(fx.rng.IntN(1 << 30))
	var f domain.EventFilter
	keep := func() bool { return fx.rng.IntN(2) == 0 }
	if keep() {
		f.Account = e.Account
	}
	if keep() && fx.rng.IntN(3) == 0 {
		f.ResourceID = e.ResourceID
	}
	if keep() {
		f.Level = e.Level
	}
	if keep() {
		f.Service = e.Service
	}
	if keep() {
		f.Host = e.Host
	}
	if keep() {
		patterns := typePatterns(e.Type)
		f.Type = patterns[fx.rng.IntN(len(patterns))]
	}
	if keep() {
		f.ResourceType = e.ResourceType
	}
	if keep() {
		f.Since, f.Before = fx.window(e)
	}
	return f
}

// window returns a random time window around e; either end may be open.
func (fx *fixture) window(e projections.EventEntry) (since, before time.Time) {
	other := fx.model.pick(fx.rng.IntN(1 << 30)).Timestamp
	lo, hi := e.Timestamp, other
	if hi.Before(lo) {
		lo, hi = hi, lo
	}
	switch fx.rng.IntN(4) {
	case 0:
		return lo, time.Time{}
	case 1:
		return time.Time{}, hi
	default:
		return lo, hi
	}
}

// typePatterns lists the exact type and every prefix pattern that covers it.
func typePatterns(typ string) []string {
	out := []string{typ, "*"}
	for i := range len(typ) {
		if typ[i] == '.' {
			out = append(out, typ[:i]+".*")
		}
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

package memory

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/domain"

	"herald/adapters/views/viewstest"
	"herald/projections"
)

var _ projections.EventLogView = (*EventLog)(nil)

func TestEventLog(t *testing.T) {
	viewstest.TestEventLogView(t, func(*testing.T) projections.EventLogView { return NewEventLog() })
}

// TestEventLog_largeHistory runs a history long enough to split chunks, turn resource lists
// into postings, clear in bulk and reuse slots, and compares queries with brute force.
func TestEventLog_largeHistory(t *testing.T) {
	ctx := t.Context()
	v := NewEventLog()
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 21, Resources: 2000})
	held := map[string]projections.EventEntry{}
	apply := func(changes []projections.Change) {
		t.Helper()
		if err := v.Apply(ctx, changes, gen.Position()); err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			switch {
			case c.Recorded != nil:
				if _, ok := held[c.Recorded.ID]; !ok {
					held[c.Recorded.ID] = *c.Recorded
				}
			case c.Deleted != "":
				delete(held, c.Deleted)
			case c.Cleared != nil:
				for id, e := range held {
					if e.Matches(c.Cleared.Criteria) && e.Position < c.At {
						delete(held, id)
					}
				}
			}
		}
	}
	record := func(n int) {
		for range n / 4096 {
			apply(viewstest.Recorded(gen.Entries(4096)...))
		}
	}
	rng := rand.New(rand.NewPCG(21, 0))
	check := func(round int) {
		t.Helper()
		all := slices.Collect(maps.Values(held))
		for range 40 {
			e := all[rng.IntN(len(all))]
			f := domain.EventFilter{}
			switch rng.IntN(6) {
			case 0:
				f.Account = e.Account
			case 1:
				f.ResourceID = e.ResourceID
			case 2:
				f.Type = e.Type[:strings.IndexByte(e.Type+".", '.')] + ".*"
			case 3:
				f.Host, f.Level = e.Host, e.Level
			case 4:
				f.Since = e.Timestamp
			}
			if rng.IntN(2) == 0 {
				f.Before = e.Timestamp.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
			}
			var want []projections.EventEntry
			for _, e := range all {
				if e.Matches(f) {
					want = append(want, e)
				}
			}
			slices.SortFunc(want, func(a, b projections.EventEntry) int {
				if c := b.Timestamp.Compare(a.Timestamp); c != 0 {
					return c
				}
				return cmp.Compare(b.Position, a.Position)
			})
			if n, err := v.Count(ctx, f); err != nil || n != len(want) {
				t.Fatalf("round %d: Count(%+v) = %d, %v; want %d", round, f, n, err, len(want))
			}
			var after *projections.Cursor
			for from := 0; from < len(want) && from < 300; from += 50 {
				p, err := v.Page(ctx, projections.EventPageRequest{Filter: f, After: after, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				page := want[from:min(len(want), from+50)]
				if len(p.Entries) != len(page) || p.HasMore != (from+50 < len(want)) {
					t.Fatalf("round %d: page at %d of %+v holds %d entries (more: %v), want %d", round, from, f, len(p.Entries), p.HasMore, len(page))
				}
				for i := range page {
					if p.Entries[i].ID != page[i].ID {
						t.Fatalf("round %d: page at %d of %+v, entry %d is %s, want %s", round, from, f, i, p.Entries[i].ID, page[i].ID)
					}
				}
				last := page[len(page)-1]
				after = &projections.Cursor{Timestamp: last.Timestamp, Position: last.Position}
			}
		}
	}

	record(40_000)
	check(0)
	var deletions []projections.Change
	for id := range held {
		if rng.IntN(8) == 0 {
			deletions = append(deletions, projections.Change{Deleted: id, At: gen.NextPosition()})
		}
	}
	apply(deletions)
	check(1)
	apply([]projections.Change{{Cleared: &domain.EventsCleared{Criteria: domain.EventFilter{Type: "system.*"}}, At: gen.NextPosition()}})
	check(2)
	record(20_000)
	apply([]projections.Change{{Cleared: &domain.EventsCleared{Criteria: domain.EventFilter{Account: "acme"}}, At: gen.NextPosition()}})
	check(3)
}

// TestEventLog_compactsIDs deletes most entries, which makes the id arena compact itself,
// and checks that every id still leads to its entry.
func TestEventLog_compactsIDs(t *testing.T) {
	ctx := t.Context()
	v := NewEventLog()
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 22})
	entries := gen.Entries(200_000)
	if err := v.Apply(ctx, viewstest.Recorded(entries...), gen.Position()); err != nil {
		t.Fatal(err)
	}
	var deletions []projections.Change
	for _, e := range entries[:170_000] {
		deletions = append(deletions, projections.Change{Deleted: e.ID, At: gen.NextPosition()})
	}
	if err := v.Apply(ctx, deletions, gen.Position()); err != nil {
		t.Fatal(err)
	}
	if dead := v.s.arena.dead; dead > 4*blockSize {
		t.Fatalf("the arena holds %d dead bytes: it was not compacted", dead)
	}
	for i, e := range entries {
		got, ok, err := v.Entry(ctx, e.ID)
		if err != nil || ok != (i >= 170_000) || (ok && got.ID != e.ID) {
			t.Fatalf("Entry(%s) = %s, %v, %v after compaction", e.ID, got.ID, ok, err)
		}
	}
}

// TestEventLog_keepsTimestampsNanosecondsCannotHold: timestamps before 1678 or after 2262
// read back exactly; they sort and filter as the nearest time nanoseconds hold.
func TestEventLog_keepsTimestampsNanosecondsCannotHold(t *testing.T) {
	ctx := t.Context()
	v := NewEventLog()
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 23})
	entries := gen.Entries(3)
	entries[0].Timestamp = time.Date(1500, 1, 2, 3, 4, 5, 6, time.UTC)
	entries[1].Timestamp = time.Date(2500, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := v.Apply(ctx, viewstest.Recorded(entries...), gen.Position()); err != nil {
		t.Fatal(err)
	}
	p, err := v.Page(ctx, projections.EventPageRequest{Limit: 10})
	if err != nil || len(p.Entries) != 3 {
		t.Fatalf("Page = %d entries, %v", len(p.Entries), err)
	}
	for i, want := range []projections.EventEntry{entries[1], entries[2], entries[0]} {
		if got := p.Entries[i]; got.ID != want.ID || !got.Timestamp.Equal(want.Timestamp) {
			t.Fatalf("entry %d = %s at %s, want %s at %s", i, got.ID, got.Timestamp, want.ID, want.Timestamp)
		}
	}
	if n, _ := v.Count(ctx, domain.EventFilter{Before: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}); n != 1 {
		t.Fatalf("Count before 2000 = %d, want 1", n)
	}
	if err := v.Apply(ctx, []projections.Change{{Deleted: entries[0].ID, At: gen.NextPosition()}}, gen.Position()); err != nil {
		t.Fatal(err)
	}
	if len(v.s.outliers) != 1 {
		t.Fatalf("%d outliers held after deleting one of two", len(v.s.outliers))
	}
}

func TestEventLog_refusesPagesOfNothing(t *testing.T) {
	if _, err := NewEventLog().Page(t.Context(), projections.EventPageRequest{Limit: 0}); err == nil {
		t.Fatal("Page with limit 0 did not fail")
	}
}

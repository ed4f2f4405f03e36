package viewstest

import (
	"testing"

	"herald/domain"
	"herald/projections"
)

// TestRecordedTwice: recording an id the view holds is a no-op, within one batch, across
// batches, and when a whole batch is applied again (a replay after a crash).
func TestRecordedTwice(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 9})
	entries := fx.record(300, 100)
	e := fx.gen.Next()
	fx.apply(Recorded(e, e)...)
	fx.apply(Recorded(e)...)
	changed := e
	changed.Account, changed.Host, changed.Timestamp = "someone-else", "another-host", e.Timestamp.Add(-1e9)
	fx.apply(Recorded(changed)...)
	got, ok, err := fx.view.Entry(fx.ctx, e.ID)
	if err != nil || !ok || !sameEntry(got, e) {
		t.Fatalf("Entry(%s) = %s, %v, %v; want the first recording %s", e.ID, formatEntry(got), ok, err, formatEntry(e))
	}
	if n := fx.count(domain.EventFilter{ResourceID: e.ResourceID, Type: e.Type, Host: e.Host, Since: e.Timestamp, Before: e.Timestamp.Add(1)}); n < 1 {
		t.Fatalf("Count of the twice-recorded entry = %d", n)
	}
	fx.apply(Recorded(entries[:100]...)...)
	fx.checkEverything()
	for range 20 {
		fx.check(fx.randomFilter())
	}
}

// TestDeleted: a deleted entry is gone from Entry, Page and Count; deleting an unknown id,
// or an id twice, changes nothing.
func TestDeleted(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 10})
	entries := fx.record(500, 100)
	var batch []projections.Change
	for _, i := range fx.rng.Perm(len(entries))[:60] {
		batch = append(batch, projections.Change{Deleted: entries[i].ID, At: fx.gen.NextPosition()})
	}
	fx.apply(batch[:40]...)
	fx.apply(batch[30:]...) // some twice
	fx.apply(projections.Change{Deleted: "never-recorded", At: fx.gen.NextPosition()})
	for _, c := range batch {
		fx.assertAbsent(c.Deleted)
	}
	fx.checkEverything()
	for range 40 {
		fx.check(fx.randomFilter())
	}
	// Deleted and recorded in one batch, in both orders.
	fresh := fx.gen.Entries(3)
	fx.apply(
		projections.Change{Recorded: &fresh[0], At: fresh[0].Position},
		projections.Change{Deleted: fresh[0].ID, At: fx.gen.NextPosition()},
		projections.Change{Deleted: fresh[1].ID, At: fx.gen.NextPosition()},
		projections.Change{Recorded: &fresh[1], At: fresh[1].Position},
	)
	fx.assertAbsent(fresh[0].ID)
	fx.checkEverything()
	// Everything.
	batch = batch[:0]
	for id := range fx.model.entries {
		batch = append(batch, projections.Change{Deleted: id, At: fx.gen.NextPosition()})
	}
	fx.apply(batch...)
	fx.checkEverything()
	fx.check(domain.EventFilter{Account: domain.DefaultAccount})
}

// TestCleared: a clear removes exactly the entries that match its criteria, across accounts
// when the criteria name none; entries recorded between clears stay unless a later clear
// matches them.
func TestCleared(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 11})
	fx.record(2000, 250)
	e := fx.model.pick(3)
	other := fx.model.pick(977)
	since, before := fx.window(e)
	for _, criteria := range []domain.EventFilter{
		{Account: "acme"},
		{Type: "system.analysis_archive.*"},
		{Account: domain.DefaultAccount, Level: domain.LevelError},
		{Since: since, Before: before},
		{ResourceID: other.ResourceID},
		{Host: e.Host, Service: e.Service},
		{Account: "unknown-account"},
		{Type: "user.*", Since: since},
		{Before: before, ResourceType: e.ResourceType},
		{},
	} {
		fx.clear(criteria)
		fx.checkEverything()
		for range 10 {
			if len(fx.model.entries) > 0 {
				fx.check(fx.randomFilter())
			}
		}
		fx.record(150, 50)
	}
}

func (fx *fixture) clear(criteria domain.EventFilter) {
	fx.t.Helper()
	n := fx.model.count(criteria)
	fx.apply(projections.Change{Cleared: &domain.EventsCleared{Criteria: criteria, Count: n}, At: fx.gen.NextPosition()})
}

// TestClearedKeepsLaterEntries: a clear removes only entries whose position is below its own.
// Entries recorded after the clear stay, whether they come in a later batch, later in the
// same batch, or (their position being what counts) before the clear.
func TestClearedKeepsLaterEntries(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 12})
	fx.record(300, 100)
	at := fx.gen.NextPosition()
	later := fx.gen.Entries(60)
	fx.apply(Recorded(later[:20]...)...)
	everything := &domain.EventsCleared{Criteria: domain.EventFilter{}}
	fx.apply(append([]projections.Change{{Cleared: everything, At: at}}, Recorded(later[20:40]...)...)...)
	fx.apply(Recorded(later[40:]...)...)
	if len(fx.model.entries) != 60 {
		t.Fatalf("the model holds %d entries, want the 60 recorded after the clear", len(fx.model.entries))
	}
	fx.checkEverything()

	fx.record(100, 100)
	first := fx.gen.Entries(10)
	at = fx.gen.NextPosition()
	second := fx.gen.Entries(10)
	batch := Recorded(first...)
	batch = append(batch, projections.Change{Cleared: &domain.EventsCleared{Criteria: domain.EventFilter{Level: domain.LevelInfo}}, At: at})
	batch = append(batch, Recorded(second...)...)
	fx.apply(batch...)
	fx.checkEverything()
}

// TestTypesIncludeDeleted: Types lists every type ever recorded, also once no entry of that
// type is held.
func TestTypesIncludeDeleted(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 13})
	fx.record(200, 100)
	fx.checkTypes()
	deleted, cleared := fx.gen.Next(), fx.gen.Next()
	deleted.Type, cleared.Type = "user.rare.once.deleted", "user.rare.once.cleared"
	fx.apply(Recorded(deleted, cleared)...)
	fx.apply(projections.Change{Deleted: deleted.ID, At: fx.gen.NextPosition()})
	fx.clear(domain.EventFilter{Type: "user.rare.*"})
	fx.checkTypes()
	fx.check(domain.EventFilter{Type: deleted.Type})
	fx.check(domain.EventFilter{Type: "user.rare.*"})
}

// TestCheckpoint: the checkpoint is the one given with the last Apply, also when it is past
// the last change or the batch is empty.
func TestCheckpoint(t *testing.T, newView NewView) {
	ctx := t.Context()
	view := newView(t)
	assertCheckpoint := func(want uint64) {
		t.Helper()
		if got, err := view.Checkpoint(ctx); err != nil || got != want {
			t.Fatalf("Checkpoint = %d, %v; want %d", got, err, want)
		}
	}
	assertCheckpoint(0)
	g := NewGenerator(GeneratorConfig{Seed: 14})
	entries := g.Entries(10)
	if err := view.Apply(ctx, Recorded(entries...), g.Position()); err != nil {
		t.Fatal(err)
	}
	assertCheckpoint(g.Position())
	if err := view.Apply(ctx, nil, g.Position()+100); err != nil {
		t.Fatal(err)
	}
	assertCheckpoint(g.Position() + 100)
	if err := view.Apply(ctx, []projections.Change{{Deleted: entries[0].ID, At: g.Position() + 101}}, g.Position()+150); err != nil {
		t.Fatal(err)
	}
	assertCheckpoint(g.Position() + 150)
}

// TestReset: Reset drops entries, types and checkpoint, and the view can be rebuilt after it.
func TestReset(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 15})
	entries := fx.record(300, 100)
	fx.apply(projections.Change{Deleted: entries[5].ID, At: fx.gen.NextPosition()})
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	fx.model = newModel()
	if cp, err := fx.view.Checkpoint(fx.ctx); err != nil || cp != 0 {
		t.Fatalf("Checkpoint after Reset = %d, %v; want 0", cp, err)
	}
	for _, e := range entries {
		fx.assertAbsent(e.ID)
	}
	p := fx.page(projections.EventPageRequest{Limit: 10})
	if len(p.Entries) != 0 || p.HasMore {
		t.Fatalf("Page after Reset holds %d entries, HasMore %v", len(p.Entries), p.HasMore)
	}
	fx.checkTypes()
	fx.check(domain.EventFilter{Account: domain.DefaultAccount})
	fx.apply(Recorded(entries[:100]...)...)
	fx.record(100, 30)
	fx.checkEverything()
}

// TestRandomHistory: a long random mix of recordings, duplicates, deletions and clears in
// batches of every size leaves the view where the model is.
func TestRandomHistory(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 16, InOrder: true, Expected: 4000, Resources: 200})
	fx.record(500, 500)
	for round := range 60 {
		var batch []projections.Change
		var pending []projections.EventEntry
		for range fx.rng.IntN(150) {
			switch r := fx.rng.IntN(100); {
			case r < 75:
				e := fx.gen.Next()
				pending = append(pending, e)
				batch = append(batch, projections.Change{Recorded: &e, At: e.Position})
			case r < 80 && len(pending) > 0: // a duplicate, possibly of an entry of this batch
				e := pending[fx.rng.IntN(len(pending))]
				if fx.rng.IntN(2) == 0 && len(fx.model.entries) > 0 {
					e = fx.model.pick(fx.rng.IntN(1 << 30))
				}
				batch = append(batch, projections.Change{Recorded: &e, At: fx.gen.NextPosition()})
			case r < 92 && len(fx.model.entries) > 0:
				id := fx.model.pick(fx.rng.IntN(1 << 30)).ID
				if r >= 90 && len(pending) > 0 {
					id = pending[fx.rng.IntN(len(pending))].ID
				}
				batch = append(batch, projections.Change{Deleted: id, At: fx.gen.NextPosition()})
			case r < 93:
				batch = append(batch, projections.Change{Deleted: "never-" + fx.gen.hex(4), At: fx.gen.NextPosition()})
			case r < 95 && len(fx.model.entries) > 0:
				f := fx.randomFilter()
				if f.IsEmpty() && f.Account == "" {
					f.Account = "acme"
				}
				batch = append(batch, projections.Change{Cleared: &domain.EventsCleared{Criteria: f}, At: fx.gen.NextPosition()})
			}
		}
		fx.apply(batch...)
		if len(fx.model.entries) == 0 {
			fx.record(200, 100)
		}
		for range 3 {
			fx.check(fx.randomFilter())
		}
		if round%10 == 9 {
			fx.checkEverything()
		}
	}
	fx.checkEverything()
}

// TestClearedStopsAtUpTo: a clear that names the position its command read the view at (UpTo)
// removes only the matching entries at or below it. Entries recorded between UpTo and the
// clear were not in the view the command read, so the command did not purge them: they stay.
func TestClearedStopsAtUpTo(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 13})
	seen := fx.record(200, 50)
	upTo := fx.gen.Position()
	unseen := fx.gen.Entries(40)
	clear := projections.Change{Cleared: &domain.EventsCleared{Criteria: domain.EventFilter{}, UpTo: upTo}, At: fx.gen.NextPosition()}
	fx.apply(append(Recorded(unseen...), clear)...)
	for _, e := range seen {
		if _, ok := fx.model.entries[e.ID]; ok {
			t.Fatalf("the model keeps %s at %d, at or below UpTo %d", e.ID, e.Position, upTo)
		}
	}
	if len(fx.model.entries) != len(unseen) {
		t.Fatalf("the model holds %d entries, want the %d recorded after UpTo", len(fx.model.entries), len(unseen))
	}
	fx.checkEverything()
}

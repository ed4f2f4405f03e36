package redis

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
	"herald/domain"
	"herald/projections"
)

// batch is one Apply of a history.
type batch struct {
	changes    []projections.Change
	checkpoint uint64
}

// history makes n batches of recordings (some twice), deletions and clears.
func history(seed uint64, n, size int) []batch {
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: seed, InOrder: true, Expected: n * size})
	rng := rand.New(rand.NewPCG(seed, 1))
	var held []projections.EventEntry
	out := make([]batch, n)
	for i := range out {
		var changes []projections.Change
		for range size {
			switch r := rng.IntN(100); {
			case r < 80 || len(held) == 0:
				e := gen.Next()
				held = append(held, e)
				changes = append(changes, projections.Change{Recorded: &held[len(held)-1], At: e.Position})
			case r < 85:
				e := held[rng.IntN(len(held))]
				changes = append(changes, projections.Change{Recorded: &e, At: gen.NextPosition()})
			case r < 99:
				changes = append(changes, projections.Change{Deleted: held[rng.IntN(len(held))].ID, At: gen.NextPosition()})
			default:
				e := held[rng.IntN(len(held))]
				criteria := []domain.EventFilter{{Account: e.Account, Level: e.Level}, {Host: e.Host}, {Type: "system.feeds.*", Since: e.Timestamp}}[rng.IntN(3)]
				changes = append(changes, projections.Change{Cleared: &domain.EventsCleared{Criteria: criteria}, At: gen.NextPosition()})
			}
		}
		out[i] = batch{changes: changes, checkpoint: gen.NextPosition()}
	}
	return out
}

// reference is the view by brute force, straight from the port's documentation.
type reference struct {
	entries    map[string]projections.EventEntry
	types      map[string]bool
	checkpoint uint64
}

func newReference(batches []batch) *reference {
	r := &reference{entries: map[string]projections.EventEntry{}, types: map[string]bool{}}
	for _, b := range batches {
		for _, c := range b.changes {
			switch {
			case c.Recorded != nil:
				if _, ok := r.entries[c.Recorded.ID]; !ok {
					r.entries[c.Recorded.ID] = *c.Recorded
					r.types[c.Recorded.Type] = true
				}
			case c.Deleted != "":
				delete(r.entries, c.Deleted)
			case c.Cleared != nil:
				for id, e := range r.entries {
					if e.Matches(c.Cleared.Criteria) && e.Position < c.At {
						delete(r.entries, id)
					}
				}
			}
		}
		r.checkpoint = b.checkpoint
	}
	return r
}

// assertEquals compares the whole view with the reference.
func (r *reference) assertEquals(t *testing.T, v *EventLog) {
	t.Helper()
	ctx := t.Context()
	want := make([]projections.EventEntry, 0, len(r.entries))
	for _, e := range r.entries {
		want = append(want, e)
	}
	slices.SortFunc(want, func(a, b projections.EventEntry) int {
		if c := b.Timestamp.Compare(a.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(b.Position, a.Position)
	})
	page, err := v.Page(ctx, projections.EventPageRequest{Limit: len(want) + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != len(want) {
		t.Fatalf("the view holds %d entries, want %d", len(page.Entries), len(want))
	}
	for i := range want {
		if page.Entries[i] != want[i] {
			t.Fatalf("entry %d is %+v, want %+v", i, page.Entries[i], want[i])
		}
	}
	if n, err := v.Count(ctx, domain.EventFilter{}); err != nil || n != len(want) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(want))
	}
	types, err := v.Types(ctx)
	if err != nil || len(types) != len(r.types) {
		t.Fatalf("Types = %v, %v; want %d types", types, err, len(r.types))
	}
	if cp, err := v.Checkpoint(ctx); err != nil || cp != r.checkpoint {
		t.Fatalf("Checkpoint = %d, %v; want %d", cp, err, r.checkpoint)
	}
}

// applyRetrying applies a batch as the projection runner does: after a failure, it tries
// again (a restarted server, a dead pooled connection).
func applyRetrying(t *testing.T, v *EventLog, b batch) {
	t.Helper()
	var err error
	for range 50 {
		if err = v.Apply(t.Context(), b.changes, b.checkpoint); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("Apply: %v", err)
}

// TestEventLog_serverRestarts: the view survives restarts of a persistent Redis between
// applies, and reloads its scripts (NOSCRIPT) after each.
func TestEventLog_serverRestarts(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{Persistent: true})
	v, err := NewEventLog(srv.Client(t), Options{ChangesPerScript: 32})
	if err != nil {
		t.Fatal(err)
	}
	batches := history(41, 30, 120)
	for i, b := range batches {
		if i%10 == 5 {
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
		}
		applyRetrying(t, v, b)
	}
	newReference(batches).assertEquals(t, v)
}

// TestEventLog_crashMidApply: Redis is killed (SIGKILL) while Applies stream in. After it
// comes back, the checkpoint is at least that of the last acknowledged Apply and never
// ahead of its data: replaying the log from the checkpoint, as the runner does, gives the
// view the whole history gives.
func TestEventLog_crashMidApply(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{Persistent: true})
	v, err := NewEventLog(srv.Client(t), Options{ChangesPerScript: 16})
	if err != nil {
		t.Fatal(err)
	}
	batches := history(42, 80, 300)
	var acked atomic.Int64
	acked.Store(-1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, b := range batches {
			if err := v.Apply(context.Background(), b.changes, b.checkpoint); err != nil {
				return
			}
			acked.Store(int64(i))
		}
	}()
	for acked.Load() < 10 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	last := int(acked.Load())
	if last == len(batches)-1 {
		t.Skip("every Apply finished before the kill")
	}
	if err := srv.StartAgain(); err != nil {
		t.Fatal(err)
	}
	var cp uint64
	for range 50 {
		if cp, err = v.Checkpoint(t.Context()); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if cp < batches[last].checkpoint {
		t.Fatalf("checkpoint %d after the crash is behind the acknowledged %d", cp, batches[last].checkpoint)
	}
	from := slices.IndexFunc(batches, func(b batch) bool { return b.checkpoint > cp })
	if from < 0 {
		from = len(batches)
	}
	partial := 0
	if from < len(batches) {
		for _, c := range batches[from].changes {
			if c.Recorded != nil {
				if _, ok, _ := v.Entry(t.Context(), c.Recorded.ID); ok {
					partial++
				}
			}
		}
	}
	t.Logf("killed after %d acknowledged batches; replaying from batch %d, of which %d recordings had been applied", last+1, from, partial)
	for _, b := range batches[from:] {
		applyRetrying(t, v, b)
	}
	newReference(batches).assertEquals(t, v)
}

// TestEventLog_brokenChain: a script whose predecessor in the same Apply did not complete
// refuses to run, so the checkpoint cannot pass the hole.
func TestEventLog_brokenChain(t *testing.T) {
	t.Parallel()
	v := newTestView(t, Options{})
	e := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 43}).Next()
	blob, err := encodeEntry(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	args := []any{v.keys.base, 0, "some-token", 3, "1000", "R", e.ID, blob}
	err = scriptError(v.scripts.apply.Run(t.Context(), v.client, v.keys.writeKeys(), args...).Err())
	if !errors.Is(err, errChainBroken) {
		t.Fatalf("a step without its predecessor = %v, want errChainBroken", err)
	}
	if cp, _ := v.Checkpoint(t.Context()); cp != 0 {
		t.Fatalf("checkpoint = %d after a refused step", cp)
	}
	if _, ok, _ := v.Entry(t.Context(), e.ID); ok {
		t.Fatal("a refused step recorded its entry")
	}
}

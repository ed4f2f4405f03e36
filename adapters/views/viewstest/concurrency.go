package viewstest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"herald/domain"
	"herald/projections"
)

// TestConcurrentReadsAndApplies: readers page, count and look up entries while a writer
// applies recordings, deletions and clears. Every answer must be consistent in itself, and
// the view must end where the model is. Run it with -race.
func TestConcurrentReadsAndApplies(t *testing.T, newView NewView) {
	fx := newFixture(t, newView, GeneratorConfig{Seed: 17})
	held := fx.record(500, 100)
	filters := []domain.EventFilter{{}}
	for range 30 {
		filters = append(filters, fx.randomFilter())
	}

	// The writer owns the model and the generator until it is done.
	done := make(chan struct{})
	var writerErr error
	go func() {
		defer close(done)
		for round := range 40 {
			changes := Recorded(fx.gen.Entries(50)...)
			for range 2 {
				id := fx.model.pick(fx.rng.IntN(1 << 30)).ID
				changes = append(changes, projections.Change{Deleted: id, At: fx.gen.NextPosition()})
			}
			if round%10 == 5 {
				criteria := domain.EventFilter{Account: "acme", Level: domain.LevelError}
				changes = append(changes, projections.Change{Cleared: &domain.EventsCleared{Criteria: criteria}, At: fx.gen.NextPosition()})
			}
			checkpoint := fx.gen.Position()
			if err := fx.view.Apply(fx.ctx, changes, checkpoint); err != nil {
				writerErr = err
				return
			}
			fx.model.apply(changes, checkpoint)
		}
	}()

	readWhileWriting(t, done, 99, func(rng *rand.Rand, last *uint64) error {
		return readConsistently(fx, rng, filters, held, last)
	})
	<-done
	if writerErr != nil {
		t.Fatalf("Apply: %v", writerErr)
	}
	fx.checkEverything()
}

// readConsistently makes one round of reads and checks what can be checked while a writer
// runs: order, filter, limits, cursors, a checkpoint that never goes back.
func readConsistently(fx *fixture, rng *rand.Rand, filters []domain.EventFilter, held []projections.EventEntry, lastCheckpoint *uint64) error {
	f := filters[rng.IntN(len(filters))]
	limit := 1 + rng.IntN(40)
	p, err := fx.view.Page(fx.ctx, projections.EventPageRequest{Filter: f, Limit: limit})
	if err != nil {
		return fmt.Errorf("page: %w", err)
	}
	if err := consistentPage(p, f, nil, limit); err != nil {
		return err
	}
	if p.HasMore {
		last := p.Entries[len(p.Entries)-1]
		after := &projections.Cursor{Timestamp: last.Timestamp, Position: last.Position}
		next, err := fx.view.Page(fx.ctx, projections.EventPageRequest{Filter: f, After: after, Limit: limit})
		if err != nil {
			return fmt.Errorf("page: %w", err)
		}
		if err := consistentPage(next, f, after, limit); err != nil {
			return err
		}
	}
	if n, err := fx.view.Count(fx.ctx, f); err != nil || n < 0 {
		return fmt.Errorf("count(%s) = %d, %v", describe(f), n, err)
	}
	e := held[rng.IntN(len(held))]
	if got, ok, err := fx.view.Entry(fx.ctx, e.ID); err != nil || (ok && !sameEntry(got, e)) {
		return fmt.Errorf("entry(%s) = %s, %v, %v; want %s or nothing", e.ID, formatEntry(got), ok, err, formatEntry(e))
	}
	if _, err := fx.view.Types(fx.ctx); err != nil {
		return fmt.Errorf("types: %w", err)
	}
	cp, err := fx.view.Checkpoint(fx.ctx)
	if err != nil || cp < *lastCheckpoint {
		return fmt.Errorf("checkpoint = %d, %v after %d", cp, err, *lastCheckpoint)
	}
	*lastCheckpoint = cp
	return nil
}

func consistentPage(p projections.EventPage, f domain.EventFilter, after *projections.Cursor, limit int) error {
	if len(p.Entries) > limit || (p.HasMore && len(p.Entries) == 0) {
		return fmt.Errorf("page of %s, limit %d: %d entries, HasMore %v", describe(f), limit, len(p.Entries), p.HasMore)
	}
	for i, e := range p.Entries {
		if !e.Matches(f) {
			return fmt.Errorf("page of %s holds %s", describe(f), formatEntry(e))
		}
		if after != nil && !after.Before(e) {
			return fmt.Errorf("page of %s after a cursor holds %s, not older than it", describe(f), formatEntry(e))
		}
		if i > 0 && newestFirst(p.Entries[i-1], e) >= 0 {
			return fmt.Errorf("page of %s: %s comes after %s", describe(f), formatEntry(e), formatEntry(p.Entries[i-1]))
		}
	}
	return nil
}

// readWhileWriting runs four readers until done is closed, each with its own random source
// and its own last-seen checkpoint; a reader stops at its first error.
func readWhileWriting(t *testing.T, done <-chan struct{}, seed uint64, read func(rng *rand.Rand, last *uint64) error) {
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), seed))
			var last uint64
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := read(rng, &last); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

package viewstest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// NewDeliveryView returns a fresh, empty deliveries view for one test.
type NewDeliveryView func(t *testing.T) projections.DeliveryView

// TestDeliveryView runs the contract suite of projections.DeliveryView against the views
// newView makes, each test in parallel on a view of its own, checking every page against a
// model that filters with projections.DeliveryFilter.Matches.
func TestDeliveryView(t *testing.T, newView func(t *testing.T) projections.DeliveryView) {
	tests := []struct {
		name string
		test func(*testing.T, NewDeliveryView)
	}{
		{"ReadBack", TestDeliveryReadBack},
		{"Checkpoint", TestDeliveryCheckpoint},
		{"AppliedTwice", TestDeliveryAppliedTwice},
		{"EachFilter", TestDeliveryEachFilter},
		{"TimeWindows", TestDeliveryTimeWindows},
		{"NewestFirst", TestDeliveryNewestFirst},
		{"Pagination", TestDeliveryPagination},
		{"PaginationWhileApplying", TestDeliveryPaginationWhileApplying},
		{"Reset", TestDeliveryReset},
		{"ConcurrentReadsAndApplies", TestDeliveryConcurrentReadsAndApplies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newView)
		})
	}
}

// TestDeliveryReadBack: every field of a delivery reads back exactly as applied: times to
// the nanosecond (also before 1678 and after 2262), latencies to the nanosecond, numbers
// beyond 32 bits, failure reasons byte for byte (unicode, newlines, quotes, NUL, the longest
// kept), an empty level and event type, kinds and triggers the domain does not know, ids
// with spaces, colons and braces, positions beyond 2^53; each is found by each of its values.
func TestDeliveryReadBack(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 1)
	samples := sampleDeliveries()
	fx.applyAt(samples[len(samples)-1].Position, samples...)
	fx.check()
	for _, d := range samples {
		for _, f := range []projections.DeliveryFilter{
			{EventID: d.EventID}, {ConfigurationID: d.ConfigurationID, Status: d.Status}, {Account: d.Account, Since: d.At, Before: d.At.Add(time.Nanosecond)},
		} {
			fx.walk(f, 2)
		}
		p := fx.checkPage(projections.DeliveryFilter{}, d.Position+1, 1)
		if len(p.Deliveries) != 1 || p.Deliveries[0].Position != d.Position {
			t.Fatalf("the page after %d holds %s, want the delivery at %d", d.Position+1, positions(p.Deliveries), d.Position)
		}
	}
}

// TestDeliveryCheckpoint: the checkpoint is stored with each Apply, also an empty one, and
// never moves back: an Apply with an older checkpoint still adds its deliveries. Beyond 2^53,
// where floats lose digits, too.
func TestDeliveryCheckpoint(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 2)
	fx.check()
	fx.applyAt(5)
	fx.check()
	ahead := fx.history.batch(2)
	fx.applyAt(ahead[1].Position+100, ahead...)
	behind := fx.history.batch(3) // later deliveries, with a checkpoint below the stored one
	fx.applyAt(behind[2].Position, behind...)
	fx.check()
	for _, cp := range []uint64{1<<60 + 1, 1<<60 + 2, 1 << 60, 1<<60 + 1, 1<<64 - 2, 1<<64 - 1, 12} {
		fx.applyAt(cp)
		fx.check()
	}
}

// TestDeliveryAppliedTwice: applying a batch again (a replay after a crash), or a batch that
// overlaps the deliveries held, adds only the positions not held: nothing is listed twice.
func TestDeliveryAppliedTwice(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 3)
	first := fx.record(60, 60)
	fx.applyAt(fx.history.position, first...)
	fx.check()
	overlapping := append(append([]domain.Delivery{}, first[40:]...), fx.history.batch(30)...)
	fx.apply(overlapping...)
	fx.apply(overlapping...)
	fx.check()
	twiceInOneBatch := fx.history.batch(5)
	fx.apply(append(twiceInOneBatch, twiceInOneBatch...)...)
	fx.check()
	if got, want := len(fx.walk(projections.DeliveryFilter{}, projections.MaxDeliveryPage)), 60+30+5; got != want {
		t.Fatalf("the view lists %d deliveries, want %d", got, want)
	}
}

// TestDeliveryEachFilter: every filter, alone and combined (account, configuration, event,
// status, time window), selects what Matches selects, across batches of a long history.
func TestDeliveryEachFilter(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 4)
	fx.record(150, 50)
	fx.check()
	fx.record(250, 25)
	fx.check()
}

// TestDeliveryTimeWindows: Since is inclusive and Before exclusive, to the nanosecond, on
// the delivery's time, not its position; deliveries sharing an instant are selected
// together; a window of times nanoseconds cannot hold (before 1678, after 2262) works too.
func TestDeliveryTimeWindows(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 5)
	held := fx.record(120, 40)
	at := held[50].At
	twin := fx.history.next()
	twin.At = at
	fx.apply(twin)
	outliers := fx.history.batch(3)
	outliers[0].At = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)
	outliers[1].At = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	outliers[2].At = time.Date(2999, 1, 1, 0, 0, 0, 1, time.UTC)
	fx.apply(outliers...)
	ns := time.Nanosecond
	if got := fx.walk(projections.DeliveryFilter{Since: at, Before: at.Add(ns)}, 1); len(got) < 2 {
		t.Fatalf("the window of one nanosecond at %s selects %s, want both deliveries of that instant", at.Format(time.RFC3339Nano), positions(got))
	}
	for _, tc := range []struct {
		f    projections.DeliveryFilter
		want int // -1: whatever the model says
	}{
		{projections.DeliveryFilter{Since: at.Add(ns), Before: at.Add(2 * ns)}, -1},
		{projections.DeliveryFilter{Since: at.Add(-ns), Before: at}, -1},
		{projections.DeliveryFilter{Since: at}, -1},
		{projections.DeliveryFilter{Before: at}, -1},
		{projections.DeliveryFilter{Before: time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)}, 1},
		{projections.DeliveryFilter{Since: time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), Before: time.Date(1601, 1, 1, 0, 0, 0, 1, time.UTC)}, 1},
		{projections.DeliveryFilter{Since: time.Date(2999, 1, 1, 0, 0, 0, 1, time.UTC)}, 1},
		{projections.DeliveryFilter{Since: time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)}, 2},
		{projections.DeliveryFilter{Since: deliveryStart.Add(-time.Hour), Before: time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), Status: domain.DeliveryFailed}, -1},
		{projections.DeliveryFilter{Since: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, 0},
	} {
		got := fx.walk(tc.f, 7)
		if tc.want >= 0 && len(got) != tc.want {
			t.Fatalf("%s selects %d deliveries %s, want %d", describeDeliveryFilter(tc.f), len(got), positions(got), tc.want)
		}
	}
	fx.check()
}

// TestDeliveryNewestFirst: pages list deliveries by position, newest first, even where
// their times run the other way (an outcome recorded late), and a position that is not
// held serves as a cursor as well as one that is.
func TestDeliveryNewestFirst(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 6)
	batch := fx.history.batch(20)
	for i := range batch {
		batch[i].At = deliveryStart.Add(time.Duration(len(batch)-i) * time.Minute) // each older than the last
	}
	fx.apply(batch...)
	p := fx.checkPage(projections.DeliveryFilter{}, 0, len(batch))
	for i, d := range p.Deliveries {
		if d.Position != batch[len(batch)-1-i].Position {
			t.Fatalf("delivery %d of the page is at %d, want %d: pages go by position", i, d.Position, batch[len(batch)-1-i].Position)
		}
	}
	for _, after := range []uint64{batch[10].Position, batch[10].Position + 1, batch[0].Position, 1, 1<<64 - 1} {
		fx.checkPage(projections.DeliveryFilter{}, after, 4)
	}
	fx.check()
}

// TestDeliveryPagination: a walk with any page size lists every delivery once, newest
// first; Next is the position of the last delivery of a page when more follow, and 0 on the
// last page, also when the last page is exactly full; a page after the oldest is empty.
func TestDeliveryPagination(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 7)
	held := fx.record(90, 30)
	for _, f := range []projections.DeliveryFilter{{}, {Account: "acme"}, {Status: domain.DeliveryFailed}} {
		n := len(fx.model.matching(f))
		for _, limit := range []int{1, 2, 7, n - 1, n, n + 1, projections.MaxDeliveryPage} {
			if limit < 1 {
				continue
			}
			got := fx.walk(f, limit)
			for i := 1; i < len(got); i++ {
				if got[i].Position >= got[i-1].Position {
					t.Fatalf("walk of %s with limit %d: %d comes after %d", describeDeliveryFilter(f), limit, got[i].Position, got[i-1].Position)
				}
			}
		}
		if p := fx.checkPage(f, 0, n); p.Next != 0 {
			t.Fatalf("a page of all %d deliveries of %s has Next %d, want 0", n, describeDeliveryFilter(f), p.Next)
		}
	}
	if p := fx.checkPage(projections.DeliveryFilter{}, held[0].Position, 10); len(p.Deliveries) != 0 || p.Next != 0 {
		t.Fatalf("the page after the oldest delivery = %s, Next %d; want nothing", positions(p.Deliveries), p.Next)
	}
}

// TestDeliveryPaginationWhileApplying: deliveries applied between the pages of a walk do
// not move it: the walk lists exactly what the filter selected when it began.
func TestDeliveryPaginationWhileApplying(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 8)
	fx.record(200, 50)
	for _, f := range []projections.DeliveryFilter{{}, {Account: "globex"}, {Status: domain.DeliveryDelivered}, {ConfigurationID: fx.history.configurations[4].id}} {
		start := fx.model.matching(f)
		var walked []domain.Delivery
		var after uint64
		for {
			p := fx.checkPage(f, after, 9)
			walked = append(walked, p.Deliveries...)
			if p.Next == 0 {
				break
			}
			after = p.Next
			fx.record(7, 7)
		}
		if d := diffDeliveryPage(projections.DeliveryPage{Deliveries: start}, projections.DeliveryPage{Deliveries: walked}); d != "" {
			t.Fatalf("walk of %s while applying: %s", describeDeliveryFilter(f), d)
		}
	}
}

// TestDeliveryReset: Reset drops every delivery and the checkpoint; deliveries applied
// again after it are held again (they are not taken for replays), and an empty view resets.
func TestDeliveryReset(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 9)
	held := fx.record(80, 40)
	fx.check()
	reset := func() {
		t.Helper()
		if err := fx.view.Reset(fx.ctx); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		fx.model = newDeliveryModel()
		fx.check()
	}
	reset()
	fx.applyAt(held[39].Position, held[:40]...)
	fx.check()
	reset()
	reset()
}

// TestDeliveryConcurrentReadsAndApplies: readers page with random filters while a writer
// applies a history. Every page must be filtered, newest first, below its cursor, within
// its limit, with a Next that continues it; every delivery read must be one applied, whole;
// the checkpoint must never go back. Run it with -race.
func TestDeliveryConcurrentReadsAndApplies(t *testing.T, newView NewDeliveryView) {
	fx := newDeliveryFixture(t, newView, 10)
	fx.record(100, 50)
	filters := fx.filters()
	var applied sync.Map // position -> domain.Delivery, stored before it is applied
	for _, d := range fx.model.byPosition {
		applied.Store(d.Position, d)
	}
	batches := make([][]domain.Delivery, 40)
	for i := range batches {
		batches[i] = fx.history.batch(1 + i%20)
	}
	done := make(chan struct{})
	var writerErr error
	go func() {
		defer close(done)
		for _, batch := range batches {
			for _, d := range batch {
				applied.Store(d.Position, d)
			}
			checkpoint := batch[len(batch)-1].Position
			if err := fx.view.Apply(fx.ctx, batch, checkpoint); err != nil {
				writerErr = err
				return
			}
			fx.model.apply(batch, checkpoint)
		}
	}()
	readWhileWriting(t, done, 11, func(rng *rand.Rand, last *uint64) error {
		f := filters[rng.IntN(len(filters))]
		limit := 1 + rng.IntN(30)
		var after uint64
		for range 3 {
			p, err := fx.view.Deliveries(fx.ctx, f, after, limit)
			if err != nil {
				return fmt.Errorf("deliveries(%s): %w", describeDeliveryFilter(f), err)
			}
			if err := consistentDeliveryPage(p, f, after, limit, &applied); err != nil {
				return err
			}
			if p.Next == 0 {
				break
			}
			after = p.Next
		}
		cp, err := fx.view.Checkpoint(fx.ctx)
		if err != nil || cp < *last {
			return fmt.Errorf("checkpoint = %d, %v after %d", cp, err, *last)
		}
		*last = cp
		return nil
	})
	<-done
	if writerErr != nil {
		t.Fatalf("Apply: %v", writerErr)
	}
	fx.check()
}

// consistentDeliveryPage checks what can be checked of a page while a writer runs.
func consistentDeliveryPage(p projections.DeliveryPage, f projections.DeliveryFilter, after uint64, limit int, applied *sync.Map) error {
	what := fmt.Sprintf("page of %s after %d, limit %d", describeDeliveryFilter(f), after, limit)
	switch {
	case len(p.Deliveries) > limit:
		return fmt.Errorf("%s holds %d deliveries", what, len(p.Deliveries))
	case p.Next != 0 && (len(p.Deliveries) != limit || p.Next != p.Deliveries[limit-1].Position):
		return fmt.Errorf("%s: Next %d does not follow its last delivery %s", what, p.Next, positions(p.Deliveries))
	}
	for i, d := range p.Deliveries {
		if !f.Matches(d) {
			return fmt.Errorf("%s holds %s", what, formatDelivery(d))
		}
		if (after != 0 && d.Position >= after) || (i > 0 && d.Position >= p.Deliveries[i-1].Position) {
			return fmt.Errorf("%s is out of order: %s", what, positions(p.Deliveries))
		}
		want, ok := applied.Load(d.Position)
		if !ok {
			return fmt.Errorf("%s holds %s, never applied", what, formatDelivery(d))
		}
		if diff := diffDelivery(want.(domain.Delivery), d); diff != "" {
			return fmt.Errorf("%s: %s", what, diff)
		}
	}
	return nil
}

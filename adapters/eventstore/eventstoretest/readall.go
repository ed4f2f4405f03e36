package eventstoretest

import (
	"context"
	"errors"
	"testing"
	"time"

	"herald/domain"
)

// TestReadAllPaging: ReadAll returns at most limit records above from, in position order,
// and paging through it yields every fact once.
func TestReadAllPaging(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	a, b := tc.Stream("a"), tc.Stream("b")
	start := mustLastPosition(ctx, t, s)
	type appended struct {
		stream string
		rev    uint64
		fact   domain.Fact
	}
	var want []appended
	add := func(stream string, expected domain.ExpectedRevision, firstRev uint64, fs []domain.Fact) domain.AppendResult {
		for i, f := range fs {
			want = append(want, appended{stream, firstRev + uint64(i), f})
		}
		return mustAppend(ctx, t, s, stream, expected, fs...)
	}
	add(a, domain.NoStream(), 0, facts("a1", 2))
	add(b, domain.NoStream(), 0, facts("b", 3))
	last := add(a, domain.Exact(1), 2, facts("a2", 2))

	var mine []domain.Record
	from := start
	for from < last.Position {
		page, err := s.ReadAll(ctx, from, 3)
		if err != nil {
			t.Fatalf("read all from %d: %v", from, err)
		}
		if len(page) == 0 || len(page) > 3 {
			t.Fatalf("read all from %d limit 3: %d records", from, len(page))
		}
		for _, r := range page {
			if r.Position <= from {
				t.Fatalf("read all: position %d after %d", r.Position, from)
			}
			from = r.Position
			if tc.Mine(r) {
				mine = append(mine, r)
			}
		}
	}
	if len(mine) != len(want) {
		t.Fatalf("paged through %d of the test's records, want %d", len(mine), len(want))
	}
	for i, w := range want {
		checkRecord(t, mine[i], w.stream, w.rev, w.fact)
	}

	third := mine[2]
	page, err := s.ReadAll(ctx, third.Position-1, 1)
	if err != nil {
		t.Fatalf("read all from %d: %v", third.Position-1, err)
	}
	if len(page) != 1 || page[0].Position != third.Position {
		t.Errorf("read all from %d limit 1 = %v, want the record at %d", third.Position-1, page, third.Position)
	}
	page, err = s.ReadAll(ctx, last.Position, 100)
	if err != nil {
		t.Fatalf("read all from %d: %v", last.Position, err)
	}
	for _, r := range page {
		if r.Position <= last.Position || tc.Mine(r) {
			t.Errorf("read all from the last position returned %s@%d at %d", r.Stream, r.Revision, r.Position)
		}
	}
}

// TestLastPosition: LastPosition reaches the position of every acknowledged append.
func TestLastPosition(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	before := mustLastPosition(ctx, t, s)
	res := mustAppend(ctx, t, s, tc.Stream("a"), domain.NoStream(), facts("a", 2)...)
	if res.Position <= before {
		t.Errorf("append landed at %d, not after the last position %d", res.Position, before)
	}
	if after := mustLastPosition(ctx, t, s); after < res.Position {
		t.Errorf("last position = %d after an append at %d", after, res.Position)
	}
}

// subscription follows SubscribeAll from a goroutine and passes on the test's records.
type subscription struct {
	records chan domain.Record
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
}

func subscribeMine(ctx context.Context, t *testing.T, s Store, tc TestContext, from uint64) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{records: make(chan domain.Record, 1000), cancel: cancel, done: make(chan struct{})}
	last := from
	go func() {
		defer close(sub.done)
		sub.err = s.SubscribeAll(ctx, from, func(ctx context.Context, batch []domain.Record) error {
			if len(batch) == 0 {
				t.Errorf("subscription from %d: empty batch", from)
			}
			for _, r := range batch {
				if r.Position <= last {
					t.Errorf("subscription from %d: position %d after %d", from, r.Position, last)
				}
				last = r.Position
				if !tc.Mine(r) {
					continue
				}
				select {
				case sub.records <- r:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-sub.done })
	return sub
}

// next waits for the subscription's next n records of the test.
func (sub *subscription) next(t *testing.T, n int) []domain.Record {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var got []domain.Record
	for len(got) < n {
		select {
		case r := <-sub.records:
			got = append(got, r)
		case <-sub.done:
			t.Fatalf("subscription ended after %d of %d records: %v", len(got), n, sub.err)
		case <-timeout:
			t.Fatalf("subscription delivered %d of %d records in 10s", len(got), n)
		}
	}
	return got
}

// stop cancels the subscription and returns what SubscribeAll returned.
func (sub *subscription) stop(t *testing.T) error {
	t.Helper()
	sub.cancel()
	select {
	case <-sub.done:
		return sub.err
	case <-time.After(10 * time.Second):
		t.Fatal("subscription did not return within 10s of its context being cancelled")
		return nil
	}
}

// TestSubscribeAllCatchUpThenLive: a subscription first delivers what is stored, then what
// is appended later, each record once and in order, and returns ctx.Err() when cancelled.
func TestSubscribeAllCatchUpThenLive(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	a, b, end := tc.Stream("a"), tc.Stream("b"), tc.Stream("end")
	start := mustLastPosition(ctx, t, s)
	mustAppend(ctx, t, s, a, domain.NoStream(), facts("a1", 3)...)
	mustAppend(ctx, t, s, b, domain.NoStream(), facts("b", 2)...)

	sub := subscribeMine(ctx, t, s, tc, start)
	caughtUp := sub.next(t, 5)
	for i, r := range caughtUp[:3] {
		checkRecord(t, r, a, uint64(i), facts("a1", 3)[i])
	}
	for i, r := range caughtUp[3:] {
		checkRecord(t, r, b, uint64(i), facts("b", 2)[i])
	}

	live := facts("a2", 3)
	for i, f := range live {
		mustAppend(ctx, t, s, a, domain.Exact(uint64(2+i)), f)
	}
	mustAppend(ctx, t, s, end, domain.NoStream(), fact("end"))
	got := sub.next(t, 4)
	for i, r := range got[:3] {
		checkRecord(t, r, a, uint64(3+i), live[i])
	}
	if got[3].Stream != end {
		t.Errorf("after the live records came %s@%d, want the end marker", got[3].Stream, got[3].Revision)
	}
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled subscription returned %v, want context.Canceled", err)
	}
}

// TestSubscribeAllHandlerError: a failing handler stops the subscription with its error.
func TestSubscribeAllHandlerError(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	start := mustLastPosition(ctx, t, s)
	mustAppend(ctx, t, s, tc.Stream("a"), domain.NoStream(), fact("a"))
	errStop := errors.New("handler failed")
	calls := 0
	err := s.SubscribeAll(ctx, start, func(_ context.Context, batch []domain.Record) error {
		calls++
		for _, r := range batch {
			if tc.Mine(r) {
				return errStop
			}
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("subscription returned %v, want the handler's error", err)
	}
	if calls == 0 {
		t.Fatal("handler never called")
	}
}

// TestSubscribeAllFromDifferentPositions: two subscriptions from different positions each
// get the records above their own start, stored and live.
func TestSubscribeAllFromDifferentPositions(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	a := tc.Stream("a")
	start := mustLastPosition(ctx, t, s)
	var positions []uint64
	for i, f := range facts("a", 7) {
		if i == 5 {
			break
		}
		positions = append(positions, mustAppend(ctx, t, s, a, domain.Any(), f).Position)
	}
	all := subscribeMine(ctx, t, s, tc, start)
	later := subscribeMine(ctx, t, s, tc, positions[2])
	for _, f := range facts("a", 7)[5:] {
		positions = append(positions, mustAppend(ctx, t, s, a, domain.Any(), f).Position)
	}
	check := func(name string, got []domain.Record, firstRev int) {
		for i, r := range got {
			rev := firstRev + i
			checkRecord(t, r, a, uint64(rev), facts("a", 7)[rev])
			if r.Position != positions[rev] {
				t.Errorf("%s: record %d at %d, append said %d", name, rev, r.Position, positions[rev])
			}
		}
	}
	check("from the start", all.next(t, 7), 0)
	check("from the third fact", later.next(t, 4), 3)
}

// TestSubscribeAllSeesDeletion: followers learn of a deletion through a StreamDeletedType
// record for the stream, after its facts.
func TestSubscribeAllSeesDeletion(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	a := tc.Stream("a")
	sub := subscribeMine(ctx, t, s, tc, mustLastPosition(ctx, t, s))
	res := mustAppend(ctx, t, s, a, domain.NoStream(), facts("a", 2)...)
	sub.next(t, 2)
	if err := s.DeleteStream(ctx, a, domain.Any()); err != nil {
		t.Fatalf("delete %s: %v", a, err)
	}
	got := sub.next(t, 1)[0]
	if got.Type != domain.StreamDeletedType || got.Stream != a || len(got.Data) != 0 {
		t.Errorf("after the deletion came %s %s (%d bytes), want %s for it", got.Stream, got.Type, len(got.Data), domain.StreamDeletedType)
	}
	if got.Position <= res.Position {
		t.Errorf("deletion record at %d, not after the stream's last fact at %d", got.Position, res.Position)
	}
}

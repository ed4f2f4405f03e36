package eventstoretest

import (
	"errors"
	"testing"

	"herald/domain"
)

// TestDurabilityAcrossReopen: what was acknowledged, appends and deletions alike, survives
// closing and reopening the store, and positions keep increasing without reuse.
func TestDurabilityAcrossReopen(t *testing.T, tc TestContext, newStore StoreConstructor) {
	if tc.Features.Reopen == nil {
		t.Skip("the store cannot be reopened")
	}
	ctx := testContext(t)
	s := newStore(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	a, b, c, d := tc.Stream("a"), tc.Stream("b"), tc.Stream("c"), tc.Stream("d")
	start := mustLastPosition(ctx, t, s)
	mustAppend(ctx, t, s, a, domain.NoStream(), facts("a", 3)...)
	mustAppend(ctx, t, s, b, domain.NoStream(), facts("b", 2)...)
	out, err := s.AppendMany(ctx, []domain.StreamAppend{
		{Stream: c, Expected: domain.NoStream(), Facts: facts("c", 1)},
		{Stream: a, Expected: domain.Exact(2), Facts: facts("a-more", 1)},
	})
	if err != nil || out[0].Err != nil || out[1].Err != nil {
		t.Fatalf("append many: %v %v", err, out)
	}
	if err := s.DeleteStream(ctx, b, domain.Any()); err != nil {
		t.Fatalf("delete %s: %v", b, err)
	}
	beforeA := mustRead(ctx, t, s, a)
	beforeAll := readAllMine(ctx, t, s, tc, start, mustLastPosition(ctx, t, s))
	lastBefore := mustLastPosition(ctx, t, s)

	s = tc.Features.Reopen(t, s)

	if last := mustLastPosition(ctx, t, s); last < lastBefore {
		t.Errorf("last position went back from %d to %d", lastBefore, last)
	}
	afterA := mustRead(ctx, t, s, a)
	if len(afterA) != len(beforeA) {
		t.Fatalf("%s holds %d records after reopening, %d before", a, len(afterA), len(beforeA))
	}
	for i := range afterA {
		if !sameRecord(afterA[i], beforeA[i]) {
			t.Errorf("%s record %d changed across reopening: %+v, was %+v", a, i, afterA[i], beforeA[i])
		}
	}
	if _, err := s.ReadStream(ctx, b); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("read deleted %s after reopening: err = %v, want ErrStreamDeleted", b, err)
	}
	if _, err := s.Append(ctx, b, domain.NoStream(), fact("again")); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("append to deleted %s after reopening: err = %v, want ErrStreamDeleted", b, err)
	}
	if _, err := s.Append(ctx, c, domain.NoStream(), fact("again")); !errors.Is(err, domain.ErrConcurrency) {
		t.Errorf("append to existing %s expecting no stream after reopening: err = %v, want ErrConcurrency", c, err)
	}
	next := mustAppend(ctx, t, s, a, domain.Exact(3), fact("a-after"))
	if next.NextRevision != 4 || next.Position <= lastBefore {
		t.Errorf("append after reopening: revision %d at %d, want revision 4 after position %d", next.NextRevision, next.Position, lastBefore)
	}
	fresh := mustAppend(ctx, t, s, d, domain.NoStream(), fact("d"))
	if fresh.Position <= next.Position {
		t.Errorf("append after reopening landed at %d, not after %d", fresh.Position, next.Position)
	}

	afterAll := readAllMine(ctx, t, s, tc, start, fresh.Position)
	if len(afterAll) != len(beforeAll)+2 {
		t.Fatalf("read all holds %d of the test's records after reopening, want %d", len(afterAll), len(beforeAll)+2)
	}
	for i, r := range beforeAll {
		if !sameRecord(afterAll[i], r) {
			t.Errorf("global record %d changed across reopening: %+v, was %+v", i, afterAll[i], r)
		}
	}
}

func sameRecord(a, b domain.Record) bool {
	return a.Stream == b.Stream && a.Revision == b.Revision && a.Position == b.Position &&
		a.Type == b.Type && string(a.Data) == string(b.Data) && a.Time.Equal(b.Time)
}

package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"herald/domain"
)

// TestAppendAndReadStream: facts come back in order, with revisions from 0, strictly
// increasing positions and the time the store accepted them.
func TestAppendAndReadStream(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	stream := tc.Stream("a")
	want := facts("a", 5)

	first := mustAppend(ctx, t, s, stream, domain.NoStream(), want[:3]...)
	if first.NextRevision != 2 {
		t.Errorf("first append: next revision = %d, want 2", first.NextRevision)
	}
	second := mustAppend(ctx, t, s, stream, domain.Exact(2), want[3:]...)
	if second.NextRevision != 4 {
		t.Errorf("second append: next revision = %d, want 4", second.NextRevision)
	}
	if second.Position <= first.Position {
		t.Errorf("second append: position %d, not after %d", second.Position, first.Position)
	}

	got := mustRead(ctx, t, s, stream)
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		checkRecord(t, r, stream, uint64(i), want[i])
		if i > 0 && r.Position <= got[i-1].Position {
			t.Errorf("record %d: position %d, not after %d", i, r.Position, got[i-1].Position)
		}
	}
	if got[2].Position != first.Position || got[4].Position != second.Position {
		t.Errorf("positions of last facts = %d, %d; appends said %d, %d", got[2].Position, got[4].Position, first.Position, second.Position)
	}
}

// TestExpectedRevision: every kind of expectation lets the right appends through, and a
// failed append wraps domain.ErrConcurrency and changes nothing.
func TestExpectedRevision(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	cases := []struct {
		name     string
		existing int // facts in the stream before the append
		expected domain.ExpectedRevision
		ok       bool
	}{
		{"any on missing stream", 0, domain.Any(), true},
		{"any on existing stream", 2, domain.Any(), true},
		{"no stream on missing stream", 0, domain.NoStream(), true},
		{"no stream on existing stream", 1, domain.NoStream(), false},
		{"stream exists on missing stream", 0, domain.StreamExists(), false},
		{"stream exists on existing stream", 1, domain.StreamExists(), true},
		{"exact at current revision", 2, domain.Exact(1), true},
		{"exact behind", 2, domain.Exact(0), false},
		{"exact ahead", 2, domain.Exact(2), false},
		{"exact on missing stream", 0, domain.Exact(0), false},
	}
	for i, c := range cases {
		stream := tc.Stream(fmt.Sprint("case", i))
		if c.existing > 0 {
			mustAppend(ctx, t, s, stream, domain.NoStream(), facts("before", c.existing)...)
		}
		res, err := s.Append(ctx, stream, c.expected, fact("new"))
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if res.NextRevision != uint64(c.existing) {
				t.Errorf("%s: next revision = %d, want %d", c.name, res.NextRevision, c.existing)
			}
			if got := mustRead(ctx, t, s, stream); len(got) != c.existing+1 {
				t.Errorf("%s: stream holds %d records, want %d", c.name, len(got), c.existing+1)
			}
			continue
		}
		if !errors.Is(err, domain.ErrConcurrency) {
			t.Errorf("%s: err = %v, want ErrConcurrency", c.name, err)
		}
		got, err := s.ReadStream(ctx, stream)
		switch {
		case c.existing == 0 && !errors.Is(err, domain.ErrStreamNotFound):
			t.Errorf("%s: after failed append, read err = %v, want ErrStreamNotFound", c.name, err)
		case c.existing > 0 && len(got) != c.existing:
			t.Errorf("%s: after failed append, stream holds %d records (err %v), want %d", c.name, len(got), err, c.existing)
		}
	}
}

// TestReadMissingStream: a stream never written is not found.
func TestReadMissingStream(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	got, err := s.ReadStream(ctx, tc.Stream("missing"))
	if !errors.Is(err, domain.ErrStreamNotFound) {
		t.Fatalf("read missing stream: %d records, err = %v, want ErrStreamNotFound", len(got), err)
	}
}

// TestReadLast: the newest fact of a stream comes back as ReadStream gives it, after every
// append; a stream never written is not found, a deleted one is deleted.
func TestReadLast(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	stream, other := tc.Stream("last"), tc.Stream("other")
	if r, err := s.ReadLast(ctx, stream); !errors.Is(err, domain.ErrStreamNotFound) {
		t.Fatalf("read the last fact of a missing stream: %+v, err = %v, want ErrStreamNotFound", r, err)
	}
	want := facts("last", 4)
	mustAppend(ctx, t, s, stream, domain.NoStream(), want[:3]...)
	mustAppend(ctx, t, s, other, domain.NoStream(), fact("other"))
	for i, f := range [][]domain.Fact{nil, want[3:]} {
		if f != nil {
			mustAppend(ctx, t, s, stream, domain.Exact(2), f...)
		}
		all := mustRead(ctx, t, s, stream)
		last, err := s.ReadLast(ctx, stream)
		if err != nil {
			t.Fatalf("read the last fact (%d): %v", i, err)
		}
		if !sameRecord(last, all[len(all)-1]) {
			t.Errorf("last fact (%d) = %+v, want %+v", i, last, all[len(all)-1])
		}
	}
	if err := s.DeleteStream(ctx, stream, domain.Any()); err != nil {
		t.Fatal(err)
	}
	if r, err := s.ReadLast(ctx, stream); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("read the last fact of a deleted stream: %+v, err = %v, want ErrStreamDeleted", r, err)
	}
}

// TestCanceledContext: a call given up because its context ended says so (errors.Is
// context.Canceled), whatever the store's own error looks like, so that callers can tell a
// cancel from a failure. A store may also finish a call that needs no waiting.
func TestCanceledContext(t *testing.T, tc TestContext, newStore StoreConstructor) {
	s := openStore(t, newStore)
	stream := tc.Stream("canceled")
	if _, err := s.Append(testContext(t), stream, domain.NoStream(), domain.Fact{Type: "Tested", Data: []byte(`{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	if _, err := s.ReadStream(ctx, stream); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("read with a canceled context: %v, want an error that is context.Canceled", err)
	}
	if _, err := s.ReadAll(ctx, 0, 10); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("read the log with a canceled context: %v, want an error that is context.Canceled", err)
	}
	if _, err := s.Append(ctx, stream, domain.Any(), domain.Fact{Type: "Tested", Data: []byte(`{"v":1}`)}); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("append with a canceled context: %v, want an error that is context.Canceled", err)
	}
}

// TestAppendManyMixedOutcomes: each append of a batch succeeds or fails on its own, and the
// successes are readable once AppendMany returns.
func TestAppendManyMixedOutcomes(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	existing, fresh1, fresh2, missing := tc.Stream("existing"), tc.Stream("fresh1"), tc.Stream("fresh2"), tc.Stream("missing")
	before := mustAppend(ctx, t, s, existing, domain.NoStream(), fact("existing-0"))

	batch := []domain.StreamAppend{
		{Stream: fresh1, Expected: domain.NoStream(), Facts: facts("fresh1", 1)},
		{Stream: existing, Expected: domain.NoStream(), Facts: facts("conflict", 1)},
		{Stream: fresh2, Expected: domain.NoStream(), Facts: facts("fresh2", 2)},
		{Stream: existing, Expected: domain.Exact(0), Facts: facts("existing-1", 1)},
		{Stream: missing, Expected: domain.StreamExists(), Facts: facts("missing", 1)},
	}
	out, err := s.AppendMany(ctx, batch)
	if err != nil {
		t.Fatalf("append many: %v", err)
	}
	if len(out) != len(batch) {
		t.Fatalf("append many: %d outcomes for %d appends", len(out), len(batch))
	}
	wantRev := []uint64{0, 0, 1, 1, 0}
	wantOK := []bool{true, false, true, true, false}
	seen := map[uint64]bool{}
	for i, o := range out {
		if !wantOK[i] {
			if !errors.Is(o.Err, domain.ErrConcurrency) {
				t.Errorf("append %d (%s): err = %v, want ErrConcurrency", i, batch[i].Stream, o.Err)
			}
			continue
		}
		if o.Err != nil {
			t.Errorf("append %d (%s): %v", i, batch[i].Stream, o.Err)
			continue
		}
		if o.Result.NextRevision != wantRev[i] {
			t.Errorf("append %d: next revision = %d, want %d", i, o.Result.NextRevision, wantRev[i])
		}
		if o.Result.Position <= before.Position || seen[o.Result.Position] {
			t.Errorf("append %d: position %d reused or not after %d", i, o.Result.Position, before.Position)
		}
		seen[o.Result.Position] = true
	}

	for stream, want := range map[string][]domain.Fact{
		fresh1:   batch[0].Facts,
		fresh2:   batch[2].Facts,
		existing: {fact("existing-0"), batch[3].Facts[0]},
	} {
		got := mustRead(ctx, t, s, stream)
		if len(got) != len(want) {
			t.Errorf("%s holds %d records, want %d", stream, len(got), len(want))
			continue
		}
		for i := range got {
			checkRecord(t, got[i], stream, uint64(i), want[i])
		}
	}
	if _, err := s.ReadStream(ctx, missing); !errors.Is(err, domain.ErrStreamNotFound) {
		t.Errorf("read %s: err = %v, want ErrStreamNotFound", missing, err)
	}
}

// TestAppendManyDuplicateInBatch: the same new stream twice in one batch (a redelivered
// event) is recorded once; the other append fails with ErrConcurrency.
func TestAppendManyDuplicateInBatch(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	dup, other := tc.Stream("dup"), tc.Stream("other")
	batch := []domain.StreamAppend{
		{Stream: dup, Expected: domain.NoStream(), Facts: []domain.Fact{fact("first")}},
		{Stream: other, Expected: domain.NoStream(), Facts: []domain.Fact{fact("other")}},
		{Stream: dup, Expected: domain.NoStream(), Facts: []domain.Fact{fact("second")}},
	}
	out, err := s.AppendMany(ctx, batch)
	if err != nil {
		t.Fatalf("append many: %v", err)
	}
	if len(out) != len(batch) {
		t.Fatalf("append many: %d outcomes for %d appends", len(out), len(batch))
	}
	if out[1].Err != nil {
		t.Errorf("append to %s: %v", other, out[1].Err)
	}
	winner := -1
	for _, i := range []int{0, 2} {
		switch {
		case out[i].Err == nil && winner == -1:
			winner = i
		case out[i].Err == nil:
			t.Errorf("both appends to %s succeeded", dup)
		case !errors.Is(out[i].Err, domain.ErrConcurrency):
			t.Errorf("append %d to %s: err = %v, want ErrConcurrency", i, dup, out[i].Err)
		}
	}
	if winner == -1 {
		t.Fatalf("no append to %s succeeded", dup)
	}
	got := mustRead(ctx, t, s, dup)
	if len(got) != 1 {
		t.Fatalf("%s holds %d records, want 1", dup, len(got))
	}
	checkRecord(t, got[0], dup, 0, batch[winner].Facts[0])
	if got[0].Position != out[winner].Result.Position {
		t.Errorf("%s: position %d, append said %d", dup, got[0].Position, out[winner].Result.Position)
	}
}

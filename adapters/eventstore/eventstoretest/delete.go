package eventstoretest

import (
	"errors"
	"testing"

	"herald/domain"
)

// TestDeleteStream: a deleted stream can be neither read nor written again, other streams
// are untouched, and the global log gets a StreamDeletedType record for it after its facts.
func TestDeleteStream(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	a, b := tc.Stream("a"), tc.Stream("b")
	start := mustLastPosition(ctx, t, s)
	mustAppend(ctx, t, s, a, domain.NoStream(), facts("a", 2)...)
	mustAppend(ctx, t, s, b, domain.NoStream(), fact("b"))
	lastOfA := mustAppend(ctx, t, s, a, domain.Exact(1), fact("a-2"))

	if err := s.DeleteStream(ctx, a, domain.Any()); err != nil {
		t.Fatalf("delete %s: %v", a, err)
	}
	if got, err := s.ReadStream(ctx, a); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("read deleted stream: %d records, err = %v, want ErrStreamDeleted", len(got), err)
	}
	for _, expected := range []domain.ExpectedRevision{domain.Any(), domain.NoStream(), domain.StreamExists(), domain.Exact(2)} {
		if _, err := s.Append(ctx, a, expected, fact("again")); !errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("append to deleted stream (%s): err = %v, want ErrStreamDeleted", expected, err)
		}
	}
	out, err := s.AppendMany(ctx, []domain.StreamAppend{
		{Stream: a, Expected: domain.NoStream(), Facts: []domain.Fact{fact("again")}},
		{Stream: b, Expected: domain.Exact(0), Facts: []domain.Fact{fact("b-1")}},
	})
	if err != nil {
		t.Fatalf("append many: %v", err)
	}
	if !errors.Is(out[0].Err, domain.ErrStreamDeleted) || out[1].Err != nil {
		t.Errorf("append many to deleted and live streams: errs = %v, %v; want ErrStreamDeleted, nil", out[0].Err, out[1].Err)
	}
	if err := s.DeleteStream(ctx, a, domain.Any()); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("delete deleted stream: err = %v, want ErrStreamDeleted", err)
	}
	if got := mustRead(ctx, t, s, b); len(got) != 2 {
		t.Errorf("%s holds %d records after %s was deleted, want 2", b, len(got), a)
	}

	var deletions, factsOfA int
	for _, r := range readAllMine(ctx, t, s, tc, start, mustLastPosition(ctx, t, s)) {
		switch {
		case r.Stream == a && r.Type == domain.StreamDeletedType:
			deletions++
			if r.Position <= lastOfA.Position {
				t.Errorf("deletion record at %d, not after the stream's last fact at %d", r.Position, lastOfA.Position)
			}
			if len(r.Data) != 0 {
				t.Errorf("deletion record carries %d bytes of data", len(r.Data))
			}
		case r.Stream == a:
			factsOfA++
			if deletions > 0 {
				t.Errorf("fact %s@%d after the deletion record", a, r.Revision)
			}
		}
	}
	if deletions != 1 {
		t.Errorf("read all holds %d deletion records for %s, want 1", deletions, a)
	}
	if tc.Features.DeletedFactsLeaveAll && factsOfA != 0 {
		t.Errorf("read all still holds %d facts of deleted %s", factsOfA, a)
	}
}

// TestDeleteStreamWrongExpectation: a deletion checks the expected revision like an append.
func TestDeleteStreamWrongExpectation(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	a, b := tc.Stream("a"), tc.Stream("b")
	mustAppend(ctx, t, s, a, domain.NoStream(), facts("a", 2)...)
	mustAppend(ctx, t, s, b, domain.NoStream(), fact("b"))
	for _, expected := range []domain.ExpectedRevision{domain.Exact(0), domain.Exact(2), domain.NoStream()} {
		if err := s.DeleteStream(ctx, a, expected); !errors.Is(err, domain.ErrConcurrency) {
			t.Errorf("delete expecting %s: err = %v, want ErrConcurrency", expected, err)
		}
	}
	if got := mustRead(ctx, t, s, a); len(got) != 2 {
		t.Fatalf("%s holds %d records after failed deletions, want 2", a, len(got))
	}
	if err := s.DeleteStream(ctx, a, domain.Exact(1)); err != nil {
		t.Errorf("delete expecting the current revision: %v", err)
	}
	if err := s.DeleteStream(ctx, b, domain.StreamExists()); err != nil {
		t.Errorf("delete expecting the stream to exist: %v", err)
	}
	for _, stream := range []string{a, b} {
		if _, err := s.ReadStream(ctx, stream); !errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("read %s: err = %v, want ErrStreamDeleted", stream, err)
		}
	}
}

// TestDeleteMissingStream: deleting a stream never written is not found.
func TestDeleteMissingStream(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	if err := s.DeleteStream(ctx, tc.Stream("missing"), domain.Any()); !errors.Is(err, domain.ErrStreamNotFound) {
		t.Fatalf("delete missing stream: err = %v, want ErrStreamNotFound", err)
	}
}

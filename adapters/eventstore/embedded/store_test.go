package embedded_test

import (
	"context"
	"errors"
	"testing"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/eventstore/eventstoretest"
	"herald/domain"
)

var _ eventstoretest.Store = (*embedded.Store)(nil)

func TestStore(t *testing.T) {
	open := func(t *testing.T, dir string) eventstoretest.Store {
		t.Helper()
		s, err := embedded.Open(dir, embedded.Options{})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	}
	features := eventstoretest.Features{
		DeletedFactsLeaveAll: true,
		Reopen: func(t *testing.T, s eventstoretest.Store) eventstoretest.Store {
			dir := s.(*embedded.Store).Dir()
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			return open(t, dir)
		},
	}
	eventstoretest.TestStore(t, features, func(t *testing.T) eventstoretest.Store {
		return open(t, t.TempDir())
	})
}

// One store shared by every contract test at once, as a KurrentDB server would be: the
// tests must keep to their own streams, and the store must keep them apart under load.
func TestStore_sharedByAllContractTests(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	t.Run("contract", func(t *testing.T) {
		eventstoretest.TestStore(t, eventstoretest.Features{DeletedFactsLeaveAll: true}, func(*testing.T) eventstoretest.Store {
			return sharedStore{s}
		})
	})
}

// sharedStore leaves closing to its owner.
type sharedStore struct{ *embedded.Store }

func (sharedStore) Close() error { return nil }

func TestStore_rejectsBadAppends(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "", domain.Any(), domain.Fact{Type: "X"}); !errors.Is(err, embedded.ErrInvalidStream) {
		t.Errorf("empty stream name: err = %v, want ErrInvalidStream", err)
	}
	if _, err := s.Append(ctx, "a\x00b", domain.Any(), domain.Fact{Type: "X"}); !errors.Is(err, embedded.ErrInvalidStream) {
		t.Errorf("stream name with NUL: err = %v, want ErrInvalidStream", err)
	}
	if _, err := s.Append(ctx, "a", domain.Any()); !errors.Is(err, embedded.ErrNoFacts) {
		t.Errorf("no facts: err = %v, want ErrNoFacts", err)
	}
	if p, err := s.LastPosition(ctx); err != nil || p != 0 {
		t.Errorf("last position after rejected appends = %d, %v; want 0", p, err)
	}
}

func TestStore_closeFailsLaterCalls(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, "a", domain.NoStream(), domain.Fact{Type: "X"}); err != nil {
		t.Fatalf("append: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.SubscribeAll(ctx, 0, func(context.Context, []domain.Record) error { return nil })
	}()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := <-done; !errors.Is(err, embedded.ErrClosed) {
		t.Errorf("subscription after close returned %v, want ErrClosed", err)
	}
	if _, err := s.Append(ctx, "b", domain.NoStream(), domain.Fact{Type: "X"}); !errors.Is(err, embedded.ErrClosed) {
		t.Errorf("append after close: err = %v, want ErrClosed", err)
	}
	if _, err := s.ReadStream(ctx, "a"); !errors.Is(err, embedded.ErrClosed) {
		t.Errorf("read after close: err = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

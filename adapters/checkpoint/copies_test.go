package checkpoint

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/domain"
)

func TestCopies_latestIsTheNewestCopy(t *testing.T) {
	ctx := context.Background()
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	copies := NewCopies(store, func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) })
	if p, err := copies.Latest(ctx); err != nil || p != 0 {
		t.Fatalf("no copy yet: %d, %v; want 0", p, err)
	}
	for _, position := range []uint64{5, 40, 41} {
		if err := copies.Copy(ctx, position); err != nil {
			t.Fatal(err)
		}
		if got, err := copies.Latest(ctx); err != nil || got != position {
			t.Fatalf("after copying %d: %d, %v", position, got, err)
		}
	}
	records, err := store.ReadStream(ctx, domain.DispatchCheckpointStream)
	if err != nil || len(records) != 3 || records[0].Type != domain.DispatchCheckpointCopiedType {
		t.Fatalf("the copies' stream: %+v, %v", records, err)
	}
	if f, err := domain.DecodeDispatchCheckpointCopied(records[0].Data); err != nil || f.Position != 5 || !f.CopiedAt.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("the first copy: %+v, %v", f, err)
	}

	// A copy a newer herald wrote is not taken for a position: the error says where it is.
	if _, err := store.Append(ctx, domain.DispatchCheckpointStream, domain.Any(), domain.Fact{Type: domain.DispatchCheckpointCopiedType, Data: []byte(`{"v":9,"position":50}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := copies.Latest(ctx); !errors.Is(err, domain.ErrUnknownFactVersion) || !strings.Contains(err.Error(), "copy of the dispatcher's checkpoint (revision 3 of herald-dispatchcheckpoint)") {
		t.Fatalf("a copy of a newer version: %v", err)
	}

	// A stream deleted by hand holds no copy: the dispatcher starts from its own checkpoint.
	if err := store.DeleteStream(ctx, domain.DispatchCheckpointStream, domain.Any()); err != nil {
		t.Fatal(err)
	}
	if p, err := copies.Latest(ctx); err != nil || p != 0 {
		t.Fatalf("a deleted stream of copies: %d, %v; want 0", p, err)
	}
}

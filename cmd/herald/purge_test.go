package main

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

// A clear whose purge did not run (herald stopped right after recording it) is purged at the
// next start: the events stay hidden and their streams are deleted.
func TestServe_finishesAnInterruptedPurgeAtStart(t *testing.T) {
	dir := t.TempDir()
	app := startTestApp(t, dir, testSecretKey)
	ids := []string{"purge-me-1", "purge-me-2"}
	for i, id := range ids {
		app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": []any{tenantEvent(id, domain.AdminAccount, i)}})
	}
	app.stop()

	store, err := embedded.Open(dir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	upTo, _ := store.LastPosition(ctx)
	criteria := domain.EventFilter{Account: domain.AdminAccount, Type: "user.image.*"}
	scheduled := domain.PurgeScheduled{ClearID: "c1", Account: domain.AdminAccount, Criteria: criteria, UpTo: upTo, ScheduledAt: time.Now()}
	cleared := domain.EventsCleared{Criteria: criteria, Count: len(ids), UpTo: upTo, ClearID: "c1", ClearedAt: time.Now()}
	if _, err := store.Append(ctx, domain.PurgesStream, domain.Any(), scheduled.Encode()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, domain.EventLogStream(domain.AdminAccount), domain.Any(), cleared.Encode()); err != nil {
		t.Fatal(err)
	}
	store.Close()

	app = startTestApp(t, dir, testSecretKey)
	waitFor(t, "the purge finished at start", 10*time.Second, func() bool {
		return strings.Contains(app.logs.String(), "finished the purges of earlier clears")
	})
	if !strings.Contains(app.logs.String(), "deleted=2") {
		t.Fatalf("the start did not delete both streams:\n%s", app.logs)
	}
	list := app.mustGQL(adminAuth(), `{ events { totalCount } }`, nil)
	if n := list["events"].(map[string]any)["totalCount"]; n != float64(0) {
		t.Fatalf("after the purge the log lists %v events, want 0", n)
	}
	app.stop()

	store, err = embedded.Open(dir, embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, id := range ids {
		if _, err := store.ReadStream(ctx, domain.LogEventStream(id)); !errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("the payload of %s is still in the store: %v", id, err)
		}
	}
}

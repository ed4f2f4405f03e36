package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// sickStore is an embedded store that reports it cannot write.
type sickStore struct{ *embedded.Store }

func (sickStore) Health() error { return errors.New("the disk is full or failing") }

func TestReady_saysWhenTheStoreCannotWrite(t *testing.T) {
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, tc := range []struct {
		store  eventStore
		status int
		body   string
	}{
		{store, http.StatusOK, `"status":"ready"`},
		{sickStore{store}, http.StatusServiceUnavailable, `"error":"the disk is full or failing"`},
	} {
		a := &app{store: tc.store}
		rec := httptest.NewRecorder()
		a.ready(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("/readyz = %d %s, want %d with %s", rec.Code, rec.Body, tc.status, tc.body)
		}
	}
}

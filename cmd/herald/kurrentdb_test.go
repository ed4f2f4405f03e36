package main

import (
	"slices"
	"strings"
	"testing"

	"herald/adapters/eventstore/kurrentdb/standin"
)

// One herald on KurrentDB (the in-process stand-in) with views in memory: events recorded,
// one deleted (its stream tombstoned, which the view reads from $all as the deletion), and
// after a restart the views rebuilt from KurrentDB hold the same.
func TestKurrentDB_recordDeleteAndRebuildAfterRestart(t *testing.T) {
	db, err := standin.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	cfg := testServeConfig(t.TempDir(), testSecretKey)
	cfg.EventStore.URL = db.URL()
	app := startTestAppConfig(t, cfg)
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	ids := recordAliceEvents(app, "kdb", 5)
	db.WriteStatsEvent() // a system event between herald's: filtered out, positions stay sound
	again := app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": []any{tenantEvent(ids[0], "alice", 0)}})
	if got := again["recordEvents"].(map[string]any)["duplicates"]; got != float64(1) {
		t.Fatalf("recording %s again: %v duplicates, want 1", ids[0], got)
	}
	app.mustGQL(adminAuth(), `mutation($id: ID!) { deleteEvent(id: $id) { id } }`, map[string]any{"id": ids[2]})
	want := []string{ids[4], ids[3], ids[1], ids[0]} // newest first
	list := func(a *testApp) []string {
		return eventIDs(a.mustGQL(adminAuth(), `query { events(first: 100) { nodes { id } } }`, nil))
	}
	if got := list(app); !slices.Equal(got, want) {
		t.Fatalf("events after the deletion: %v, want %v", got, want)
	}
	app.stop()

	app = startTestAppConfig(t, cfg) // memory views: rebuilt from KurrentDB
	if got := list(app); !slices.Equal(got, want) {
		t.Fatalf("events after the restart: %v, want %v", got, want)
	}
	if strings.Contains(app.logs.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", app.logs)
	}
}

package redis

import (
	"testing"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
	"herald/projections"
)

func newTestView(t testing.TB, opts Options) *EventLog {
	t.Helper()
	client := shared.Client(t)
	opts.Prefix = redistest.Prefix(t)
	v, err := NewEventLog(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEventLog(t *testing.T) {
	viewstest.TestEventLogView(t, func(t *testing.T) projections.EventLogView { return newTestView(t, Options{}) })
}

// TestEventLog_smallScripts runs the tests of the suite that apply and walk the most with
// scripts and budgets so small that every Apply is a chain of many scripts and every walk
// yields and resumes many times.
func TestEventLog_smallScripts(t *testing.T) {
	newView := func(t *testing.T) projections.EventLogView {
		return newTestView(t, Options{ChangesPerScript: 7, QueryBudget: 100, ClearBudget: 100})
	}
	for name, test := range map[string]func(*testing.T, viewstest.NewView){
		"PageCombinedFilters":       viewstest.TestPageCombinedFilters,
		"PaginationWhileRecording":  viewstest.TestPaginationWhileRecording,
		"Deleted":                   viewstest.TestDeleted,
		"Cleared":                   viewstest.TestCleared,
		"ClearedKeepsLaterEntries":  viewstest.TestClearedKeepsLaterEntries,
		"RandomHistory":             viewstest.TestRandomHistory,
		"ConcurrentReadsAndApplies": viewstest.TestConcurrentReadsAndApplies,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newView)
		})
	}
}

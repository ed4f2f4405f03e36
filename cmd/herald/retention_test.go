package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herald/commands"
)

// TestRetention_perAccount: events older than their account's retention are cleared: an
// account's own retention where it has one, the server's --retention elsewhere, and the
// longest retention in force for events of names that are no account. Going back to the
// default is taken up by the next run.
func TestRetention_perAccount(t *testing.T) {
	cfg := testServeConfig(t.TempDir(), "")
	cfg.Retention = retention(48 * time.Hour)
	cfg.retentionEvery = 100 * time.Millisecond
	app := startTestAppConfig(t, cfg)
	for _, name := range []string{"alice", "bob"} {
		app.mustGQL(adminAuth(), `mutation($n: String!) { createAccount(name: $n) { name } }`, map[string]any{"n": name})
	}
	set := app.mustGQL(adminAuth(), `mutation { setAccountRetention(account: "alice", retention: "5d") { name retention } }`, nil)
	if got := set["setAccountRetention"].(map[string]any)["retention"]; got != "5d" {
		t.Fatalf("alice's retention reads %v, want 5d", got)
	}
	now := time.Now()
	event := func(id, account string, age time.Duration) map[string]any {
		e := tenantEvent(id, account, 0)
		e["timestamp"] = now.Add(-age).UTC().Format(time.RFC3339Nano)
		return e
	}
	day := 24 * time.Hour
	app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": []any{
		event("alice-3d", "alice", 3*day), event("alice-6d", "alice", 6*day), event("alice-new", "alice", time.Hour),
		event("bob-3d", "bob", 3*day), event("bob-1d", "bob", day),
		event("ghost-3d", "ghost", 3*day), event("ghost-6d", "ghost", 6*day),
	}})
	ids := func() []string {
		var out []string
		for _, e := range app.mustGQL(adminAuth(), `query { events(first: 100) { nodes { id } } }`, nil)["events"].(map[string]any)["nodes"].([]any) {
			out = append(out, e.(map[string]any)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	want := []string{"alice-3d", "alice-new", "bob-1d", "ghost-3d"}
	waitFor(t, "the expired events cleared", 10*time.Second, func() bool { return slices.Equal(ids(), want) })

	app.mustGQL(adminAuth(), `mutation { setAccountRetention(account: "alice", retention: null) { name } }`, nil)
	want = []string{"alice-new", "bob-1d"} // alice at the default now; ghost's longest age is the default again
	waitFor(t, "alice's events at the default retention", 10*time.Second, func() bool { return slices.Equal(ids(), want) })

	app.mustGQL(adminAuth(), `mutation { setAccountRetention(account: "bob", retention: "30d") { name } }`, nil)
	for bad, says := range map[string]string{
		"10m":     "shorter than the shortest retention",
		"forever": `\"forever\": want a number of days`,
		"-3d":     `\"-3d\" is negative`,
		"0h":      `\"0h\" keeps nothing; the shortest retention is 1h0m0s; for the server's default, give null`,
		"0d":      `\"0d\" keeps nothing`,
		"0":       `\"0\" keeps nothing`,
	} {
		res := app.gql(adminAuth(), `mutation($r: String) { setAccountRetention(account: "bob", retention: $r) { name } }`, map[string]any{"r": bad})
		if res.code() != "BAD_USER_INPUT" || res.field() != "retention" || !strings.Contains(res.Raw, says) {
			t.Errorf("retention %q: %s, want refused with %s", bad, res.Raw, says)
		}
	}
	kept := app.mustGQL(adminAuth(), `{ account(name: "bob") { retention } }`, nil)
	if got := kept["account"].(map[string]any)["retention"]; got != "30d" {
		t.Errorf("bob's retention after refused changes reads %v, want 30d still", got)
	}
	if res := app.gql(adminAuth(), `mutation { setAccountRetention(account: "nobody", retention: "3d") { name } }`, nil); len(res.Errors) == 0 {
		t.Errorf("retention of an unknown account: %s, want refused", res.Raw)
	}
}

// runRetention runs at once when the shortest retention in force changes (an account was
// given one), not up to an interval later, and otherwise every 1% of the shortest; with none
// in force it clears nothing.
func TestRunRetention_takesUpANewRetentionWithinACheck(t *testing.T) {
	job := &countingRetention{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { runRetention(ctx, job, 0, 0, 10*time.Millisecond, slog.New(slog.DiscardHandler)); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(100 * time.Millisecond)
	if n := job.runs.Load(); n != 0 {
		t.Fatalf("%d runs with no retention in force, want none", n)
	}
	job.shortest.Store(int64(time.Hour)) // an account was given 1h
	waitFor(t, "a run after an account was given a retention", time.Second, func() bool { return job.runs.Load() == 1 })
	time.Sleep(100 * time.Millisecond)
	if n := job.runs.Load(); n != 1 {
		t.Fatalf("%d runs within 100 ms of 1h retention, want 1: the next is due in 36 s", n)
	}
	job.shortest.Store(int64(30 * time.Minute))
	waitFor(t, "a run after the shortest retention changed", time.Second, func() bool { return job.runs.Load() == 2 })
}

type countingRetention struct {
	shortest atomic.Int64
	runs     atomic.Int32
}

func (c *countingRetention) Handle(context.Context, commands.ApplyRetention) (commands.ApplyRetentionResult, error) {
	c.runs.Add(1)
	return commands.ApplyRetentionResult{}, nil
}

func (c *countingRetention) Shortest(context.Context, time.Duration) (time.Duration, error) {
	return time.Duration(c.shortest.Load()), nil
}

package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"herald/adapters/views/redis/redistest"
)

// TestE2E_redisViewSurvivesSIGKILLMidApply keeps the views in a real redis-server, kills the
// applying herald with SIGKILL in the middle of a rebuild, starts it again on the same data
// and Redis, and checks that it takes the lease over and that the view then holds exactly
// the events of the log, in order.
func TestE2E_redisViewSurvivesSIGKILLMidApply(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Persistent: true})
	dir, port := t.TempDir(), freePort(t)
	flags := []string{"--redis-url", "redis://" + srv.Addr() + "/0", "--secret-key", strings.Repeat("ab", 32), "--redis-lease-ttl", "1s"}
	s := startServer(t, dir, port, flags...)
	var want []string
	for b := range 10 {
		batch := make([]map[string]any, 1000)
		for i := range batch {
			id := fmt.Sprintf("redis%02d%04d", b, i)
			want = append(want, id)
			batch[i] = map[string]any{"id": id, "timestamp": fmt.Sprintf("2020-01-01T%02d:%02d:%02dZ", b, i/60, i%60),
				"level": "INFO", "type": "system.feeds.sync.completed", "message": "synced"}
		}
		s.record(batch...)
	}
	if data, errs := s.graphql(`mutation { rebuildProjection(name: "eventlog") { name position } }`, nil); len(errs) > 0 {
		t.Fatalf("rebuild: %v %v", data, errs)
	}
	time.Sleep(30 * time.Millisecond) // let the rebuild apply part of the log
	s.kill()

	s = startServer(t, dir, port, flags...) // waits for /readyz: the lease taken over, the view caught up
	deadline := time.Now().Add(30 * time.Second)
	for s.count(nil) != len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the view holds %d events, want %d", s.count(nil), len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := s.eventIDs()
	sort.Sort(sort.Reverse(sort.StringSlice(want))) // ids grow with the timestamps: newest first
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("the view after the SIGKILL differs from the log: %d events, first %v", len(got), got[:min(5, len(got))])
	}
}

// eventIDs pages through the whole event log, newest first.
func (s *server) eventIDs() []string {
	s.t.Helper()
	var ids []string
	after := any(nil)
	for {
		data, errs := s.graphql(`query($after: String) { events(first: 1000, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }`, map[string]any{"after": after})
		if len(errs) > 0 {
			s.t.Fatal(errs)
		}
		events := data["events"].(map[string]any)
		for _, n := range events["nodes"].([]any) {
			ids = append(ids, n.(map[string]any)["id"].(string))
		}
		page := events["pageInfo"].(map[string]any)
		if page["hasNextPage"] != true {
			return ids
		}
		after = page["endCursor"]
	}
}

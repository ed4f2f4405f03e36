package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// A receiver that deduplicates by idempotency key, slow enough that herald is killed while
// notifications are in flight.
type dedupingReceiver struct {
	mu    sync.Mutex
	seen  map[string]int
	total int
}

func (d *dedupingReceiver) handler(w http.ResponseWriter, r *http.Request) {
	time.Sleep(5 * time.Millisecond)
	d.mu.Lock()
	d.seen[r.Header.Get("Idempotency-Key")]++
	d.total++
	d.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (d *dedupingReceiver) counts() (distinct, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen), d.total
}

func TestE2E_deliverySurvivesSIGKILLAndTheCLI(t *testing.T) {
	rcv := &dedupingReceiver{seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(rcv.handler))
	defer srv.Close()
	dir := t.TempDir()
	port := freePort(t)
	flags := []string{"--outbound-allow", "127.0.0.1/32", "--notify-retry-interval", "50ms", "--notify-rate-limits", "webhook=0"}
	s := startServer(t, dir, port, flags...)
	out := s.mustCLI("notifications", "config", "add", "webhook", "--name", "sink", "--set", "url="+srv.URL+"/hook", "--quick-selection", "global-all")
	id := strings.Fields(out)[3]

	// The CLI's test command reaches the receiver and says so.
	if got := s.mustCLI("notifications", "config", "test", id); !strings.HasPrefix(got, "Delivered: the receiver answered 204") {
		t.Fatalf("config test printed %q", got)
	}
	if _, errOut, err := s.cli("", "notifications", "config", "test", "--kind", "webhook", "--set", "url=http://169.254.169.254/"); err == nil {
		t.Fatalf("a test to the metadata address succeeded: %s", errOut)
	}

	// Record 300 events; kill herald with SIGKILL while their notifications are in flight.
	const n = 300
	var events []map[string]any
	for i := range n {
		events = append(events, map[string]any{"id": fmt.Sprintf("kill-%03d", i), "level": "ERROR", "type": "system.service.down", "message": "down",
			"resource": map[string]any{"id": "svc", "type": "service", "userId": "admin"}, "source": map[string]any{"serviceName": "catalog", "hostId": "h"}})
	}
	s.record(events...)
	deadline := time.Now().Add(10 * time.Second)
	for d, _ := rcv.counts(); d < n/5 && time.Now().Before(deadline); d, _ = rcv.counts() {
		time.Sleep(5 * time.Millisecond)
	}
	s.kill()
	killedAt, _ := rcv.counts()
	if killedAt >= n {
		t.Fatalf("every notification arrived before the kill (%d); the test needs a slower receiver", killedAt)
	}
	s = startServer(t, dir, port, flags...)
	deadline = time.Now().Add(30 * time.Second)
	for d, _ := rcv.counts(); d < n+1 && time.Now().Before(deadline); d, _ = rcv.counts() {
		time.Sleep(20 * time.Millisecond)
	}
	distinct, total := rcv.counts()
	if distinct != n+1 { // the test notification has its own key
		t.Fatalf("after the restart the receiver has %d distinct notifications, want %d (killed at %d)", distinct, n+1, killedAt)
	}
	t.Logf("killed after %d notifications; %d requests in all, %d sent again after the restart (the receiver dedupes them by key)", killedAt, total, total-distinct)

	// The ledger holds one delivery per event, and the CLI shows it.
	waitUntil := time.Now().Add(10 * time.Second)
	var rows string
	for time.Now().Before(waitUntil) {
		rows = s.mustCLI("notifications", "deliveries", "--config", id, "--limit", "1000", "-o", "json")
		if strings.Count(rows, `"status": "DELIVERED"`) == n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := strings.Count(rows, `"status": "DELIVERED"`); got != n {
		t.Fatalf("deliveries of the configuration: %d delivered, want %d", got, n)
	}
	table, notice, err := s.cli("", "notifications", "deliveries", "--config", id, "--limit", "3")
	if err != nil || !strings.Contains(table, "delivered") || !strings.Contains(table, "kill-") {
		t.Fatalf("deliveries table: %v\n%s\n%s", err, table, notice)
	}
	if want := fmt.Sprintf("Showing the newest 3 of %d matching deliveries", n); !strings.Contains(notice, want) {
		t.Errorf("under a table cut at --limit: %q, want %q", notice, want)
	}

	// A backfill of the same history sends nothing again, with a progress bar.
	stdout, stderr, err := s.cli("", "notifications", "backfill", id)
	if err != nil || !strings.Contains(stdout, fmt.Sprintf("%d already delivered, 0 sent, 0 delivered, 0 failed", n)) || !strings.Contains(stderr, "100%") {
		t.Fatalf("backfill: %v\n%s\n%s", err, stdout, stderr)
	}
	if strings.Contains(stderr, "\r") {
		t.Fatalf("the progress redraws in place on a pipe:\n%q", stderr)
	}
	// A backfill started detached says how to follow it, can be canceled, and says where it
	// stopped; its status reads so afterwards.
	started := s.mustCLI("notifications", "backfill", id, "--detach")
	job := strings.Fields(started)[1]
	if !strings.Contains(started, "herald notifications backfill status "+job+" --follow") {
		t.Fatalf("a detached backfill does not say how to follow it: %s", started)
	}
	canceled := s.mustCLI("notifications", "backfill", "cancel", job) // canceled, or done if it was quicker
	if !strings.HasPrefix(canceled, "Backfill "+job+" ") || !strings.Contains(canceled, "events scanned") {
		t.Fatalf("backfill cancel %s: %s", job, canceled)
	}
	for _, args := range [][]string{{job}, {job, "--follow"}} {
		if out := s.mustCLI(append([]string{"notifications", "backfill", "status"}, args...)...); out != canceled {
			t.Fatalf("backfill status %v after cancel: %s, want what cancel said: %s", args, out, canceled)
		}
	}
	for _, cmd := range [][]string{{"cancel", "bf-unknown"}, {"status", "bf-unknown"}} {
		if _, stderr, err := s.cli("", append([]string{"notifications", "backfill"}, cmd...)...); err == nil || !strings.Contains(stderr, "no backfill bf-unknown: check the id") {
			t.Fatalf("backfill %s of an unknown backfill: %v\n%s", cmd[0], err, stderr)
		}
	}
	if _, stderr, err := s.cli("", "notifications", "backfill", id, "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); err == nil || !strings.Contains(stderr, "herald: invalid input: --since: ") || !strings.Contains(stderr, "lies in the future") {
		t.Fatalf("a backfill since an hour from now: %v\n%s", err, stderr)
	}
	// The configuration's backfills, newest first: the canceled one, then the first.
	list := strings.Split(strings.TrimSpace(s.mustCLI("notifications", "backfill", "list", id)), "\n")
	if len(list) != 3 || !strings.HasPrefix(list[0], "Backfill") || !strings.HasPrefix(list[1], job+" ") ||
		!regexp.MustCompile(`^bf-\S+ +done +\S+ +\(beginning\) +\S+ +300/300 +300 +300 +0 +0 +0 +-$`).MatchString(list[2]) {
		t.Fatalf("backfill list:\n%s", strings.Join(list, "\n"))
	}
	if _, stderr, err := s.cli("", "notifications", "backfill", "list", "no-such-config"); err == nil || !strings.Contains(stderr, "no endpoint configuration with id no-such-config") {
		t.Fatalf("backfill list of an unknown configuration: %v\n%s", err, stderr)
	}
	for _, cmd := range [][]string{{"notifications", "backfill", id}, {"notifications", "deliveries"}, {"event", "list"}} {
		args := append(cmd, "--since", "2026-01-02T00:00:00Z", "--before", "2026-01-01T00:00:00Z")
		if _, stderr, err := s.cli("", args...); err == nil || !strings.Contains(stderr, "--before 2026-01-01T00:00:00Z is not after --since 2026-01-02T00:00:00Z: the window holds nothing") {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
	}
	if d, _ := rcv.counts(); d != n+1 {
		t.Fatalf("the backfill sent again: %d distinct", d)
	}
}

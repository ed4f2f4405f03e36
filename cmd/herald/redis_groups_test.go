package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/adapters/views/redis/redistest"
	"herald/internal/testtool"
)

// TestConsumerGroups_aFailoverIsNoLoss: while the Redis herald reads from is a replica (a
// failover under way), the groups are not recreated there and no warning says they could not
// be; once it is a primary that lacks them, they are created, the loss is told once, and a
// warning says so.
func TestConsumerGroups_aFailoverIsNoLoss(t *testing.T) {
	primary := redistest.Start(t, redistest.Options{})
	replica := redistest.Start(t, redistest.Options{})
	client := replica.Client(t)
	ctx := context.Background()
	host, port, _ := strings.Cut(primary.Addr(), ":")
	if err := client.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	var logged testtool.Buffer
	told := 0
	g := &consumerGroups{client: client, group: "herald:notifications", log: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	g.whenLost(func() { told++ })
	g.subscribed("herald:notify-webhook")

	if g.readFailed(errorString("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")) {
		t.Fatal("a failed read stopped the subscriber")
	}
	if out := logged.String(); strings.Contains(out, "level=WARN") || !strings.Contains(out, "level=INFO") || !strings.Contains(out, "read-only replica") || told != 0 {
		t.Fatalf("on a replica: told %d times, logged:\n%s", told, out)
	}

	if err := client.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // restore looks at most once a second
	g.readFailed(errorString("NOGROUP No such key 'herald:notify-webhook' or consumer group 'herald:notifications' in XREADGROUP with GROUP option"))
	groups, err := client.XInfoGroups(ctx, "herald:notify-webhook").Result()
	if err != nil || len(groups) != 1 || groups[0].Name != "herald:notifications" {
		t.Fatalf("groups on the new primary: %v %v", groups, err)
	}
	if out := logged.String(); told != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "herald recreated them") {
		t.Fatalf("on the new primary: told %d times, logged:\n%s", told, out)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

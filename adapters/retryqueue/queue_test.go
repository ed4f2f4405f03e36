package retryqueue_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"

	"herald/adapters/retryqueue"
	"herald/adapters/views/redis/redistest"
)

// Retries reach their streams once due, in due order, as the messages they were: the
// stream subscriber reads them back with their UUID, metadata and payload.
func TestQueue_movesDueRetriesToTheirStreams(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	q, err := retryqueue.New(client, "test:", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, r := range []struct {
		uuid string
		in   time.Duration
	}{{"late", 2 * time.Second}, {"soon", time.Second}, {"now", -time.Millisecond}} {
		msg := message.NewMessage(r.uuid, []byte(`{"event":"`+r.uuid+`"}`))
		msg.Metadata.Set("herald_attempt", "2")
		for range 2 { // scheduled twice (a timeout hid the first success): kept once
			if err := q.Schedule(ctx, "notifications.webhook", msg, now.Add(r.in)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, step := range []struct {
		at    time.Duration
		moved int
		want  []string
	}{
		{0, 1, []string{"now"}},
		{500 * time.Millisecond, 0, []string{"now"}},
		{1500 * time.Millisecond, 1, []string{"now", "soon"}},
		{3 * time.Second, 1, []string{"now", "soon", "late"}},
	} {
		n, err := q.MoveDue(ctx, now.Add(step.at))
		if err != nil || n != step.moved {
			t.Fatalf("at +%s: moved %d (%v), want %d", step.at, n, err, step.moved)
		}
		entries, err := client.XRange(ctx, "test:notifications.webhook", "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(step.want) {
			t.Fatalf("at +%s: the stream holds %d messages, want %v", step.at, len(entries), step.want)
		}
		for i, e := range entries {
			msg, err := redisstream.DefaultMarshallerUnmarshaller{}.Unmarshal(e.Values)
			if err != nil {
				t.Fatal(err)
			}
			if msg.UUID != step.want[i] || string(msg.Payload) != `{"event":"`+step.want[i]+`"}` || msg.Metadata.Get("herald_attempt") != "2" {
				t.Fatalf("at +%s: message %d is %s %s %v, want %s", step.at, i, msg.UUID, msg.Payload, msg.Metadata, step.want[i])
			}
		}
	}
	if n, _ := q.Waiting(ctx); n != 0 {
		t.Fatalf("%d retries still waiting", n)
	}
	if keys, _ := client.Keys(ctx, "test:notifications:retry:*").Result(); len(keys) != 0 {
		t.Fatalf("moved retries left their data behind: %v", keys)
	}
}

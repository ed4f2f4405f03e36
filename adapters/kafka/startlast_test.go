package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// A group that starts at the last offset skips what was produced before it first met a
// partition, and nothing after: a partition it read nothing from before a restart is not
// started at its end again, which would skip what was produced while herald was down.
func TestIngestStartLast_skipsOnlyWhatCameBeforeTheGroup(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	log := newTestLog(t)
	cfg := testConfig(addrs, "events")
	cfg.StartOffset = StartLast

	want := map[string]bool{}
	produceTo(t, addrs, "events", "before", nil) // skipped
	r := start(t, cfg, log, nil)
	waitStartCommitted(t, addrs, cfg.GroupID, "events", 1)
	r.stop(t)
	produceTo(t, addrs, "events", "while-down", want)
	start(t, cfg, log, nil)
	produceTo(t, addrs, "events", "after", want)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	log.checkExactlyOnce(t, want)
}

// A topic created later is met by a group that has members (here b, which has not noticed
// it yet): its start is committed as the group assigns its partitions to a.
func TestIngestStartLast_seedsATopicCreatedWhileTheGroupRuns(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	log := newTestLog(t)
	cfg := testConfig(addrs, "events", "later")
	cfg.StartOffset = StartLast

	a := start(t, cfg, log, nil)
	slow := cfg // b does not notice the new topic: the group has a member while a joins again
	slow.ProbeInterval = time.Minute
	b := start(t, slow, log, nil)
	waitUntil(t, 30*time.Second, "the members sharing the partitions of events", func() bool {
		return a.in.Status().Partitions+b.in.Status().Partitions == 4 && a.in.Status().Partitions > 0 && b.in.Status().Partitions > 0
	})
	createTopic(t, addrs, "later", 4)
	want := map[string]bool{}
	waitStartCommitted(t, addrs, cfg.GroupID, "later", 0)
	a.stop(t)
	b.stop(t)
	produceTo(t, addrs, "later", "while-down", want)
	start(t, cfg, log, nil)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "later")
	log.checkExactlyOnce(t, want)
}

// produceTo writes one event to each of the 4 partitions of topic, keyed topic/label-p, and
// adds the keys to want unless it is nil.
func produceTo(t *testing.T, addrs []string, topic, label string, want map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for p := range 4 {
		conn, err := kafkago.DialLeader(ctx, "tcp", addrs[0], topic, p)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%s/%s-%d", topic, label, p)
		_, err = conn.WriteMessages(kafkago.Message{Value: eventJSON(key, p, "")})
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want != nil {
			want[key] = true
		}
	}
}

// waitStartCommitted waits until group has committed offset on each of the 4 partitions of topic.
func waitStartCommitted(t *testing.T, addrs []string, group, topic string, offset int64) {
	t.Helper()
	waitUntil(t, 30*time.Second, "the group's start committed on every partition of "+topic, func() bool {
		for p := range 4 {
			if committedOffset(t, addrs, group, topic, p) != offset {
				return false
			}
		}
		return true
	})
}

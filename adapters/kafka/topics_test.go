package kafka

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// countingHandler counts the log records at or above Warn.
type countingHandler struct {
	slog.Handler
	warnings *atomic.Int64
}

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warnings.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return countingHandler{h.Handler.WithAttrs(attrs), h.warnings}
}

// A topic that does not exist does not stop the others: they are consumed while the status
// names the missing one (not ready), without a storm of rejoins; once it is created, it is
// consumed too and the ingester is ready.
func TestIngestMissingTopic(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	want.produce(t, addrs, "events", 0, 1000, "none")

	log := newTestLog(t)
	m := &totals{}
	var warnings atomic.Int64
	r := start(t, testConfig(addrs, "events", "later"), log, m, func(in *Ingester) {
		in.logger = slog.New(countingHandler{testLogger().Handler(), &warnings})
	})
	waitUntil(t, 30*time.Second, "the existing topic committed", func() bool { return committedAll(t, addrs, "herald-test", "events") })
	s := r.in.Status()
	if s.State != StateTopicsMissing || s.Ready() || !slices.Equal(s.MissingTopics, []string{"later"}) || !strings.Contains(s.LastError, "later") {
		t.Errorf("status = %+v, want topics-missing naming later", s)
	}
	before := warnings.Load()
	time.Sleep(time.Second)
	if n := warnings.Load() - before; n > 5 {
		t.Errorf("%d warnings logged in a second while the topic is missing; want a quiet wait, not a rejoin loop", n)
	}

	createTopic(t, addrs, "later", 4)
	want.produce(t, addrs, "later", 0, 500, "none")
	waitUntil(t, 30*time.Second, "the new topic committed", func() bool { return committedAll(t, addrs, "herald-test", "events", "later") })
	waitUntil(t, 10*time.Second, "status consuming", func() bool { return r.in.Status().State == StateConsuming })
	if s := r.in.Status(); !s.Ready() || s.Partitions != 8 || len(s.MissingTopics) != 0 {
		t.Errorf("status = %+v, want ready with 8 partitions", s)
	}
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
}

func createTopic(t *testing.T, addrs []string, topic string, partitions int) {
	t.Helper()
	client := &kafkago.Client{Addr: kafkago.TCP(addrs...)}
	res, err := client.CreateTopics(context.Background(), &kafkago.CreateTopicsRequest{
		Topics: []kafkago.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}},
	})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// While no configured topic exists, the ingester waits and says why.
func TestIngestNoTopicYet(t *testing.T) {
	c := newCluster(t)
	addrs := c.ListenAddrs()
	r := start(t, testConfig(addrs, "nothing.here"), newTestLog(t), &totals{})
	waitUntil(t, 10*time.Second, "status topics-missing", func() bool { return r.in.Status().State == StateTopicsMissing })
	if s := r.in.Status(); s.Ready() || !strings.Contains(s.LastError, "topics do not exist: nothing.here") {
		t.Errorf("status = %+v, want not ready, naming the topic", s)
	}
}

// A member that just started is not ready until the group has given it its partitions: here
// the group waits for a member that was killed (it never left) until its session ends.
func TestIngestJoiningUntilAssigned(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	const ghostSession = 4 * time.Second
	joinGhost(t, addrs, "herald-test", "events", ghostSession)

	want := newProduced()
	want.produce(t, addrs, "events", 0, 200, "none")
	log := newTestLog(t)
	m := &totals{}
	began := time.Now()
	r := start(t, testConfig(addrs, "events"), log, m)
	waitUntil(t, 10*time.Second, "status joining", func() bool { return r.in.Status().State == StateJoining })
	if s := r.in.Status(); s.Ready() || s.Partitions != 0 {
		t.Errorf("status = %+v, want joining, not ready", s)
	}
	waitUntil(t, 30*time.Second, "status consuming", func() bool { return r.in.Status().State == StateConsuming })
	if took := time.Since(began); took < ghostSession/2 {
		t.Errorf("consuming after %s, before the killed member's session (%s) could end", took, ghostSession)
	}
	if s := r.in.Status(); !s.Ready() || s.Partitions != 4 {
		t.Errorf("status = %+v, want ready with 4 partitions", s)
	}
	waitCommitted(t, 30*time.Second, addrs, "herald-test", "events")
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
}

// joinGhost makes a member of group that holds every partition of topic and then goes silent,
// as a killed herald would: it never heartbeats nor leaves, so the group keeps it until its
// session ends.
func joinGhost(t *testing.T, addrs []string, group, topic string, session time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &kafkago.Client{Addr: kafkago.TCP(addrs...)}
	join := &kafkago.JoinGroupRequest{
		GroupID: group, SessionTimeout: session, RebalanceTimeout: session, ProtocolType: "consumer",
		Protocols: []kafkago.GroupProtocol{{Name: "range", Metadata: kafkago.GroupProtocolSubscription{Topics: []string{topic}}}},
	}
	joined, err := client.JoinGroup(ctx, join)
	if err == nil && errors.Is(joined.Error, kafkago.MemberIDRequired) {
		join.MemberID = joined.MemberID
		joined, err = client.JoinGroup(ctx, join)
	}
	if err == nil {
		err = joined.Error
	}
	if err != nil {
		t.Fatalf("join the group as a ghost: %v", err)
	}
	synced, err := client.SyncGroup(ctx, &kafkago.SyncGroupRequest{
		GroupID: group, GenerationID: joined.GenerationID, MemberID: joined.MemberID,
		ProtocolType: "consumer", ProtocolName: "range",
		Assignments: []kafkago.SyncGroupRequestAssignment{{MemberID: joined.MemberID,
			Assignment: kafkago.GroupProtocolAssignment{AssignedPartitions: map[string][]int{topic: {0, 1, 2, 3}}}}},
	})
	if err == nil {
		err = synced.Error
	}
	if err != nil {
		t.Fatalf("sync the group as a ghost: %v", err)
	}
}

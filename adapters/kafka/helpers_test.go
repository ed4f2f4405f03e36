package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"herald/adapters/eventstore/embedded"
	"herald/commands"
	"herald/domain"
)

// The tests run kafka-go against kfake, an in-process broker that speaks the Kafka protocol,
// and record into the real embedded store through the real RecordEvents command, so that
// "exactly once" is checked against the log itself.

// newCluster starts a one-broker cluster with topics of 4 partitions; other topics (the
// dead-letter ones) are created on first use.
func newCluster(t testing.TB, topics ...string) *kfake.Cluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(4, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// testLog is the real log: the embedded store behind the RecordEvents command.
type testLog struct {
	store  *embedded.Store
	record commands.RecordEventsHandler
}

func newTestLog(t testing.TB) *testLog {
	t.Helper()
	store, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	record, err := commands.NewRecordEventsHandler(store, func() time.Time { return time.Now().UTC() }, commands.NewEventID)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{store: store, record: record}
}

func (l *testLog) Record(ctx context.Context, events []domain.LogEvent, stamped []bool) (Recorded, error) {
	res, err := l.record.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: events, Stamped: stamped})
	if err != nil {
		return Recorded{}, err
	}
	return Recorded{Duplicate: res.Duplicated(), Refused: res.Refusals()}, nil
}

// events returns every event recorded in the log, and how many EventRecorded facts each id has.
func (l *testLog) events(t testing.TB) (map[string]domain.LogEvent, map[string]int) {
	t.Helper()
	ctx := context.Background()
	events, counts := map[string]domain.LogEvent{}, map[string]int{}
	for from := uint64(0); ; {
		page, err := l.store.ReadAll(ctx, from, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return events, counts
		}
		for _, r := range page {
			from = r.Position
			if r.Type != domain.EventRecordedType {
				continue
			}
			f, err := domain.DecodeEventRecorded(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			events[f.Event.ID] = f.Event
			counts[f.Event.ID]++
		}
	}
}

// checkExactlyOnce fails unless the log holds exactly the events of want (keys of
// eventJSON), each once, under the id it was produced with or one derived from its topic.
func (l *testLog) checkExactlyOnce(t testing.TB, want map[string]bool) {
	t.Helper()
	events, counts := l.events(t)
	seen := map[string]int{}
	for id, e := range events {
		var d struct{ Key string }
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatalf("event %s: details %s: %v", id, e.Details, err)
		}
		seen[d.Key] += counts[id]
		topic, _, _ := strings.Cut(d.Key, "/")
		if !strings.HasPrefix(id, "producer-") && !strings.HasPrefix(id, "kafka:"+topic+":") {
			t.Errorf("event %s of %s: neither the producer's id nor one derived from the topic", id, d.Key)
		}
	}
	missing, doubled := 0, 0
	for key := range want {
		switch seen[key] {
		case 0:
			missing++
		case 1:
		default:
			doubled++
		}
	}
	if missing > 0 || doubled > 0 || len(seen) != len(want) {
		t.Fatalf("log holds %d events of %d messages, want %d: %d missing, %d stored more than once", len(events), len(seen), len(want), missing, doubled)
	}
}

// eventJSON is the event of message key (topic/i) in the producer form; with id, it carries one.
func eventJSON(key string, i int, id string) []byte {
	e := map[string]any{
		"level": []string{"info", "error"}[i%2], "type": "system.repository.list_tags_fail",
		"message":  fmt.Sprintf("Failed to list tags in repository %d", i),
		"resource": map[string]any{"id": fmt.Sprintf("docker.io/team%d/app", i%50), "type": "repository", "user_id": "admin"},
		"source":   map[string]any{"servicename": "catalog", "hostid": "dockerhostid-localhost"},
		"details":  map[string]any{"key": key},
	}
	if id != "" {
		e["id"] = id
	}
	b, _ := json.Marshal(e)
	return b
}

// produced is what was written: the key of every message.
type produced struct {
	mu   sync.Mutex
	keys map[string]bool
}

func newProduced() *produced { return &produced{keys: map[string]bool{}} }

// produce writes the events first..first+n-1 to topic, every tenth with a producer id of its
// own (and that id as its key), the others without id or key.
func (p *produced) produce(t testing.TB, addrs []string, topic string, first, n int, compression string) {
	t.Helper()
	if err := p.send(addrs, topic, first, n, compression, Security{}); err != nil {
		t.Fatal(err)
	}
}

// send is produce for goroutines other than the test's.
func (p *produced) send(addrs []string, topic string, first, n int, compression string, sec Security) error {
	prod, err := NewProducer(ProducerConfig{Brokers: addrs, Topic: topic, Compression: compression, Security: sec})
	if err != nil {
		return err
	}
	defer prod.Close()
	msgs := make([]Message, n)
	keys := make([]string, n)
	for i := range msgs {
		keys[i] = fmt.Sprintf("%s/%d", topic, first+i)
		id := ""
		if (first+i)%10 == 0 {
			id = fmt.Sprintf("producer-%s-%d", topic, first+i)
			msgs[i].Key = []byte(id)
		}
		msgs[i].Value = eventJSON(keys[i], first+i, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := prod.Send(ctx, msgs); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		p.keys[k] = true
	}
	return nil
}

// readTopic reads every message of every partition of topic, without a group.
func readTopic(t testing.TB, addrs []string, topic string) []kafkago.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafkago.DialContext(ctx, "tcp", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out []kafkago.Message
	for _, p := range parts {
		end := endOffset(t, addrs, topic, p.ID)
		if end == 0 {
			continue
		}
		r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: addrs, Topic: topic, Partition: p.ID, MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20})
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			if m.Offset+1 >= end {
				break
			}
		}
		r.Close()
	}
	return out
}

// endOffset is the offset the next message of the partition will get.
func endOffset(t testing.TB, addrs []string, topic string, partition int) int64 {
	t.Helper()
	conn, err := kafkago.DialLeader(context.Background(), "tcp", addrs[0], topic, partition)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	last, err := conn.ReadLastOffset()
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// committedAll tells whether the group has committed every message of the topics.
func committedAll(t testing.TB, addrs []string, group string, topics ...string) bool {
	t.Helper()
	client := &kafkago.Client{Addr: kafkago.TCP(addrs...), Timeout: 10 * time.Second}
	req := &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	ends := map[string]map[int]int64{}
	for _, topic := range topics {
		ends[topic] = map[int]int64{}
		for p := range 4 {
			req.Topics[topic] = append(req.Topics[topic], p)
			ends[topic][p] = endOffset(t, addrs, topic, p)
		}
	}
	resp, err := client.OffsetFetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil { // the group does not exist yet
		return false
	}
	for topic, parts := range resp.Topics {
		for _, p := range parts {
			if end := ends[topic][p.Partition]; end > 0 && p.CommittedOffset < end {
				return false
			}
		}
	}
	return true
}

// committedOffset is the group's committed offset of a partition, -1 for none.
func committedOffset(t testing.TB, addrs []string, group, topic string, partition int) int64 {
	t.Helper()
	client := &kafkago.Client{Addr: kafkago.TCP(addrs...), Timeout: 10 * time.Second}
	resp, err := client.OffsetFetch(context.Background(), &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {partition}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Topics[topic] {
		if resp.Error == nil && p.Error == nil {
			return p.CommittedOffset
		}
	}
	return -1
}

// totals adds up what an ingester reports.
type totals struct {
	mu         sync.Mutex
	stats      BatchStats
	partitions map[string]bool  // topic/partition seen
	groupLag   map[string]int64 // topic/partition -> the last group lag reported
}

func (m *totals) GroupLag(lag []PartitionLag) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.groupLag == nil {
		m.groupLag = map[string]int64{}
	}
	for _, l := range lag {
		m.groupLag[fmt.Sprintf("%s/%d", l.Topic, l.Partition)] = l.Lag
	}
}

// lagOf returns the group lag last reported for a partition ("events/0").
func (m *totals) lagOf(partition string) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.groupLag[partition]
	return l, ok
}

func (m *totals) BatchCommitted(s BatchStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum Counts
	for topic, c := range s.ByTopic {
		m.stats.count(topic, func(t *Counts) {
			t.Consumed += c.Consumed
			t.Recorded += c.Recorded
			t.Duplicates += c.Duplicates
			t.DeadLettered += c.DeadLettered
		})
		sum.Consumed, sum.Recorded, sum.Duplicates, sum.DeadLettered = sum.Consumed+c.Consumed, sum.Recorded+c.Recorded, sum.Duplicates+c.Duplicates, sum.DeadLettered+c.DeadLettered
	}
	if sum != s.Counts || s.Consumed != s.Recorded+s.Duplicates+s.DeadLettered {
		panic(fmt.Sprintf("a batch's counts %+v are not the sum of its topics' %+v, or do not add up", s.Counts, s.ByTopic))
	}
	if m.partitions == nil {
		m.partitions = map[string]bool{}
	}
	for _, l := range s.Lag {
		m.partitions[fmt.Sprintf("%s/%d", l.Topic, l.Partition)] = true
	}
}

func (m *totals) get() BatchStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// testConfig is a config for a test cluster, quick to notice rebalances.
func testConfig(addrs []string, topics ...string) Config {
	return Config{
		Brokers: addrs, Topics: topics, GroupID: "herald-test",
		RetryMin: 10 * time.Millisecond, RetryMax: 200 * time.Millisecond, ProbeInterval: 200 * time.Millisecond,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 100 * time.Millisecond, RebalanceTimeout: 5 * time.Second,
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("HERALD_TEST_KAFKA_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is an ingester running in the background.
type running struct {
	in     *Ingester
	cancel context.CancelFunc
	done   chan error
}

func start(t testing.TB, cfg Config, rec Recorder, m Metrics, configure ...func(*Ingester)) *running {
	t.Helper()
	return startWith(t, context.Background(), cfg, rec, m, configure...)
}

// startWith starts an ingester that also stops when parent is done.
func startWith(t testing.TB, parent context.Context, cfg Config, rec Recorder, m Metrics, configure ...func(*Ingester)) *running {
	t.Helper()
	in, err := NewIngester(cfg, rec, m, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range configure {
		f(in)
	}
	ctx, cancel := context.WithCancel(parent)
	r := &running{in: in, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- in.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the ingester and waits for Run to return, which must be prompt.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		r.done <- nil // later stops return at once
	case <-time.After(15 * time.Second):
		t.Fatal("ingester did not stop within 15s of its context's end")
	}
}

// waitUntil polls cond until it holds or timeout passes.
// waitCommitted waits until group has committed every message of topics.
func waitCommitted(t testing.TB, timeout time.Duration, addrs []string, group string, topics ...string) {
	t.Helper()
	waitUntil(t, timeout, "every message committed", func() bool { return committedAll(t, addrs, group, topics...) })
}

// waitForBrokerError waits until the ingester is held up by the brokers with an error that
// says want. On a loaded machine a probe can run out of time (ProbeInterval in the tests)
// before the brokers answer with what is wrong, and the status then says only that; a later
// probe gets the answer.
func waitForBrokerError(t testing.TB, r *running, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := r.in.Status()
		if s.State == StateBrokersUnavailable && strings.Contains(s.LastError, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status = %+v, want brokers-unavailable with an error that says %q", s, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"herald/domain"
	"herald/internal/testtool"
)

// Messages that are no valid events (malformed JSON, a bad level, too large, empty), or that
// the log refuses (an id another account's event has), land in the dead-letter topic with the
// reason and their origin in headers, and ingest goes on: the valid messages around them are
// recorded and every offset is committed.
func TestBadMessagesGoToTheDeadLetterTopic(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	want.produce(t, addrs, "events", 0, 10, "none")

	bad := []struct {
		key, value string
		reason     string // in the error header
		fields     string
	}{
		{"malformed", `{"level": "info", "type": `, "malformed JSON", "$"},
		{"bad-level", string(bytes.Replace(eventJSON("x", 1, ""), []byte(`"level":"error"`), []byte(`"level":"warn"`), 1)), `level: "warn" is not a level`, "level"},
		{"oversize", string(eventJSON(strings.Repeat("x", 5000), 2, "")), "message is", "$"},
		{"empty", "", "invalid event: $: the Kafka message has no value (a tombstone, or an empty message); an event is a JSON object", "$"},
		{"taken", strings.Replace(string(eventJSON("taken", 3, "producer-taken")), `"user_id":"admin"`, `"user_id":"bob"`, 1), `event refused: id: event id "producer-taken" is taken by an event of another account`, "id"},
	}
	w := &kafkago.Writer{Addr: kafkago.TCP(addrs...), Topic: "events", Balancer: &kafkago.Hash{}, BatchTimeout: time.Millisecond}
	for _, b := range bad {
		msg := kafkago.Message{Key: []byte(b.key), Value: []byte(b.value), Headers: []kafkago.Header{{Key: "trace", Value: []byte(b.key)}}}
		if err := w.WriteMessages(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	want.produce(t, addrs, "events", 10, 10, "none")
	originals := map[string]kafkago.Message{}
	for _, m := range readTopic(t, addrs, "events") {
		originals[string(m.Key)] = m
	}

	log := newTestLog(t)
	first, err := domain.DecodeLogEvent(eventJSON("taken-first", 3, "producer-taken")) // the admin's, with the id bob's message takes
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Record(context.Background(), []domain.LogEvent{first}, nil); err != nil {
		t.Fatal(err)
	}
	want.keys["taken-first"] = true
	m := &totals{}
	cfg := testConfig(addrs, "events")
	cfg.MaxMessageBytes = 4096
	r := start(t, cfg, log, m)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
	if got := m.get(); got.DeadLettered != len(bad) || got.Recorded != 20 {
		t.Errorf("metrics = %+v, want %d dead-lettered and 20 recorded", got, len(bad))
	}

	letters := map[string]kafkago.Message{}
	for _, l := range readTopic(t, addrs, "events.dlq") {
		letters[string(l.Key)] = l
	}
	if len(letters) != len(bad) {
		t.Fatalf("dead-letter topic holds %d messages, want %d", len(letters), len(bad))
	}
	for _, b := range bad {
		l, ok := letters[b.key]
		if !ok {
			t.Errorf("%s: not dead-lettered", b.key)
			continue
		}
		orig := originals[b.key]
		h := headers(l)
		if !strings.Contains(h[HeaderError], b.reason) {
			t.Errorf("%s: %s = %q, want it to mention %q", b.key, HeaderError, h[HeaderError], b.reason)
		}
		for name, want := range map[string]string{
			HeaderErrorFields:       b.fields,
			HeaderOriginalTopic:     "events",
			HeaderOriginalPartition: strconv.Itoa(orig.Partition),
			HeaderOriginalOffset:    strconv.FormatInt(orig.Offset, 10),
			HeaderOriginalTimestamp: orig.Time.UTC().Format(time.RFC3339Nano),
			HeaderGroup:             cfg.GroupID,
			"trace":                 b.key,
		} {
			if h[name] != want {
				t.Errorf("%s: header %s = %q, want %q", b.key, name, h[name], want)
			}
		}
		if !bytes.Equal(l.Value, []byte(b.value)) {
			t.Errorf("%s: value %.60q, want the original %.60q", b.key, l.Value, b.value)
		}
	}
}

// A dead-letter topic of one's choice takes the rejects of every topic.
func TestDeadLetterTopicOfChoice(t *testing.T) {
	c := newCluster(t, "a", "b")
	addrs := c.ListenAddrs()
	for _, topic := range []string{"a", "b"} {
		w := &kafkago.Writer{Addr: kafkago.TCP(addrs...), Topic: topic, BatchTimeout: time.Millisecond}
		if err := w.WriteMessages(context.Background(), kafkago.Message{Value: []byte("not json")}); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	cfg := testConfig(addrs, "a", "b")
	cfg.DeadLetterTopic = "rejects"
	m := &totals{}
	r := start(t, cfg, newTestLog(t), m)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "a", "b")
	r.stop(t)
	if got := m.get().ByTopic; got["a"] == nil || got["b"] == nil || *got["a"] != (Counts{Consumed: 1, DeadLettered: 1}) || *got["b"] != (Counts{Consumed: 1, DeadLettered: 1}) {
		t.Errorf("counts by topic %v, want one message of a and one of b, dead-lettered", got)
	}
	var from []string
	for _, l := range readTopic(t, addrs, "rejects") {
		from = append(from, headers(l)[HeaderOriginalTopic])
	}
	if got := fmt.Sprint(from); got != "[a b]" && got != "[b a]" {
		t.Errorf("rejects hold messages from %s, want one from a and one from b", got)
	}
}

func headers(m kafkago.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// Dead letters are written one record batch each, so that several large rejects together do
// not go over the brokers' size limit; one the brokers still refuse (a dead-letter topic with
// a lower max.message.bytes) is written again without the original key, value and headers,
// rather than stopping ingest for good.
func TestDeadLettersTheBrokersFindTooLarge(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	client := &kafkago.Client{Addr: kafkago.TCP(addrs...)}
	resp, err := client.CreateTopics(context.Background(), &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: "small.dlq", NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafkago.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: "20000"}},
	}}})
	if err != nil || resp.Errors["small.dlq"] != nil {
		t.Fatalf("create small.dlq: %v %v", err, resp)
	}
	w := &kafkago.Writer{Addr: kafkago.TCP(addrs...), Topic: "events", Balancer: &kafkago.Hash{}, BatchTimeout: time.Millisecond}
	for _, key := range []string{"big-1", "big-2"} { // one partition, one batch: 1.2 MB of rejects together
		msg := kafkago.Message{Key: []byte("k"), Value: bytes.Repeat([]byte(key[4:]), 600_000), Headers: []kafkago.Header{{Key: "name", Value: []byte(key)}}}
		if err := w.WriteMessages(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()

	cfg := testConfig(addrs, "events")
	r := start(t, cfg, newTestLog(t), nil)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	r.stop(t)
	letters := readTopic(t, addrs, "events.dlq")
	if len(letters) != 2 {
		t.Fatalf("events.dlq holds %d letters, want 2", len(letters))
	}
	for _, l := range letters {
		if h := headers(l); len(l.Value) != 600_000 || h["name"] == "" || h[HeaderTruncated] != "" {
			t.Errorf("letter %s: %d bytes, headers %v; want the whole original", h["name"], len(l.Value), h)
		}
	}

	// the same rejects to a dead-letter topic that takes 20 KB at most
	cfg = testConfig(addrs, "events")
	cfg.GroupID = "small"
	cfg.DeadLetterTopic = "small.dlq"
	var logged testtool.Buffer
	r = start(t, cfg, newTestLog(t), nil, func(in *Ingester) { in.logger = slog.New(slog.NewTextHandler(&logged, nil)) })
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	r.stop(t)
	const cut = `msg="dead letter too large for its topic's max.message.bytes; writing it without the original key, value and headers" dead_letter_topic=small.dlq original_size=600000`
	if n := strings.Count(logged.String(), cut); n != 2 {
		t.Errorf("the log says %d times that a letter was cut down, want 2:\n%s", n, logged.String())
	}
	// (and, by the way, the join names the partitions the member was given)
	if joined := `msg="kafka group joined" partitions=4 assigned="map[events:[0 1 2 3]]"`; !strings.Contains(logged.String(), joined) {
		t.Errorf("the log does not say %s:\n%s", joined, logged.String())
	}
	letters = readTopic(t, addrs, "small.dlq")
	if len(letters) != 2 {
		t.Fatalf("small.dlq holds %d letters, want 2", len(letters))
	}
	for _, l := range letters {
		h := headers(l)
		if len(l.Value) != 0 || len(l.Key) != 0 || h["name"] != "" || h[HeaderTruncated] != "600000" ||
			h[HeaderOriginalTopic] != "events" || !strings.Contains(h[HeaderError], "invalid event") {
			t.Errorf("letter cut down: key %q, %d bytes, headers %v; want herald's headers alone with %s 600000", l.Key, len(l.Value), h, HeaderTruncated)
		}
	}
}

// A message with an empty value, or an empty header value, keeps it empty in its dead letter:
// not null, which would make the letter a tombstone. Headers the producer named like herald's
// are kept renamed (original.herald.error), so that herald's are the only ones of their names.
// The letter is read back record by record (Client.Fetch): kafka-go's Reader reads empty and
// null alike as nil.
func TestDeadLetterKeepsEmptyValuesAndHeraldsHeadersWin(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	w := &kafkago.Writer{Addr: kafkago.TCP(addrs...), Topic: "events", BatchTimeout: time.Millisecond}
	msg := kafkago.Message{Key: []byte("k"), Value: []byte{}, Headers: []kafkago.Header{
		{Key: "trace", Value: []byte{}},
		{Key: HeaderError, Value: []byte("the producer's own")},
		{Key: HeaderOriginalTopic, Value: []byte("elsewhere")},
		{Key: HeaderGroup, Value: []byte("another-group")},
	}}
	if err := w.WriteMessages(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if sent := fetchRecords(t, addrs, "events"); len(sent) != 1 || sent[0].Value == nil || sent[0].Headers[0].Value == nil {
		t.Fatalf("the message was not written with an empty value and header value: %+v", sent)
	}

	cfg := testConfig(addrs, "events")
	r := start(t, cfg, newTestLog(t), nil)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	r.stop(t)
	letters := fetchRecords(t, addrs, "events.dlq")
	if len(letters) != 1 {
		t.Fatalf("events.dlq holds %d letters, want 1", len(letters))
	}
	l := letters[0]
	if l.Value == nil || len(l.Value) != 0 {
		t.Errorf("letter value %q (null: %t), want empty and not null", l.Value, l.Value == nil)
	}
	first := map[string][]byte{}
	count := map[string]int{}
	for _, h := range l.Headers {
		if _, ok := first[h.Key]; !ok {
			first[h.Key] = h.Value
		}
		count[h.Key]++
	}
	if v, ok := first["trace"]; !ok || v == nil || len(v) != 0 {
		t.Errorf("header trace = %q (present: %t, null: %t), want empty and not null", v, ok, v == nil)
	}
	for name, want := range map[string]string{
		HeaderError:                           "invalid event: $: the Kafka message has no value (a tombstone, or an empty message); an event is a JSON object",
		HeaderOriginalTopic:                   "events",
		"original." + HeaderError:             "the producer's own",
		"original." + HeaderOriginalTopic:     "elsewhere",
		"original." + HeaderGroup:             "another-group",
		HeaderGroup:                           cfg.GroupID,
		HeaderErrorFields:                     "$",
		HeaderOriginalPartition:               "0",
		"original." + HeaderOriginalOffset:    "",
		"original." + HeaderErrorFields:       "",
		"original." + HeaderTruncated:         "",
		"original." + HeaderOriginalTimestamp: "",
	} {
		if got := string(first[name]); got != want {
			t.Errorf("first header %s = %q, want %q", name, got, want)
		}
		if want != "" && count[name] != 1 {
			t.Errorf("%d headers %s, want 1", count[name], name)
		}
	}
}

// The producer's copy of a header herald sets does not stand in for herald's when a letter
// too large is cut down: the size herald.truncated gives is the original's.
func TestDeadLetterCutDownIgnoresTheProducersHeraldHeaders(t *testing.T) {
	m := &kafkago.Message{Topic: "t", Key: make([]byte, maxDeadLetter), Value: []byte("x"), Time: time.Now(), Headers: []kafkago.Header{
		{Key: HeaderTruncated, Value: []byte("5")}, {Key: HeaderError, Value: []byte("mine")},
	}}
	l := deadLetter{msg: m, err: &domain.ValidationError{Fields: []domain.FieldError{{Field: "$", Message: "bad"}}}}.message("t.dlq", "g")
	if h := headers(l); h[HeaderTruncated] != "1" || h[HeaderError] != "invalid input: $: bad" || h[HeaderGroup] != "g" || len(l.Headers) != 8 {
		t.Errorf("cut-down letter headers %v, want herald's alone, with %s 1", l.Headers, HeaderTruncated)
	}
}

// fetchRecords reads partition 0 of topic record by record, with null and empty values told
// apart.
func fetchRecords(t testing.TB, addrs []string, topic string) []kafkago.Message {
	t.Helper()
	transport := &kafkago.Transport{} // no metadata cached from before the topic was made
	defer transport.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(addrs...), Timeout: 10 * time.Second, Transport: transport}
	resp, err := client.Fetch(context.Background(), &kafkago.FetchRequest{Topic: topic, Partition: 0, Offset: 0, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	var out []kafkago.Message
	for {
		r, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		m := kafkago.Message{Headers: r.Headers}
		if r.Value != nil {
			if m.Value, err = io.ReadAll(r.Value); err != nil {
				t.Fatal(err)
			}
			if m.Value == nil {
				m.Value = []byte{}
			}
		}
		out = append(out, m)
	}
}

// Brokers that do not create topics on demand leave a missing dead-letter topic missing:
// ingest holds its commits (a dead letter is never dropped), says which topic to create, and
// goes on once it exists.
func TestDeadLetterTopicMissingWithoutAutoCreation(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "events"), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	w := &kafkago.Writer{Addr: kafkago.TCP(addrs...), Topic: "events", BatchTimeout: time.Millisecond}
	if err := w.WriteMessages(context.Background(), kafkago.Message{Value: []byte("not json")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	metrics := &totals{}
	r := start(t, testConfig(addrs, "events"), newTestLog(t), metrics)
	waitUntil(t, 30*time.Second, "status retrying-dead-letter", func() bool { return r.in.Status().State == StateRetryingDeadLetter })
	// the group never committed: its lag is the message held back, not missing
	waitUntil(t, 10*time.Second, "a lag of 1 reported", func() bool {
		metrics.mu.Lock()
		defer metrics.mu.Unlock()
		var sum int64
		for _, l := range metrics.groupLag {
			sum += l
		}
		return len(metrics.groupLag) == 4 && sum == 1
	})
	if s := r.in.Status(); !strings.Contains(s.LastError, "dead-letter topic events.dlq does not exist, and the brokers do not create topics on demand: create it") {
		t.Errorf("last error = %q, want it to name the topic to create", s.LastError)
	}
	if committedAll(t, addrs, "herald-test", "events") {
		t.Fatal("the offset of a message not yet dead-lettered was committed")
	}
	createTopic(t, addrs, "events.dlq", 1)
	waitCommitted(t, 30*time.Second, addrs, "herald-test", "events")
	r.stop(t)
	if letters := readTopic(t, addrs, "events.dlq"); len(letters) != 1 || headers(letters[0])[HeaderOriginalOffset] != "0" {
		t.Errorf("dead-letter topic holds %d letters, want the message of offset 0", len(letters))
	}
}

// pickyStore refuses any batch of more than one event as invalid, as a store whose clock is
// behind herald's would, and the event with id refuse even alone.
type pickyStore struct {
	next   Recorder
	refuse string
}

func (p pickyStore) Record(ctx context.Context, events []domain.LogEvent, stamped []bool) (Recorded, error) {
	if len(events) > 1 || events[0].ID == p.refuse {
		return Recorded{}, &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{Field: "timestamp", Message: "lies too far ahead"}}}
	}
	return p.next.Record(ctx, events, stamped)
}

// When the store refuses a batch as invalid although every event passed validation here, the
// events are recorded one by one: the one it refuses alone is dead-lettered with its reason,
// a duplicate is counted as one, and the others are recorded; the counts by topic add up.
func TestStoreRefusingABatchRecordsItsEventsOneByOne(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	w := &kafkago.Writer{Addr: kafkago.TCP(addrs...), Topic: "events", Balancer: &kafkago.Hash{}, BatchTimeout: time.Millisecond}
	var msgs []kafkago.Message
	for i, name := range []string{"one", "two", "late", "again", "again"} {
		i = min(i, 3)                                                                                                    // the second "again" is the very same event
		msgs = append(msgs, kafkago.Message{Key: []byte("same"), Value: eventJSON("events/"+name, i, "producer-"+name)}) // one key: one partition, one batch
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	log := newTestLog(t)
	m := &totals{}
	cfg := testConfig(addrs, "events")
	r := start(t, cfg, pickyStore{next: log, refuse: "producer-late"}, m)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	r.stop(t)
	log.checkExactlyOnce(t, map[string]bool{"events/one": true, "events/two": true, "events/again": true})
	got := m.get()
	if want := (Counts{Consumed: 5, Recorded: 3, Duplicates: 1, DeadLettered: 1}); got.Counts != want || got.ByTopic["events"] == nil || *got.ByTopic["events"] != want {
		t.Errorf("counts %+v, by topic %v; want %+v", got.Counts, got.ByTopic, want)
	}
	letters := readTopic(t, addrs, "events.dlq")
	if len(letters) != 1 || !strings.Contains(headers(letters[0])[HeaderError], "timestamp: lies too far ahead") {
		t.Fatalf("dead letters %v, want the refused event alone, with the store's reason", letters)
	}
}

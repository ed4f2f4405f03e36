package kafka

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	kafkago "github.com/segmentio/kafka-go"

	"herald/domain"
)

func TestDerivedEventID(t *testing.T) {
	if got := DerivedEventID("herald.events", 3, 1042); got != "kafka:herald.events:3:1042" {
		t.Errorf("DerivedEventID = %q", got)
	}
	long := strings.Repeat("t", 249)
	a, b := DerivedEventID(long, 0, 1), DerivedEventID(long, 0, 2)
	if a == b || !domain.ValidEventID(a) || !strings.HasPrefix(a, "kafka:") {
		t.Errorf("ids of a long topic: %q, %q; want distinct valid ids", a, b)
	}
	if a != DerivedEventID(long, 0, 1) {
		t.Error("the derived id of a long topic is not stable")
	}
	for _, topic := range []string{"a", "A_b-c.d", strings.Repeat("x", 110)} {
		if id := DerivedEventID(topic, 2147483647, 9223372036854775807); !domain.ValidEventID(id) {
			t.Errorf("DerivedEventID(%q, ...) = %q is no valid event id", topic, id)
		}
	}
}

// A message without id or timestamp gets the same event however often it is delivered: the
// derived id and the message's Kafka timestamp, not the time it is read.
func TestEventOfIsStableUnderRedelivery(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
	m := &kafkago.Message{Topic: "events", Partition: 1, Offset: 7, Time: at,
		Value: []byte(`{"level":"INFO","type":"System.Feeds.Sync.Completed","message":"done","resource":{"id":"x"},"source":{"servicename":"s","hostid":"h"}}`)}
	first, stamped, err := eventOf(m, 1<<20, time.Now())
	if err != nil || !stamped {
		t.Fatalf("event without a timestamp: stamped %t, %v; want it stamped with its message's", stamped, err)
	}
	again, _, err := eventOf(m, 1<<20, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("redelivery yields %+v, first delivery %+v", again, first)
	}
	if first.ID != "kafka:events:1:7" || !first.Timestamp.Equal(at.Truncate(time.Microsecond)) || first.Account() != domain.DefaultAccount || first.Type != "system.feeds.sync.completed" {
		t.Errorf("event = %+v", first)
	}

	m.Value = []byte(`{"id":"kafka:events:1:7","level":"info","type":"a.b","message":"m"}`) // its own id: the same event
	if e, _, err := eventOf(m, 1<<20, time.Now()); err != nil || e.ID != "kafka:events:1:7" {
		t.Errorf("a message carrying its own derived id: %+v, %v", e, err)
	}

	m.Value = []byte(`{"id":"mine","timestamp":"2018-06-28T22:36:26.512589Z","level":"error","type":"a.b.c","message":"m","resource":{"id":"x"},"source":{"servicename":"s","hostid":"h"}}`)
	e, stamped, err := eventOf(m, 1<<20, time.Now())
	if err != nil || stamped || e.ID != "mine" || domain.FormatTimestamp(e.Timestamp) != "2018-06-28T22:36:26.512589Z" {
		t.Errorf("event with id and timestamp = %+v, stamped %t, %v", e, stamped, err)
	}
}

func TestEventOfRefusesBadMessages(t *testing.T) {
	for name, tc := range map[string]struct {
		value, want string
	}{
		"malformed":   {`{"level":`, "malformed JSON"},
		"bad level":   {`{"level":"warn","type":"a.b","message":"m"}`, "level"},
		"no type":     {`{"level":"info","message":"m"}`, "type: is required"},
		"future":      {`{"timestamp":"2999-01-01T00:00:00Z","level":"info","type":"a.b","message":"m"}`, "in the future"},
		"too large":   {`{"level":"info","type":"a.b","message":"` + strings.Repeat("m", 200) + `"}`, "the Kafka message is 242 bytes; herald reads messages of at most 100"},
		"not object":  {`[1,2]`, "$"},
		"kafka id":    {`{"id":"kafka:t:0:8","level":"info","type":"a.b","message":"m"}`, `id: "kafka:t:0:8": ids starting with "kafka:" are the ones herald gives messages without an id`},
		"details str": {`{"level":"info","type":"a.b","message":"m","details":"` + strings.Repeat("d", 70*1024) + `"}`, "details"},
	} {
		limit := 1 << 20
		if name == "too large" {
			limit = 100
		}
		_, _, err := eventOf(&kafkago.Message{Topic: "t", Value: []byte(tc.value), Time: time.Now()}, limit, time.Now())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

func TestDeadLetterTruncatesHugeValues(t *testing.T) {
	m := &kafkago.Message{Topic: "t", Value: make([]byte, maxDeadLetterValue+10)}
	l := deadLetter{msg: m, err: &domain.ValidationError{Fields: []domain.FieldError{{Field: "$", Message: "too large"}}}}.message("t.dlq", "g")
	if len(l.Value) != maxDeadLetterValue || headers(l)[HeaderTruncated] != "1024010" || l.Topic != "t.dlq" {
		t.Errorf("dead letter of a huge message: %d bytes, headers %v", len(l.Value), headers(l))
	}
}

// An event without a timestamp takes its Kafka message's; when that one lies too far ahead,
// the error says so and blames the message ($), not a timestamp field the producer never
// sent. An event's own timestamp is still blamed on its field.
func TestEventOf_blamesAFutureKafkaTimestampOnTheMessage(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m := &kafkago.Message{Topic: "t", Time: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), Value: []byte(`{"level":"info","type":"a.b","message":"m"}`)}
	_, _, err := eventOf(m, 1<<20, now)
	if err == nil || errorFields(err) != "$" || !strings.Contains(err.Error(), "$: the event has no timestamp, and its Kafka message's timestamp 2999-01-01T00:00:00.000000Z is more than 24 hours in the future") {
		t.Errorf("error %v (fields %s), want the Kafka message's timestamp blamed, with its value, on $", err, errorFields(err))
	}

	m.Value = []byte(`{"timestamp":"2998-01-01T00:00:00Z","level":"info","type":"a.b","message":"m"}`)
	if _, _, err := eventOf(m, 1<<20, now); err == nil || errorFields(err) != "timestamp" || strings.Contains(err.Error(), "Kafka") {
		t.Errorf("event's own future timestamp: error %v (fields %s), want the timestamp field blamed", err, errorFields(err))
	}
}

// A value that is not valid UTF-8 is refused, saying where, rather than recorded with U+FFFD
// in place of what was sent.
func TestEventOf_refusesInvalidUTF8(t *testing.T) {
	for _, value := range []string{
		`{"level":"info","type":"a.b","message":"caf` + "\xe9" + `"}`, // Latin-1 é
		`{"level":"info","type":"a.b","message":"m","details":{"k":"` + "\xff" + `"}}`,
	} {
		_, _, err := eventOf(&kafkago.Message{Topic: "t", Time: time.Now(), Value: []byte(value)}, 1<<20, time.Now())
		want := fmt.Sprintf("$: value is not valid UTF-8 at byte %d", strings.IndexFunc(value, func(r rune) bool { return r == utf8.RuneError })+1)
		if err == nil || errorFields(err) != "$" || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", value, err, want)
		}
	}
}

// A UTF-8 byte-order mark ahead of the JSON is skipped, as `herald event send` skips it ahead
// of a file: the README has any Kafka client (kcat < events.ndjson) do the same job.
func TestEventOf_skipsAByteOrderMark(t *testing.T) {
	m := &kafkago.Message{Topic: "t", Time: time.Now(), Value: []byte("\xEF\xBB\xBF" + `{"level":"info","type":"a.b","message":"m"}`)}
	if e, _, err := eventOf(m, 1<<20, time.Now()); err != nil || e.Message != "m" {
		t.Errorf("event behind a byte-order mark: %+v, %v", e, err)
	}
	m.Value = []byte(`{"level":"info","type":"a.b","message":"m"}` + "\xEF\xBB\xBF") // only ahead of it
	if _, _, err := eventOf(m, 1<<20, time.Now()); err == nil {
		t.Error("a byte-order mark after the JSON was taken")
	}
	// The offset of a fault counts the mark: it points into the message as sent.
	m.Value = []byte("\xEF\xBB\xBF" + `{"level":}`)
	if _, _, err := eventOf(m, 1<<20, time.Now()); err == nil || !strings.Contains(err.Error(), "malformed JSON at byte 13:") {
		t.Errorf("malformed JSON behind a byte-order mark: %v, want it at byte 13 of the message", err)
	}
}

// FuzzEventOf reads arbitrary message values as the ingester does. Whatever the value, eventOf
// does not panic; it gives an event that validates, or an error with something to say in the
// dead letter's herald.error header; and the same message read again gives the same event,
// which is what makes a redelivery a duplicate.
func FuzzEventOf(f *testing.F) {
	for _, seed := range []string{
		`{"level":"info","type":"system.feeds.sync.completed","message":"done","resource":{"id":"x","type":"feeds","user_id":"admin"},"source":{"servicename":"s","hostid":"h"}}`,
		`{"id":"e1","timestamp":"2024-05-01T12:00:00Z","level":"ERROR","type":"user.image.analysis.failed","message":"m","resource":{"id":"r"},"source":{"servicename":"s","hostid":"h"},"details":"text"}`,
		`{"id":"kafka:events:1:7","level":"info","type":"a.b","message":"m","resource":{"id":"r"},"source":{"servicename":"s","hostid":"h"}}`,
		"\xEF\xBB\xBF{\"level\":\"info\"}", `{"level":"warn"}`, "not json", "{\"message\":\"\xff\"}", `[]`, ``,
	} {
		f.Add([]byte(seed), int64(7))
	}
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	now := at.Add(time.Hour)
	f.Fuzz(func(t *testing.T, value []byte, offset int64) {
		m := &kafkago.Message{Topic: "events", Partition: 1, Offset: offset, Time: at, Value: value}
		e, _, err := eventOf(m, 4096, now)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("eventOf(%q): an error with no text", value)
			}
			return
		}
		if verr := e.Validate(now); verr != nil {
			t.Fatalf("eventOf(%q) = an event that does not validate: %v", value, verr)
		}
		if e.ID == "" || e.Timestamp.IsZero() {
			t.Fatalf("eventOf(%q) = an event without id or timestamp: %+v", value, e)
		}
		again, _, err := eventOf(m, 4096, now.Add(time.Minute))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("eventOf(%q) read again: %+v, %v; first %+v", value, again, err, e)
		}
	})
}

package kafka

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	kafkago "github.com/segmentio/kafka-go"

	"herald/domain"
)

// DerivedEventID is the id of the event in a message that carries none:
// kafka:<topic>:<partition>:<offset>, or, when that would be too long for an event id,
// kafka:<hash of the three>. The same message always gets the same id, which is what makes
// its second delivery a duplicate.
func DerivedEventID(topic string, partition int, offset int64) string {
	buf := make([]byte, 0, 32+len(topic))
	buf = append(buf, domain.KafkaIDPrefix...)
	buf = append(buf, topic...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(partition), 10)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, offset, 10)
	if id := string(buf); domain.ValidEventID(id) {
		return id
	}
	sum := sha256.Sum256(buf[len(domain.KafkaIDPrefix):])
	return domain.KafkaIDPrefix + hex.EncodeToString(sum[:20])
}

// eventOf reads one message as a log event with its defaults filled and validated. An event
// without a timestamp gets the message's (stamped says so), and one without an id a derived
// one, so that the same message always yields the same event. The error says why the message
// is no event; now bounds how far ahead a timestamp may lie.
func eventOf(m *kafkago.Message, maxBytes int, now time.Time) (e domain.LogEvent, stamped bool, err error) {
	if len(m.Value) == 0 {
		// kafka-go reads a null value (a tombstone) as empty: either way, nothing to decode.
		return domain.LogEvent{}, false, messageError("the Kafka message has no value (a tombstone, or an empty message); an event is a JSON object")
	}
	if len(m.Value) > maxBytes {
		return domain.LogEvent{}, false, messageError("the Kafka message is %d bytes; herald reads messages of at most %d", len(m.Value), maxBytes)
	}
	if i := invalidUTF8(m.Value); i >= 0 { // the decoder would read it as U+FFFD: the event would not be what was sent
		// Counted from 1, as "malformed JSON at byte N" is.
		return domain.LogEvent{}, false, messageError("value is not valid UTF-8 at byte %d", i+1)
	}
	e, err = domain.DecodeLogEventSkippingBOM(m.Value)
	if err != nil {
		return domain.LogEvent{}, false, err
	}
	// A "kafka:" id names the message at one offset. Taken by another message, it would make
	// the message at that offset, which carries no id, a "duplicate", dropped without a trace.
	if strings.HasPrefix(e.ID, domain.KafkaIDPrefix) && e.ID != DerivedEventID(m.Topic, m.Partition, m.Offset) {
		return domain.LogEvent{}, false, &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{
			Field: "id", Message: fmt.Sprintf("%s: ids starting with %q are the ones herald gives messages without an id, by topic, partition and offset; leave the id out, or choose one of your own", domain.Quote(e.ID), domain.KafkaIDPrefix),
		}}}
	}
	at := m.Time
	if at.IsZero() { // a message of the oldest format, without a timestamp
		at = now
	}
	stamped = e.Timestamp.IsZero()
	e = e.WithDefaults(at, func() string { return DerivedEventID(m.Topic, m.Partition, m.Offset) })
	if err := e.Validate(now); err != nil {
		if stamped {
			blameMessageTimestamp(err)
		}
		return domain.LogEvent{}, false, err
	}
	return e, stamped, nil
}

// messageError is a fault of the message as a whole (field $).
func messageError(format string, args ...any) error {
	return &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{Field: "$", Message: fmt.Sprintf(format, args...)}}}
}

// blameMessageTimestamp makes a refused timestamp the fault of the Kafka message's
// timestamp, which an event without a timestamp of its own takes: the producer sent no
// timestamp field to fix.
func blameMessageTimestamp(err error) {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return
	}
	for i, f := range v.Fields {
		if f.Field == "timestamp" {
			v.Fields[i] = domain.FieldError{Field: "$", Message: "the event has no timestamp, and its Kafka message's timestamp " + f.Message +
				"; give the event a timestamp of its own, or correct the timestamps the producer gives its messages (its clock)"}
		}
	}
}

// invalidUTF8 is the offset of the first byte of b that is not valid UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) { // the common case, in one fast pass
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

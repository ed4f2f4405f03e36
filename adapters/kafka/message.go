package kafka

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

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
// without a timestamp gets the message's, and one without an id a derived one, so that the
// same message always yields the same event. The error says why the message is no event;
// now bounds how far ahead a timestamp may lie.
func eventOf(m *kafkago.Message, maxBytes int, now time.Time) (domain.LogEvent, error) {
	if len(m.Value) > maxBytes {
		return domain.LogEvent{}, &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{
			Field: "$", Message: fmt.Sprintf("message is %d bytes, the limit is %d", len(m.Value), maxBytes),
		}}}
	}
	e, err := domain.DecodeLogEvent(m.Value)
	if err != nil {
		return domain.LogEvent{}, err
	}
	// A "kafka:" id names the message at one offset. Taken by another message, it would make
	// the message at that offset, which carries no id, a "duplicate", dropped without a trace.
	if strings.HasPrefix(e.ID, domain.KafkaIDPrefix) && e.ID != DerivedEventID(m.Topic, m.Partition, m.Offset) {
		return domain.LogEvent{}, &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{
			Field: "id", Message: fmt.Sprintf("%s: ids starting with %q are the ones herald gives messages without an id, by topic, partition and offset; leave the id out, or choose one of your own", domain.Quote(e.ID), domain.KafkaIDPrefix),
		}}}
	}
	at := m.Time
	if at.IsZero() { // a message of the oldest format, without a timestamp
		at = now
	}
	e = e.WithDefaults(at, func() string { return DerivedEventID(m.Topic, m.Partition, m.Offset) })
	if err := e.Validate(now); err != nil {
		return domain.LogEvent{}, err
	}
	return e, nil
}

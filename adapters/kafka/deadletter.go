package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"herald/domain"
)

// The headers of a dead-lettered message, beside the original message's own headers.
const (
	HeaderError             = "herald.error"              // why the message is no event: "invalid event: level: ..."
	HeaderErrorFields       = "herald.error.fields"       // the fields at fault, comma-separated: "level,type", or "$" for the whole message
	HeaderOriginalTopic     = "herald.original.topic"     // where the message was read
	HeaderOriginalPartition = "herald.original.partition" // decimal
	HeaderOriginalOffset    = "herald.original.offset"    // decimal
	HeaderOriginalTimestamp = "herald.original.timestamp" // RFC 3339, the message's Kafka timestamp
	HeaderTruncated         = "herald.truncated"          // the original size in bytes, when the value was cut to fit
)

// maxDeadLetterValue is the most of a message's value a dead letter carries: with its
// headers it stays under Kafka's default message.max.bytes (1,048,588 bytes).
const maxDeadLetterValue = 1000 * 1024

// deadLetter is a message that is not a valid event, and why.
type deadLetter struct {
	msg *kafkago.Message
	err error
}

// message is the dead letter as written to dlqTopic: the original key and value, the original
// headers, and herald's headers saying why and where from.
func (d deadLetter) message(dlqTopic string) kafkago.Message {
	m := d.msg
	headers := make([]kafkago.Header, 0, len(m.Headers)+7)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafkago.Header{Key: HeaderError, Value: []byte(d.err.Error())},
		kafkago.Header{Key: HeaderErrorFields, Value: []byte(errorFields(d.err))},
		kafkago.Header{Key: HeaderOriginalTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderOriginalPartition, Value: strconv.AppendInt(nil, int64(m.Partition), 10)},
		kafkago.Header{Key: HeaderOriginalOffset, Value: strconv.AppendInt(nil, m.Offset, 10)},
	)
	if !m.Time.IsZero() {
		headers = append(headers, kafkago.Header{Key: HeaderOriginalTimestamp, Value: []byte(m.Time.UTC().Format(time.RFC3339Nano))})
	}
	value := m.Value
	if len(value) > maxDeadLetterValue {
		value = value[:maxDeadLetterValue]
		headers = append(headers, kafkago.Header{Key: HeaderTruncated, Value: strconv.AppendInt(nil, int64(len(m.Value)), 10)})
	}
	return kafkago.Message{Topic: dlqTopic, Key: m.Key, Value: value, Headers: headers}
}

func errorFields(err error) string {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return "$"
	}
	fields := make([]string, 0, len(v.Fields))
	for _, f := range v.Fields {
		fields = append(fields, f.Field)
	}
	return strings.Join(fields, ",")
}

// newDeadLetterWriter writes dead letters synchronously, acknowledged by every in-sync
// replica, and creates a missing dead-letter topic where the brokers allow it.
func newDeadLetterWriter(cfg *Config, conn connectors) *kafkago.Writer {
	return &kafkago.Writer{
		Addr:                   kafkago.TCP(cfg.Brokers...),
		Transport:              conn.transport,
		Balancer:               &kafkago.Hash{},
		RequiredAcks:           kafkago.RequireAll,
		BatchTimeout:           time.Millisecond, // a dead letter holds up its batch's commit: send at once
		BatchBytes:             2 << 20,
		MaxAttempts:            3,
		AllowAutoTopicCreation: true,
	}
}

// sendDeadLetters writes the dead letters of a batch, retrying with backoff until they are
// written or ctx is done. Nothing of the batch is committed before they are written.
func (in *Ingester) sendDeadLetters(ctx context.Context, letters []deadLetter) error {
	msgs := make([]kafkago.Message, len(letters))
	for i, d := range letters {
		msgs[i] = d.message(in.cfg.deadLetterTopic(d.msg.Topic))
		in.logger.Warn("message is no valid event; dead-lettered", "topic", d.msg.Topic, "partition", d.msg.Partition,
			"offset", d.msg.Offset, "dead_letter_topic", msgs[i].Topic, "error", d.err)
	}
	return in.retry(ctx, StateRetryingDeadLetter, "dead-letter messages", func() error {
		if err := in.deadLetters.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("write %d dead letters: %w", len(msgs), err)
		}
		return nil
	})
}

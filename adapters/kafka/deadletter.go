package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	HeaderGroup             = "herald.group"              // the consumer group that read the message
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
//
// kafka-go reads an empty value (or header value) as nil and writes nil as null, which would
// make the letter of a message with an empty value a tombstone, the deletion of its key to a
// compacted topic: values are written empty, never null (kafka-go's reader does not tell a
// null value from an empty one). Original headers with the name of one of herald's are
// renamed (originalPrefix), so that a consumer finds herald's under that name, whether it
// reads the first or the last; a message dead-lettered before and sent again keeps its
// history that way.
func (d deadLetter) message(dlqTopic, group string) kafkago.Message {
	m := d.msg
	headers := make([]kafkago.Header, 0, len(m.Headers)+8)
	for _, h := range m.Headers {
		if isHeraldHeader(h.Key) {
			h.Key = originalPrefix + h.Key
		}
		h.Value = present(h.Value)
		headers = append(headers, h)
	}
	headers = append(headers,
		kafkago.Header{Key: HeaderError, Value: []byte(d.err.Error())},
		kafkago.Header{Key: HeaderErrorFields, Value: []byte(errorFields(d.err))},
		kafkago.Header{Key: HeaderOriginalTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderOriginalPartition, Value: strconv.AppendInt(nil, int64(m.Partition), 10)},
		kafkago.Header{Key: HeaderOriginalOffset, Value: strconv.AppendInt(nil, m.Offset, 10)},
		kafkago.Header{Key: HeaderGroup, Value: []byte(group)},
	)
	if !m.Time.IsZero() {
		headers = append(headers, kafkago.Header{Key: HeaderOriginalTimestamp, Value: []byte(m.Time.UTC().Format(time.RFC3339Nano))})
	}
	value := present(m.Value)
	if len(value) > maxDeadLetterValue {
		value = value[:maxDeadLetterValue]
		headers = append(headers, kafkago.Header{Key: HeaderTruncated, Value: strconv.AppendInt(nil, int64(len(m.Value)), 10)})
	}
	letter := kafkago.Message{Topic: dlqTopic, Key: m.Key, Value: value, Headers: headers}
	if size(letter) > maxDeadLetter { // a large key or large original headers
		letter = slim(letter)
	}
	return letter
}

// originalPrefix renames a header of the original message that has the name of one of
// herald's: herald.error becomes original.herald.error.
const originalPrefix = "original."

// isHeraldHeader tells whether key is the name of a header herald adds to dead letters.
func isHeraldHeader(key string) bool {
	switch key {
	case HeaderError, HeaderErrorFields, HeaderOriginalTopic, HeaderOriginalPartition, HeaderOriginalOffset, HeaderOriginalTimestamp, HeaderTruncated, HeaderGroup:
		return true
	}
	return false
}

// present is b, or an empty slice for nil: kafka-go writes nil as null and an empty slice as
// an empty value.
func present(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// size is what a message weighs against the brokers' limit, framing aside.
func size(m kafkago.Message) int {
	n := len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

func errorFields(err error) string {
	if _, ok := errors.AsType[*refusedError](err); ok {
		return "id"
	}
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
		BatchSize:              1,                // the broker's size limit is per record batch: one letter each
		BatchBytes:             2 << 20,
		MaxAttempts:            3,
		AllowAutoTopicCreation: true,
	}
}

// sendDeadLetters writes the dead letters of a batch, retrying with backoff until they are
// written or ctx is done. Nothing of the batch is committed before they are written, and each
// is logged once it is.
func (in *Ingester) sendDeadLetters(ctx context.Context, letters []deadLetter) error {
	msgs := make([]kafkago.Message, len(letters))
	for i, d := range letters {
		msgs[i] = d.message(in.cfg.deadLetterTopic(d.msg.Topic), in.cfg.GroupID)
	}
	err := in.retry(ctx, StateRetryingDeadLetter, "dead-letter messages", func() error {
		for cut := false; ; cut = true {
			err := in.deadLetters.WriteMessages(ctx, msgs...)
			if err == nil {
				return nil
			}
			missing := missingTopics(msgs, err)
			var slimmed []kafkago.Message
			msgs, slimmed = unwritten(msgs, err)
			for _, m := range slimmed {
				in.logger.Warn("dead letter too large for its topic's max.message.bytes; writing it without the original key, value and headers",
					"dead_letter_topic", m.Topic, "original_size", string(header(m, HeaderTruncated)))
			}
			if !cut && len(slimmed) > 0 && len(slimmed) == len(msgs) {
				continue // only letters too large failed: write them cut down now, not after a pause
			}
			letters := fmt.Sprintf("write %d dead %s", len(msgs), inNumber(len(msgs), "letter", "letters"))
			if len(missing) > 0 {
				return fmt.Errorf("%s: dead-letter topic %s does not exist, and the brokers do not create topics on demand: create %s (kafka-topics.sh --bootstrap-server BROKER --create --topic %s), or set --kafka-dlq-topic to one that exists; until then nothing after these messages is committed: %w",
					letters, strings.Join(missing, ", "), inNumber(len(missing), "it", "them"), missing[0], err)
			}
			return fmt.Errorf("%s: %w", letters, in.cfg.Security.explain(err))
		}
	})
	if err != nil {
		return err
	}
	for _, d := range letters {
		in.logger.Warn("message is no valid event; dead-lettered", "topic", d.msg.Topic, "partition", d.msg.Partition,
			"offset", d.msg.Offset, "dead_letter_topic", in.cfg.deadLetterTopic(d.msg.Topic), "error", d.err)
	}
	return nil
}

// missingTopics are the topics of msgs that a failed write found do not exist.
func missingTopics(msgs []kafkago.Message, err error) []string {
	var failed kafkago.WriteErrors
	var topics []string
	add := func(topic string) {
		if !slices.Contains(topics, topic) {
			topics = append(topics, topic)
		}
	}
	switch {
	case errors.As(err, &failed) && len(failed) == len(msgs):
		for i, e := range failed {
			if errors.Is(e, kafkago.UnknownTopicOrPartition) {
				add(msgs[i].Topic)
			}
		}
	case errors.Is(err, kafkago.UnknownTopicOrPartition):
		for _, m := range msgs {
			add(m.Topic)
		}
	}
	return topics
}

func inNumber(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxDeadLetter is the most a dead letter may weigh (key, value and headers): under Kafka's
// default message.max.bytes (1,048,588 bytes) with room for the record's framing.
const maxDeadLetter = 1_040_000

// unwritten returns what of msgs a failed write did not write, to be written again. A letter
// the brokers refused as too large (their message.max.bytes may be lower than Kafka's
// default) comes back cut down to herald's headers, and is also among slimmed: without them
// ingest would stop on it for good.
func unwritten(msgs []kafkago.Message, err error) (again, slimmed []kafkago.Message) {
	var failed kafkago.WriteErrors
	if !errors.As(err, &failed) || len(failed) != len(msgs) {
		return msgs, nil // nothing known of which were written: all again
	}
	for i, e := range failed {
		switch {
		case e == nil:
		case errors.Is(e, kafkago.MessageSizeTooLarge):
			m := slim(msgs[i])
			again, slimmed = append(again, m), append(slimmed, m)
		default:
			again = append(again, msgs[i])
		}
	}
	return again, slimmed
}

// header is the value of m's header key; nil when it has none.
func header(m kafkago.Message, key string) []byte {
	for _, h := range m.Headers {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}

// slim is a dead letter without the original key, value and headers: herald's headers still
// say why and where from, and HeaderTruncated the size of the original value.
// Cutting down a letter already cut down gives the same letter.
func slim(m kafkago.Message) kafkago.Message {
	headers := make([]kafkago.Header, 0, 8)
	original := strconv.AppendInt(nil, int64(len(m.Value)), 10)
	for _, h := range m.Headers {
		switch h.Key {
		case HeaderTruncated:
			original = h.Value // the original size, from the first cut
		case HeaderError, HeaderErrorFields, HeaderOriginalTopic, HeaderOriginalPartition, HeaderOriginalOffset, HeaderOriginalTimestamp, HeaderGroup: // herald's own: the original's are renamed
			if len(h.Value) > 4096 {
				h.Value = h.Value[:4096]
			}
			headers = append(headers, h)
		}
	}
	headers = append(headers, kafkago.Header{Key: HeaderTruncated, Value: original})
	return kafkago.Message{Topic: m.Topic, Value: []byte{}, Headers: headers} // empty, not a tombstone
}

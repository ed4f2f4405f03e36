package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Compressions a Producer can write with.
var Compressions = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// ProducerConfig configures a Producer.
type ProducerConfig struct {
	Brokers     []string
	Topic       string
	ClientID    string // default herald
	Compression string // none (default), gzip, snappy, lz4 or zstd
	Security    Security
}

// Message is one message to produce. A message with a key goes to the partition of its key.
type Message struct {
	Key, Value []byte
}

// Producer writes messages to one topic, for `herald event send` and tests. It is no part of
// ingest: herald itself only consumes (and writes dead letters).
type Producer struct {
	w   *kafkago.Writer
	sec Security // to explain failed connections
}

// NewProducer builds a producer; it connects on the first Send.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	var errs []error
	if len(cfg.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: name at least one broker (host:port)"))
	}
	if !ValidTopic(cfg.Topic) {
		errs = append(errs, fmt.Errorf("topic %q: %s", cfg.Topic, TopicRule))
	}
	codec, err := compression(cfg.Compression)
	if err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Security.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "herald"
	}
	conn, err := cfg.Security.connectors(cfg.ClientID)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &Producer{sec: cfg.Security, w: &kafkago.Writer{
		Addr:                   kafkago.TCP(cfg.Brokers...),
		Topic:                  cfg.Topic,
		Transport:              conn.transport,
		Balancer:               &kafkago.Hash{}, // by key; round robin for messages without one
		RequiredAcks:           kafkago.RequireAll,
		Compression:            codec,
		BatchSize:              1000,
		BatchBytes:             1_000_000, // under the brokers' default message.max.bytes: a record batch is checked whole
		BatchTimeout:           5 * time.Millisecond,
		AllowAutoTopicCreation: true,
	}}, nil
}

// Send writes msgs and returns once the brokers have acknowledged every one.
func (p *Producer) Send(ctx context.Context, msgs []Message) error {
	out := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafkago.Message{Key: m.Key, Value: m.Value}
	}
	if err := p.w.WriteMessages(ctx, out...); err != nil {
		return fmt.Errorf("produce to %s: %w", p.w.Topic, p.sec.explain(err))
	}
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return p.w.Close() }

// ValidCompression tells whether name is one of Compressions (in any case), or empty for none.
func ValidCompression(name string) bool {
	_, err := compression(name)
	return err == nil
}

func compression(name string) (kafkago.Compression, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafkago.Gzip, nil
	case "snappy":
		return kafkago.Snappy, nil
	case "lz4":
		return kafkago.Lz4, nil
	case "zstd":
		return kafkago.Zstd, nil
	}
	return 0, fmt.Errorf("compression %q: use one of %s", name, strings.Join(Compressions, ", "))
}

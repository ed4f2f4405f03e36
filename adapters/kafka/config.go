package kafka

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"herald/domain"
)

// StartOffset says where a consumer group begins reading a partition it has no committed
// offset for.
type StartOffset string

// Start offsets.
const (
	StartFirst StartOffset = "first" // the oldest message the topic keeps
	StartLast  StartOffset = "last"  // only messages produced from now on
)

// DefaultTopic is the topic herald reads when none is configured.
const DefaultTopic = "herald.events"

// DeadLetterSuffix names a topic's default dead-letter topic: herald.events.dlq.
const DeadLetterSuffix = ".dlq"

// Config configures an Ingester. The zero value of every field but Brokers has a default.
type Config struct {
	Brokers     []string      // host:port of one or more brokers
	Topics      []string      // topics to consume; default [herald.events]
	GroupID     string        // consumer group; default herald
	ClientID    string        // client id the brokers see; default herald
	StartOffset StartOffset   // where a new group starts; default first
	BatchSize   int           // messages recorded per batch, at most domain.MaxEventsPerBatch; default 1000
	BatchWait   time.Duration // how long a batch waits to fill after its first message; default 5ms
	// DeadLetterTopic receives every message that is not a valid event. Empty: the message's
	// own topic with DeadLetterSuffix.
	DeadLetterTopic string
	// MaxMessageBytes is the size above which a message is dead-lettered without being read;
	// default 1 MiB.
	MaxMessageBytes int
	// InFlight is how many batches are being recorded at once (they are committed in
	// order); default 4.
	InFlight int
	Security Security
	// RetryMin and RetryMax bound the exponential backoff (with jitter) between attempts to
	// record a batch or dead-letter a message while the store or the brokers fail; default
	// 100ms and 30s.
	RetryMin, RetryMax time.Duration
	// ProbeInterval is how often the brokers are asked for the topics' metadata, which is
	// how the ingester knows it can reach them while no message arrives; default 10s.
	ProbeInterval time.Duration
	// SessionTimeout is how long the group waits for a member that stopped without leaving it
	// (killed) before it hands its partitions to the others; default 30s. HeartbeatInterval
	// defaults to a third of it, at most 3s, and RebalanceTimeout, how long a rebalance waits
	// for the members to rejoin, to SessionTimeout.
	SessionTimeout, HeartbeatInterval, RebalanceTimeout time.Duration
}

func (c *Config) setDefaults() {
	if len(c.Topics) == 0 {
		c.Topics = []string{DefaultTopic}
	}
	if c.GroupID == "" {
		c.GroupID = "herald"
	}
	if c.ClientID == "" {
		c.ClientID = "herald"
	}
	if c.StartOffset == "" {
		c.StartOffset = StartFirst
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.BatchWait == 0 {
		c.BatchWait = 5 * time.Millisecond
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 1 << 20
	}
	if c.InFlight == 0 {
		c.InFlight = 4
	}
	if c.RetryMin == 0 {
		c.RetryMin = 100 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = 10 * time.Second
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 30 * time.Second
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = min(3*time.Second, c.SessionTimeout/3)
	}
	if c.RebalanceTimeout == 0 { // a member that does not rejoin in time is as gone as one whose session ended
		c.RebalanceTimeout = c.SessionTimeout
	}
}

// Validate reports settings that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: name at least one broker (host:port)"))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, errors.New("brokers: empty broker address"))
		}
	}
	for _, t := range append(append([]string(nil), c.Topics...), c.DeadLetterTopic) {
		if t != "" && !ValidTopic(t) {
			errs = append(errs, fmt.Errorf("topic %q: %s", t, TopicRule))
		}
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("topics: name at least one topic"))
	}
	for _, t := range c.Topics {
		if t == "" {
			errs = append(errs, errors.New("topics: empty topic name"))
		}
		if t == c.DeadLetterTopic || (c.DeadLetterTopic == "" && strings.HasSuffix(t, DeadLetterSuffix) && slices.Contains(c.Topics, strings.TrimSuffix(t, DeadLetterSuffix))) {
			errs = append(errs, fmt.Errorf("topic %q is also a dead-letter topic; herald would read its own rejects", t))
		}
		if c.DeadLetterTopic == "" && ValidTopic(t) && !ValidTopic(t+DeadLetterSuffix) {
			errs = append(errs, fmt.Errorf("topic %q: its dead-letter topic, the name and %q, would be %d characters, over Kafka's limit of %d; name one with DeadLetterTopic (--kafka-dlq-topic)", t, DeadLetterSuffix, len(t)+len(DeadLetterSuffix), MaxTopicLength))
		}
	}
	if c.StartOffset != StartFirst && c.StartOffset != StartLast {
		errs = append(errs, fmt.Errorf("start offset %q: use first or last", c.StartOffset))
	}
	if c.BatchSize < 1 || c.BatchSize > domain.MaxEventsPerBatch {
		errs = append(errs, fmt.Errorf("batch size %d: must lie between 1 and %d", c.BatchSize, domain.MaxEventsPerBatch))
	}
	if c.BatchWait < 0 {
		errs = append(errs, fmt.Errorf("batch wait %s: must not be negative", c.BatchWait))
	}
	if c.MaxMessageBytes < 1 {
		errs = append(errs, fmt.Errorf("max message bytes %d: must be positive", c.MaxMessageBytes))
	}
	if c.InFlight < 1 {
		errs = append(errs, fmt.Errorf("in-flight batches %d: must be positive", c.InFlight))
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("retry backoff %s..%s: want 0 < min <= max", c.RetryMin, c.RetryMax))
	}
	if c.ProbeInterval <= 0 {
		errs = append(errs, fmt.Errorf("probe interval %s: must be positive", c.ProbeInterval))
	}
	if err := c.Security.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka config: %w", err)
	}
	return nil
}

// deadLetterTopic is where a bad message of topic goes.
func (c *Config) deadLetterTopic(topic string) string {
	if c.DeadLetterTopic != "" {
		return c.DeadLetterTopic
	}
	return topic + DeadLetterSuffix
}

// MaxTopicLength is the longest topic name Kafka takes.
const MaxTopicLength = 249

// TopicRule says, for error messages, which names ValidTopic takes.
const TopicRule = "a topic name is 1 to 249 letters, digits, '.', '_' and '-', and not . or .."

// ValidTopic tells whether s is a legal Kafka topic name.
func ValidTopic(s string) bool {
	if s == "" || len(s) > MaxTopicLength || s == "." || s == ".." {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

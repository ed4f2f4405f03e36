package kafka

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Brokers: []string{"localhost:9092"}}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Topics[0] != DefaultTopic || c.GroupID != "herald" || c.StartOffset != StartFirst || c.BatchSize != 1000 ||
		c.deadLetterTopic("herald.events") != "herald.events.dlq" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*Config)
		want   string
	}{
		"no brokers":        {func(c *Config) { c.Brokers = nil }, "brokers"},
		"bad topic":         {func(c *Config) { c.Topics = []string{"a b"} }, `topic "a b"`},
		"reads its rejects": {func(c *Config) { c.Topics = []string{"a", "a.dlq"} }, "dead-letter topic"},
		"dlq is a topic":    {func(c *Config) { c.DeadLetterTopic = "a" }, "dead-letter topic"},
		"start offset":      {func(c *Config) { c.StartOffset = "middle" }, "start offset"},
		"batch too large":   {func(c *Config) { c.BatchSize = 10_001 }, "batch size"},
		"negative wait":     {func(c *Config) { c.BatchWait = -time.Second }, "batch wait"},
		"cert without key":  {func(c *Config) { c.Security.TLS.CertFile = "c.pem" }, "key"},
		"sasl mechanism":    {func(c *Config) { c.Security.SASL = SASL{Mechanism: "gssapi", Username: "u"} }, "gssapi"},
		"sasl user":         {func(c *Config) { c.Security.SASL = SASL{Mechanism: SASLPlain} }, "username"},
		"dead-letter topic too long": {func(c *Config) { c.Topics = []string{strings.Repeat("t", 246)} },
			`topic "` + strings.Repeat("t", 246) + `": its dead-letter topic, the name and ".dlq", would be 250 characters, over Kafka's limit of 249; name one with DeadLetterTopic (--kafka-dlq-topic)`},
	} {
		c := Config{Brokers: []string{"localhost:9092"}, Topics: []string{"a"}}
		tc.change(&c)
		c.setDefaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error mentioning %q", name, err, tc.want)
		}
	}
}

// A topic whose default dead-letter topic would be too long for Kafka is refused at start,
// not at its first bad message; with a dead-letter topic of one's choice, or 4 characters
// shorter, it is taken.
func TestConfigValidate_deadLetterTopicNameFitsKafka(t *testing.T) {
	for _, c := range []Config{
		{Brokers: []string{"localhost:9092"}, Topics: []string{strings.Repeat("t", 245)}},
		{Brokers: []string{"localhost:9092"}, Topics: []string{strings.Repeat("t", 249)}, DeadLetterTopic: "rejects"},
	} {
		c.setDefaults()
		if err := c.Validate(); err != nil {
			t.Errorf("topic of %d characters, dead-letter topic %q: %v", len(c.Topics[0]), c.DeadLetterTopic, err)
		}
	}
}

func TestNewIngesterRefusesNilDependencies(t *testing.T) {
	if _, err := NewIngester(Config{Brokers: []string{"x:1"}}, nil, nil, testLogger()); err == nil {
		t.Error("nil recorder accepted")
	}
	if _, err := NewIngester(Config{Brokers: []string{"x:1"}}, newTestLog(t), nil, nil); err == nil {
		t.Error("nil logger accepted")
	}
	_, err := NewIngester(Config{Brokers: []string{"x:1"}, Security: Security{TLS: TLS{CAFile: "/nonexistent/ca.pem"}}}, newTestLog(t), nil, testLogger())
	if err == nil || !strings.Contains(err.Error(), "ca") {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestBackoffGrowsWithJitterUpToItsBound(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	for i, hi := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		hi *= time.Millisecond
		if d := b.delay(); d < hi/2 || d > hi {
			t.Errorf("delay %d = %s, want within [%s, %s]", i, d, hi/2, hi)
		}
	}
}

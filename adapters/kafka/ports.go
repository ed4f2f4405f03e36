// Package kafka ingests log events from Kafka topics with kafka-go: a consumer-group member
// that decodes each message as a log event, records the valid ones in batches, sends the
// others to a dead-letter topic, and commits offsets only once a batch is durable. Messages
// without an id get one derived from their topic, partition and offset, so that a message
// delivered again after a crash or a rebalance is recognised as a duplicate: every message
// is in the log exactly once.
package kafka

import (
	"context"
	"time"

	"herald/domain"
)

// Recorder durably records a batch of valid events, idempotently by event id. It returns only
// once the batch is durable; an error means nothing of the batch may be taken as stored.
// cmd/herald wires the RecordEvents command to it.
type Recorder interface {
	// Record records events; stamped[i] says events[i] carries its message's timestamp,
	// having none of its own.
	Record(ctx context.Context, events []domain.LogEvent, stamped []bool) (Recorded, error)
}

// Recorded is what became of a batch a Recorder took.
// The events of the batch neither of them names were stored now.
type Recorded struct {
	// Duplicate[i] says event i's id was already in the log; nil when no event's was.
	Duplicate []bool
	// Refused says why the log would not store some valid events, by their index in the
	// batch: an id another account's event has. They are dead-lettered with that reason.
	Refused map[int]string
}

// duplicate tells whether event i's id was already in the log.
func (r Recorded) duplicate(i int) bool { return i < len(r.Duplicate) && r.Duplicate[i] }

// Metrics receives what the ingester does, once per committed batch; cmd/herald wires
// Prometheus to it.
type Metrics interface {
	BatchCommitted(BatchStats)
	// GroupLag reports, every probe, how far the group's committed offsets trail the end of
	// each partition of the topics: the group's lag, whichever member owns the partition,
	// and it grows while ingest is paused (an outage), when no batch is committed.
	GroupLag([]PartitionLag)
}

// BatchStats is what became of one batch of messages: in all, and by topic.
type BatchStats struct {
	Counts
	ByTopic map[string]*Counts
	Took    time.Duration // from the batch's first message to its commit
	Lag     []PartitionLag

	lastTopic string  // the topic count was last given: a batch is runs of one partition's
	last      *Counts // messages, so most calls skip the map
}

// Counts are the messages of a batch, or of one of its topics, by what became of them.
type Counts struct {
	Consumed     int // messages
	Recorded     int // events stored now
	Duplicates   int // events whose id was already in the log
	DeadLettered int // messages sent to the dead-letter topic
}

// count adds to the batch's counts and to topic's.
func (s *BatchStats) count(topic string, add func(c *Counts)) {
	add(&s.Counts)
	if s.last == nil || topic != s.lastTopic {
		if s.ByTopic == nil {
			s.ByTopic = map[string]*Counts{}
		}
		if s.last = s.ByTopic[topic]; s.last == nil {
			s.last = &Counts{}
			s.ByTopic[topic] = s.last
		}
		s.lastTopic = topic
	}
	add(s.last)
}

// PartitionLag is how far the committed position of a partition trails its end, as the
// broker reported it when the batch was fetched.
type PartitionLag struct {
	Topic     string
	Partition int
	Lag       int64
}

// nopMetrics is used when the caller passes no metrics.
type nopMetrics struct{}

func (nopMetrics) BatchCommitted(BatchStats) {}
func (nopMetrics) GroupLag([]PartitionLag)   {}

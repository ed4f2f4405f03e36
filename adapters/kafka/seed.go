package kafka

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// A group that starts at the last offset reads only what is produced after it first meets a
// partition. Kafka keeps that start only as a committed offset, and a partition nothing was
// produced to since has none: on every restart, rebalance or new session the group would
// start it at its end again, and whatever was produced to it meanwhile would be skipped. So
// herald commits the start itself, the first time it meets a partition: before joining, for
// every partition of the topics the group has never committed (the broker accepts that only
// while the group has no member), and else when the group assigns one to this member.
//
// Before joining, the end is read before this member's reader exists, so the committed start
// is never past where the reader begins. At assignment, kafka-go has already started the
// partition's reader, and a message produced in the instant between its start and the
// reading of the end would be lost, should herald crash before recording it.

// seedTimeout bounds seeding the group's start.
const seedTimeout = 10 * time.Second

// seedGroup commits, for each partition of topics the group has no committed offset for, the
// partition's end, as no member of the group (generation -1), which the broker accepts only
// while the group has none. It is done only when the group starts at the last offset; failing,
// it logs why and leaves the partitions to be seeded as they are assigned.
func (in *Ingester) seedGroup(ctx context.Context, l layout, topics []string) {
	if in.cfg.StartOffset != StartLast {
		return
	}
	byTopic := map[string][]int{}
	for _, t := range topics {
		for p := range l[t] {
			byTopic[t] = append(byTopic[t], p)
		}
	}
	n, err := in.commitOutside(ctx, byTopic)
	switch {
	case err != nil:
		in.logger.Info("kafka group start not committed before joining; each partition's is committed as the group assigns it",
			"reason", err)
	case n > 0:
		in.logger.Info("kafka group starts at the end of the partitions it never read; committed that start", "partitions", n)
	}
}

func (in *Ingester) commitOutside(ctx context.Context, byTopic map[string][]int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	client, done := in.seedClient()
	defer done()
	end, err := in.uncommittedEnds(ctx, client, byTopic)
	if err != nil || len(end) == 0 {
		return 0, err
	}
	req := &kafkago.OffsetCommitRequest{GroupID: in.cfg.GroupID, GenerationID: -1, Topics: map[string][]kafkago.OffsetCommit{}}
	for k, offset := range end {
		req.Topics[k.topic] = append(req.Topics[k.topic], kafkago.OffsetCommit{Partition: k.partition, Offset: offset})
	}
	resp, err := client.OffsetCommit(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("commit the group's start: %w", err)
	}
	for _, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return 0, fmt.Errorf("commit the group's start: %w", p.Error)
			}
		}
	}
	return len(end), nil
}

// seedAssigned takes the partitions assigned to this member that the group has no committed
// offset for, until ctx is done, and hands their ends to the session's committer, which
// commits them as this member unless it commits a later offset of the partition first.
func (in *Ingester) seedAssigned(ctx context.Context, assigned <-chan map[string][]int, commits *offsets) {
	for {
		select {
		case byTopic := <-assigned:
			end, err := in.assignedEnds(ctx, byTopic)
			switch {
			case err != nil && ctx.Err() == nil:
				in.logger.Warn("kafka group start not committed for the partitions assigned; until a message of theirs is, a restart starts them at their end again",
					"partitions", byTopic, "error", err)
			case len(end) > 0:
				msgs := make([]kafkago.Message, 0, len(end))
				for k, offset := range end {
					msgs = append(msgs, kafkago.Message{Topic: k.topic, Partition: k.partition, Offset: offset - 1})
				}
				commits.seed(msgs)
				in.logger.Info("kafka group starts at the end of the partitions assigned that it never read; committing that start", "partitions", len(end))
			}
		case <-ctx.Done():
			return
		}
	}
}

func (in *Ingester) assignedEnds(ctx context.Context, byTopic map[string][]int) (map[topicPartition]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	client, done := in.seedClient()
	defer done()
	return in.uncommittedEnds(ctx, client, byTopic)
}

// seedClient is a client of its own, with a function that closes its connections.
func (in *Ingester) seedClient() (*kafkago.Client, func()) {
	transport := in.conn.newTransport()
	return &kafkago.Client{Addr: kafkago.TCP(in.cfg.Brokers...), Transport: transport}, transport.CloseIdleConnections
}

// uncommittedEnds returns the end of each partition of byTopic the group has no committed
// offset for.
func (in *Ingester) uncommittedEnds(ctx context.Context, client *kafkago.Client, byTopic map[string][]int) (map[topicPartition]int64, error) {
	committed, err := client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: in.cfg.GroupID, Topics: byTopic})
	if err != nil {
		return nil, fmt.Errorf("fetch the group's offsets: %w", in.cfg.Security.explain(err))
	}
	never := map[string][]int{}
	switch {
	case errors.Is(committed.Error, kafkago.GroupIdNotFound): // a group never seen: nothing committed
		never = byTopic
	case committed.Error != nil:
		return nil, fmt.Errorf("fetch the group's offsets: %w", committed.Error)
	}
	for topic, ps := range committed.Topics {
		for _, p := range ps {
			if (p.Error == nil && p.CommittedOffset < 0) || errors.Is(p.Error, kafkago.GroupIdNotFound) {
				never[topic] = append(never[topic], p.Partition)
			}
		}
	}
	if len(never) == 0 {
		return nil, nil
	}
	return listOffsets(ctx, client, never, false)
}

// unstarted returns the partitions of kafka-go's assignment (a map of its topic partition, a
// struct of topic and partition, to the offset to start from) that start at the last offset
// (kafkago.LastOffset): those the group has no committed offset for.
func unstarted(assignment reflect.Value) map[string][]int {
	out := map[string][]int{}
	if assignment.Kind() != reflect.Map {
		return out
	}
	for it := assignment.MapRange(); it.Next(); {
		k, v := it.Key(), it.Value()
		if k.Kind() != reflect.Struct || k.NumField() < 2 || !v.CanInt() || v.Int() != kafkago.LastOffset {
			continue
		}
		topic, partition := k.Field(0), k.Field(1)
		if topic.Kind() != reflect.String || !partition.CanInt() {
			continue
		}
		out[topic.String()] = append(out[topic.String()], int(partition.Int()))
	}
	return out
}

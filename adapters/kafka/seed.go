package kafka

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// A group that starts at the last offset reads only what is produced after it first meets a
// partition. Kafka keeps that start only as a committed offset, and a partition nothing was
// produced to since has none: on every restart, rebalance or new session the group would
// start it at its end again, and whatever was produced to it meanwhile would be skipped. So
// herald commits the start itself, the first time it meets a partition: before joining, for
// every partition of the topics the group has never committed (the broker accepts that only
// while the group has no member); else, as the group assigns one to this member, the offset
// kafka-go's reader of the partition starts from.
//
// Before joining, the end is read before this member's reader exists, so the committed start
// is never past where the reader begins. At assignment, it is where the reader begins, handed
// to the committer before the reader fetches anything, so a batch of the partition always
// commits a later offset, after it.

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
		in.logger.Info("kafka group start not committed before joining (the group has other members, or the brokers refused); each partition's is committed as this member starts reading it",
			"reason", err)
	case n > 0:
		in.logger.Info("kafka group starts at the end of the partitions it never read; committed that start", "partitions", n)
	}
}

func (in *Ingester) commitOutside(ctx context.Context, byTopic map[string][]int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	client, done := in.ownClient()
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

// startSeeds follows, for one session, the partitions assigned to this member that the group
// has no committed offset for, and hands the offset each one's reader starts from to the
// session's committer. kafka-go tells both only in its log: the assignment, then, from each
// partition's reader, where it seeks to. The first seek can come before the assignment is
// logged (the readers start first), so seeks are kept until it is.
type startSeeds struct {
	mu       sync.Mutex
	commits  *offsets
	assigned bool                     // the generation's assignment has been logged
	pending  map[topicPartition]bool  // assigned without a committed offset, start not seen yet
	early    map[topicPartition]int64 // starts seen before the assignment was logged
}

func newStartSeeds(commits *offsets) *startSeeds {
	return &startSeeds{commits: commits, pending: map[topicPartition]bool{}, early: map[topicPartition]int64{}}
}

// assign takes the partitions of a new generation that start at the last offset.
func (s *startSeeds) assign(unstarted map[string][]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assigned = true
	for topic, ps := range unstarted {
		for _, p := range ps {
			k := topicPartition{topic, p}
			if offset, ok := s.early[k]; ok {
				s.seed(k, offset)
				continue
			}
			s.pending[k] = true
		}
	}
	clear(s.early)
}

// started takes where a partition's reader seeks to: its start, the first time in a generation.
func (s *startSeeds) started(k topicPartition, offset int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.pending[k]:
		delete(s.pending, k)
		s.seed(k, offset)
	case !s.assigned:
		if _, ok := s.early[k]; !ok {
			s.early[k] = offset
		}
	}
}

// over ends the generation: its partitions not started yet are met again at the next one.
func (s *startSeeds) over() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assigned = false
	clear(s.pending)
	clear(s.early)
}

func (s *startSeeds) seed(k topicPartition, offset int64) {
	if offset < 0 {
		return
	}
	s.commits.seed([]kafkago.Message{{Topic: k.topic, Partition: k.partition, Offset: offset - 1}})
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
		return listOffsets(ctx, client, byTopic, false)
	case committed.Error != nil:
		return nil, fmt.Errorf("fetch the group's offsets: %w", committed.Error)
	}
	for topic, ps := range committed.Topics {
		for _, p := range ps {
			if p.Error == nil && p.CommittedOffset < 0 {
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
	return assigned(assignment, func(offset int64) bool { return offset == kafkago.LastOffset })
}

// assigned returns the partitions of kafka-go's assignment whose start offset keep takes
// (every one, for a nil keep), by topic, in order.
func assigned(assignment reflect.Value, keep func(offset int64) bool) map[string][]int {
	out := map[string][]int{}
	if assignment.Kind() != reflect.Map {
		return out
	}
	for it := assignment.MapRange(); it.Next(); {
		k, v := it.Key(), it.Value()
		if k.Kind() != reflect.Struct || k.NumField() < 2 || !v.CanInt() || (keep != nil && !keep(v.Int())) {
			continue
		}
		topic, partition := k.Field(0), k.Field(1)
		if topic.Kind() != reflect.String || !partition.CanInt() {
			continue
		}
		out[topic.String()] = append(out[topic.String()], int(partition.Int()))
	}
	for _, ps := range out {
		slices.Sort(ps)
	}
	return out
}

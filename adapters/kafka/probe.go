package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// probeTimeout bounds one probe of the brokers.
const probeTimeout = 10 * time.Second

// layout is what the brokers say of the configured topics: the number of partitions of each
// topic that can be consumed. A topic that does not exist, or whose partitions have no leader
// yet (it is being created), is absent.
type layout map[string]int

// topics returns the topics of l, in the order they were configured.
func (l layout) topics(configured []string) []string {
	var out []string
	for _, t := range configured {
		if l[t] > 0 {
			out = append(out, t)
		}
	}
	return out
}

// missing returns the configured topics l lacks, in the order they were configured.
func (l layout) missing(configured []string) []string {
	var out []string
	for _, t := range configured {
		if l[t] == 0 {
			out = append(out, t)
		}
	}
	return out
}

// watch probes the brokers for the topics' layout until ctx is done, and sends each layout it
// reads to layouts (which holds only the latest). It probes every ProbeInterval, and sooner
// (with backoff) while the brokers fail or a topic is missing, so that consuming starts soon
// after they are back. The probe is also how the status knows the brokers answer while no
// message arrives.
//
// herald watches the layout itself instead of kafka-go's WatchPartitionChanges: kafka-go ends
// its group generation whenever it cannot read a topic's partitions, so a topic that does not
// exist made it rejoin the group in a hot loop that stalled the other topics.
func (in *Ingester) watch(ctx context.Context, layouts chan layout) {
	healthy := true
	var missing []string // as last reported
	soon := newBackoff(in.cfg.RetryMin, in.cfg.ProbeInterval)
	for {
		l, err := in.probeOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := in.cfg.ProbeInterval
		if err != nil {
			in.status.brokersFailed(err)
			if healthy {
				in.logger.Warn("kafka brokers unavailable", "error", err)
			}
			wait = soon.delay()
		} else {
			in.status.brokersOK()
			if !healthy {
				in.logger.Info("kafka brokers available again")
			}
			now := l.missing(in.cfg.Topics)
			if !slices.Equal(now, missing) {
				in.reportMissing(now)
			}
			missing = now
			if len(missing) > 0 {
				wait = soon.delay()
			} else {
				soon = newBackoff(in.cfg.RetryMin, in.cfg.ProbeInterval)
			}
			select { // replace the layout not taken yet
			case <-layouts:
			default:
			}
			layouts <- l
		}
		healthy = err == nil
		if !sleep(ctx, wait) {
			return
		}
	}
}

// reportMissing logs and records which configured topics do not exist.
func (in *Ingester) reportMissing(missing []string) {
	in.status.topicsMissing(missing)
	if len(missing) == 0 {
		in.logger.Info("kafka topics all exist", "topics", in.cfg.Topics)
		return
	}
	in.logger.Warn("kafka topics do not exist; consuming the others and waiting for them (create them, or correct --kafka-topics)",
		"missing", missing)
}

// ownClient is a client with a Transport of its own (see probeOnce), and the function that
// closes its connections.
func (in *Ingester) ownClient() (*kafkago.Client, func()) {
	transport := in.conn.newTransport()
	return &kafkago.Client{Addr: kafkago.TCP(in.cfg.Brokers...), Transport: transport}, transport.CloseIdleConnections
}

// probeOnce reads the topics' layout and the group's lag. It asks the brokers through a
// Transport of its own: kafka-go's Transport answers metadata requests from its cache, and
// once it has the cluster's layout it keeps it when the brokers stop answering, so a probe
// through the shared one went on succeeding with every broker gone.
func (in *Ingester) probeOnce(ctx context.Context) (layout, error) {
	ctx, cancel := context.WithTimeout(ctx, min(probeTimeout, in.cfg.ProbeInterval))
	defer cancel()
	client, done := in.ownClient()
	defer done()
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: in.cfg.Topics})
	if err != nil {
		return nil, fmt.Errorf("read the metadata of %v from %v: %w", in.cfg.Topics, in.cfg.Brokers, in.cfg.Security.explain(err))
	}
	l := layout{}
	var partitions []kafkago.Partition
	for _, t := range md.Topics {
		switch {
		case errors.Is(t.Error, kafkago.UnknownTopicOrPartition), errors.Is(t.Error, kafkago.LeaderNotAvailable):
			continue
		case t.Error != nil:
			return nil, fmt.Errorf("read the metadata of topic %q: %w", t.Name, t.Error)
		}
		l[t.Name] = len(t.Partitions)
		partitions = append(partitions, t.Partitions...)
	}
	if lag, err := in.groupLag(ctx, client, partitions); err != nil {
		in.logger.Debug("read the group's lag", "error", err)
	} else {
		in.metrics.GroupLag(lag)
	}
	return l, nil
}

// groupLag reads the group's committed offsets and the partitions' ends. A partition the
// group never committed lags by all it holds when a new group starts at the first offset (a
// group that stalls before its first commit shows so); with the last offset, where a new
// member would start is not known here, and it is left out.
func (in *Ingester) groupLag(ctx context.Context, client *kafkago.Client, partitions []kafkago.Partition) ([]PartitionLag, error) {
	if len(partitions) == 0 {
		return nil, nil
	}
	byTopic := map[string][]int{}
	for _, p := range partitions {
		byTopic[p.Topic] = append(byTopic[p.Topic], p.ID)
	}
	committed, err := client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: in.cfg.GroupID, Topics: byTopic})
	if err != nil {
		return nil, fmt.Errorf("fetch the group's offsets: %w", err)
	}
	if committed.Error != nil {
		return nil, fmt.Errorf("fetch the group's offsets: %w", committed.Error)
	}
	end, err := listOffsets(ctx, client, byTopic, false)
	if err != nil {
		return nil, err
	}
	var start map[topicPartition]int64 // of the partitions never committed, read when there are some
	var out []PartitionLag
	for topic, ps := range committed.Topics {
		for _, p := range ps {
			k := topicPartition{topic, p.Partition}
			e, ok := end[k]
			if p.Error != nil || !ok {
				continue
			}
			from := p.CommittedOffset
			if from < 0 {
				if in.cfg.StartOffset == StartLast {
					continue
				}
				if start == nil {
					if start, err = listOffsets(ctx, client, byTopic, true); err != nil {
						return nil, err
					}
				}
				if from, ok = start[k]; !ok {
					continue
				}
			}
			out = append(out, PartitionLag{Topic: topic, Partition: p.Partition, Lag: max(e-from, 0)})
		}
	}
	return out, nil
}

// listOffsets reads the first offset of each partition of byTopic, or the last (the end).
func listOffsets(ctx context.Context, client *kafkago.Client, byTopic map[string][]int, first bool) (map[topicPartition]int64, error) {
	which := kafkago.LastOffsetOf
	if first {
		which = kafkago.FirstOffsetOf
	}
	reqs := map[string][]kafkago.OffsetRequest{}
	for topic, ps := range byTopic {
		for _, p := range ps {
			reqs[topic] = append(reqs[topic], which(p))
		}
	}
	listed, err := client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: reqs})
	if err != nil {
		return nil, fmt.Errorf("list the partitions' offsets: %w", err)
	}
	out := map[topicPartition]int64{}
	for topic, ps := range listed.Topics {
		for _, p := range ps {
			switch {
			case p.Error != nil:
			case first:
				out[topicPartition{topic, p.Partition}] = p.FirstOffset
			default:
				out[topicPartition{topic, p.Partition}] = p.LastOffset
			}
		}
	}
	return out, nil
}

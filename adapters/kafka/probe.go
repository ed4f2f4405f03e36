package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// probeTimeout bounds one probe of the brokers.
const probeTimeout = 10 * time.Second

// probe asks the brokers for the topics' partitions every ProbeInterval, so that the status
// tells whether they can be reached even while no message arrives.
func (in *Ingester) probe(ctx context.Context) {
	t := time.NewTicker(in.cfg.ProbeInterval)
	defer t.Stop()
	healthy := true
	for {
		err := in.probeOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			in.status.brokersFailed(err)
			if healthy {
				in.logger.Warn("kafka brokers unavailable", "error", err)
			}
		default:
			in.status.brokersOK()
			if !healthy {
				in.logger.Info("kafka brokers available again")
			}
		}
		healthy = err == nil
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// probeOnce connects to the first broker that answers and reads the topics' partitions.
func (in *Ingester) probeOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(probeTimeout, in.cfg.ProbeInterval))
	defer cancel()
	var errs []error
	for _, addr := range in.cfg.Brokers {
		conn, err := in.conn.dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if deadline, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(deadline)
		}
		partitions, err := conn.ReadPartitions(in.cfg.Topics...)
		conn.Close()
		if err != nil {
			return fmt.Errorf("read partitions of %v from %s: %w", in.cfg.Topics, addr, err)
		}
		if lag, err := in.groupLag(ctx, partitions); err != nil {
			in.logger.Debug("read the group's lag", "error", err)
		} else {
			in.metrics.GroupLag(lag)
		}
		return nil
	}
	return fmt.Errorf("reach brokers: %w", errors.Join(errs...))
}

// groupLag reads the group's committed offsets and the partitions' ends. A partition the
// group never committed is left out: its lag depends on where a new member would start.
func (in *Ingester) groupLag(ctx context.Context, partitions []kafkago.Partition) ([]PartitionLag, error) {
	client := &kafkago.Client{Addr: kafkago.TCP(in.cfg.Brokers...), Transport: in.conn.transport}
	byTopic := map[string][]int{}
	ends := map[string][]kafkago.OffsetRequest{}
	for _, p := range partitions {
		byTopic[p.Topic] = append(byTopic[p.Topic], p.ID)
		ends[p.Topic] = append(ends[p.Topic], kafkago.LastOffsetOf(p.ID))
	}
	committed, err := client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: in.cfg.GroupID, Topics: byTopic})
	if err != nil {
		return nil, fmt.Errorf("fetch the group's offsets: %w", err)
	}
	if committed.Error != nil {
		return nil, fmt.Errorf("fetch the group's offsets: %w", committed.Error)
	}
	listed, err := client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: ends})
	if err != nil {
		return nil, fmt.Errorf("list the partitions' ends: %w", err)
	}
	end := map[topicPartition]int64{}
	for topic, ps := range listed.Topics {
		for _, p := range ps {
			if p.Error == nil {
				end[topicPartition{topic, p.Partition}] = p.LastOffset
			}
		}
	}
	var out []PartitionLag
	for topic, ps := range committed.Topics {
		for _, p := range ps {
			e, ok := end[topicPartition{topic, p.Partition}]
			if p.Error != nil || p.CommittedOffset < 0 || !ok {
				continue
			}
			out = append(out, PartitionLag{Topic: topic, Partition: p.Partition, Lag: max(e-p.CommittedOffset, 0)})
		}
	}
	return out, nil
}

package main

import (
	"context"
	"log/slog"

	"herald/adapters/kafka"
	"herald/commands"
	"herald/domain"
	"herald/graph"
)

// kafkaRecorder is the Kafka ingester's Recorder: the RecordEvents command, as GraphQL's
// recordEvents uses it (with its metrics).
type kafkaRecorder struct {
	record graph.EventRecorder
	log    *slog.Logger
}

func (r kafkaRecorder) Record(ctx context.Context, events []domain.LogEvent, stamped []bool) (kafka.Recorded, error) {
	res, err := r.record.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: events, Stamped: stamped})
	if err != nil {
		return kafka.Recorded{}, err
	}
	// A message delivered again is a duplicate that says nothing; one that differs from the
	// event under its id is most likely a producer giving two events one id, which would
	// otherwise go unseen: once per batch, with the first.
	reused, first := 0, ""
	for _, o := range res.Outcomes {
		if o.Status == commands.Duplicate && o.Reason != "" {
			if reused++; first == "" {
				first = o.Reason
			}
		}
	}
	if reused > 0 {
		r.log.WarnContext(ctx, "kafka events not stored: their ids are already in the log for other events", "count", reused, "first", first)
	}
	return kafka.Recorded{Duplicate: res.Duplicated(), Refused: res.Refusals()}, nil
}

// newKafkaIngester builds the ingester `herald serve --kafka-brokers` runs.
func newKafkaIngester(flags *kafkaFlags, record graph.EventRecorder, metrics *metrics, logger *slog.Logger) (*kafka.Ingester, error) {
	cfg, err := flags.config()
	if err != nil {
		return nil, err
	}
	metrics.kafkaTopics(cfg.Topics)
	return kafka.NewIngester(cfg, kafkaRecorder{record: record, log: logger}, metrics, logger)
}

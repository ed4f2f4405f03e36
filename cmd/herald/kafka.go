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
}

func (r kafkaRecorder) Record(ctx context.Context, events []domain.LogEvent) (kafka.Recorded, error) {
	res, err := r.record.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: events})
	if err != nil {
		return kafka.Recorded{}, err
	}
	c := res.Counts()
	return kafka.Recorded{Recorded: c.Recorded, Duplicates: c.Duplicates, Refused: res.Refusals()}, nil
}

// newKafkaIngester builds the ingester `herald serve --kafka-brokers` runs.
func newKafkaIngester(flags *kafkaFlags, record graph.EventRecorder, metrics *metrics, logger *slog.Logger) (*kafka.Ingester, error) {
	cfg, err := flags.config()
	if err != nil {
		return nil, err
	}
	return kafka.NewIngester(cfg, kafkaRecorder{record: record}, metrics, logger)
}

package main

import (
	"context"

	"herald/commands"
	"herald/graph"
	"herald/projections"
)

// eventLogParts are what the API needs of the event log.
type eventLogParts struct {
	record     graph.EventRecorder
	deleteOne  commands.DeleteEventHandler
	deleteMany commands.DeleteEventsHandler
	queries    projections.EventLogQueries
	feed       *projections.Feed
	runner     *projections.Runner
}

func (a *app) wireEventLog(cfg serveConfig, v views, metrics *metrics, now commands.Clock) (eventLogParts, error) {
	feed := projections.NewFeed()
	projection, err := projections.NewEventLogProjection(v.eventLog, feed)
	if err != nil {
		return eventLogParts{}, err
	}
	runner, err := a.addRunner(projection, v, metrics)
	if err != nil {
		return eventLogParts{}, err
	}
	queries, err := projections.NewEventLogQueries(v.eventLog, a.store)
	if err != nil {
		return eventLogParts{}, err
	}
	record, err := commands.NewRecordEventsHandler(a.store, now, commands.NewEventID)
	if err != nil {
		return eventLogParts{}, err
	}
	deleteOne, err := commands.NewDeleteEventHandler(a.store, now)
	if err != nil {
		return eventLogParts{}, err
	}
	deleteMany, err := commands.NewDeleteEventsHandler(a.background, a.store, queries, now, purgeHooks(a.logger))
	if err != nil {
		return eventLogParts{}, err
	}
	resume, err := commands.NewResumePurgesHandler(a.store, a.store, now)
	if err != nil {
		return eventLogParts{}, err
	}
	a.jobs = append(a.jobs, func(ctx context.Context) { resumePurges(ctx, resume, a.logger) })
	recordWithMetrics := metrics.recorder(record)
	if cfg.Kafka.enabled() {
		if a.ingester, err = newKafkaIngester(&cfg.Kafka, recordWithMetrics, metrics, a.logger); err != nil {
			return eventLogParts{}, err
		}
		a.registry.MustRegister(kafkaStateCollector{a.ingester})
	}
	return eventLogParts{record: recordWithMetrics, deleteOne: deleteOne, deleteMany: deleteMany, queries: queries, feed: feed, runner: runner}, nil
}

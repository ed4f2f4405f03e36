package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/kafka"
	"herald/adapters/views/memory"
	"herald/commands"
	"herald/graph"
	"herald/projections"
)

// app is one herald server: its store, views, runners and HTTP handler. Wiring happens here
// and only here.
type app struct {
	logger   *slog.Logger
	store    *embedded.Store
	runners  []*projections.Runner
	handler  http.Handler
	registry *prometheus.Registry
	jobs     []func(context.Context) // background work beside the runners
	ingester *kafka.Ingester         // nil unless Kafka ingest is enabled
}

func newApp(cfg serveConfig, logger *slog.Logger) (*app, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := newMetrics(registry)

	store, err := embedded.Open(cfg.DataDir, embedded.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open event store in %s: %w", cfg.DataDir, err)
	}
	a := &app{logger: logger, store: store, registry: registry}
	if err := a.wire(cfg, metrics); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) wire(cfg serveConfig, metrics *metrics) error {
	now := func() time.Time { return time.Now().UTC() }
	view := memory.NewEventLog()
	feed := projections.NewFeed()
	projection, err := projections.NewEventLogProjection(view, feed)
	if err != nil {
		return err
	}
	runner, err := projections.NewRunner(a.store, projection, a.logger, metrics)
	if err != nil {
		return err
	}
	a.runners = append(a.runners, runner)
	queries, err := projections.NewEventLogQueries(view, a.store)
	if err != nil {
		return err
	}
	record, err := commands.NewRecordEventsHandler(a.store, now, commands.NewEventID)
	if err != nil {
		return err
	}
	deleteOne, err := commands.NewDeleteEventHandler(a.store, now)
	if err != nil {
		return err
	}
	deleteMany, err := commands.NewDeleteEventsHandler(a.store, queries, now, a.logger)
	if err != nil {
		return err
	}
	if maxAge := time.Duration(cfg.Retention); maxAge > 0 {
		expire, err := commands.NewApplyRetentionHandler(deleteMany, now)
		if err != nil {
			return err
		}
		a.jobs = append(a.jobs, func(ctx context.Context) {
			select { // clear only what a caught-up view knows of
			case <-runner.CaughtUp():
				runRetention(ctx, expire, maxAge, a.logger)
			case <-ctx.Done():
			}
		})
		a.logger.Info("retention enabled", "max_age", cfg.Retention.String())
	}
	recordWithMetrics := metrics.recorder(record)
	if cfg.Kafka.enabled() {
		if a.ingester, err = newKafkaIngester(&cfg.Kafka, recordWithMetrics, metrics, a.logger); err != nil {
			return err
		}
	}
	api, err := graph.NewHandler(&graph.Resolver{
		RecordEvents: recordWithMetrics,
		DeleteEvent:  deleteOne,
		DeleteEvents: deleteMany,
		EventLog:     queries,
		Feed:         feed,
		Views:        viewSet{head: a.store.LastPosition, runners: a.runners},
		Logger:       a.logger,
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", graph.NewPlayground("/graphql"))
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	a.handler = metrics.http(mux)
	return nil
}

// Handler serves the API, GraphiQL, health endpoints and metrics.
func (a *app) Handler() http.Handler { return a.handler }

// Run keeps the views up to date, ingests from Kafka when enabled, and runs the background
// jobs, until ctx is done.
func (a *app) Run(ctx context.Context) error {
	for _, job := range a.jobs {
		go job(ctx)
	}
	errs := make(chan error, len(a.runners)+1)
	for _, r := range a.runners {
		go func() { errs <- r.Run(ctx) }()
	}
	workers := len(a.runners)
	if a.ingester != nil {
		go func() {
			err := a.ingester.Run(ctx)
			if ctx.Err() == nil { // /readyz now says "stopped"
				a.logger.Error("kafka ingest stopped", "error", err)
			}
			errs <- err
		}()
		workers++
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close closes the store.
func (a *app) Close() {
	if err := a.store.Close(); err != nil {
		a.logger.Error("close event store", "error", err)
	}
}

// ready answers 200 once every view has caught up with the log and the Kafka ingester (when
// enabled) is consuming, 503 otherwise.
func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	views := map[string]any{}
	ok := true
	for _, run := range a.runners {
		applied, caughtUp := run.Status()
		views[run.Name()] = map[string]any{"position": applied, "caught_up": caughtUp}
		ok = ok && caughtUp
	}
	head, err := a.store.LastPosition(r.Context())
	body := map[string]any{"views": views, "store": map[string]any{"last_position": head}}
	if err != nil {
		ok = false
		body["store"] = map[string]any{"error": err.Error()}
	}
	if a.ingester != nil {
		s := a.ingester.Status()
		kafkaBody := map[string]any{"state": s.State, "since": s.Since.UTC().Format(time.RFC3339)}
		if s.LastError != "" {
			kafkaBody["last_error"] = s.LastError
		}
		body["kafka"] = kafkaBody
		ok = ok && s.Ready()
	}
	body["status"] = "ready"
	status := http.StatusOK
	if !ok {
		body["status"] = "starting"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/adapters/kafka"
	"herald/graph"
	"herald/notify"
	"herald/projections"
)

// app is one herald server: its store, views, runners and HTTP handler. Wiring happens here
// and only here.
type app struct {
	logger   *slog.Logger
	store    eventStore
	runners  []*projections.Runner
	dispatch *projections.Runner // nil when notifications are off
	handler  http.Handler
	registry *prometheus.Registry
	jobs     []func(context.Context) // background work beside the runners; Run waits for them
	drains   []func()                // wait for work started through background to end
	closers  []func()
	ingester kafkaIngester // nil unless Kafka ingest is enabled
	// storeCheck keeps views in Redis to this instance's embedded store (nil: memory views,
	// or a shared store).
	storeCheck *oneStore
	// background lives as long as the server (Run): for work a request starts and does not
	// wait for (backfills, purges).
	background context.Context
	stop       context.CancelFunc
}

// kafkaIngester is what the server needs of the Kafka ingester: *kafka.Ingester.
type kafkaIngester interface {
	Run(ctx context.Context) error
	Status() kafka.Status
}

func newApp(cfg serveConfig, logger *slog.Logger) (*app, error) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := newMetrics(registry)

	store, err := openEventStore(cfg, logger)
	if err != nil {
		return nil, err
	}
	a := &app{logger: logger, store: store, registry: registry}
	var stop context.CancelCauseFunc
	a.background, stop = context.WithCancelCause(context.Background())
	a.stop = func() { stop(notify.ErrShutdown) } // a backfill so ended says herald stopped
	if err := a.wire(cfg, metrics); err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) wire(cfg serveConfig, metrics *metrics) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := func() time.Time { return time.Now().UTC() }
	v, err := openViews(ctx, cfg.Redis, a.logger)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, v.close)
	if cfg.Redis.enabled() {
		a.logger.Info("views are kept in Redis and shared with other instances", "prefix", cfg.Redis.Prefix)
	}
	if err := a.followOneStore(ctx, v); err != nil {
		return err
	}
	el, err := a.wireEventLog(cfg, v, metrics, now)
	if err != nil {
		return err
	}
	access, auth, err := a.wireAccess(ctx, cfg, v, metrics, now)
	if err != nil {
		return err
	}
	if err := a.wireRetention(cfg, v, el, now); err != nil {
		return err
	}
	notifications, err := a.wireNotifications(ctx, cfg, v, metrics, now, el)
	if err != nil {
		return err
	}
	if !cfg.Auth.RequireAuth {
		a.logger.Warn("authentication is off (require_auth: false): every request acts as the admin account; use this on a trusted machine only")
	}
	api, err := graph.NewHandler(&graph.Resolver{
		RecordEvents:   el.record,
		DeleteEvent:    el.deleteOne,
		DeleteEvents:   el.deleteMany,
		EventLog:       el.queries,
		Feed:           el.feed,
		Views:          viewSet{head: a.store.LastPosition, runners: a.runners},
		EventLogView:   viewSet{head: a.store.LastPosition, runners: []*projections.Runner{el.runner}},
		Logger:         a.logger,
		Auth:           auth,
		RequireAuth:    cfg.Auth.RequireAuth,
		AllowedOrigins: cfg.Auth.AllowedOrigins,
		Access:         access,
		Notifications:  notifications,
		Projections:    runnerControl{head: a.store.LastPosition, runners: a.runners, dispatch: a.dispatch},
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	playground := graph.NewPlayground("/graphql")
	mux.Handle("GET /{$}", playground)
	mux.Handle("GET "+graph.GraphiQLStatic, playground)
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	a.handler = metrics.http(mux)
	return nil
}

// addRunner runs a projection, under the view's lease when the view is shared.
func (a *app) addRunner(p projections.Projection, v views, metrics *metrics) (*projections.Runner, error) {
	runner, err := projections.NewRunner(a.store, p, a.logger, metrics)
	if err != nil {
		return nil, err
	}
	if l, ok := v.leases[p.Name()]; ok {
		runner.UseLease(l.lease, l.claim)
	}
	a.runners = append(a.runners, runner)
	return runner, nil
}

// Handler serves the API, GraphiQL, health endpoints and metrics.
func (a *app) Handler() http.Handler { return a.handler }

// Run keeps the views up to date, ingests from Kafka when enabled, and runs the background
// jobs, until ctx is done.
func (a *app) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	defer jobs.Wait() // a job may still write (the dispatcher's checkpoint) after ctx ends
	defer cancel()    // the jobs end with the runners, also when those fail
	defer a.stop()    // and so does the work requests started (backfills, purges)
	for _, job := range a.jobs {
		jobs.Go(func() { job(ctx) })
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

// Close stops the work requests started (backfills), waits for it to record how it ended,
// and closes the views' connections and the store.
func (a *app) Close() {
	a.stop()
	for _, wait := range a.drains {
		wait()
	}
	for _, c := range a.closers {
		c()
	}
	if err := a.store.Close(); err != nil {
		a.logger.Error("close event store", "error", err)
	}
}

// ready answers 200 once every view has caught up with the log and the Kafka ingester (when
// enabled) is consuming, 503 otherwise. Its "status" says which, worst first: "unavailable"
// (the store cannot read or write), "degraded" (the API works, but Kafka ingest is held up by
// an outage: brokers, topics, the store's writes or the dead-letter topic), "starting" (views
// catching up, the ingester connecting or joining its group) or "ready".
func (a *app) ready(w http.ResponseWriter, r *http.Request) {
	views := map[string]any{}
	caughtUp := true
	for _, run := range a.runners {
		applied, done := run.Status()
		views[run.Name()] = map[string]any{"position": applied, "caught_up": done}
		caughtUp = caughtUp && done
	}
	head, err := a.store.LastPosition(r.Context())
	body := map[string]any{"views": views, "store": map[string]any{"last_position": head}}
	if h, isChecked := a.store.(interface{ Health() error }); isChecked && err == nil {
		err = h.Health() // the embedded store: failed (a full disk), or writes stalled
	}
	if err != nil {
		body["store"] = map[string]any{"last_position": head, "error": err.Error()}
	}
	if a.storeCheck != nil && err == nil {
		if err = a.storeCheck.refused(); err != nil {
			body["views_error"] = err.Error()
		}
	}
	kafkaReady, kafkaOutage := true, false
	if a.ingester != nil {
		s := a.ingester.Status()
		kafkaBody := map[string]any{"state": s.State, "since": s.Since.UTC().Format(time.RFC3339), "partitions": s.Partitions}
		if len(s.MissingTopics) > 0 {
			kafkaBody["missing_topics"] = s.MissingTopics
		}
		if s.LastError != "" {
			kafkaBody["last_error"] = s.LastError
			kafkaBody["last_error_at"] = s.LastErrorAt.UTC().Format(time.RFC3339)
		}
		body["kafka"] = kafkaBody
		kafkaReady, kafkaOutage = s.Ready(), s.Outage()
	}
	status := http.StatusServiceUnavailable
	switch {
	case err != nil:
		body["status"] = "unavailable"
	case kafkaOutage:
		body["status"] = "degraded"
	case !caughtUp || !kafkaReady:
		body["status"] = "starting"
	default:
		body["status"] = "ready"
		status = http.StatusOK
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

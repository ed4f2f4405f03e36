package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/adapters/kafka"
	"herald/commands"
	"herald/graph"
)

// metrics are herald's Prometheus series.
type metrics struct {
	eventsRecorded   prometheus.Counter
	eventsDuplicate  prometheus.Counter
	eventsRefused    prometheus.Counter
	recordBatch      prometheus.Histogram
	viewApplied      *prometheus.CounterVec
	viewCheckpoint   *prometheus.GaugeVec
	viewApplySeconds *prometheus.HistogramVec
	httpRequests     *prometheus.HistogramVec
	kafka            kafkaMetrics
	notify           notifyMetrics
}

// kafkaMetrics are the Kafka ingester's series.
type kafkaMetrics struct {
	consumed, recorded, duplicates, deadLettered *prometheus.CounterVec // by topic
	batch                                        prometheus.Histogram
	lag                                          *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		eventsRecorded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_events_recorded_total", Help: "Events stored in the log.",
		}),
		eventsDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_events_duplicate_total", Help: "Events not stored because their id was already recorded.",
		}),
		eventsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_events_refused_total", Help: "Valid events not stored because another account's event has their id.",
		}),
		recordBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_record_batch_seconds", Help: "Time to validate and durably store one batch of events.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		viewApplied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_view_records_applied_total", Help: "Records of the log applied to a view.",
		}, []string{"view"}),
		viewCheckpoint: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_view_checkpoint", Help: "Global log position up to which a view is applied.",
		}, []string{"view"}),
		viewApplySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_view_apply_seconds", Help: "Time to apply one batch of records to a view.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}, []string{"view"}),
		httpRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_http_request_seconds", Help: "HTTP requests by path and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"path", "code"}),
	}
	reg.MustRegister(m.eventsRecorded, m.eventsDuplicate, m.eventsRefused, m.recordBatch, m.viewApplied, m.viewCheckpoint, m.viewApplySeconds, m.httpRequests)
	m.kafka = kafkaMetrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_kafka_messages_consumed_total", Help: "Kafka messages consumed and committed, by the topic they were read from.",
		}, []string{"topic"}),
		recorded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_kafka_events_recorded_total", Help: "Events from Kafka stored in the log, by topic, counted when their batch's offsets are committed (herald_events_recorded_total counts them as they are stored).",
		}, []string{"topic"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_kafka_events_duplicate_total", Help: "Events from Kafka not stored because their id was already recorded (redeliveries included), by topic, counted when their batch's offsets are committed.",
		}, []string{"topic"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_kafka_messages_dead_lettered_total", Help: "Kafka messages that were no valid event (or that the log refused), written to the dead-letter topic, by the topic they were read from, counted when their batch's offsets are committed.",
		}, []string{"topic"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_kafka_batch_seconds", Help: "Time from fetching a batch of Kafka messages to committing its offsets.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 20), // 0.5 ms to 4.4 min: a batch waits out a store outage
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_kafka_consumer_lag", Help: "Messages of a partition the consumer group has not committed: read from the brokers every probe (the group's lag, the same on every instance), and at every committed batch; while the brokers cannot be reached it keeps its last reading (herald_kafka_state says so).",
		}, []string{"topic", "partition"}),
	}
	k := m.kafka
	reg.MustRegister(k.consumed, k.recorded, k.duplicates, k.deadLettered, k.batch, k.lag)
	m.notify = newNotifyMetrics(reg)
	return m
}

// BatchCommitted implements kafka.Metrics.
func (m *metrics) BatchCommitted(s kafka.BatchStats) {
	k := m.kafka
	for topic, c := range s.ByTopic {
		k.consumed.WithLabelValues(topic).Add(float64(c.Consumed))
		k.recorded.WithLabelValues(topic).Add(float64(c.Recorded))
		k.duplicates.WithLabelValues(topic).Add(float64(c.Duplicates))
		k.deadLettered.WithLabelValues(topic).Add(float64(c.DeadLettered))
	}
	k.batch.Observe(s.Took.Seconds())
	m.GroupLag(s.Lag) // the lag of the batch's partitions, as of its fetch
}

// kafkaTopics shows the counters of each topic at 0 before its first batch, so that a rate
// or an alert has a series to start from.
func (m *metrics) kafkaTopics(topics []string) {
	k := m.kafka
	for _, topic := range topics {
		for _, c := range []*prometheus.CounterVec{k.consumed, k.recorded, k.duplicates, k.deadLettered} {
			c.WithLabelValues(topic)
		}
	}
}

// GroupLag implements kafka.Metrics; BatchCommitted sets the same gauge.
func (m *metrics) GroupLag(lag []kafka.PartitionLag) {
	for _, l := range lag {
		m.kafka.lag.WithLabelValues(l.Topic, strconv.Itoa(l.Partition)).Set(float64(l.Lag))
	}
}

// Applied implements projections.RunnerMetrics.
func (m *metrics) Applied(view string, records int, checkpoint uint64, took time.Duration) {
	m.viewApplied.WithLabelValues(view).Add(float64(records))
	m.viewCheckpoint.WithLabelValues(view).Set(float64(checkpoint))
	m.viewApplySeconds.WithLabelValues(view).Observe(took.Seconds())
}

// recorder counts what RecordEvents does.
func (m *metrics) recorder(next graph.EventRecorder) graph.EventRecorder {
	return recordMetrics{next: next, m: m}
}

type recordMetrics struct {
	next graph.EventRecorder
	m    *metrics
}

func (r recordMetrics) Handle(ctx context.Context, cmd commands.RecordEvents) (commands.RecordEventsResult, error) {
	start := time.Now()
	res, err := r.next.Handle(ctx, cmd)
	if err == nil {
		r.m.recordBatch.Observe(time.Since(start).Seconds())
		c := res.Counts()
		r.m.eventsRecorded.Add(float64(c.Recorded))
		r.m.eventsDuplicate.Add(float64(c.Duplicates))
		r.m.eventsRefused.Add(float64(c.Refused))
	}
	return res, err
}

// http times requests; the path label is the route, never the raw URL, to bound cardinality.
func (m *metrics) http(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		path := r.URL.Path
		switch {
		case path == "/", path == "/graphql", path == "/healthz", path == "/readyz", path == "/metrics":
		case strings.HasPrefix(path, graph.GraphiQLStatic): // one label for all of GraphiQL's files
			path = graph.GraphiQLStatic
		default:
			path = "other"
		}
		m.httpRequests.WithLabelValues(path, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (websockets need to hijack it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// kafkaStateCollector exports the ingester's state, read at each scrape, as /readyz gives it:
// herald_kafka_state is 1 for the current state and 0 for the others, so that an alert can
// ask for herald_kafka_state{state="consuming"} == 0.
type kafkaStateCollector struct{ in kafkaIngester }

var (
	kafkaStateDesc = prometheus.NewDesc("herald_kafka_state",
		"The Kafka ingester's state, as /readyz gives it: 1 for the current one (starting, joining, consuming, topics-missing, brokers-unavailable, retrying-store, retrying-dead-letter, stopped), 0 for the others.",
		[]string{"state"}, nil)
	kafkaPartitionsDesc = prometheus.NewDesc("herald_kafka_partitions_assigned",
		"Partitions of the consumer group this instance holds.", nil, nil)
)

func (kafkaStateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- kafkaStateDesc
	ch <- kafkaPartitionsDesc
}

func (c kafkaStateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.in.Status()
	for _, state := range kafka.States {
		v := 0.0
		if s.State == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(kafkaStateDesc, prometheus.GaugeValue, v, string(state))
	}
	ch <- prometheus.MustNewConstMetric(kafkaPartitionsDesc, prometheus.GaugeValue, float64(s.Partitions))
}

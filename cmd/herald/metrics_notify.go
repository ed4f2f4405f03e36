package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/domain"
)

// notifyMetrics are the dispatcher's and the router's series.
type notifyMetrics struct {
	dispatched *prometheus.CounterVec
	pending    prometheus.Gauge
	lagging    prometheus.Gauge
	checkpoint prometheus.Gauge
	sends      *prometheus.CounterVec
	sendTime   *prometheus.HistogramVec
	retried    *prometheus.CounterVec
	settled    *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	// byKind holds each kind's send and outcome series, made once: looking a series up by
	// its labels hashes them, and a fan-out does four of those per notification. Making
	// them up front also shows them at 0 before the first notification, so that rate()
	// and alerts on them work from the start.
	byKind map[domain.EndpointKind]kindSeries
}

// kindSeries are one endpoint kind's series.
type kindSeries struct {
	sends    map[string]prometheus.Counter // by send outcome
	sendTime prometheus.Observer
	settled  map[domain.DeliveryStatus]prometheus.Counter
	latency  prometheus.Observer
}

// sendOutcomes are the outcome label values of herald_notification_sends_total.
var sendOutcomes = []string{"delivered", "retryable", "final"}

func newNotifyMetrics(reg prometheus.Registerer) notifyMetrics {
	m := notifyMetrics{
		dispatched: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_notifications_dispatched_total", Help: "Notifications handed to the router, by kind."}, []string{"kind"}),
		pending:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_notifications_in_flight", Help: "Notifications dispatched and without an outcome yet."}),
		lagging:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_notification_configurations_behind", Help: "Configurations whose receiver fell behind and that catch up from the log."}),
		checkpoint: prometheus.NewGauge(prometheus.GaugeOpts{Name: "herald_dispatcher_checkpoint", Help: "Log position up to which every notification has an outcome."}),
		sends:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_notification_sends_total", Help: "Sends to receivers, by kind and outcome (delivered, retryable, final)."}, []string{"kind", "outcome"}),
		sendTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_notification_send_seconds", Help: "Time of one send to a receiver, by kind.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"kind"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_notifications_retried_total", Help: "Sends tried again after a retryable failure, by kind."}, []string{"kind"}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_notifications_total", Help: "Notifications with an outcome, by kind and status (delivered, failed)."}, []string{"kind", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_notification_latency_seconds", Help: "From the event being recorded to its notification's outcome, by kind.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 20),
		}, []string{"kind"}),
	}
	reg.MustRegister(m.dispatched, m.pending, m.lagging, m.checkpoint, m.sends, m.sendTime, m.retried, m.settled, m.latency)
	m.byKind = make(map[domain.EndpointKind]kindSeries)
	for _, kind := range domain.EndpointKinds() {
		k := string(kind)
		series := kindSeries{
			sends: make(map[string]prometheus.Counter, len(sendOutcomes)), sendTime: m.sendTime.WithLabelValues(k),
			settled: make(map[domain.DeliveryStatus]prometheus.Counter, 2), latency: m.latency.WithLabelValues(k),
		}
		for _, outcome := range sendOutcomes {
			series.sends[outcome] = m.sends.WithLabelValues(k, outcome)
		}
		for _, status := range []domain.DeliveryStatus{domain.DeliveryDelivered, domain.DeliveryFailed} {
			series.settled[status] = m.settled.WithLabelValues(k, string(status))
		}
		m.byKind[kind] = series
	}
	return m
}

// Dispatched implements notify.DispatchMetrics.
func (m *metrics) Dispatched(kind domain.EndpointKind, n int) {
	m.notify.dispatched.WithLabelValues(string(kind)).Add(float64(n))
}

// DispatchState implements notify.DispatchMetrics.
func (m *metrics) DispatchState(pending, lagging int, checkpoint uint64) {
	m.notify.pending.Set(float64(pending))
	m.notify.lagging.Set(float64(lagging))
	m.notify.checkpoint.Set(float64(checkpoint))
}

// Sent implements notify.DeliveryMetrics.
func (m *metrics) Sent(kind domain.EndpointKind, outcome string, took time.Duration) {
	series := m.notify.byKind[kind]
	sends, known := series.sends[outcome]
	if !known { // a kind or outcome made after start-up (none is today): looked up by label
		m.notify.sends.WithLabelValues(string(kind), outcome).Inc()
		m.notify.sendTime.WithLabelValues(string(kind)).Observe(took.Seconds())
		return
	}
	sends.Inc()
	series.sendTime.Observe(took.Seconds())
}

// Retried implements notify.DeliveryMetrics.
func (m *metrics) Retried(kind domain.EndpointKind) {
	m.notify.retried.WithLabelValues(string(kind)).Inc()
}

// Settled implements notify.DeliveryMetrics.
func (m *metrics) Settled(kind domain.EndpointKind, status domain.DeliveryStatus, latency time.Duration) {
	series := m.notify.byKind[kind]
	settled, known := series.settled[status]
	if !known {
		m.notify.settled.WithLabelValues(string(kind), string(status)).Inc()
		m.notify.latency.WithLabelValues(string(kind)).Observe(latency.Seconds())
		return
	}
	settled.Inc()
	series.latency.Observe(latency.Seconds())
}

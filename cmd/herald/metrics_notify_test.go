package main

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"herald/adapters/kafka"
	"herald/domain"
)

// TestNotifyMetrics_everyKindsSeriesFromTheStart: the send and outcome series of every
// endpoint kind are on /metrics at 0 before the first notification, and a send or an outcome
// counts in its own series.
func TestNotifyMetrics_everyKindsSeriesFromTheStart(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	kinds := len(domain.EndpointKinds())
	if n := testutil.CollectAndCount(m.notify.sends); n != kinds*len(sendOutcomes) {
		t.Errorf("%d send series, want %d (every kind and outcome)", n, kinds*len(sendOutcomes))
	}
	if n := testutil.CollectAndCount(m.notify.settled); n != kinds*2 {
		t.Errorf("%d outcome series, want %d (every kind, delivered and failed)", n, kinds*2)
	}
	m.Sent(domain.KindSlack, "retryable", time.Millisecond)
	m.Sent(domain.KindSlack, "delivered", time.Millisecond)
	m.Settled(domain.KindSlack, domain.DeliveryDelivered, time.Second)
	m.Sent("pager", "delivered", time.Millisecond) // a kind unknown at start-up still counts
	for _, c := range []struct {
		counter prometheus.Counter
		want    float64
	}{
		{m.notify.sends.WithLabelValues("slack", "retryable"), 1},
		{m.notify.sends.WithLabelValues("slack", "delivered"), 1},
		{m.notify.sends.WithLabelValues("slack", "final"), 0},
		{m.notify.sends.WithLabelValues("webhook", "delivered"), 0},
		{m.notify.settled.WithLabelValues("slack", "delivered"), 1},
		{m.notify.settled.WithLabelValues("slack", "failed"), 0},
		{m.notify.sends.WithLabelValues("pager", "delivered"), 1},
	} {
		if got := testutil.ToFloat64(c.counter); got != c.want {
			t.Errorf("%s = %v, want %v", c.counter.Desc(), got, c.want)
		}
	}
}

// herald_kafka_state gives the ingester's state as /readyz does, one series per state, and
// herald_kafka_partitions_assigned the partitions it holds.
func TestKafkaStateMetrics(t *testing.T) {
	c := kafkaStateCollector{fixedIngester{kafka.Status{State: kafka.StateBrokersUnavailable, Partitions: 3}}}
	want := `
# HELP herald_kafka_partitions_assigned Partitions of the consumer group this instance holds.
# TYPE herald_kafka_partitions_assigned gauge
herald_kafka_partitions_assigned 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "herald_kafka_partitions_assigned"); err != nil {
		t.Error(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "herald_kafka_state" {
			continue
		}
		for _, m := range f.GetMetric() {
			states[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	every := []string{"starting", "joining", "consuming", "topics-missing", "brokers-unavailable", "retrying-store", "retrying-dead-letter", "stopped"}
	for _, s := range every {
		if _, ok := states[s]; !ok {
			t.Errorf("no herald_kafka_state{state=%q}", s)
		}
	}
	if len(states) != len(every) || states["brokers-unavailable"] != 1 || states["consuming"] != 0 {
		t.Errorf("herald_kafka_state = %v, want every state, 1 for brokers-unavailable alone", states)
	}
	sum := 0.0
	for _, v := range states {
		sum += v
	}
	if sum != 1 {
		t.Errorf("herald_kafka_state sums to %v, want 1", sum)
	}
}

package main

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

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

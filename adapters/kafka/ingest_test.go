package kafka

import (
	"testing"
	"time"
)

// 100,000 events on a 4-partition topic are recorded exactly once, and the counts match the
// topic: every message is consumed, recorded and committed.
func TestIngestRecordsEveryMessageOnce(t *testing.T) {
	const n = 100_000
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	want.produce(t, addrs, "events", 0, n, "none")

	log := newTestLog(t)
	m := &totals{}
	began := time.Now()
	r := start(t, testConfig(addrs, "events"), log, m)
	waitUntil(t, 60*time.Second, "every message committed", func() bool { return m.get().Consumed >= n && committedAll(t, addrs, "herald-test", "events") })
	t.Logf("ingested %d events in %s", n, time.Since(began).Round(time.Millisecond))
	if s := r.in.Status(); s.State != StateConsuming {
		t.Errorf("status = %+v, want consuming", s)
	}
	r.stop(t)

	got := m.get()
	if got.Consumed != n || got.Recorded != n || got.Duplicates != 0 || got.DeadLettered != 0 {
		t.Errorf("metrics = %+v, want %d consumed and recorded", got, n)
	}
	if len(m.partitions) != 4 {
		t.Errorf("lag reported for %d partitions, want 4", len(m.partitions))
	}
	log.checkExactlyOnce(t, want.keys)
}

package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"herald/domain"
)

// flakyStore fails every call while down.
type flakyStore struct {
	next  Recorder
	down  atomic.Bool
	calls atomic.Int32
}

func (f *flakyStore) Record(ctx context.Context, events []domain.LogEvent) (Recorded, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return Recorded{}, errors.New("store unavailable")
	}
	return f.next.Record(ctx, events)
}

// A store outage is no bad message: ingest pauses, retries with backoff and commits nothing;
// the status says so; once the store is back every message is recorded once.
func TestStoreOutagePausesIngest(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	want.produce(t, addrs, "events", 0, 1000, "none")
	log := newTestLog(t)
	store := &flakyStore{next: log}
	store.down.Store(true)
	m := &totals{}
	began := time.Now()
	cfg := testConfig(addrs, "events")
	r := start(t, cfg, store, m)

	waitUntil(t, 10*time.Second, "status retrying-store", func() bool { return r.in.Status().State == StateRetryingStore })
	waitUntil(t, 10*time.Second, "several attempts", func() bool { return store.calls.Load() >= 5 })
	s := r.in.Status()
	if s.Ready() || !s.Outage() || !strings.Contains(s.LastError, "store unavailable") || s.LastErrorAt.Before(began) || s.LastErrorAt.After(time.Now()) {
		t.Errorf("status while the store is down = %+v", s)
	}
	if committedAny(t, addrs, cfg.GroupID, "events") {
		t.Fatal("offsets committed while the store is down")
	}
	if got := m.get(); got.Consumed != 0 || got.DeadLettered != 0 {
		t.Fatalf("metrics while the store is down = %+v, want nothing committed or dead-lettered", got)
	}

	store.down.Store(false)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	waitUntil(t, 5*time.Second, "status consuming", func() bool { return r.in.Status().State == StateConsuming })
	if after := r.in.Status(); after.Outage() || after.LastError == "" || after.LastErrorAt.Before(s.LastErrorAt) {
		t.Errorf("status after recovery = %+v, want consuming with the outage's error kept, and when", after)
	}
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
}

// Cancelling the context stops an ingester promptly, even while it waits for the store.
func TestStopIsPromptWhileRetrying(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	newProduced().produce(t, addrs, "events", 0, 100, "none")
	store := &flakyStore{next: newTestLog(t)}
	store.down.Store(true)
	cfg := testConfig(addrs, "events")
	cfg.RetryMin, cfg.RetryMax = time.Minute, time.Hour
	r := start(t, cfg, store, nil)
	waitUntil(t, 10*time.Second, "status retrying-store", func() bool { return r.in.Status().State == StateRetryingStore })
	began := time.Now()
	r.stop(t)
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("stopping took %s", took)
	}
	if s := r.in.Status(); s.State != StateStopped {
		t.Errorf("status after Run = %+v, want stopped", s)
	}
}

// Brokers that cannot be reached show in the status, and the ingester is not ready.
func TestUnreachableBrokersShowInStatus(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r := start(t, testConfig([]string{addr}, "events"), newTestLog(t), nil)
	waitUntil(t, 10*time.Second, "status brokers-unavailable", func() bool { return r.in.Status().State == StateBrokersUnavailable })
	if s := r.in.Status(); s.Ready() || !strings.Contains(s.LastError, "connection refused") {
		t.Errorf("status = %+v", s)
	}
}

// committedAny tells whether the group has committed an offset of any partition of topic.
func committedAny(t testing.TB, addrs []string, group, topic string) bool {
	t.Helper()
	for p := range 4 {
		if committedOffset(t, addrs, group, topic, p) >= 0 {
			return true
		}
	}
	return false
}

// TestFailedCommitsAreRetried: while the brokers refuse offset commits, the recorded batches
// are not counted as committed; once they accept commits again, the offsets are committed
// within moments even though no new message arrives (before, a failed commit waited for the
// next batch, which on a quiet topic might never come).
func TestFailedCommitsAreRetried(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	var refuse atomic.Bool
	refuse.Store(true)
	c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		r := req.(*kmsg.OffsetCommitRequest)
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, tp := range r.Topics {
			rt := kmsg.NewOffsetCommitResponseTopic()
			rt.Topic = tp.Topic
			for _, pp := range tp.Partitions {
				rp := kmsg.NewOffsetCommitResponseTopicPartition()
				rp.Partition = pp.Partition
				rp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	want := newProduced()
	want.produce(t, addrs, "events", 0, 100, "none")
	log := newTestLog(t)
	cfg := testConfig(addrs, "events")
	m := &totals{}
	r := start(t, cfg, log, m)
	waitUntil(t, 20*time.Second, "100 events recorded", func() bool { ev, _ := log.events(t); return len(ev) == 100 })
	time.Sleep(500 * time.Millisecond) // a few refused commits
	if got := m.get(); got.Consumed != 0 {
		t.Fatalf("%d messages counted as committed while the brokers refuse commits", got.Consumed)
	}
	refuse.Store(false)
	waitUntil(t, 5*time.Second, "every offset committed", func() bool { return committedAll(t, addrs, cfg.GroupID, "events") })
	r.stop(t)
	if got := m.get(); got.Consumed != 100 || got.Recorded != 100 {
		t.Errorf("metrics = %+v, want 100 consumed and recorded", got)
	}
	log.checkExactlyOnce(t, want.keys)
}

// TestGroupLagGrowsWhileIngestIsPaused: the lag of the group is read from the brokers every
// probe, so it shows what waits while the store is down (no batch is committed then), and
// falls back to 0 once everything is recorded.
func TestGroupLagGrowsWhileIngestIsPaused(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	want.produce(t, addrs, "events", 0, 100, "none")
	log := newTestLog(t)
	store := &flakyStore{next: log}
	m := &totals{}
	cfg := testConfig(addrs, "events")
	r := start(t, cfg, store, m)
	total := func() (int64, bool) {
		var sum int64
		for p := range 4 {
			l, ok := m.lagOf(fmt.Sprintf("events/%d", p))
			if !ok {
				return 0, false
			}
			sum += l
		}
		return sum, true
	}
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	waitUntil(t, 5*time.Second, "a group lag of 0", func() bool { l, ok := total(); return ok && l == 0 })

	store.down.Store(true)
	want.produce(t, addrs, "events", 100, 200, "none")
	waitUntil(t, 10*time.Second, "a group lag of 200", func() bool { l, _ := total(); return l == 200 })

	store.down.Store(false)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, "events")
	waitUntil(t, 5*time.Second, "a group lag of 0 again", func() bool { l, _ := total(); return l == 0 })
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
}

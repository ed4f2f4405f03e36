package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"herald/domain"
	"herald/internal/testtool"
)

// flakyStore fails every call while down.
type flakyStore struct {
	next  Recorder
	down  atomic.Bool
	calls atomic.Int32
}

func (f *flakyStore) Record(ctx context.Context, events []domain.LogEvent, stamped []bool) (Recorded, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return Recorded{}, errors.New("store unavailable")
	}
	return f.next.Record(ctx, events, stamped)
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
	calls := store.calls.Load()
	waitUntil(t, 10*time.Second, "more attempts", func() bool { return store.calls.Load() >= calls+2 })
	if later := r.in.Status(); !later.LastErrorAt.After(s.LastErrorAt) {
		t.Errorf("the last error's time stayed at %s through later failed attempts", s.LastErrorAt)
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
	waitForBrokerError(t, r, "connection refused")
	if s := r.in.Status(); s.Ready() {
		t.Errorf("status = %+v, want it not ready", s)
	}
}

// Brokers that go away while herald consumes show in the status for as long as they are
// gone, and consuming resumes when a broker is back. kafka-go's Transport answers metadata
// from its cache: the probe went through the ingester's shared one, went on succeeding with
// no broker, and the state flipped between brokers-unavailable and joining.
func TestBrokersGoneShowInStatusUntilBack(t *testing.T) {
	dir := t.TempDir() // the broker keeps its topics and the group's offsets there across restarts
	cluster := func(opts ...kfake.Opt) *kfake.Cluster {
		c, err := kfake.NewCluster(append(opts, kfake.NumBrokers(1), kfake.DataDir(dir),
			kfake.GroupMinSessionTimeout(100*time.Millisecond))...)
		if err != nil {
			t.Fatalf("start kfake: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
	c := cluster(kfake.SeedTopics(4, "events"))
	addrs := c.ListenAddrs()
	want := newProduced()
	want.produce(t, addrs, "events", 0, 20, "none")
	log := newTestLog(t)
	cfg := testConfig(addrs, "events")
	var logged testtool.Buffer
	r := start(t, cfg, log, nil, func(in *Ingester) {
		in.logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	waitCommitted(t, 20*time.Second, addrs, cfg.GroupID, "events")
	c.Close()

	waitUntil(t, 15*time.Second, "status brokers-unavailable", func() bool { return r.in.Status().State == StateBrokersUnavailable })
	for end := time.Now().Add(10 * cfg.ProbeInterval); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if s := r.in.Status(); s.State != StateBrokersUnavailable {
			t.Fatalf("with no broker, the state went back to %s (status %+v)", s.State, s)
		}
	}

	if out := logged.String(); strings.Count(out, `level=WARN msg="kafka client error"`) > 1 {
		t.Errorf("kafka-go's errors were logged as warnings more than once while the brokers were gone:\n%s", out)
	} else if !strings.Contains(out, `level=DEBUG msg="kafka client error"`) {
		t.Errorf("kafka-go's errors held back are not in the debug log:\n%s", out)
	} else if !strings.Contains(out, `level=WARN msg="kafka brokers unavailable"`) {
		t.Errorf("the log does not say the brokers are unavailable:\n%s", out)
	}

	_, port, _ := net.SplitHostPort(addrs[0])
	n, _ := strconv.Atoi(port)
	cluster(kfake.Ports(n)) // the same broker, back
	want.produce(t, addrs, "events", 20, 10, "none")
	waitUntil(t, 30*time.Second, "the 30 events recorded", func() bool { ev, _ := log.events(t); return len(ev) == 30 })
	waitUntil(t, 15*time.Second, "status consuming", func() bool { return r.in.Status().State == StateConsuming })
	log.checkExactlyOnce(t, want.keys)
	if out := logged.String(); !strings.Contains(out, `msg="kafka brokers available again"`) {
		t.Errorf("the log does not say the brokers are back:\n%s", out)
	}
}

// A warning that repeats is let through once per interval, with the count of those held back.
func TestQuieterHoldsBackRepeats(t *testing.T) {
	q := quieter{every: time.Minute}
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		at   time.Duration
		ok   bool
		held int
	}{{0, true, 0}, {time.Second, false, 0}, {30 * time.Second, false, 0}, {time.Minute, true, 2}, {time.Minute, false, 0}, {5 * time.Minute, true, 1}} {
		if ok, held := q.pass(t0.Add(step.at)); ok != step.ok || held != step.held {
			t.Errorf("at +%s: pass = %t, %d; want %t, %d", step.at, ok, held, step.ok, step.held)
		}
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

// A session timeout the brokers do not allow is named by its flag in the status: the brokers
// answer every attempt to join the group with a bare "Invalid Session Timeout".
func TestRefusedSessionTimeoutIsExplained(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "events"), kfake.GroupMinSessionTimeout(6*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := testConfig(c.ListenAddrs(), "events")
	cfg.SessionTimeout = time.Second
	r := start(t, cfg, newTestLog(t), nil)
	waitUntil(t, 15*time.Second, "the refusal in the status", func() bool {
		return strings.Contains(r.in.Status().LastError, "the brokers refuse a session timeout of 1s: set --kafka-session-timeout within")
	})
	if s := r.in.Status(); s.Ready() {
		t.Errorf("ready with its session timeout refused: %+v", s)
	}
}

package kafka

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"herald/domain"
)

// crashingRecorder stops the ingester at its crashAt-th call: with partial, after recording
// the first half of the batch (a store write that was cut short), else before recording.
type crashingRecorder struct {
	next    Recorder
	crashAt int32
	partial bool
	calls   atomic.Int32
	crash   func()
}

func (c *crashingRecorder) Record(ctx context.Context, events []domain.LogEvent, stamped []bool) (Recorded, error) {
	if c.calls.Add(1) != c.crashAt {
		return c.next.Record(ctx, events, stamped)
	}
	if c.partial && len(events) > 1 {
		if _, err := c.next.Record(ctx, events[:len(events)/2], stamped[:len(events)/2]); err != nil {
			return Recorded{}, err
		}
	}
	c.crash()
	return Recorded{}, context.Canceled
}

// The ingester is stopped abruptly at random points, again and again, while events are being
// produced: before a batch is recorded, halfway through recording it, after it is durable but
// before its offsets are committed, and at random moments. In the end every message is in
// the log exactly once, and the redelivered ones were reported as duplicates.
func TestIngestSurvivesCrashes(t *testing.T) {
	const rounds, perRound = 12, 2000
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	log := newTestLog(t)
	m := &totals{}
	cfg := testConfig(addrs, "events")
	cfg.BatchSize = 300

	crashes := 0
	for round := range rounds {
		want.produce(t, addrs, "events", round*perRound, perRound, "none")
		ctx, crash := context.WithCancel(context.Background())
		rec := &crashingRecorder{next: log, crashAt: -1, crash: crash}
		var hook func(*Ingester)
		switch mode := round % 4; mode {
		case 0: // before recording
			rec.crashAt = 1 + rng.Int32N(4)
		case 1: // halfway through recording
			rec.crashAt, rec.partial = 1+rng.Int32N(4), true
		case 2: // after the batch is durable, before its commit
			at, calls := 1+rng.Int32N(4), atomic.Int32{}
			hook = func(in *Ingester) {
				in.afterRecord = func() {
					if calls.Add(1) == at {
						crash()
					}
				}
			}
		case 3: // at a random moment
			time.AfterFunc(time.Duration(5+rng.IntN(60))*time.Millisecond, crash)
		}
		var hooks []func(*Ingester)
		if hook != nil {
			hooks = append(hooks, hook)
		}
		r := startWith(t, ctx, cfg, rec, m, hooks...)
		select {
		case <-r.done:
			r.done <- nil
			crashes++
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the ingester did not reach its crash point", round)
		}
		r.stop(t)
	}
	if crashes < 10 {
		t.Fatalf("only %d crashes", crashes)
	}

	r := start(t, cfg, log, m)
	waitCommitted(t, 60*time.Second, addrs, cfg.GroupID, "events")
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
	if got := m.get(); got.Duplicates == 0 {
		t.Errorf("no duplicates reported after %d crashes (%+v): were messages really delivered again?", crashes, got)
	}
}

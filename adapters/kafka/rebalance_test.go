package kafka

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Two ingesters of one group split the partitions; when one stops, the other takes its
// partitions over, and nothing is lost or stored twice.
func TestIngestRebalance(t *testing.T) {
	c := newCluster(t, "events")
	addrs := c.ListenAddrs()
	want := newProduced()
	log := newTestLog(t)
	cfg := testConfig(addrs, "events")
	cfg.BatchSize = 100

	// Produce all along, so that both members always have something to read.
	ctx, stopProducing := context.WithCancel(context.Background())
	var producing sync.WaitGroup
	producing.Go(func() {
		for i := 0; ctx.Err() == nil; i += 200 {
			if err := want.send(addrs, "events", i, 200, "none", Security{}); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	defer func() { stopProducing(); producing.Wait() }()

	ma, mb := &totals{}, &totals{}
	a := start(t, cfg, log, ma)
	b := start(t, cfg, log, mb)
	waitUntil(t, 30*time.Second, "both members consuming", func() bool { return ma.get().Consumed > 0 && mb.get().Consumed > 0 })
	// What each reads from now on shows the split (the first batches may predate it).
	time.Sleep(300 * time.Millisecond)
	ma.resetPartitions()
	mb.resetPartitions()
	waitUntil(t, 30*time.Second, "the partitions split between both members", func() bool {
		pa, pb := ma.partitionSet(), mb.partitionSet()
		return len(pa)+len(pb) == 4 && len(pa) > 0 && len(pb) > 0 && disjoint(pa, pb)
	})
	t.Logf("split: a reads %v, b reads %v", keys(ma.partitionSet()), keys(mb.partitionSet()))

	a.stop(t)
	mb.resetPartitions()
	waitUntil(t, 30*time.Second, "b reading all 4 partitions", func() bool { return len(mb.partitionSet()) == 4 })

	stopProducing()
	producing.Wait()
	waitCommitted(t, 60*time.Second, addrs, cfg.GroupID, "events")
	b.stop(t)
	log.checkExactlyOnce(t, want.keys)
	t.Logf("a consumed %d, b consumed %d, %d duplicates, of %d messages", ma.get().Consumed, mb.get().Consumed, ma.get().Duplicates+mb.get().Duplicates, len(want.keys))
}

func (m *totals) resetPartitions() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.partitions = map[string]bool{}
}

func (m *totals) partitionSet() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]bool, len(m.partitions))
	for k := range m.partitions {
		out[k] = true
	}
	return out
}

func disjoint(a, b map[string]bool) bool {
	for k := range a {
		if b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

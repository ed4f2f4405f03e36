package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"herald/domain"
)

// ReadStream answers "not found" from the stream filter for names never written; while the
// writer adds names (and grows the filter past its first part), a stream whose append was
// acknowledged is always found.
func TestReadStream_filterNeverHidesAnAcknowledgedStream(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const batches, batch = 80, 1_000 // 80,000 streams: past the filter's first part of 65,536
	var acked atomic.Int64           // streams 0..acked-1 are acknowledged
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for reader := range 3 {
		wg.Go(func() {
			for i := 0; acked.Load() < batches*batch; i++ {
				n := acked.Load()
				if n == 0 {
					continue
				}
				k := (int64(i)*7919 + int64(reader)) % n
				if _, err := s.ReadStream(ctx, fmt.Sprintf("filter-%d", k)); err != nil {
					errs <- fmt.Errorf("stream %d of %d acknowledged: %w", k, n, err)
					return
				}
			}
		})
	}
	for b := range batches {
		appends := make([]domain.StreamAppend, batch)
		for i := range appends {
			appends[i] = domain.StreamAppend{Stream: fmt.Sprintf("filter-%d", b*batch+i), Expected: domain.NoStream(), Facts: []domain.Fact{{Type: "T", Data: []byte("{}")}}}
		}
		outcomes, err := s.AppendMany(ctx, appends)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range outcomes {
			if o.Err != nil {
				t.Fatalf("append %d: %v", i, o.Err)
			}
		}
		acked.Store(int64((b + 1) * batch))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if parts := len(*s.streams.parts.Load()); parts < 2 {
		t.Fatalf("the filter has %d part; the test meant to grow it", parts)
	}
	if _, err := s.ReadStream(ctx, "filter-never"); !errors.Is(err, domain.ErrStreamNotFound) {
		t.Fatalf("a stream never written: %v, want ErrStreamNotFound", err)
	}
}

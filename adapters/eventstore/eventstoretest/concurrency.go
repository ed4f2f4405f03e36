package eventstoretest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"herald/domain"
)

// TestConcurrentNoStreamAppends: many callers racing to create the same streams get exactly
// one winner per stream; every acknowledged record has its own position and the global log
// holds each exactly once, in order, and nothing else.
func TestConcurrentNoStreamAppends(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	const callers, rounds, shared = 8, 5, 10
	start := mustLastPosition(ctx, t, s)

	type ack struct {
		stream string
		caller int
		pos    uint64
	}
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	begin := make(chan struct{})
	for c := range callers {
		wg.Go(func() {
			<-begin
			for r := range rounds {
				var batch []domain.StreamAppend
				for k := range shared {
					batch = append(batch, domain.StreamAppend{
						Stream:   tc.Stream(fmt.Sprintf("shared-%d-%d", r, k)),
						Expected: domain.NoStream(),
						Facts:    []domain.Fact{fact(fmt.Sprint("caller", c))},
					})
				}
				batch = append(batch, domain.StreamAppend{
					Stream: tc.Stream(fmt.Sprintf("own-%d-%d", c, r)), Expected: domain.NoStream(),
					Facts: []domain.Fact{fact(fmt.Sprint("caller", c))},
				})
				var out []domain.AppendOutcome
				var err error
				if r%2 == 0 {
					out, err = s.AppendMany(ctx, batch)
				} else {
					// Single appends race with the batches of other callers.
					for _, a := range batch {
						res, err := s.Append(ctx, a.Stream, a.Expected, a.Facts...)
						out = append(out, domain.AppendOutcome{Result: res, Err: err})
					}
				}
				if err != nil {
					t.Errorf("caller %d round %d: %v", c, r, err)
					return
				}
				mu.Lock()
				for i, o := range out {
					switch {
					case o.Err == nil:
						acks = append(acks, ack{batch[i].Stream, c, o.Result.Position})
					case i == len(batch)-1 || !errors.Is(o.Err, domain.ErrConcurrency):
						t.Errorf("caller %d: append %s: %v", c, batch[i].Stream, o.Err)
					}
				}
				mu.Unlock()
			}
		})
	}
	close(begin)
	wg.Wait()

	winners := map[string]ack{}
	byPos := map[uint64]ack{}
	var last uint64
	for _, a := range acks {
		if w, ok := winners[a.stream]; ok {
			t.Errorf("%s created by callers %d and %d", a.stream, w.caller, a.caller)
		}
		winners[a.stream] = a
		if other, ok := byPos[a.pos]; ok {
			t.Errorf("position %d acknowledged for %s and %s", a.pos, other.stream, a.stream)
		}
		byPos[a.pos] = a
		last = max(last, a.pos)
	}
	if want := rounds*shared + callers*rounds; len(winners) != want {
		t.Errorf("%d streams created, want %d", len(winners), want)
	}

	seen := map[uint64]bool{}
	for _, r := range readAllMine(ctx, t, s, tc, start, last) {
		a, ok := byPos[r.Position]
		switch {
		case !ok:
			t.Errorf("read all holds unacknowledged %s@%d at %d", r.Stream, r.Revision, r.Position)
		case seen[r.Position]:
			t.Errorf("read all holds position %d twice", r.Position)
		case a.stream != r.Stream || string(r.Data) != string(fact(fmt.Sprint("caller", a.caller)).Data):
			t.Errorf("record at %d is %s %s, acknowledged for %s by caller %d", r.Position, r.Stream, r.Data, a.stream, a.caller)
		}
		seen[r.Position] = true
	}
	if len(seen) != len(byPos) {
		t.Errorf("read all holds %d of %d acknowledged records", len(seen), len(byPos))
	}
	for stream, w := range winners {
		got := mustRead(ctx, t, s, stream)
		if len(got) != 1 || got[0].Position != w.pos {
			t.Errorf("%s holds %d records, want the winner's at %d", stream, len(got), w.pos)
		}
	}
}

// TestConcurrentExactAppends: callers that read a stream and append at the revision they
// saw, retrying on ErrConcurrency, never lose or duplicate a fact.
func TestConcurrentExactAppends(t *testing.T, tc TestContext, newStore StoreConstructor) {
	ctx := testContext(t)
	s := openStore(t, newStore)
	const callers, perCaller = 6, 10
	stream := tc.Stream("counter")
	mustAppend(ctx, t, s, stream, domain.NoStream(), fact("start"))
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := 0; i < perCaller; {
				records, err := s.ReadStream(ctx, stream)
				if err != nil {
					t.Errorf("caller %d: read: %v", c, err)
					return
				}
				current := records[len(records)-1].Revision
				_, err = s.Append(ctx, stream, domain.Exact(current), fact(fmt.Sprintf("caller%d-%d", c, i)))
				switch {
				case err == nil:
					i++
				case !errors.Is(err, domain.ErrConcurrency):
					t.Errorf("caller %d: append: %v", c, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := mustRead(ctx, t, s, stream)
	if len(got) != 1+callers*perCaller {
		t.Fatalf("%s holds %d records, want %d", stream, len(got), 1+callers*perCaller)
	}
	labels := map[string]bool{}
	for i, r := range got {
		if r.Revision != uint64(i) || (i > 0 && r.Position <= got[i-1].Position) {
			t.Errorf("record %d: revision %d at %d", i, r.Revision, r.Position)
		}
		if labels[string(r.Data)] {
			t.Errorf("fact %s appended twice", r.Data)
		}
		labels[string(r.Data)] = true
	}
}

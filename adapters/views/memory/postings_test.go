package memory

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPostings_staysSortedThroughInsertsRemovesAndSweeps checks the list's invariants against
// a plain sorted slice, for keys arriving in order, nearly in order, at random, all equal,
// and in reverse.
func TestPostings_staysSortedThroughInsertsRemovesAndSweeps(t *testing.T) {
	for _, tc := range []struct {
		name string
		ts   func(rng *rand.Rand, i int) int64
	}{
		{"in order", func(_ *rand.Rand, i int) int64 { return int64(i) * 10 }},
		{"nearly in order", func(rng *rand.Rand, i int) int64 { return int64(i)*10 - rng.Int64N(3000) }},
		{"random", func(rng *rand.Rand, _ int) int64 { return rng.Int64N(1e6) }},
		{"all equal", func(*rand.Rand, int) int64 { return 42 }},
		{"reverse", func(_ *rand.Rand, i int) int64 { return -int64(i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			s := &slab{}
			var p postings
			var want []uint32
			byKey := func(a, b uint32) int {
				if s.key(a).less(s.key(b)) {
					return -1
				}
				if s.key(b).less(s.key(a)) {
					return 1
				}
				return 0
			}
			for step := range 30_000 {
				if rng.IntN(4) == 0 && len(want) > 0 {
					j := rng.IntN(len(want))
					slot := want[j]
					if !p.remove(s, slot, s.key(slot)) {
						t.Fatalf("step %d: remove(%d) found nothing", step, slot)
					}
					want = slices.Delete(want, j, j+1)
					s.release(slot)
				} else {
					slot := s.alloc()
					k := key{ts: tc.ts(rng, step), pos: uint64(step)}
					pg, i := s.at(slot)
					pg.keys[i] = k
					p.insert(s, slot, k)
					j, _ := slices.BinarySearchFunc(want, slot, byKey)
					want = slices.Insert(want, j, slot)
				}
				if step%997 == 0 {
					checkPostings(t, s, &p, want)
				}
			}
			checkPostings(t, s, &p, want)
			for range 50 {
				k := key{ts: tc.ts(rng, rng.IntN(30_000)), pos: rng.Uint64N(30_000)}
				at := p.search(s, k)
				below := 0
				for _, slot := range want {
					if s.key(slot).less(k) {
						below++
					}
				}
				if got := p.between(place{}, at); got != below {
					t.Fatalf("search(%v) is preceded by %d slots, want %d", k, got, below)
				}
			}
			dead := newBitset(s.next)
			for _, slot := range want {
				if rng.IntN(10) < 7 {
					dead.add(slot)
				}
			}
			p.sweep(s, dead)
			want = slices.DeleteFunc(want, dead.has)
			checkPostings(t, s, &p, want)
		})
	}
}

func checkPostings(t *testing.T, s *slab, p *postings, want []uint32) {
	t.Helper()
	if p.n != len(want) || len(p.chunks) != len(p.maxes) {
		t.Fatalf("n = %d with %d chunks and %d maxes, want n = %d", p.n, len(p.chunks), len(p.maxes), len(want))
	}
	var got []uint32
	for c, ch := range p.chunks {
		if len(ch) == 0 || len(ch) > chunkMax {
			t.Fatalf("chunk %d holds %d slots", c, len(ch))
		}
		if s.key(ch[len(ch)-1]) != p.maxes[c] {
			t.Fatalf("chunk %d: max %v, last key %v", c, p.maxes[c], s.key(ch[len(ch)-1]))
		}
		got = append(got, ch...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the list holds %d slots out of order or wrong", len(got))
	}
}

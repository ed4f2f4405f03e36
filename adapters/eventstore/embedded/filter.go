package embedded

import (
	"fmt"
	"hash/maphash"
	"sync/atomic"

	"github.com/cockroachdb/pebble"
)

// streamFilter is an in-memory bloom filter over the names of every stream the store holds,
// so that appends to new streams (recording an event creates one) skip the lookup of a head
// that does not exist. It answers "maybe" for every stream it was given and, for about one
// new stream in a hundred, for others too; a "maybe" costs a pebble lookup. It grows by
// adding filters of doubling capacity, at about 1.5 bytes per stream, and is rebuilt from
// the heads when the store opens.
//
// Only the writer goroutine adds; readers (ReadStream: the delivery ledger asks about pairs
// that mostly have no outcome yet) may ask at the same time. Bits are set and read
// atomically and the writer adds a stream before the append that creates it commits, so a
// reader that saw an append acknowledged also sees its stream.
type streamFilter struct {
	seed  maphash.Seed
	parts atomic.Pointer[[]*bloomPart] // replaced, never changed, when a part is added
}

type bloomPart struct {
	bits     []atomic.Uint64
	mask     uint64 // len(bits)*64 - 1; the size is a power of two
	count    int    // the writer's only
	capacity int
}

const (
	filterBitsPerKey = 12
	filterProbes     = 8
	filterMinKeys    = 1 << 16
)

func newStreamFilter(expected int) *streamFilter {
	f := &streamFilter{seed: maphash.MakeSeed()}
	f.grow(max(filterMinKeys, 2*expected))
	return f
}

func (f *streamFilter) grow(capacity int) {
	words := 1
	for words*64 < capacity*filterBitsPerKey {
		words *= 2
	}
	var parts []*bloomPart
	if old := f.parts.Load(); old != nil {
		parts = append(parts, *old...)
	}
	parts = append(parts, &bloomPart{bits: make([]atomic.Uint64, words), mask: uint64(words*64 - 1), capacity: capacity})
	f.parts.Store(&parts)
}

func (f *streamFilter) add(stream string) {
	f.addHash(f.hash(stream))
}

func (f *streamFilter) addBytes(stream []byte) {
	f.addHash(f.hashBytes(stream))
}

func (f *streamFilter) addHash(h1, h2 uint64) {
	parts := *f.parts.Load()
	p := parts[len(parts)-1]
	if p.count >= p.capacity {
		f.grow(2 * p.capacity)
		parts = *f.parts.Load()
		p = parts[len(parts)-1]
	}
	for i := range uint64(filterProbes) {
		bit := (h1 + i*h2) & p.mask
		p.bits[bit/64].Or(1 << (bit % 64))
	}
	p.count++
}

func (f *streamFilter) mayContain(stream string) bool {
	h1, h2 := f.hash(stream)
	for _, p := range *f.parts.Load() {
		if p.mayContain(h1, h2) {
			return true
		}
	}
	return false
}

func (p *bloomPart) mayContain(h1, h2 uint64) bool {
	for i := range uint64(filterProbes) {
		bit := (h1 + i*h2) & p.mask
		if p.bits[bit/64].Load()&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// hash derives the probe sequence from one 64-bit hash (Kirsch and Mitzenmacher).
func (f *streamFilter) hash(stream string) (h1, h2 uint64) {
	return split(maphash.String(f.seed, stream))
}

func (f *streamFilter) hashBytes(stream []byte) (h1, h2 uint64) {
	return split(maphash.Bytes(f.seed, stream))
}

func split(h uint64) (h1, h2 uint64) { return h, h>>32 | h<<32 | 1 }

// loadStreamFilter builds the filter from every head in the store, counting them first so
// that the filter starts as one part with room to grow.
func loadStreamFilter(db *pebble.DB) (*streamFilter, error) {
	var f *streamFilter
	count := 0
	for pass := range 2 {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: headPrefix, UpperBound: prefixEnd(headPrefix)})
		if err != nil {
			return nil, fmt.Errorf("load stream filter: %w", err)
		}
		if pass == 1 {
			f = newStreamFilter(count)
		}
		for ok := it.First(); ok; ok = it.Next() {
			if pass == 0 {
				count++
			} else {
				f.addBytes(it.Key()[len(headPrefix):])
			}
		}
		if err := it.Close(); err != nil {
			return nil, fmt.Errorf("load stream filter: %w", err)
		}
	}
	return f, nil
}

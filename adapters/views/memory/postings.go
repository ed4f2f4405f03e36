package memory

import "slices"

// chunkMax bounds a chunk: inserting in the middle of a list moves at most this many slots,
// and the top-level index stays small (2,000 chunks for a million slots). Appending closes a
// chunk at chunkFill, leaving room for the late arrivals it will get, so that it seldom
// splits (into halves, each a half empty).
const (
	chunkMax  = 512
	chunkFill = chunkMax / 8 * 7
)

// postings is a list of slots sorted by key, as a list of sorted chunks with the largest key
// of each chunk beside it. Appending a key above every other is O(1) amortised; inserting
// elsewhere and removing cost a binary search and a move inside one chunk; finding where a
// time window or a cursor starts is a binary search over maxes and then over one chunk.
// Keys are read from the slab, so a list costs four bytes a slot.
type postings struct {
	chunks [][]uint32
	maxes  []key
	n      int
}

// place addresses one slot of a list: chunk c, index i. place{len(chunks), 0} is the end.
type place struct{ c, i int }

// search returns the place of the first slot whose key is not below k.
func (p *postings) search(s *slab, k key) place {
	lo, hi := 0, len(p.maxes)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.maxes[m].less(k) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(p.chunks) {
		return place{lo, 0}
	}
	ch := p.chunks[lo]
	i, j := 0, len(ch)
	for i < j {
		m := int(uint(i+j) >> 1)
		if s.key(ch[m]).less(k) {
			i = m + 1
		} else {
			j = m
		}
	}
	return place{lo, i}
}

// searchBack returns the index of the first slot of ch whose key is not below k, which the
// last slot's key is not. It gallops from the end, as late arrivals are seldom very late.
func searchBack(s *slab, ch []uint32, k key) int {
	hi, lo := len(ch)-1, -1 // key(ch[hi]) >= k; key(ch[lo]) < k or lo is -1
	for step := 1; hi-step >= 0; step *= 2 {
		if s.key(ch[hi-step]).less(k) {
			lo = hi - step
			break
		}
		hi -= step
	}
	i, j := lo+1, hi
	for i < j {
		m := int(uint(i+j) >> 1)
		if s.key(ch[m]).less(k) {
			i = m + 1
		} else {
			j = m
		}
	}
	return i
}

// between counts the slots from a (included) to b (excluded).
func (p *postings) between(a, b place) int {
	if a.c == b.c {
		return b.i - a.i
	}
	n := len(p.chunks[a.c]) - a.i + b.i
	for c := a.c + 1; c < b.c; c++ {
		n += len(p.chunks[c])
	}
	return n
}

func (p *postings) insert(s *slab, slot uint32, k key) {
	p.n++
	last := len(p.chunks) - 1
	if last < 0 || p.maxes[last].less(k) {
		if last >= 0 && len(p.chunks[last]) < chunkFill {
			p.chunks[last] = append(p.chunks[last], slot)
			p.maxes[last] = k
			return
		}
		ch := make([]uint32, 1, 16)
		ch[0] = slot
		p.chunks = append(p.chunks, ch)
		p.maxes = append(p.maxes, k)
		return
	}
	// k is below the max of the chunk it goes to, so at.i < len(chunk) and the max stays.
	var at place
	if last == 0 || p.maxes[last-1].less(k) {
		at = place{last, searchBack(s, p.chunks[last], k)} // a late arrival, most likely
	} else {
		at = p.search(s, k)
	}
	ch := p.chunks[at.c]
	if len(ch) == chunkMax {
		cut := chunkMax / 2
		right := slices.Clone(ch[cut:])
		left := ch[:cut]
		p.chunks[at.c] = left
		p.chunks = slices.Insert(p.chunks, at.c+1, right)
		p.maxes = slices.Insert(p.maxes, at.c, s.key(left[cut-1]))
		ch = left
		if at.i >= cut {
			at.c, at.i, ch = at.c+1, at.i-cut, right
		}
	}
	p.chunks[at.c] = slices.Insert(ch, at.i, slot)
}

// remove removes slot, whose key is k; it tells whether the list held it.
func (p *postings) remove(s *slab, slot uint32, k key) bool {
	at := p.search(s, k)
	if at.c == len(p.chunks) || p.chunks[at.c][at.i] != slot {
		return false
	}
	p.n--
	ch := slices.Delete(p.chunks[at.c], at.i, at.i+1)
	if len(ch) == 0 {
		p.chunks = slices.Delete(p.chunks, at.c, at.c+1)
		p.maxes = slices.Delete(p.maxes, at.c, at.c+1)
		return true
	}
	p.chunks[at.c] = ch
	if at.i == len(ch) {
		p.maxes[at.c] = s.key(ch[len(ch)-1])
	}
	if next := at.c + 1; len(ch) < chunkMax/4 && next < len(p.chunks) && len(ch)+len(p.chunks[next]) <= chunkMax/2 {
		p.chunks[at.c] = append(ch, p.chunks[next]...)
		p.maxes[at.c] = p.maxes[next]
		p.chunks = slices.Delete(p.chunks, next, next+1)
		p.maxes = slices.Delete(p.maxes, next, next+1)
	}
	return true
}

// sweep removes every slot that dead holds, in one pass, merging chunks left small.
func (p *postings) sweep(s *slab, dead bitset) {
	chunks, maxes := p.chunks[:0], p.maxes[:0]
	n := 0
	for _, ch := range p.chunks {
		kept := ch[:0]
		for _, slot := range ch {
			if !dead.has(slot) {
				kept = append(kept, slot)
			}
		}
		if len(kept) == 0 {
			continue
		}
		n += len(kept)
		if last := len(chunks) - 1; last >= 0 && len(chunks[last])+len(kept) <= chunkMax/2 {
			chunks[last] = append(chunks[last], kept...)
			maxes[last] = s.key(kept[len(kept)-1])
			continue
		}
		chunks = append(chunks, kept)
		maxes = append(maxes, s.key(kept[len(kept)-1]))
	}
	clear(p.chunks[len(chunks):])
	p.chunks, p.maxes, p.n = chunks, maxes, n
}

// bitset is a set of slots.
type bitset []uint64

func newBitset(n uint32) bitset       { return make(bitset, (n+63)/64) }
func (b bitset) add(slot uint32)      { b[slot/64] |= 1 << (slot % 64) }
func (b bitset) has(slot uint32) bool { return b[slot/64]&(1<<(slot%64)) != 0 }

package memory

import (
	"slices"
	"strings"
)

// dictionary interns the values of one field with few distinct values (types, accounts,
// services, hosts, resource types) as small ids, and keeps the posting list of each value.
// Id 0 stands for the empty value, which no filter selects by, so its list stays empty.
// Values are never forgotten: Types lists every type ever seen.
type dictionary struct {
	ids   map[string]uint32
	names []string
	lists []postings
	// recent caches ids by a hash cheaper than the map's, which with few values mostly finds
	// the id at the first try.
	recent [64]uint32
}

func newDictionary() dictionary {
	return dictionary{ids: map[string]uint32{}, names: []string{""}, lists: make([]postings, 1)}
}

func (d *dictionary) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	h := (len(s)*31 + int(s[len(s)-1])*7 + int(s[len(s)/2])) & (len(d.recent) - 1)
	if id := d.recent[h]; id != 0 && d.names[id] == s {
		return id
	}
	id, ok := d.ids[s]
	if !ok {
		id = uint32(len(d.names))
		s = strings.Clone(s) // the caller's string may share a larger buffer
		d.ids[s] = id
		d.names = append(d.names, s)
		d.lists = append(d.lists, postings{})
	}
	d.recent[h] = id
	return id
}

func (d *dictionary) lookup(s string) (uint32, bool) {
	id, ok := d.ids[s]
	return id, ok
}

// resources interns resource ids. There are many of them and most have few entries, so a
// list starts as a plain sorted slice and becomes postings when it grows long, and the id of a
// resource no entry refers to any more is recycled.
type resources struct {
	ids   map[string]uint32
	names []string
	lists []resourceList
	free  []uint32
	// recent caches the busiest resources by a hash cheaper than the map's: events about one
	// image or feed come in bursts.
	recent [4096]recentResource
}

type recentResource struct {
	name string
	id   uint32
}

// quickHash hashes the length and the last eight bytes of s, where resource ids (digests,
// tags, build numbers) differ most.
func quickHash(s string) int {
	x := uint64(len(s))
	for i := max(0, len(s)-8); i < len(s); i++ {
		x = x<<8 | uint64(s[i])
	}
	return int((x * 0x9e3779b97f4a7c15) >> (64 - 12))
}

type resourceList struct {
	small []uint32 // sorted by key, while short
	max   key      // the key of the last of small
	big   *postings
}

// smallMax is the length at which a resource's list becomes postings.
const smallMax = chunkMax

func newResources() resources {
	return resources{ids: map[string]uint32{}, names: []string{""}, lists: make([]resourceList, 1)}
}

func (r *resources) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	h := quickHash(s)
	if c := &r.recent[h]; c.id != 0 && c.name == s {
		return c.id
	}
	if id, ok := r.ids[s]; ok {
		r.recent[h] = recentResource{r.names[id], id}
		return id
	}
	s = strings.Clone(s)
	var id uint32
	if n := len(r.free); n > 0 {
		id = r.free[n-1]
		r.free = r.free[:n-1]
		r.names[id] = s
	} else {
		id = uint32(len(r.names))
		r.names = append(r.names, s)
		r.lists = append(r.lists, resourceList{})
	}
	r.ids[s] = id
	r.recent[h] = recentResource{s, id}
	return id
}

func (r *resources) insert(s *slab, id, slot uint32, k key) {
	l := &r.lists[id]
	if l.big != nil {
		l.big.insert(s, slot, k)
		return
	}
	i := len(l.small)
	if i > 0 && k.less(l.max) {
		i = searchBack(s, l.small, k)
	} else { // most insertions land at the end
		l.max = k
	}
	l.small = append(slices.Grow(l.small, len(l.small)/4+1), 0) // tighter than append's doubling
	copy(l.small[i+1:], l.small[i:])
	l.small[i] = slot
	if len(l.small) > smallMax {
		big := &postings{}
		for _, sl := range l.small {
			big.insert(s, sl, s.key(sl))
		}
		l.small, l.big = nil, big
	}
}

// remove removes slot from the list of resource id and forgets the resource when its list
// is empty.
func (r *resources) remove(s *slab, id, slot uint32, k key) {
	l := &r.lists[id]
	if l.big != nil {
		l.big.remove(s, slot, k)
		if l.big.n == 0 {
			l.big = nil
		}
	} else if i := searchSlots(s, l.small, k); i < len(l.small) && l.small[i] == slot {
		l.small = append(l.small[:i], l.small[i+1:]...)
		if i == len(l.small) && i > 0 {
			l.max = s.key(l.small[i-1])
		}
	}
	r.forgetIfEmpty(id)
}

func (r *resources) forgetIfEmpty(id uint32) {
	l := &r.lists[id]
	if l.big != nil || len(l.small) > 0 {
		return
	}
	l.small = nil
	if c := &r.recent[quickHash(r.names[id])]; c.id == id {
		*c = recentResource{}
	}
	delete(r.ids, r.names[id])
	r.names[id] = ""
	r.free = append(r.free, id)
}

// sweep removes the slots dead holds from the list of resource id.
func (r *resources) sweep(s *slab, id uint32, dead bitset) {
	l := &r.lists[id]
	if l.big != nil {
		l.big.sweep(s, dead)
		if l.big.n == 0 {
			l.big = nil
		}
	} else {
		l.small = slices.DeleteFunc(l.small, dead.has)
		if n := len(l.small); n > 0 {
			l.max = s.key(l.small[n-1])
		}
	}
	r.forgetIfEmpty(id)
}

// postings returns the list of resource id as postings, wrapping a short one.
func (r *resources) postings(s *slab, id uint32) *postings {
	l := &r.lists[id]
	if l.big != nil {
		return l.big
	}
	if len(l.small) == 0 {
		return &postings{}
	}
	return &postings{chunks: [][]uint32{l.small}, maxes: []key{l.max}, n: len(l.small)}
}

// searchSlots returns the index of the first slot whose key is not below k.
func searchSlots(s *slab, slots []uint32, k key) int {
	i, j := 0, len(slots)
	for i < j {
		m := int(uint(i+j) >> 1)
		if s.key(slots[m]).less(k) {
			i = m + 1
		} else {
			j = m
		}
	}
	return i
}

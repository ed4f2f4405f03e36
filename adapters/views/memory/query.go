package memory

import (
	"math"

	"herald/domain"
	"herald/projections"
)

// plan says how to answer one filter: walk the union of lists within [lo, hi), and, when
// filtered, check every entry against cond (when not, every entry of the lists matches).
type plan struct {
	lists    []*postings
	lo, hi   key
	filtered bool
	cond     conditions
}

// conditions are a filter's fields as dictionary ids; zero fields select everything.
type conditions struct {
	account, resource, host, service, typ, resType uint32
	level                                          uint8
	hasLevel                                       bool
	types                                          []bool // by type id, for a prefix pattern
}

func (s *state) matches(c *conditions, slot uint32) bool {
	p, i := s.slab.at(slot)
	return (c.account == 0 || p.account[i] == c.account) &&
		(c.resource == 0 || p.resource[i] == c.resource) &&
		(c.host == 0 || p.host[i] == c.host) &&
		(c.service == 0 || p.service[i] == c.service) &&
		(c.typ == 0 || p.typ[i] == c.typ) &&
		(c.resType == 0 || p.resType[i] == c.resType) &&
		(!c.hasLevel || p.level[i] == c.level) &&
		(c.types == nil || c.types[p.typ[i]])
}

// plan resolves f (and a cursor) against the dictionaries and picks, among the lists its
// fields select, the one with the fewest entries in the window. ok is false when nothing
// can match.
func (s *state) plan(f domain.EventFilter, after *projections.Cursor) (pl plan, ok bool) {
	pl.lo = key{ts: math.MinInt64}
	pl.hi = key{ts: math.MaxInt64, pos: math.MaxUint64}
	if !f.Since.IsZero() {
		pl.lo = key{ts: nanos(f.Since)}
	}
	if !f.Before.IsZero() {
		pl.hi = key{ts: nanos(f.Before)}
	}
	if after != nil {
		if c := (key{ts: nanos(after.Timestamp), pos: after.Position}); c.less(pl.hi) {
			pl.hi = c
		}
	}
	if !pl.lo.less(pl.hi) {
		return pl, false
	}

	var candidates [][]*postings
	byValue := func(d *dictionary, value string, cond *uint32) bool {
		if value == "" {
			return true
		}
		id, ok := d.lookup(value)
		if !ok {
			return false
		}
		*cond = id
		candidates = append(candidates, []*postings{&d.lists[id]})
		return true
	}
	if !byValue(&s.accounts, f.Account, &pl.cond.account) ||
		!byValue(&s.services, f.Service, &pl.cond.service) ||
		!byValue(&s.hosts, f.Host, &pl.cond.host) ||
		!byValue(&s.resTypes, f.ResourceType, &pl.cond.resType) {
		return pl, false
	}
	if f.ResourceID != "" {
		id, ok := s.resources.ids[f.ResourceID]
		if !ok {
			return pl, false
		}
		pl.cond.resource = id
		candidates = append(candidates, []*postings{s.resources.postings(&s.slab, id)})
	}
	if f.Level != 0 {
		pl.cond.level, pl.cond.hasLevel = uint8(f.Level), true
		candidates = append(candidates, []*postings{&s.levels[uint8(f.Level)]})
	}
	if f.Type != "" {
		if _, prefix := domain.TypePrefix(f.Type); !prefix {
			if !byValue(&s.types, f.Type, &pl.cond.typ) {
				return pl, false
			}
		} else if lists, set := s.typesUnder(f.Type); set != nil {
			pl.cond.types = set
			candidates = append(candidates, lists)
		}
	}

	if len(candidates) == 0 {
		for l := range s.levels {
			if s.levels[l].n > 0 {
				pl.lists = append(pl.lists, &s.levels[l])
			}
		}
		return pl, len(pl.lists) > 0
	}
	best, fewest := 0, math.MaxInt
	for i, lists := range candidates {
		n := 0
		for _, p := range lists {
			if len(candidates) > 1 {
				n += p.between(p.search(&s.slab, pl.lo), p.search(&s.slab, pl.hi))
			} else {
				n += p.n
			}
		}
		if n == 0 {
			return pl, false
		}
		if n < fewest {
			best, fewest = i, n
		}
	}
	pl.lists = candidates[best]
	pl.filtered = len(candidates) > 1
	return pl, true
}

// typesUnder returns the lists of the types a prefix pattern selects and the set of their
// ids, or a nil set when the pattern selects every entry.
func (s *state) typesUnder(pattern string) ([]*postings, []bool) {
	f := domain.EventFilter{Type: pattern}
	if f.MatchesType("") { // only "*" selects entries without a type, and with them everything
		return nil, nil
	}
	set := make([]bool, len(s.types.names))
	var lists []*postings
	for id := 1; id < len(set); id++ {
		if f.MatchesType(s.types.names[id]) {
			set[id] = true
			if s.types.lists[id].n > 0 {
				lists = append(lists, &s.types.lists[id])
			}
		}
	}
	return lists, set
}

// newest returns up to want matching slots, newest first.
func (s *state) newest(pl *plan, want int) []uint32 {
	out := make([]uint32, 0, min(want, 1024))
	if len(pl.lists) == 1 {
		var w walker
		if !w.start(&s.slab, pl.lists[0], pl.lo, pl.hi) {
			return out
		}
		for {
			if slot := w.slot(); !pl.filtered || s.matches(&pl.cond, slot) {
				if out = append(out, slot); len(out) == want {
					return out
				}
			}
			if !w.next() {
				return out
			}
		}
	}
	h := make(walkers, 0, len(pl.lists))
	for _, p := range pl.lists {
		var w walker
		if w.start(&s.slab, p, pl.lo, pl.hi) {
			w.k = s.slab.key(w.slot())
			h = append(h, w)
		}
	}
	h.init()
	for len(h) > 0 {
		if slot := h[0].slot(); !pl.filtered || s.matches(&pl.cond, slot) {
			if out = append(out, slot); len(out) == want {
				return out
			}
		}
		if h[0].next() {
			h[0].k = s.slab.key(h[0].slot())
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		h.down(0)
	}
	return out
}

// count counts the matching slots, by the lengths of the lists when no entry needs checking.
func (s *state) count(pl *plan) int {
	if pl.filtered {
		n := 0
		s.each(pl, func(uint32) { n++ })
		return n
	}
	n := 0
	for _, p := range pl.lists {
		n += p.between(p.search(&s.slab, pl.lo), p.search(&s.slab, pl.hi))
	}
	return n
}

// each calls fn with every matching slot, in no particular order.
func (s *state) each(pl *plan, fn func(slot uint32)) {
	for _, p := range pl.lists {
		a, b := p.search(&s.slab, pl.lo), p.search(&s.slab, pl.hi)
		for c := a.c; c <= b.c && c < len(p.chunks); c++ {
			ch := p.chunks[c]
			if c == b.c {
				ch = ch[:b.i]
			}
			if c == a.c {
				ch = ch[a.i:]
			}
			for _, slot := range ch {
				if !pl.filtered || s.matches(&pl.cond, slot) {
					fn(slot)
				}
			}
		}
	}
}

// walker walks a list backwards, from the newest slot below hi to the oldest not below lo.
type walker struct {
	p    *postings
	c, i int   // the current slot: p.chunks[c][i]
	stop place // the place of the oldest slot of the walk
	k    key   // the current slot's key, when merging
}

func (w *walker) start(s *slab, p *postings, lo, hi key) bool {
	w.p, w.stop = p, p.search(s, lo)
	end := p.search(s, hi)
	w.c, w.i = end.c, end.i
	return w.next()
}

func (w *walker) slot() uint32 { return w.p.chunks[w.c][w.i] }

// next steps to the next older slot; it tells whether there is one.
func (w *walker) next() bool {
	if w.i > 0 {
		w.i--
	} else {
		if w.c == 0 {
			return false
		}
		w.c--
		w.i = len(w.p.chunks[w.c]) - 1
	}
	return w.c > w.stop.c || (w.c == w.stop.c && w.i >= w.stop.i)
}

// walkers is a heap of walkers, the one at the newest key on top.
type walkers []walker

func (h walkers) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h walkers) down(i int) {
	for {
		top, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[top].k.less(h[l].k) {
			top = l
		}
		if r < len(h) && h[top].k.less(h[r].k) {
			top = r
		}
		if top == i {
			return
		}
		h[i], h[top] = h[top], h[i]
		i = top
	}
}

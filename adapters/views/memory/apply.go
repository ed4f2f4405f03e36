package memory

import (
	"fmt"
	"hash/maphash"
	"slices"

	"herald/domain"
	"herald/projections"
)

func (s *state) apply(changes []projections.Change) error {
	for _, c := range changes {
		if c.Recorded != nil {
			if err := s.record(c.Recorded); err != nil {
				s.indexRecorded()
				return fmt.Errorf("apply %s at %d: %w", domain.EventRecordedType, c.At, err)
			}
			continue
		}
		s.indexRecorded()
		switch {
		case c.Deleted != "":
			s.delete(c.Deleted)
		case c.Cleared != nil:
			s.clear(c.Cleared.Criteria, c.Cleared.Below(c.At))
		default:
			return fmt.Errorf("apply change at %d: it holds no fact", c.At)
		}
	}
	s.indexRecorded()
	if s.arena.wasteful() {
		return s.compact()
	}
	return nil
}

// record stores an entry unless its id is held, and leaves it to indexRecorded to add to
// the posting lists.
func (s *state) record(e *projections.EventEntry) error {
	s.ids.reserve()
	fp := s.ids.fingerprint(e.ID)
	cell, _, found := s.find(fp, e.ID)
	if found {
		return nil
	}
	ref, err := s.arena.add(e.ID)
	if err != nil {
		return err
	}
	slot := s.slab.alloc()
	p, i := s.slab.at(slot)
	k := key{ts: nanos(e.Timestamp), pos: e.Position}
	if outsideNanos(e.Timestamp) {
		s.outliers[slot] = e.Timestamp
	}
	p.keys[i] = k
	p.id[i] = ref
	p.level[i] = uint8(e.Level)
	p.typ[i] = s.types.intern(e.Type)
	p.account[i] = s.accounts.intern(e.Account)
	p.service[i] = s.services.intern(e.Service)
	p.host[i] = s.hosts.intern(e.Host)
	p.resType[i] = s.resTypes.intern(e.ResourceType)
	p.resource[i] = s.resources.intern(e.ResourceID)
	s.ids.set(cell, fp, slot)
	s.held++
	s.unindexed = append(s.unindexed, keyedSlot{k, slot})
	return nil
}

// keyedSlot is a slot waiting to be indexed, with its key.
type keyedSlot struct {
	k    key
	slot uint32
}

// indexRecorded adds the entries recorded since the last call to their posting lists, in key
// order: most then go to the end of their lists, which is the cheapest place.
func (s *state) indexRecorded() {
	if len(s.unindexed) == 0 {
		return
	}
	slices.SortFunc(s.unindexed, func(a, b keyedSlot) int {
		if a.k.less(b.k) {
			return -1
		}
		if b.k.less(a.k) {
			return 1
		}
		return 0
	})
	for _, u := range s.unindexed {
		s.index(u.slot, u.k)
	}
	s.unindexed = s.unindexed[:0]
}

// index adds slot, whose key is k, to its posting lists.
func (s *state) index(slot uint32, k key) {
	sl := &s.slab
	p, i := sl.at(slot)
	s.levels[p.level[i]].insert(sl, slot, k)
	if id := p.typ[i]; id != 0 {
		s.types.lists[id].insert(sl, slot, k)
	}
	if id := p.account[i]; id != 0 {
		s.accounts.lists[id].insert(sl, slot, k)
	}
	if id := p.service[i]; id != 0 {
		s.services.lists[id].insert(sl, slot, k)
	}
	if id := p.host[i]; id != 0 {
		s.hosts.lists[id].insert(sl, slot, k)
	}
	if id := p.resType[i]; id != 0 {
		s.resTypes.lists[id].insert(sl, slot, k)
	}
	if id := p.resource[i]; id != 0 {
		s.resources.insert(sl, id, slot, k)
	}
}

// delete removes the entry of id, if held.
func (s *state) delete(id string) {
	cell, slot, ok := s.find(s.ids.fingerprint(id), id)
	if !ok {
		return
	}
	s.unindex(slot)
	s.forget(slot, cell)
}

// unindex removes slot from its posting lists.
func (s *state) unindex(slot uint32) {
	sl := &s.slab
	p, i := sl.at(slot)
	k := p.keys[i]
	s.levels[p.level[i]].remove(sl, slot, k)
	if id := p.typ[i]; id != 0 {
		s.types.lists[id].remove(sl, slot, k)
	}
	if id := p.account[i]; id != 0 {
		s.accounts.lists[id].remove(sl, slot, k)
	}
	if id := p.service[i]; id != 0 {
		s.services.lists[id].remove(sl, slot, k)
	}
	if id := p.host[i]; id != 0 {
		s.hosts.lists[id].remove(sl, slot, k)
	}
	if id := p.resType[i]; id != 0 {
		s.resTypes.lists[id].remove(sl, slot, k)
	}
	if id := p.resource[i]; id != 0 {
		s.resources.remove(sl, id, slot, k)
	}
}

// forget frees slot, which no posting list holds any more, and its id, held in cell.
func (s *state) forget(slot uint32, cell int) {
	p, i := s.slab.at(slot)
	s.ids.clear(cell)
	s.arena.release(p.id[i])
	s.slab.release(slot)
	if len(s.outliers) > 0 {
		delete(s.outliers, slot)
	}
	s.held--
}

// cellOf returns the cell of the id table that points to slot.
func (s *state) cellOf(slot uint32) int {
	p, i := s.slab.at(slot)
	var buf [256]byte
	fp := uint32(maphash.Bytes(s.ids.seed, s.arena.appendText(buf[:0], p.id[i])) >> 32)
	return s.ids.cellOf(fp, slot)
}

// clear removes the entries that match criteria and were recorded before position at. Few
// are removed one by one; many in one sweep over every posting list.
func (s *state) clear(criteria domain.EventFilter, at uint64) {
	pl, ok := s.plan(criteria, nil)
	if !ok {
		return
	}
	var slots []uint32
	s.each(&pl, func(slot uint32) {
		if s.slab.key(slot).pos < at {
			slots = append(slots, slot)
		}
	})
	if len(slots) < 1024 || len(slots)*64 < s.held {
		for _, slot := range slots {
			s.unindex(slot)
			s.forget(slot, s.cellOf(slot))
		}
		return
	}
	dead := newBitset(s.slab.next)
	for _, slot := range slots {
		dead.add(slot)
	}
	sl := &s.slab
	for l := range s.levels {
		if s.levels[l].n > 0 {
			s.levels[l].sweep(sl, dead)
		}
	}
	for _, d := range []*dictionary{&s.types, &s.accounts, &s.services, &s.hosts, &s.resTypes} {
		for id := range d.lists {
			if d.lists[id].n > 0 {
				d.lists[id].sweep(sl, dead)
			}
		}
	}
	swept := map[uint32]bool{}
	for _, slot := range slots {
		p, i := sl.at(slot)
		if id := p.resource[i]; id != 0 && !swept[id] {
			swept[id] = true
			s.resources.sweep(sl, id, dead)
		}
	}
	for _, slot := range slots {
		s.forget(slot, s.cellOf(slot))
	}
}

// compact copies the live ids into a fresh arena.
func (s *state) compact() error {
	var fresh arena
	for _, c := range s.ids.cells {
		if c == 0 {
			continue
		}
		p, i := s.slab.at(cellSlot(c))
		ref, err := fresh.addEncoded(s.arena.encoded(p.id[i]))
		if err != nil {
			return fmt.Errorf("compact ids: %w", err)
		}
		p.id[i] = ref
	}
	s.arena = fresh
	return nil
}

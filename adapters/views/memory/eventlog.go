// Package memory holds the views of embedded mode, kept in the process's memory and rebuilt
// from the log at start-up.
package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"herald/domain"
	"herald/projections"
)

// EventLog is the event-log view in memory, built to hold millions of entries compactly
// (about 115 bytes an entry at a million) and to answer a filtered page in microseconds.
//
// Entries live in a slab of fixed-size, pointer-free pages, one column per field; event ids
// in an arena found through an open-addressing table; the other strings as small ids of
// dictionaries. Every field value people filter by (account, level, service, host, type,
// resource type, resource id) has a posting list: the slots of its entries in (timestamp,
// position) order, as sorted chunks. A query takes the shortest list among its filters
// within its time window (a type prefix merges the lists of the types under it; no filter
// merges the two level lists), seeks to the window's end or the cursor and walks back,
// checking the other filters on the entry, until the page is full.
//
// Queries share a read lock; Apply takes the write lock for at most applyBatch changes at a
// time, so that a rebuild does not stall readers.
type EventLog struct {
	mu sync.RWMutex
	s  *state
}

// applyBatch is how many changes Apply applies under one hold of the lock.
const applyBatch = 1024

// NewEventLog returns an empty view.
func NewEventLog() *EventLog { return &EventLog{s: newState()} }

// state is everything the view holds; Reset swaps it for a fresh one.
type state struct {
	slab       slab
	arena      arena
	ids        idTable
	types      dictionary
	accounts   dictionary
	services   dictionary
	hosts      dictionary
	resTypes   dictionary
	resources  resources
	levels     [256]postings        // by level; together they list every entry
	outliers   map[uint32]time.Time // by slot: timestamps that unix nanoseconds cannot hold
	unindexed  []keyedSlot          // recorded in this batch, not yet in the posting lists
	held       int
	checkpoint uint64
}

func newState() *state {
	return &state{
		ids: newIDTable(), types: newDictionary(), accounts: newDictionary(), services: newDictionary(),
		hosts: newDictionary(), resTypes: newDictionary(), resources: newResources(),
		outliers: map[uint32]time.Time{},
	}
}

// Apply applies changes in order and then records checkpoint. When it fails or ctx ends
// midway, a prefix of the changes is applied and the checkpoint is not moved; applying the
// changes again is harmless, as every change is idempotent.
func (v *EventLog) Apply(ctx context.Context, changes []projections.Change, checkpoint uint64) error {
	for start := 0; ; start += applyBatch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		end := min(len(changes), start+applyBatch)
		v.mu.Lock()
		err := v.s.apply(changes[start:end])
		if err == nil && end == len(changes) {
			v.s.checkpoint = checkpoint
		}
		v.mu.Unlock()
		if err != nil || end == len(changes) {
			return err
		}
	}
}

// Checkpoint returns the checkpoint recorded by the last Apply.
func (v *EventLog) Checkpoint(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.s.checkpoint, nil
}

// Page returns up to req.Limit entries matching req.Filter, newest first, after req.After.
func (v *EventLog) Page(ctx context.Context, req projections.EventPageRequest) (projections.EventPage, error) {
	if err := ctx.Err(); err != nil {
		return projections.EventPage{}, err
	}
	if req.Limit < 1 {
		return projections.EventPage{}, fmt.Errorf("page: limit %d is below 1", req.Limit)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	s := v.s
	pl, ok := s.plan(req.Filter, req.After)
	if !ok {
		return projections.EventPage{Entries: []projections.EventEntry{}}, nil
	}
	slots := s.newest(&pl, req.Limit+1)
	page := projections.EventPage{HasMore: len(slots) > req.Limit}
	slots = slots[:min(len(slots), req.Limit)]
	page.Entries = make([]projections.EventEntry, len(slots))
	for i, slot := range slots {
		page.Entries[i] = s.entry(slot)
	}
	return page, nil
}

// Count returns how many entries match f.
func (v *EventLog) Count(ctx context.Context, f domain.EventFilter) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	pl, ok := v.s.plan(f, nil)
	if !ok {
		return 0, nil
	}
	return v.s.count(&pl), nil
}

// Entry returns the entry of event id.
func (v *EventLog) Entry(ctx context.Context, id string) (projections.EventEntry, bool, error) {
	if err := ctx.Err(); err != nil {
		return projections.EventEntry{}, false, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, slot, ok := v.s.find(v.s.ids.fingerprint(id), id)
	if !ok {
		return projections.EventEntry{}, false, nil
	}
	return v.s.entry(slot), true, nil
}

// Types lists every event type recorded since the last Reset, sorted.
func (v *EventLog) Types(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	types := slices.Clone(v.s.types.names[1:])
	slices.Sort(types)
	return types, nil
}

// Reset drops every entry, type and the checkpoint.
func (v *EventLog) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fresh := newState()
	v.mu.Lock()
	v.s = fresh
	v.mu.Unlock()
	return nil
}

// entry returns the entry held in slot.
func (s *state) entry(slot uint32) projections.EventEntry {
	p, i := s.slab.at(slot)
	k := p.keys[i]
	ts := time.Unix(0, k.ts).UTC()
	if len(s.outliers) > 0 {
		if t, ok := s.outliers[slot]; ok {
			ts = t
		}
	}
	return projections.EventEntry{
		ID:           s.arena.text(p.id[i]),
		Position:     k.pos,
		Timestamp:    ts,
		Level:        domain.Level(p.level[i]),
		Type:         s.types.names[p.typ[i]],
		Account:      s.accounts.names[p.account[i]],
		ResourceID:   s.resources.names[p.resource[i]],
		ResourceType: s.resTypes.names[p.resType[i]],
		Service:      s.services.names[p.service[i]],
		Host:         s.hosts.names[p.host[i]],
	}
}

// find returns the slot of id and its cell in the id table, or the empty cell where id would go.
func (s *state) find(fp uint32, id string) (cell int, slot uint32, ok bool) {
	cells := s.ids.cells
	for i := s.ids.home(fp); ; {
		c := cells[i]
		if c == 0 {
			return i, 0, false
		}
		if cellFingerprint(c) == fp {
			sl := cellSlot(c)
			p, j := s.slab.at(sl)
			if s.arena.equal(p.id[j], id) {
				return i, sl, true
			}
		}
		if i++; i == len(cells) {
			i = 0
		}
	}
}

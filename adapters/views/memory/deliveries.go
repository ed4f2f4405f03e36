package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"herald/domain"
	"herald/projections"
)

var _ projections.DeliveryView = (*Deliveries)(nil)

// Deliveries is the delivery history in memory. Deliveries only accumulate (one per
// notification sent), so each is a pointer-free row of 48 bytes: its strings interned (an
// event id in the arena, found through an id table; configuration ids, accounts and errors
// in small tables; kind, status, trigger, event type, level, receiver status and attempts,
// which repeat together, as one shape). Rows are kept in position order, so a row's index
// (its slot) orders it too. Each configuration and each account has the slots of its
// deliveries in ascending order; each event, which has few deliveries, chains them from
// its newest through the rows. A page starts from the shortest of the lists its filter
// names, seeks below the cursor and walks back, checking the rest of the filter per row.
//
// It is safe for concurrent use: pages share a read lock, Apply takes the write lock.
type Deliveries struct {
	mu sync.RWMutex
	s  *deliveryState
}

// NewDeliveries returns an empty view.
func NewDeliveries() *Deliveries { return &Deliveries{s: newDeliveryState()} }

// deliveryRow is one delivery as held. Strings are ids of the state's tables; 0 stands for
// the empty string where a table allows it.
type deliveryRow struct {
	position      uint64
	at            int64 // unix nanoseconds; a time nanoseconds cannot hold is in outliers
	latency       int64
	event         uint32 // index of the event's id and newest delivery
	prevOfEvent   uint32 // slot+1 of the event's previous delivery; 0 for none
	configuration uint32
	account       uint32
	shape         uint32
	errorText     uint32
}

// deliveryShape is what many deliveries have in common.
type deliveryShape struct {
	kind           domain.EndpointKind
	status         domain.DeliveryStatus
	trigger        domain.DeliveryTrigger
	eventType      string
	level          domain.Level
	receiverStatus int
	attempts       int
}

// deliveryState is everything the view holds; Reset swaps it for a fresh one.
type deliveryState struct {
	rows     []deliveryRow        // by position, ascending
	outliers map[uint64]time.Time // by position: times unix nanoseconds cannot hold

	arena          arena
	eventIDs       idTable  // event id -> event
	eventRefs      []uint32 // by event: its id in the arena
	newestOfEvent  []uint32 // by event: slot+1 of its newest delivery
	configurations interner
	accounts       interner
	errorTexts     interner
	shapes         map[deliveryShape]uint32
	shapeList      []deliveryShape

	byConfiguration [][]uint32 // by configuration: slots, ascending
	byAccount       [][]uint32 // by account: slots, ascending

	checkpoint uint64
}

func newDeliveryState() *deliveryState {
	return &deliveryState{
		outliers: map[uint64]time.Time{}, eventIDs: newIDTable(),
		configurations: newInterner(), accounts: newInterner(), errorTexts: newInterner(),
		shapes: map[deliveryShape]uint32{}, byConfiguration: make([][]uint32, 1), byAccount: make([][]uint32, 1),
	}
}

// Apply implements projections.DeliveryView: it adds the deliveries whose positions are not
// held and then stores the checkpoint, unless it is older than the one held, all under one
// hold of the lock, so that a page sees all of a batch or none of it.
func (v *Deliveries) Apply(ctx context.Context, deliveries []domain.Delivery, checkpoint uint64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply deliveries up to %d: %w", checkpoint, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.s.apply(deliveries); err != nil {
		return fmt.Errorf("apply deliveries up to %d: %w", checkpoint, err)
	}
	v.s.checkpoint = max(v.s.checkpoint, checkpoint)
	return nil
}

// Checkpoint implements projections.DeliveryView.
func (v *Deliveries) Checkpoint(context.Context) (uint64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.s.checkpoint, nil
}

// Deliveries implements projections.DeliveryView.
func (v *Deliveries) Deliveries(_ context.Context, f projections.DeliveryFilter, after uint64, limit int) (projections.DeliveryPage, error) {
	if limit < 1 {
		return projections.DeliveryPage{}, fmt.Errorf("deliveries: limit %d is below 1", limit)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.s.page(f, after, limit), nil
}

// CountDeliveries implements projections.DeliveryView.
func (v *Deliveries) CountDeliveries(_ context.Context, f projections.DeliveryFilter) (int, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.s.count(f), nil
}

// Reset implements projections.DeliveryView.
func (v *Deliveries) Reset(context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.s = newDeliveryState()
	return nil
}

// apply adds the deliveries not held. The log hands them over in position order, so each
// is appended; one older than the newest held that is not a replay (which the port does
// not expect) is merged in, and the lists are rebuilt.
func (s *deliveryState) apply(deliveries []domain.Delivery) error {
	var late []deliveryRow
	for i := range deliveries {
		d := &deliveries[i]
		n := len(s.rows)
		older := n > 0 && d.Position <= s.rows[n-1].position
		if older {
			_, held := s.slotOf(d.Position)
			if held || slices.ContainsFunc(late, func(r deliveryRow) bool { return r.position == d.Position }) {
				continue
			}
		}
		r, err := s.row(d)
		if err != nil {
			return err
		}
		if older {
			late = append(late, r)
			continue
		}
		s.rows = append(s.rows, r)
		s.index(uint32(n))
	}
	if len(late) > 0 {
		s.rows = append(s.rows, late...)
		slices.SortFunc(s.rows, func(a, b deliveryRow) int { return cmp.Compare(a.position, b.position) })
		s.reindex()
	}
	return nil
}

// slotOf finds the row of a position.
func (s *deliveryState) slotOf(position uint64) (uint32, bool) {
	i, found := slices.BinarySearchFunc(s.rows, position, func(r deliveryRow, p uint64) int { return cmp.Compare(r.position, p) })
	return uint32(i), found
}

// row builds the row of d, interning its strings.
func (s *deliveryState) row(d *domain.Delivery) (deliveryRow, error) {
	event, err := s.event(d.EventID)
	if err != nil {
		return deliveryRow{}, err
	}
	r := deliveryRow{
		position: d.Position, at: nanos(d.At), latency: int64(d.Latency), event: event,
		configuration: s.configurations.intern(d.ConfigurationID), account: s.accounts.intern(d.Account),
		errorText: s.errorTexts.intern(d.Error),
		shape: s.shape(deliveryShape{
			kind: d.Kind, status: d.Status, trigger: d.Trigger, eventType: d.EventType, level: d.Level,
			receiverStatus: d.ReceiverStatus, attempts: d.Attempts,
		}),
	}
	if outsideNanos(d.At) {
		s.outliers[d.Position] = d.At
	}
	if n := len(s.configurations.names); len(s.byConfiguration) < n {
		s.byConfiguration = append(s.byConfiguration, make([][]uint32, n-len(s.byConfiguration))...)
	}
	if n := len(s.accounts.names); len(s.byAccount) < n {
		s.byAccount = append(s.byAccount, make([][]uint32, n-len(s.byAccount))...)
	}
	return r, nil
}

func (s *deliveryState) shape(sh deliveryShape) uint32 {
	if id, ok := s.shapes[sh]; ok {
		return id
	}
	// The caller's strings may share larger buffers.
	sh.kind = domain.EndpointKind(strings.Clone(string(sh.kind)))
	sh.status = domain.DeliveryStatus(strings.Clone(string(sh.status)))
	sh.trigger = domain.DeliveryTrigger(strings.Clone(string(sh.trigger)))
	sh.eventType = strings.Clone(sh.eventType)
	id := uint32(len(s.shapeList))
	s.shapes[sh] = id
	s.shapeList = append(s.shapeList, sh)
	return id
}

// event returns the event of an id, adding it when new.
func (s *deliveryState) event(id string) (uint32, error) {
	s.eventIDs.reserve()
	fp := s.eventIDs.fingerprint(id)
	cell, event, found := s.findEvent(fp, id)
	if found {
		return event, nil
	}
	ref, err := s.arena.add(id)
	if err != nil {
		return 0, err
	}
	event = uint32(len(s.eventRefs))
	s.eventRefs = append(s.eventRefs, ref)
	s.newestOfEvent = append(s.newestOfEvent, 0)
	s.eventIDs.set(cell, fp, event)
	return event, nil
}

// findEvent returns the event of an id and its cell in the id table, or the empty cell
// where the id would go.
func (s *deliveryState) findEvent(fp uint32, id string) (cell int, event uint32, ok bool) {
	cells := s.eventIDs.cells
	for i := s.eventIDs.home(fp); ; {
		c := cells[i]
		if c == 0 {
			return i, 0, false
		}
		if cellFingerprint(c) == fp {
			if e := cellSlot(c); s.arena.equal(s.eventRefs[e], id) {
				return i, e, true
			}
		}
		if i++; i == len(cells) {
			i = 0
		}
	}
}

// index adds the row at slot, the newest, to its lists.
func (s *deliveryState) index(slot uint32) {
	r := &s.rows[slot]
	if r.configuration != 0 { // no filter asks for the empty value
		s.byConfiguration[r.configuration] = append(s.byConfiguration[r.configuration], slot)
	}
	if r.account != 0 {
		s.byAccount[r.account] = append(s.byAccount[r.account], slot)
	}
	r.prevOfEvent = s.newestOfEvent[r.event]
	s.newestOfEvent[r.event] = slot + 1
}

// reindex rebuilds every list after rows moved.
func (s *deliveryState) reindex() {
	for i := range s.byConfiguration {
		s.byConfiguration[i] = s.byConfiguration[i][:0]
	}
	for i := range s.byAccount {
		s.byAccount[i] = s.byAccount[i][:0]
	}
	clear(s.newestOfEvent)
	for slot := range s.rows {
		s.index(uint32(slot))
	}
}

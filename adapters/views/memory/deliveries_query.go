package memory

import (
	"math"
	"slices"
	"strings"
	"time"

	"herald/domain"
	"herald/projections"
)

// deliveryQuery is a filter resolved against the state's tables: ids of 0 select any value.
type deliveryQuery struct {
	f                      projections.DeliveryFilter
	configuration, account uint32
	event                  uint32
	byEvent                bool
	since, before          int64 // the window in unix nanoseconds, clamped
}

// resolve translates a filter; ok is false when it names a value nothing has.
func (s *deliveryState) resolve(f projections.DeliveryFilter) (q deliveryQuery, ok bool) {
	q.f = f
	if q.configuration, ok = s.configurations.lookup(f.ConfigurationID); !ok {
		return q, false
	}
	if q.account, ok = s.accounts.lookup(f.Account); !ok {
		return q, false
	}
	if f.EventID != "" {
		if _, q.event, ok = s.findEvent(s.eventIDs.fingerprint(f.EventID), f.EventID); !ok {
			return q, false
		}
		q.byEvent = true
	}
	q.since, q.before = nanos(f.Since), nanos(f.Before)
	return q, true
}

// page answers Deliveries: up to limit matching rows below after, newest first, and one
// more to tell whether a next page exists.
func (s *deliveryState) page(f projections.DeliveryFilter, after uint64, limit int) projections.DeliveryPage {
	var p projections.DeliveryPage
	q, ok := s.resolve(f)
	if !ok {
		return p
	}
	p.Deliveries = make([]domain.Delivery, 0, min(limit, 64))
	s.walk(&q, after, func(slot uint32) bool {
		r := &s.rows[slot]
		if !s.matches(&q, r) {
			return true
		}
		if len(p.Deliveries) == limit {
			p.Next = p.Deliveries[limit-1].Position
			return false
		}
		p.Deliveries = append(p.Deliveries, s.delivery(r))
		return true
	})
	return p
}

// count answers CountDeliveries. A filter on one account or one configuration alone, or no
// filter, is the length of its list; others walk the shortest list they name.
func (s *deliveryState) count(f projections.DeliveryFilter) int {
	q, ok := s.resolve(f)
	if !ok {
		return 0
	}
	if !q.byEvent && f.Status == "" && f.Since.IsZero() && f.Before.IsZero() {
		switch {
		case q.configuration == 0 && q.account == 0:
			return len(s.rows)
		case q.account == 0:
			return len(s.byConfiguration[q.configuration])
		case q.configuration == 0:
			return len(s.byAccount[q.account])
		}
	}
	n := 0
	s.walk(&q, 0, func(slot uint32) bool {
		if s.matches(&q, &s.rows[slot]) {
			n++
		}
		return true
	})
	return n
}

// walk visits, newest first, the slots below position after (0: all) of the shortest list
// the query names: an event's chain, a configuration's or an account's list, or every row.
// It stops when visit returns false.
func (s *deliveryState) walk(q *deliveryQuery, after uint64, visit func(slot uint32) bool) {
	end := uint32(len(s.rows)) // the slots below end hold positions below after
	if after != 0 {
		end, _ = s.slotOf(after)
	}
	if q.byEvent {
		for next := s.newestOfEvent[q.event]; next != 0; next = s.rows[next-1].prevOfEvent {
			if next-1 < end && !visit(next-1) {
				return
			}
		}
		return
	}
	var list []uint32
	switch {
	case q.configuration != 0 && (q.account == 0 || len(s.byConfiguration[q.configuration]) <= len(s.byAccount[q.account])):
		list = s.byConfiguration[q.configuration]
	case q.account != 0:
		list = s.byAccount[q.account]
	default:
		for slot := int(end) - 1; slot >= 0; slot-- {
			if !visit(uint32(slot)) {
				return
			}
		}
		return
	}
	i, _ := slices.BinarySearch(list, end)
	for i--; i >= 0; i-- {
		if !visit(list[i]) {
			return
		}
	}
}

func (s *deliveryState) matches(q *deliveryQuery, r *deliveryRow) bool {
	switch {
	case q.configuration != 0 && r.configuration != q.configuration,
		q.account != 0 && r.account != q.account,
		q.byEvent && r.event != q.event,
		q.f.Status != "" && s.shapeList[r.shape].status != q.f.Status:
		return false
	}
	if q.f.Since.IsZero() && q.f.Before.IsZero() {
		return true
	}
	if r.at == math.MinInt64 || r.at == math.MaxInt64 { // perhaps clamped: compare the time itself
		at := s.atOf(r)
		return (q.f.Since.IsZero() || !at.Before(q.f.Since)) && (q.f.Before.IsZero() || at.Before(q.f.Before))
	}
	// Clamped bounds still compare right with times strictly between the clamps.
	return (q.f.Since.IsZero() || r.at >= q.since) && (q.f.Before.IsZero() || r.at < q.before)
}

func (s *deliveryState) atOf(r *deliveryRow) time.Time {
	if r.at == math.MinInt64 || r.at == math.MaxInt64 {
		if t, ok := s.outliers[r.position]; ok {
			return t
		}
	}
	return time.Unix(0, r.at).UTC()
}

// delivery rebuilds the delivery of a row.
func (s *deliveryState) delivery(r *deliveryRow) domain.Delivery {
	sh := &s.shapeList[r.shape]
	return domain.Delivery{
		EventID: s.arena.text(s.eventRefs[r.event]), ConfigurationID: s.configurations.names[r.configuration],
		Account: s.accounts.names[r.account], Kind: sh.kind, EventType: sh.eventType, Level: sh.level, Status: sh.status,
		ReceiverStatus: sh.receiverStatus, Attempts: sh.attempts, Latency: time.Duration(r.latency),
		Error: s.errorTexts.names[r.errorText], Trigger: sh.trigger, At: s.atOf(r), Position: r.position,
	}
}

// interner gives the distinct values of a field small ids; 0 is the empty string.
type interner struct {
	ids   map[string]uint32
	names []string
}

func newInterner() interner { return interner{ids: map[string]uint32{}, names: []string{""}} }

func (in *interner) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	id, ok := in.ids[s]
	if !ok {
		s = strings.Clone(s) // the caller's string may share a larger buffer
		id = uint32(len(in.names))
		in.ids[s] = id
		in.names = append(in.names, s)
	}
	return id
}

// lookup returns the id of s; the empty string, which filters use for any value, is 0.
func (in *interner) lookup(s string) (uint32, bool) {
	if s == "" {
		return 0, true
	}
	id, ok := in.ids[s]
	return id, ok
}

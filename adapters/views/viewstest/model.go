package viewstest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"herald/domain"
	"herald/projections"
)

// model is the event-log view done by brute force, straight from the port's documentation
// and domain.EventFilter.Matches. Views are checked against it.
type model struct {
	entries    map[string]projections.EventEntry
	types      map[string]bool
	checkpoint uint64
	ordered    []projections.EventEntry // entries newest first; nil after a change
}

func newModel() *model {
	return &model{entries: map[string]projections.EventEntry{}, types: map[string]bool{}}
}

func (m *model) apply(changes []projections.Change, checkpoint uint64) {
	m.ordered = nil
	for _, c := range changes {
		switch {
		case c.Recorded != nil:
			if _, ok := m.entries[c.Recorded.ID]; !ok {
				m.entries[c.Recorded.ID] = *c.Recorded
				m.types[c.Recorded.Type] = true
			}
		case c.Deleted != "":
			delete(m.entries, c.Deleted)
		case c.Cleared != nil:
			for id, e := range m.entries {
				if e.Matches(c.Cleared.Criteria) && e.Position < c.Cleared.Below(c.At) {
					delete(m.entries, id)
				}
			}
		}
	}
	m.checkpoint = checkpoint
}

// newestFirst orders entries by timestamp, newest first, then by position, highest first.
func newestFirst(a, b projections.EventEntry) int {
	if c := b.Timestamp.Compare(a.Timestamp); c != 0 {
		return c
	}
	return cmp.Compare(b.Position, a.Position)
}

func (m *model) matching(f domain.EventFilter, after *projections.Cursor) []projections.EventEntry {
	if m.ordered == nil {
		m.ordered = make([]projections.EventEntry, 0, len(m.entries))
		for _, e := range m.entries {
			m.ordered = append(m.ordered, e)
		}
		slices.SortFunc(m.ordered, newestFirst)
	}
	var out []projections.EventEntry
	for _, e := range m.ordered {
		if e.Matches(f) && (after == nil || after.Before(e)) {
			out = append(out, e)
		}
	}
	return out
}

func (m *model) page(req projections.EventPageRequest) projections.EventPage {
	all := m.matching(req.Filter, req.After)
	if len(all) > req.Limit {
		return projections.EventPage{Entries: all[:req.Limit], HasMore: true}
	}
	return projections.EventPage{Entries: all}
}

func (m *model) count(f domain.EventFilter) int { return len(m.matching(f, nil)) }

func (m *model) typeList() []string {
	out := make([]string, 0, len(m.types))
	for t := range m.types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// any returns one entry the model holds, picked by n.
func (m *model) pick(n int) projections.EventEntry {
	all := m.matching(domain.EventFilter{}, nil)
	return all[n%len(all)]
}

func sameEntry(a, b projections.EventEntry) bool {
	return a.ID == b.ID && a.Position == b.Position && a.Timestamp.Equal(b.Timestamp) &&
		a.Level == b.Level && a.Type == b.Type && a.Account == b.Account &&
		a.ResourceID == b.ResourceID && a.ResourceType == b.ResourceType &&
		a.Service == b.Service && a.Host == b.Host
}

func formatEntry(e projections.EventEntry) string {
	return fmt.Sprintf("{%s pos=%d ts=%s %s %s acct=%s res=%s/%s svc=%s host=%s}", e.ID, e.Position,
		domain.FormatTimestamp(e.Timestamp), e.Level, e.Type, e.Account, e.ResourceType, e.ResourceID, e.Service, e.Host)
}

// describe writes the non-zero fields of a filter.
func describe(f domain.EventFilter) string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("account", f.Account)
	add("resourceID", f.ResourceID)
	if !f.Since.IsZero() {
		add("since", domain.FormatTimestamp(f.Since))
	}
	if !f.Before.IsZero() {
		add("before", domain.FormatTimestamp(f.Before))
	}
	add("level", f.Level.String())
	add("service", f.Service)
	add("host", f.Host)
	add("type", f.Type)
	add("resourceType", f.ResourceType)
	return "{" + strings.Join(parts, " ") + "}"
}

// assertPage fails the test when got is not want, naming the first difference.
func assertPage(t *testing.T, what string, want, got projections.EventPage) {
	t.Helper()
	if got.HasMore != want.HasMore {
		t.Fatalf("%s: HasMore = %v, want %v", what, got.HasMore, want.HasMore)
	}
	assertEntries(t, what, want.Entries, got.Entries)
}

func assertEntries(t *testing.T, what string, want, got []projections.EventEntry) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if !sameEntry(want[i], got[i]) {
			t.Fatalf("%s: entry %d is %s, want %s", what, i, formatEntry(got[i]), formatEntry(want[i]))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d entries, want %d", what, len(got), len(want))
	}
}

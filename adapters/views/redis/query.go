package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"herald/domain"
	"herald/projections"
)

// query is a filter as the Lua scripts take it (readFilter in lua/common.lua): the window
// (and cursor) as a range of index members, then the fields.
type query struct {
	min, max string // ZRANGE BYLEX bounds: "-" / "+" or "[" / "(" and a sort-key prefix
	f        domain.EventFilter
	level    string
	typ      string
	prefix   bool
}

// newQuery translates a filter and an optional cursor; ok is false when the window is empty.
func newQuery(f domain.EventFilter, after *projections.Cursor) (query, bool) {
	q := query{min: "-", max: "+", f: f}
	var lo, hi []byte
	if !f.Since.IsZero() {
		lo = stampKey(f.Since) // inclusive: every key of that instant starts with it
		q.min = "[" + string(lo)
	}
	if !f.Before.IsZero() {
		hi = stampKey(f.Before) // exclusive: every key of that instant sorts after it
	}
	if after != nil {
		// Strictly older than the cursor; a prefix of it sorts before it, so the tighter
		// bound is the smaller one.
		if c := sortKey(after.Timestamp, after.Position); hi == nil || bytes.Compare(c, hi) < 0 {
			hi = c
		}
	}
	if hi != nil {
		q.max = "(" + string(hi)
		if lo != nil && bytes.Compare(lo, hi) >= 0 {
			return q, false
		}
	}
	if f.Level != 0 {
		q.level = strconv.Itoa(int(f.Level))
	}
	if p, isPrefix := domain.TypePrefix(f.Type); !isPrefix {
		q.typ = f.Type
	} else if p != "" { // "*" selects every type: no condition at all
		q.typ, q.prefix = p, true
	}
	return q, true
}

func (q *query) args() []any {
	prefix := "0"
	if q.prefix {
		prefix = "1"
	}
	return []any{q.min, q.max, q.f.Account, q.level, q.f.Service, q.f.Host, q.typ, prefix, q.f.ResourceType, q.f.ResourceID}
}

// resumeBelow narrows the query to members older than the last one a script visited.
func (q *query) resumeBelow(member string) { q.max = "(" + member }

// progress reads the first two values every walking script returns: whether the walk is
// over, and otherwise the member to resume below.
func progress(vals []any) (done bool, resume string, err error) {
	if len(vals) < 2 {
		return false, "", fmt.Errorf("script answered %d values", len(vals))
	}
	d, ok1 := vals[0].(int64)
	resume, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return false, "", fmt.Errorf("script answered %T, %T", vals[0], vals[1])
	}
	if d == 0 && resume == "" {
		return false, "", fmt.Errorf("script yielded without a place to resume")
	}
	return d == 1, resume, nil
}

// counted reads the answer of a query script that counts: {done, resume member, count}.
func counted(vals []any) (done bool, resume string, n int, err error) {
	if done, resume, err = progress(vals); err != nil {
		return false, "", 0, err
	}
	if len(vals) != 3 {
		return false, "", 0, fmt.Errorf("script answered %d values", len(vals))
	}
	c, ok := vals[2].(int64)
	if !ok {
		return false, "", 0, fmt.Errorf("script answered %v", vals)
	}
	return done, resume, int(c), nil
}

// Page implements projections.EventLogView. One script usually answers it; a walk that
// examines more than QueryBudget members continues in further calls.
func (v *EventLog) Page(ctx context.Context, req projections.EventPageRequest) (projections.EventPage, error) {
	if req.Limit < 1 {
		return projections.EventPage{}, fmt.Errorf("page: limit %d is below 1", req.Limit)
	}
	q, ok := newQuery(req.Filter, req.After)
	if !ok {
		return projections.EventPage{}, nil
	}
	need := req.Limit + 1 // one more tells whether there is a next page
	var entries []projections.EventEntry
	for {
		args := append([]any{v.keys.base, "page", need - len(entries), v.opts.QueryBudget}, q.args()...)
		vals, err := v.scripts.query.Run(ctx, v.client, []string{v.keys.entries, v.keys.types}, args...).Slice()
		if err != nil {
			return projections.EventPage{}, fmt.Errorf("page: %w", err)
		}
		done, resume, err := progress(vals)
		if err != nil {
			return projections.EventPage{}, fmt.Errorf("page: %w", err)
		}
		for _, x := range vals[2:] {
			s, ok := x.(string)
			if !ok {
				return projections.EventPage{}, fmt.Errorf("page: script answered %T", x)
			}
			e, err := decodeEntry([]byte(s))
			if err != nil {
				return projections.EventPage{}, fmt.Errorf("page: %w", err)
			}
			entries = append(entries, e)
		}
		if done || len(entries) >= need {
			break
		}
		q.resumeBelow(resume)
	}
	if len(entries) > req.Limit {
		return projections.EventPage{Entries: entries[:req.Limit], HasMore: true}, nil
	}
	return projections.EventPage{Entries: entries}, nil
}

// Count implements projections.EventLogView. A filter of one field (or none) is counted in
// the index; several fields without a window are intersected by Redis (ZINTERCARD); others
// walk the smallest index in the window, in calls of QueryBudget members.
func (v *EventLog) Count(ctx context.Context, f domain.EventFilter) (int, error) {
	q, ok := newQuery(f, nil)
	if !ok {
		return 0, nil
	}
	total := 0
	for {
		args := append([]any{v.keys.base, "count", 0, v.opts.QueryBudget}, q.args()...)
		vals, err := v.scripts.query.Run(ctx, v.client, []string{v.keys.entries, v.keys.types}, args...).Slice()
		if err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		done, resume, n, err := counted(vals)
		if err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
		total += n
		if done {
			return total, nil
		}
		q.resumeBelow(resume)
	}
}

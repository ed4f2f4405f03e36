package main

import (
	"strings"
	"testing"
)

// An input the schema refuses is a BAD_USER_INPUT naming its field, as the README shows, not
// a bare GRAPHQL_VALIDATION_FAILED "must be defined": by the variable's path when the
// variable is refused, by the argument's when its value is (an enum value in the wrong case,
// which says the values to use). Nothing of the batch is stored.
func TestGraphQL_variablesTheSchemaRefusesNameTheirField(t *testing.T) {
	app := startTestApp(t, t.TempDir(), "")
	ok := map[string]any{"level": "INFO", "type": "system.feeds.sync.completed", "message": "synced"}
	for _, tc := range []struct {
		name   string
		second map[string]any
		field  string
		says   string
	}{
		{"level left out", map[string]any{"type": "a.b.c", "message": "m"}, "in[1].level", "invalid input: in[1].level: is required"},
		{"level in lower case", map[string]any{"level": "info", "type": "a.b.c", "message": "m"}, "input[1].level", "info is not a value of Level; use INFO, ERROR (in capitals)"},
		{"a field the input has not", map[string]any{"level": "INFO", "type": "a.b.c", "message": "m", "colour": "red"}, "in[1].colour", "is no field of this input"},
	} {
		res := app.gql(adminAuth(), `mutation($in: [EventInput!]!) { recordEvents(input: $in) { recorded } }`, map[string]any{"in": []any{ok, tc.second}})
		if res.code() != "BAD_USER_INPUT" || res.field() != tc.field || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, tc.says) {
			t.Errorf("%s: code %q field %q: %s", tc.name, res.code(), res.field(), res.Raw)
		}
	}
	res := app.gql(adminAuth(), `mutation($e: String!) { recordEventsJSON(events: $e) { recorded } }`,
		map[string]any{"e": `{"level":"info","type":"a.b.c","message":"m"}` + "\n" + `{"level":"warn","type":"a.b.c","message":"m"}`})
	if res.code() != "BAD_USER_INPUT" || res.field() != "events[1].level" || !strings.Contains(res.Raw, `invalid input: events[1].level: \"warn\" is not a level; use info or error`) {
		t.Errorf("recordEventsJSON with a bad level: code %q field %q: %s", res.code(), res.field(), res.Raw)
	}
	if n := totalCount(t, app, adminAuth(), nil); n != 0 {
		t.Errorf("the log holds %d events after refused batches, want 0", n)
	}
}

// A time before 1970 is refused wherever herald takes one: herald reads the zero time
// (0001-01-01) as "not given", so a delete bounded by it would delete everything, and an
// event stamped with it would be stamped now. Nothing is deleted, stored or started.
func TestGraphQL_timesBefore1970AreRefused(t *testing.T) {
	app := startTestApp(t, t.TempDir(), "")
	app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": []any{tenantEvent("kept-1", "admin", 0), tenantEvent("kept-2", "admin", 1)}})
	const zero, before1970 = "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z"
	event := func(ts string) map[string]any {
		e := tenantEvent("too-old", "admin", 0)
		e["timestamp"] = ts
		return e
	}
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		says        string
	}{
		{"delete before year 1", `mutation($f: EventFilter) { deleteEvents(filter: $f) { count } }`,
			map[string]any{"f": map[string]any{"before": zero}}, "0001-01-01T00:00:00Z is before 1970-01-01T00:00:00Z, the earliest time herald takes"},
		{"list since and before year 1", `query($f: EventFilter) { events(filter: $f) { totalCount } }`,
			map[string]any{"f": map[string]any{"since": zero, "before": zero}}, "0001-01-01T00:00:00Z is before 1970-01-01"},
		{"an event of year 1", recordEventsOp, map[string]any{"in": []any{event(zero)}}, "0001-01-01T00:00:00Z is before 1970-01-01"},
		{"an event of 1969", recordEventsOp, map[string]any{"in": []any{event(before1970)}}, "1969-12-31T23:59:59Z is before 1970-01-01"},
		{"an event of year 1 as JSON", `mutation($e: String!) { recordEventsJSON(events: $e) { recorded } }`,
			map[string]any{"e": `{"timestamp":"` + zero + `","level":"info","type":"a.b.c","message":"m"}`}, "events[0].timestamp: 0001-01-01T00:00:00Z is before 1970-01-01"},
	} {
		res := app.gql(adminAuth(), tc.query, tc.vars)
		if res.code() != "BAD_USER_INPUT" || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, tc.says) {
			t.Errorf("%s: code %q: %s", tc.name, res.code(), res.Raw)
		}
	}
	if n := totalCount(t, app, adminAuth(), nil); n != 2 {
		t.Errorf("the log holds %d events after the refusals, want the 2 recorded", n)
	}
}

// A value of the wrong JSON kind for a Timestamp or details is named by its kind, not by the
// Go type the server decoded it into.
func TestGraphQL_wrongKindsAreNamedAsJSON(t *testing.T) {
	app := startTestApp(t, t.TempDir(), "")
	for _, tc := range []struct {
		field string
		value any
		says  string
	}{
		{"timestamp", 1700000000, `a Timestamp must be a string such as \"2018-06-28T22:36:26.512589Z\", not a number`},
		{"details", 5, "must be a JSON object or a string, not a number"},
		{"details", []any{1, 2}, "must be a JSON object or a string, not an array"},
		{"details", true, "must be a JSON object or a string, not a boolean"},
	} {
		e := tenantEvent("kind", "admin", 0)
		e[tc.field] = tc.value
		res := app.gql(adminAuth(), recordEventsOp, map[string]any{"in": []any{e}})
		if res.code() != "BAD_USER_INPUT" || !strings.Contains(res.Raw, tc.says) || strings.Contains(res.Raw, "json.Number") || strings.Contains(res.Raw, "interface") {
			t.Errorf("%s %v: %s, want %s", tc.field, tc.value, res.Raw, tc.says)
		}
	}
}

// A page larger than allowed is refused with the page limit, not as a query too complex: the
// complexity counts at most a full page.
func TestGraphQL_aPageTooLargeSaysTheLimit(t *testing.T) {
	app := startTestApp(t, t.TempDir(), "")
	res := app.gql(adminAuth(), `{ events(first: 60000) { totalCount nodes { id } } }`, nil)
	if res.code() != "BAD_USER_INPUT" || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "is 60000; it must lie between 1 and") {
		t.Errorf("first: 60000: code %q: %s", res.code(), res.Raw)
	}
}

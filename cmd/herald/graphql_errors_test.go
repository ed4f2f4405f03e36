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

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestGraphQL_requestsInAnotherFormSayHowToAsk: a request no transport takes (another content
// type, another method) is told what was wrong and what to send, with the status that says
// so, where gqlgen answered a bare "transport not supported".
func TestGraphQL_requestsInAnotherFormSayHowToAsk(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	for _, tc := range []struct {
		method, contentType string
		status              int
		want, allow         string
	}{
		{"POST", "text/plain", http.StatusUnsupportedMediaType, `the request's Content-Type is "text/plain", which herald does not read; send POST with Content-Type: application/json`, ""},
		{"POST", "application/x-www-form-urlencoded; charset=utf-8", http.StatusUnsupportedMediaType, `Content-Type is "application/x-www-form-urlencoded"`, ""},
		{"POST", "", http.StatusUnsupportedMediaType, "the request has no Content-Type; send POST with Content-Type: application/json", ""},
		{"POST", "application/json; charset", http.StatusUnsupportedMediaType, `the request's Content-Type "application/json; charset" is not a valid media type`, ""},
		{"PUT", "application/json", http.StatusMethodNotAllowed, `the GraphQL endpoint does not take "PUT" requests; send POST`, "OPTIONS, GET, POST"},
		{"DELETE", "", http.StatusMethodNotAllowed, `does not take "DELETE" requests`, "OPTIONS, GET, POST"},
	} {
		req, err := http.NewRequest(tc.method, app.url+"/graphql", strings.NewReader(`{"query": "{ __typename }"}`))
		if err != nil {
			t.Fatal(err)
		}
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		req.Header.Set("Authorization", adminAuth())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &body); err != nil || len(body.Errors) != 1 {
			t.Fatalf("%s %s: %d %s (%v)", tc.method, tc.contentType, resp.StatusCode, raw, err)
		}
		e := body.Errors[0]
		if resp.StatusCode != tc.status || !strings.Contains(e.Message, tc.want) || e.Extensions["code"] != "BAD_USER_INPUT" ||
			resp.Header.Get("Allow") != tc.allow || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d (Allow %q) %s\nwant %d (Allow %q) with %q", tc.method, tc.contentType, resp.StatusCode, resp.Header.Get("Allow"), raw, tc.status, tc.allow, tc.want)
		}
	}
	// The supported form still works.
	if data := app.in(t).mustGQL(adminAuth(), `{ __typename }`, nil); data["__typename"] != "Query" {
		t.Errorf("POST application/json: %v", data)
	}
}

// TestGraphQL_variablesOfTheWrongKindAreRefusedInJSONWords: a number for a String and a
// string for an Int are refused as the spec has it (gqlparser took them), and the kind errors
// say what the field wants and what it got in JSON's words, not Go's ("cannot use bool as
// String", "cannot use value 0 as Int" for 25.7).
func TestGraphQL_variablesOfTheWrongKindAreRefusedInJSONWords(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	const events = `query($f: EventFilter, $n: Int) { events(filter: $f, first: $n) { totalCount } }`
	const record = `mutation($in: [EventInput!]!) { recordEvents(input: $in) { recorded } }`
	for _, tc := range []struct {
		query      string
		vars       map[string]any
		field, msg string
	}{
		{events, map[string]any{"f": map[string]any{"type": json.Number("5")}}, "f.type", "must be a String, not the number 5; quote it if it is meant as text"},
		{events, map[string]any{"n": "10"}, "n", `must be a number (Int), not the string "10"; leave out the quotes`},
		{events, map[string]any{"n": json.Number("25.7")}, "n", "must be a whole number (Int) that fits in 64 bits"},
		{events, map[string]any{"n": true}, "n", "must be a whole number (Int), not a boolean"},
		{events, map[string]any{"n": json.Number("1e30")}, "n", "must be a whole number (Int) that fits in 64 bits"},
		{events, map[string]any{"f": map[string]any{"type": true}}, "f.type", "must be a String, not a boolean"},
		{events, map[string]any{"f": []any{1}}, "f", "must be an object (EventFilter), not a list"},
		{record, map[string]any{"in": []any{map[string]any{"level": "INFO", "type": "a.b", "message": json.Number("5")}}}, "in[0].message", "must be a String, not the number 5"},
		{record, map[string]any{"in": map[string]any{"level": "INFO", "type": "a.b", "message": json.Number("5")}}, "in[0].message", "must be a String, not the number 5"},
	} {
		res := app.in(t).gql(adminAuth(), tc.query, tc.vars)
		if res.code() != "BAD_USER_INPUT" || res.field() != tc.field || !strings.Contains(res.Errors[0].Message, tc.msg) {
			t.Errorf("%v: %s\nwant BAD_USER_INPUT on %s: %s", tc.vars, res.Raw, tc.field, tc.msg)
		}
	}
	// What the spec takes still passes: an Int for an ID, one object for a list of them.
	app.in(t).mustGQL(adminAuth(), `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": 12})
	data := app.in(t).mustGQL(adminAuth(), record, map[string]any{"in": map[string]any{"level": "INFO", "type": "a.b", "message": "one"}})
	if fmt.Sprint(data["recordEvents"]) != "map[recorded:1]" {
		t.Errorf("one event for a list: %v", data)
	}
}

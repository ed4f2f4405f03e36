package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// postRaw posts body to /graphql as the admin with the Accept header accept ("" for none) and
// returns the status, the content type and the first error's message.
func postRaw(t *testing.T, app *testApp, body []byte, accept string) (status int, contentType, message string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, app.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", adminAuth())
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Errors []struct{ Message string } `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer is not JSON (%d): %s", resp.StatusCode, raw)
	}
	if len(out.Errors) > 0 {
		message = out.Errors[0].Message
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), message
}

// The POST transport reads bodies with herald's JSON reader: what encoding/json read, it reads
// (numbers in variables, keys in any case), and bad bodies get answers that say what is wrong
// and where, with the status codes of the GraphQL over HTTP spec.
func TestGraphQLPost_readsRequestsAndSaysWhatIsWrong(t *testing.T) {
	app := startTestApp(t, t.TempDir(), testSecretKey)
	app.mustGQL(adminAuth(), `mutation { createAccount(name: "alice") { name } }`, nil)
	var in []any
	for i := range 3 {
		in = append(in, tenantEvent(strings.Repeat("a", 30)+string(rune('0'+i))+"x", "alice", i))
	}
	app.mustGQL(adminAuth(), recordEventsOp, map[string]any{"in": in})

	t.Run("variables with numbers, keys in another case", func(t *testing.T) {
		body := []byte(`{"Query":"query($n: Int) { events(first: $n) { totalCount edges { node { id } } } }","VARIABLES":{"n":2}}`)
		status, contentType, msg := postRaw(t, app, body, "")
		if status != http.StatusOK || msg != "" || contentType != "application/json" {
			t.Fatalf("status %d, content type %q, error %q", status, contentType, msg)
		}
	})
	cases := map[string]struct {
		body        string
		accept      string
		status      int
		contentType string
		message     string
	}{
		"malformed JSON": {`{"query": "{ events { totalCount } }",}`, "", 400, "application/json",
			"the request body is not a GraphQL request: malformed JSON at byte 39: invalid character '}' looking for beginning of object key string"},
		"query not a string": {`{"query": 5}`, "", 400, "application/json",
			`the request body is not a GraphQL request: "query" must be a string, not a number`},
		"variables not an object": {`{"query": "{ events { totalCount } }", "variables": [1]}`, "", 400, "application/json",
			`the request body is not a GraphQL request: "variables" must be an object, not an array`},
		"not an object": {`[{"query": "{ events { totalCount } }"}]`, "", 400, "application/json",
			"the request body is not a GraphQL request: the JSON document is an array, not an object"},
		"bad query, application/json": {`{"query": "{ events { "}`, "", 422, "application/json", "Expected Name, found <EOF>"},
		"bad query, graphql-response+json": {`{"query": "{ events { "}`, "application/graphql-response+json, application/json", 400,
			"application/graphql-response+json", "Expected Name, found <EOF>"},
		"no operation": {`null`, "", 422, "application/json", "no operation provided"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			status, contentType, msg := postRaw(t, app, []byte(c.body), c.accept)
			if status != c.status || contentType != c.contentType || !strings.Contains(msg, c.message) {
				t.Fatalf("status %d, content type %q, error %q; want %d, %q, %q", status, contentType, msg, c.status, c.contentType, c.message)
			}
		})
	}
	t.Run("body over the limit", func(t *testing.T) {
		body := append([]byte(`{"query":"`), bytes.Repeat([]byte("x"), 65<<20)...)
		status, _, msg := postRaw(t, app, body, "")
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "larger than the limit of 67108864 bytes") {
			t.Fatalf("status %d, error %q", status, msg)
		}
	})
	if n := totalCount(t, app, adminAuth(), nil); n != 3 {
		t.Fatalf("%d events stored, want the 3 recorded before the bad requests", n)
	}
}

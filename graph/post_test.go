package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// gqlgenParams reads a body as gqlgen's POST transport does.
func gqlgenParams(body []byte) (*graphql.RawParams, error) {
	p := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return p, dec.Decode(p)
}

// decodeRawParams reads what gqlgen's transport read, into the same parameters; only a body
// with something after its object is refused where gqlgen ignored the rest.
func TestDecodeRawParams_readsAsGqlgen(t *testing.T) {
	bodies := []string{
		`{"query":"{ events { totalCount } }","operationName":"o","variables":{"n":1.5e3,"s":"x","l":[1,null,true]},"extensions":{"e":{}}}`,
		`{"QUERY":"q","Variables":{"a":1},"variables":{"b":2},"variableſ":{"c":3}}`,
		`{"query":"q","query":null,"variables":{"a":1},"variables":null}`,
		`{"extensions":{"a":1},"Extensions":{"a":2,"b":3}}`,
		`{"unknown":[1,{"x":2}],"query":"q"}`,
		`null`, `{}`,
		`{"query":5}`, `{"variables":[1]}`, `{"operationName":{}}`, `{"query":"q"`, `[]`, `"q"`,
	}
	for _, b := range bodies {
		want, wantErr := gqlgenParams([]byte(b))
		got := &graphql.RawParams{}
		err := decodeRawParams([]byte(b), got)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, gqlgen's %v", b, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", b, got, want)
		}
	}
	for _, b := range []string{`{"query":"q"} x`, `{"query":"q"}{}`, `null x`} {
		if err := decodeRawParams([]byte(b), &graphql.RawParams{}); err == nil || !strings.Contains(err.Error(), "after top-level value") {
			t.Errorf("%s: error %v, want what follows the object refused", b, err)
		}
	}
}

// failingExecutor refuses every operation as unparsable.
type failingExecutor struct{}

func (failingExecutor) CreateOperationContext(context.Context, *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	e := gqlerror.Errorf("bad query")
	errcode.Set(e, errcode.ParseFailed)
	return &graphql.OperationContext{}, gqlerror.List{e}
}

func (failingExecutor) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return nil, ctx
}

func (failingExecutor) DispatchError(_ context.Context, errs gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: errs}
}

// jsonPOST answers a bad operation with gqlgen's content type and status for every Accept.
func TestJSONPost_answersAsGqlgen(t *testing.T) {
	answer := func(tr graphql.Transport, accept string) (int, string) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{"}`))
		r.Header.Set("Content-Type", "application/json")
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		w := httptest.NewRecorder()
		tr.Do(w, r, failingExecutor{})
		return w.Code, w.Header().Get("Content-Type")
	}
	for _, accept := range []string{"", "*/*", "application/*", "application/json", "application/graphql-response+json",
		"application/graphql-response+json; charset=utf-8, application/json", "text/html", "text/html, application/json;q=0.9", "application/xml", ";;"} {
		wantCode, wantType := answer(transport.POST{}, accept)
		code, contentType := answer(jsonPOST{}, accept)
		if code != wantCode || contentType != wantType {
			t.Errorf("Accept %q: %d %s, gqlgen %d %s", accept, code, contentType, wantCode, wantType)
		}
	}
}

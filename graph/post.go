package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"herald/domain"
	"herald/graph/model"
)

// jsonPOST is the transport of requests POSTed as application/json, as the GraphQL over HTTP
// spec has them. It answers as gqlgen's transport.POST does (content type by the Accept
// header, the same status codes), but reads the body with domain.DecodeJSONObject: batches of
// events sent as one string (recordEventsJSON) spent a third of the ingest CPU in
// encoding/json's scanner before. A body over the size limit is answered 413.
type jsonPOST struct{}

var _ graphql.Transport = jsonPOST{}

func (jsonPOST) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == "application/json"
}

func (jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	graphqlResponse := acceptsGraphQLResponse(r.Header.Get("Accept"))
	if graphqlResponse {
		w.Header().Set("Content-Type", "application/graphql-response+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		status, msg := http.StatusBadRequest, fmt.Sprintf("the request body could not be read: %v", err)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than the limit of %d bytes; send the events in smaller batches", tooLarge.Limit)
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(ctx, badRequest(msg)))
		return
	}
	params := &graphql.RawParams{}
	if err := decodeRawParams(body, params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, badRequest("the request body is not a GraphQL request: "+err.Error())))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		w.WriteHeader(statusOf(errs, graphqlResponse))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, responses(ctx))
}

// badRequest is the answer to a body that is not a GraphQL request: the client's mistake.
func badRequest(msg string) gqlerror.List {
	return gqlerror.List{{Message: msg, Extensions: map[string]any{"code": CodeBadUserInput}}}
}

// acceptsGraphQLResponse tells whether the answer is application/graphql-response+json: the
// first media type of accept that herald serves decides (*/*, application/* and
// application/json get application/json, which every client reads); no Accept header gets
// application/json, an Accept header naming none of them the GraphQL one, as gqlgen does.
func acceptsGraphQLResponse(accept string) bool {
	if accept == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "application/graphql-response+json":
			return true
		case "application/json", "application/*", "*/*":
			return false
		}
	}
	return true
}

// statusOf is the status of a request that failed before it ran: a malformed or invalid
// operation is 422 in application/json answers and 400 in graphql-response+json ones (the
// spec's two conventions); other errors are reported in a 200 answer.
func statusOf(errs gqlerror.List, graphqlResponse bool) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if graphqlResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

func writeResponse(w io.Writer, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(graphql.Response{Errors: gqlerror.List{{Message: "the answer could not be encoded: " + err.Error()}}})
	}
	_, _ = w.Write(b)
}

// decodeRawParams reads a request body into p as encoding/json reads it into RawParams: keys
// matched without regard to case, null leaving a member unset, a repeated object merged into
// the first, numbers in variables kept as json.Number. Unlike gqlgen's decoder it refuses
// anything after the object, which was silently ignored.
func decodeRawParams(body []byte, p *graphql.RawParams) error {
	return domain.DecodeJSONObject(body, func(key string, v any) error {
		ok, want := false, "a string"
		switch {
		case strings.EqualFold(key, "query"):
			p.Query, ok = stringMember(v, p.Query)
		case strings.EqualFold(key, "operationName"):
			p.OperationName, ok = stringMember(v, p.OperationName)
		case strings.EqualFold(key, "variables"):
			p.Variables, ok = objectMember(v, p.Variables)
			want = "an object"
		case strings.EqualFold(key, "extensions"):
			p.Extensions, ok = objectMember(v, p.Extensions)
			want = "an object"
		default:
			return nil
		}
		if !ok {
			return fmt.Errorf("%q must be %s, not %s", key, want, model.JSONKind(v))
		}
		return nil
	})
}

func stringMember(v any, was string) (string, bool) {
	if v == nil {
		return was, true
	}
	s, ok := v.(string)
	return s, ok
}

func objectMember(v any, was map[string]any) (map[string]any, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	if ok && was != nil {
		maps.Copy(was, m)
		return was, true
	}
	return m, ok
}

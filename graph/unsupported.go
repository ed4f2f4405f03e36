package graph

import (
	"fmt"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"herald/domain"
)

// unsupported answers the requests no other transport takes, last in line: gqlgen's own answer
// to them is a bare "transport not supported", which says neither what was wrong nor what to
// send. A POST of another content type is 415, another method 405 with Allow.
type unsupported struct{}

var _ graphql.Transport = unsupported{}

func (unsupported) Supports(*http.Request) bool { return true }

const howToAsk = `send POST with Content-Type: application/json and a body such as {"query": "{ events { totalCount } }", "variables": {}}, or GET with ?query=`

func (unsupported) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("Content-Type", "application/json")
	var status int
	var msg string
	switch {
	case r.Method == http.MethodPost:
		status = http.StatusUnsupportedMediaType
		got := r.Header.Get("Content-Type")
		mediaType, _, err := mime.ParseMediaType(got)
		switch {
		case got == "":
			msg = "the request has no Content-Type; " + howToAsk
		case err != nil:
			msg = fmt.Sprintf("the request's Content-Type %s is not a valid media type (%v); %s", domain.Quote(got), err, howToAsk)
		default:
			msg = fmt.Sprintf("the request's Content-Type is %s, which herald does not read; %s", domain.Quote(mediaType), howToAsk)
		}
	default:
		w.Header().Set("Allow", "OPTIONS, GET, POST") // as transport.Options answers
		status, msg = http.StatusMethodNotAllowed, fmt.Sprintf("the GraphQL endpoint does not take %s requests; %s", domain.Quote(r.Method), howToAsk)
	}
	w.WriteHeader(status)
	writeResponse(w, exec.DispatchError(r.Context(), badRequest(msg)))
}

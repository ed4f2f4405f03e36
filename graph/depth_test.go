package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestDepthLimit: operations are measured through fields, inline fragments and fragment
// spreads (a cycle of spreads does not loop); introspection is measured apart, against its
// own limit.
func TestDepthLimit(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
type Query { node: Node }
type Node { child: Node name: String }`})
	nest := func(n int) string { // n fields deep
		return "query { node {" + strings.Repeat(" child {", n-2) + " name" + strings.Repeat(" }", n-2) + " } }"
	}
	limit := DepthLimit{Max: 5, MaxIntrospection: 8}
	for _, tc := range []struct {
		name, query, refusal string
	}{
		{"at the limit", nest(5), ""},
		{"over the limit", nest(6), "operation is nested 6 fields deep, which exceeds the limit of 5"},
		{"through fragments", `query { node { ...A } } fragment A on Node { child { ... on Node { child { ...B } } } } fragment B on Node { child { child { name } } }`,
			"operation is nested 6 fields deep"},
		{"introspection apart", `query { node { child { child { child { name } } } } __type(name: "Node") { fields { type { ofType { ofType { ofType { name } } } } } } }`, ""},
		{"introspection over its limit", `query { __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }`,
			"introspection is nested 10 fields deep, which exceeds the limit of 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQueryWithRules(schema, tc.query, nil)
			if errs != nil {
				t.Fatal(errs)
			}
			err := limit.MutateOperationContext(context.Background(), &graphql.OperationContext{Operation: doc.Operations[0]})
			switch {
			case tc.refusal == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Message, tc.refusal) || err.Extensions["code"] != "DEPTH_LIMIT_EXCEEDED"):
				t.Errorf("got %v, want %q", err, tc.refusal)
			}
		})
	}
}

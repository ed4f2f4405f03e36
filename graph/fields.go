package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The event fields the event-log view does not hold; asking for any of them makes the events
// query read each event of the page from the store.
var (
	detailFields       = map[string]bool{"message": true, "details": true}
	sourceDetailFields = map[string]bool{"baseUrl": true, "requestId": true}
)

// needsFullEvents tells whether the current connection field asks, for its events, for fields
// only the store has.
func needsFullEvents(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return true
	}
	op := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, nil) {
		switch f.Name {
		case "nodes":
			if selects(op, f.Selections, detailFields) {
				return true
			}
		case "edges":
			for _, g := range graphql.CollectFields(op, f.Selections, nil) {
				if g.Name == "node" && selects(op, g.Selections, detailFields) {
					return true
				}
			}
		}
	}
	return false
}

func selects(op *graphql.OperationContext, set ast.SelectionSet, names map[string]bool) bool {
	for _, f := range graphql.CollectFields(op, set, nil) {
		if names[f.Name] || (f.Name == "source" && selects(op, f.Selections, sourceDetailFields)) {
			return true
		}
	}
	return false
}

package graph

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"herald/graph/generated"
	"herald/graph/model"
	"herald/projections"
)

// Limits that keep one query from tying up the server.
const (
	MaxDepth      = 12
	MaxComplexity = 50_000
	// MaxBodyBytes bounds a request body: a batch of 10,000 events with details. `herald
	// event send` sizes its batches by it.
	MaxBodyBytes = 64 << 20
)

// NewHandler returns the GraphQL endpoint: queries and mutations over POST and GET, and
// subscriptions over websockets (graphql-transport-ws and the older graphql-ws).
func NewHandler(r *Resolver) (http.Handler, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	cfg := generated.Config{Resolvers: r}
	cfg.Directives.HasPermission = hasPermission
	cfg.Complexity.Query.Events = func(child int, _ *model.EventFilter, first *int, _ *string) int {
		n := 100
		if first != nil && *first > 0 {
			// A page larger than allowed is refused by the resolver, saying the limit; as
			// complexity it would be refused first, with a message about complexity.
			n = min(*first, projections.MaxPageSize)
		}
		return 1 + child*n
	}
	es := generated.NewExecutableSchema(cfg)
	srv := handler.New(es)
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitFunc:              websocketInit(r.Auth, r.RequireAuth, cmp.Or(r.WebsocketRecheck, DefaultWebsocketRecheck)),
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			// A browser opens a websocket for any page, of any site, and sends the credentials
			// it holds for herald with it (Basic, cached): only herald's own pages and the
			// sites allowed get one. Clients that are no browser send no Origin and pass.
			OriginPatterns: r.AllowedOrigins,
		}},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(jsonPOST{})
	srv.AddTransport(unsupported{}) // last: it takes every request the others do not
	srv.SetQueryCache(graphql.NoCache[*ast.QueryDocument]{})
	srv.AroundOperations(checkSocketCredentials)
	srv.Use(extension.Introspection{})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(strictVariables{schema: es.Schema()})
	srv.Use(DepthLimit{Max: MaxDepth, MaxIntrospection: MaxIntrospectionDepth})
	srv.SetErrorPresenter(ErrorPresenter(r.Logger, es.Schema()))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		r.Logger.ErrorContext(ctx, "resolver panicked", "panic", fmt.Sprint(p))
		return fmt.Errorf("panic: %v: %w", p, errInternal)
	})
	return AuthMiddleware(r.Auth, r.RequireAuth, http.MaxBytesHandler(srv, MaxBodyBytes)), nil
}

// DepthLimit refuses operations nested deeper than Max fields. Introspection (`__schema`,
// `__type`) is measured on its own against MaxIntrospection: the schema bounds what it
// returns, and the query GraphiQL and code generators send nests 13 fields deep to unwrap
// lists of non-null types.
type DepthLimit struct{ Max, MaxIntrospection int }

// MaxIntrospectionDepth bounds the nesting of an introspection query.
const MaxIntrospectionDepth = 24

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (d DepthLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	m := depthMeter{visiting: map[string]bool{}}
	depth := m.depth(op.Operation.SelectionSet, 0)
	refuse := func(what string, depth, limit int) *gqlerror.Error {
		err := gqlerror.Errorf("%s is nested %d fields deep, which exceeds the limit of %d", what, depth, limit)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	if depth > d.Max {
		return refuse("operation", depth, d.Max)
	}
	if m.introspection > d.MaxIntrospection {
		return refuse("introspection", m.introspection, d.MaxIntrospection)
	}
	return nil
}

// depthMeter measures how deep selections nest, introspection apart.
type depthMeter struct {
	visiting      map[string]bool // fragments being measured, against cycles
	introspection int             // the deepest __schema or __type selection
}

func (m *depthMeter) depth(set ast.SelectionSet, depth int) int {
	deepest := depth
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			switch {
			case s.Name == "__schema" || s.Name == "__type":
				m.introspection = max(m.introspection, m.depth(s.SelectionSet, 1))
				d = depth + 1
			case len(s.SelectionSet) == 0:
				d = depth + 1
			default:
				d = m.depth(s.SelectionSet, depth+1)
			}
		case *ast.InlineFragment:
			d = m.depth(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			if s.Definition == nil || m.visiting[s.Name] {
				continue
			}
			m.visiting[s.Name] = true
			d = m.depth(s.Definition.SelectionSet, depth)
			delete(m.visiting, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

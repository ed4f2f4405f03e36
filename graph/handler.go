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
	"github.com/99designs/gqlgen/graphql/playground"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"herald/graph/generated"
	"herald/graph/model"
)

// Limits that keep one query from tying up the server.
const (
	MaxDepth      = 12
	MaxComplexity = 50_000
	maxBodyBytes  = 64 << 20 // a batch of 10,000 events with details
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
			n = *first
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
	srv.SetQueryCache(graphql.NoCache[*ast.QueryDocument]{})
	srv.AroundOperations(checkSocketCredentials)
	srv.Use(extension.Introspection{})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(DepthLimit{Max: MaxDepth})
	srv.SetErrorPresenter(ErrorPresenter(r.Logger, es.Schema()))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		r.Logger.ErrorContext(ctx, "resolver panicked", "panic", fmt.Sprint(p))
		return fmt.Errorf("panic: %v: %w", p, errInternal)
	})
	return AuthMiddleware(r.Auth, r.RequireAuth, http.MaxBytesHandler(srv, maxBodyBytes)), nil
}

// NewPlayground returns the GraphiQL page, which queries endpoint.
func NewPlayground(endpoint string) http.Handler {
	return playground.Handler("herald", endpoint)
}

// DepthLimit refuses operations nested deeper than Max fields.
type DepthLimit struct{ Max int }

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
	if depth := selectionDepth(op.Operation.SelectionSet, 0, map[string]bool{}); depth > d.Max {
		err := gqlerror.Errorf("operation is nested %d fields deep, which exceeds the limit of %d", depth, d.Max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, depth int, visiting map[string]bool) int {
	deepest := depth
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = depth + 1
			} else {
				d = selectionDepth(s.SelectionSet, depth+1, visiting)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, depth, visiting)
		case *ast.FragmentSpread:
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			d = selectionDepth(s.Definition.SelectionSet, depth, visiting)
			delete(visiting, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

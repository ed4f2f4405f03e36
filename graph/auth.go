package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"herald/domain"
)

// Authenticator turns credentials into an actor (projections.Authenticator).
type Authenticator interface {
	Password(ctx context.Context, user, password string) (domain.Actor, error)
	Token(ctx context.Context, token string) (domain.Actor, error)
}

type actorKey struct{}

// WithActor returns a context carrying the actor a request acts as.
func WithActor(ctx context.Context, a domain.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of a request; ok is false for an anonymous request.
func ActorFrom(ctx context.Context) (domain.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(domain.Actor)
	return a, ok
}

// LocalAdmin is who requests act as when authentication is turned off (require_auth: false).
func LocalAdmin() domain.Actor {
	return domain.Actor{Account: domain.AdminAccount, User: "local", Role: domain.RoleReadWrite}
}

// authenticate reads an Authorization header value: "Basic ..." or "Bearer ...".
func authenticate(ctx context.Context, auth Authenticator, header string) (domain.Actor, error) {
	scheme, value, _ := strings.Cut(strings.TrimSpace(header), " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return auth.Token(ctx, strings.TrimSpace(value))
	case "basic":
		r := http.Request{Header: http.Header{"Authorization": {header}}}
		user, password, ok := r.BasicAuth()
		if !ok {
			return domain.Actor{}, fmt.Errorf("malformed basic credentials: %w", domain.ErrUnauthenticated)
		}
		return auth.Password(ctx, user, password)
	}
	return domain.Actor{}, fmt.Errorf("unsupported authorization scheme %q; use Basic or Bearer: %w", scheme, domain.ErrUnauthenticated)
}

// AuthMiddleware authenticates each request from its Authorization header. A request with
// credentials that do not check out is refused with 401; a request without credentials goes
// on anonymously (fields that need a permission then fail with UNAUTHENTICATED), or as
// LocalAdmin when requireAuth is false.
func AuthMiddleware(auth Authenticator, requireAuth bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		switch {
		case header != "" && auth != nil:
			actor, err := authenticate(r.Context(), auth, header)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Basic realm="herald", charset="UTF-8"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
					"message": err.Error(), "extensions": map[string]any{"code": CodeUnauthenticated},
				}}})
				return
			}
			r = r.WithContext(WithActor(r.Context(), actor))
		case !requireAuth:
			r = r.WithContext(WithActor(r.Context(), LocalAdmin()))
		}
		next.ServeHTTP(w, r)
	})
}

// websocketInit authenticates a subscription from its connection_init payload
// ({"Authorization": "Bearer ..."}), since browsers cannot set headers on websockets.
func websocketInit(auth Authenticator, requireAuth bool) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if _, ok := ActorFrom(ctx); ok {
			return ctx, &payload, nil // authenticated by the upgrade request's headers
		}
		header := payload.Authorization()
		if header == "" {
			if v, ok := payload["Authorization"].(string); ok {
				header = v
			}
		}
		if header == "" || auth == nil {
			if !requireAuth {
				return WithActor(ctx, LocalAdmin()), &payload, nil
			}
			return ctx, &payload, nil
		}
		actor, err := authenticate(ctx, auth, header)
		if err != nil {
			return ctx, nil, err
		}
		return WithActor(ctx, actor), &payload, nil
	}
}

// hasPermission implements the @hasPermission directive.
func hasPermission(ctx context.Context, _ any, next graphql.Resolver, action string) (any, error) {
	actor, ok := ActorFrom(ctx)
	if !ok {
		return nil, fmt.Errorf("%s needs credentials (Basic or Bearer): %w", action, domain.ErrUnauthenticated)
	}
	if err := actor.Require(domain.Permission(action)); err != nil {
		return nil, err
	}
	return next(ctx)
}

// actorOf returns the request's actor; resolvers behind @hasPermission always have one.
func actorOf(ctx context.Context) (domain.Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return domain.Actor{}, fmt.Errorf("request has no credentials: %w", domain.ErrUnauthenticated)
	}
	return a, nil
}

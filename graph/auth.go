package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

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
	return domain.Actor{}, fmt.Errorf("unsupported authorization scheme %s; use Basic or Bearer: %w", domain.Quote(scheme), domain.ErrUnauthenticated)
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
				status, code := http.StatusUnauthorized, CodeUnauthenticated
				if !errors.Is(err, domain.ErrUnauthenticated) { // the accounts view cannot be read
					status, code = http.StatusServiceUnavailable, CodeInternal
					err = fmt.Errorf("herald cannot check credentials right now; try again shortly: %w", err)
				} else {
					w.Header().Set("WWW-Authenticate", `Basic realm="herald", charset="UTF-8"`)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
					"message": err.Error(), "extensions": map[string]any{"code": code},
				}}})
				return
			}
			r = r.WithContext(withCredentials(WithActor(r.Context(), actor), header))
		case !requireAuth:
			r = r.WithContext(WithActor(r.Context(), LocalAdmin()))
		}
		next.ServeHTTP(w, r)
	})
}

// websocketInit authenticates a websocket from the upgrade request's headers or, since
// browsers cannot set headers on websockets, from its connection_init payload
// ({"Authorization": "Bearer ..."}). The credentials are checked again before every operation
// on the socket and every recheck while it is open: a socket whose token was revoked or has
// expired, whose user was removed or whose role or password changed is closed, and its
// subscriptions end. The connection_ack carries no payload: echoing the init payload would
// send the credentials back.
func websocketInit(auth Authenticator, requireAuth bool, recheck time.Duration) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if actor, ok := ActorFrom(ctx); ok {
			if header, ok := ctx.Value(credentialsKey{}).(string); ok {
				return watchCredentials(ctx, auth, header, actor, recheck), nil, nil
			}
			return ctx, nil, nil // the local admin (require_auth: false)
		}
		header := payload.Authorization()
		if header == "" {
			if v, ok := payload["Authorization"].(string); ok {
				header = v
			}
		}
		if header == "" || auth == nil {
			if !requireAuth {
				return WithActor(ctx, LocalAdmin()), nil, nil
			}
			return ctx, nil, nil
		}
		actor, err := authenticate(ctx, auth, header)
		if err != nil {
			return ctx, nil, err
		}
		return watchCredentials(WithActor(ctx, actor), auth, header, actor, recheck), nil, nil
	}
}

// DefaultWebsocketRecheck is how often the credentials of an open websocket are checked again.
const DefaultWebsocketRecheck = 10 * time.Second

type credentialsKey struct{}

// withCredentials keeps the Authorization header a request was authenticated with, for a
// websocket to check it again later.
func withCredentials(ctx context.Context, header string) context.Context {
	return context.WithValue(ctx, credentialsKey{}, header)
}

// socketCredentials are what an open websocket was authenticated with.
type socketCredentials struct {
	auth   Authenticator
	header string
	actor  domain.Actor
}

type socketKey struct{}

// check authenticates the socket's credentials again: they must still check out as the same
// actor, role included.
func (c socketCredentials) check(ctx context.Context) error {
	actor, err := authenticate(ctx, c.auth, c.header)
	switch {
	case err != nil && !errors.Is(err, domain.ErrUnauthenticated):
		return fmt.Errorf("check the credentials of this connection: %w", err) // the accounts view is unavailable
	case err != nil:
		return fmt.Errorf("the credentials this connection was opened with are no longer valid (%v); connect again: %w", err, domain.ErrUnauthenticated)
	case actor.Account != c.actor.Account || actor.User != c.actor.User || actor.Role != c.actor.Role:
		return fmt.Errorf("the role of user %s changed since this connection was opened; connect again: %w", c.actor.User, domain.ErrUnauthenticated)
	}
	return nil
}

// watchCredentials returns the socket's context: it carries the credentials, for
// checkSocketCredentials, and is cancelled (which closes the socket) once they fail a check.
func watchCredentials(ctx context.Context, auth Authenticator, header string, actor domain.Actor, every time.Duration) context.Context {
	creds := socketCredentials{auth: auth, header: header, actor: actor}
	ctx, cancel := context.WithCancel(context.WithValue(ctx, socketKey{}, creds))
	go func() {
		defer cancel()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := creds.check(ctx); errors.Is(err, domain.ErrUnauthenticated) || ctx.Err() != nil {
				return // closes the socket: its subscriptions end
			}
		}
	}()
	return ctx
}

// checkSocketCredentials checks a websocket's credentials again before each operation on it.
// Requests over HTTP were authenticated just before and pass.
func checkSocketCredentials(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if creds, ok := ctx.Value(socketKey{}).(socketCredentials); ok {
		if err := creds.check(ctx); err != nil {
			code := CodeInternal
			if errors.Is(err, domain.ErrUnauthenticated) {
				code = CodeUnauthenticated
			}
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: err.Error(), Extensions: map[string]any{"code": code}}}})
		}
	}
	return next(ctx)
}

// hasPermission implements the @hasPermission directive.
func hasPermission(ctx context.Context, _ any, next graphql.Resolver, action string) (any, error) {
	actor, ok := ActorFrom(ctx)
	if !ok { // named by the field asked for: the permission's name is no field (recordEventsJSON's is recordEvents)
		return nil, fmt.Errorf("%s needs credentials (Basic or Bearer): %w", fieldName(ctx, action), domain.ErrUnauthenticated)
	}
	if err := actor.Require(domain.Permission(action)); err != nil {
		return nil, err
	}
	return next(ctx)
}

// fieldName is the name of the field being resolved, or def outside a field.
func fieldName(ctx context.Context, def string) string {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		return fc.Field.Name
	}
	return def
}

// actorOf returns the request's actor; resolvers behind @hasPermission always have one.
func actorOf(ctx context.Context) (domain.Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return domain.Actor{}, fmt.Errorf("request has no credentials: %w", domain.ErrUnauthenticated)
	}
	return a, nil
}

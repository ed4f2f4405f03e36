package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"herald/domain"
)

// switchAuth answers tokens with actor until told otherwise.
type switchAuth struct {
	mu    sync.Mutex
	actor domain.Actor
	err   error
}

func (a *switchAuth) set(actor domain.Actor, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.actor, a.err = actor, err
}

func (a *switchAuth) Token(context.Context, string) (domain.Actor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.actor, a.err
}

func (a *switchAuth) Password(ctx context.Context, _, _ string) (domain.Actor, error) {
	return a.Token(ctx, "")
}

// TestWatchCredentials_endsTheSocketOnceTheyFail: an open socket's context ends when its
// credentials stop checking out or check out as another role, and not while the accounts
// view cannot be read.
func TestWatchCredentials_endsTheSocketOnceTheyFail(t *testing.T) {
	bob := domain.Actor{Account: "bob", User: "bob-rw", Role: domain.RoleReadWrite}
	for name, failure := range map[string]func(*switchAuth){
		"revoked": func(a *switchAuth) {
			a.set(domain.Actor{}, fmt.Errorf("revoked API token: %w", domain.ErrUnauthenticated))
		},
		"role changed": func(a *switchAuth) {
			a.set(domain.Actor{Account: "bob", User: "bob-rw", Role: domain.RoleReadOnly}, nil)
		},
	} {
		t.Run(name, func(t *testing.T) {
			auth := &switchAuth{actor: bob}
			ctx := watchCredentials(context.Background(), auth, "Bearer t", bob, 5*time.Millisecond)
			auth.set(domain.Actor{}, errors.New("accounts view unavailable")) // not the credentials' fault
			select {
			case <-ctx.Done():
				t.Fatal("the socket ended while the accounts view could not be read")
			case <-time.After(50 * time.Millisecond):
			}
			failure(auth)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the socket is still open 5s after its credentials failed")
			}
		})
	}
}

// TestAuthMiddleware_unreadableViewIsNoWrongPassword: credentials that cannot be checked
// because the accounts view cannot be read get 503, not 401: the client should try again,
// not ask its user for another password.
func TestAuthMiddleware_unreadableViewIsNoWrongPassword(t *testing.T) {
	auth := &switchAuth{err: errors.New("redis: connection refused")}
	h := AuthMiddleware(auth, true, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the request went on without its credentials checked")
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Bearer hrld_x_y")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("WWW-Authenticate") != "" || !strings.Contains(rec.Body.String(), "cannot check credentials right now") {
		t.Fatalf("got %d %q %s, want 503 without a challenge", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
	}
	auth.set(domain.Actor{}, fmt.Errorf("revoked API token: %w", domain.ErrUnauthenticated))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("revoked token: got %d %q, want 401 with a challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// TestHasPermission_namesTheFieldAskedFor: a request without credentials is told which field
// needs them (recordEventsJSON), not the permission behind it (recordEvents), which is no
// field of the schema.
func TestHasPermission_namesTheFieldAskedFor(t *testing.T) {
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{
		Field: graphql.CollectedField{Field: &ast.Field{Name: "recordEventsJSON", Alias: "recorded"}},
	})
	_, err := hasPermission(ctx, nil, func(context.Context) (any, error) {
		t.Error("resolved without credentials")
		return nil, nil
	}, string(domain.RecordEvents))
	if err == nil || !strings.HasPrefix(err.Error(), "recordEventsJSON needs credentials (Basic or Bearer)") || !errors.Is(err, domain.ErrUnauthenticated) {
		t.Errorf("error %v, want recordEventsJSON named as needing credentials", err)
	}
}

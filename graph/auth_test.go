package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

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

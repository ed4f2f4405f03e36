package projections

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"herald/domain"
)

// CredentialChecker checks passwords against their hashes and API tokens against their
// digests (adapters/secrets).
type CredentialChecker interface {
	VerifyPassword(hash, password string) bool
	SplitToken(token string) (id, secret string, ok bool)
	TokenMatches(digest, secret string) bool
}

// Authenticator turns credentials into an actor, from the accounts view. Password hashes are
// slow on purpose, so a successful check is remembered for a short while (keyed by a digest
// of the credentials and the stored hash, so a changed password or a removed user is seen).
type Authenticator struct {
	view    AccountView
	checker CredentialChecker
	now     func() time.Time

	settle func(context.Context) error // nil: the view is always complete

	mu    sync.Mutex
	cache map[[32]byte]time.Time
}

// settleTimeout bounds how long a sign-in waits for the accounts view to be rebuilt.
const settleTimeout = 30 * time.Second

// WaitForView makes a sign-in whose user or token is unknown wait for settle (the accounts
// view's runner reaching the log live) and look again: while the view is rebuilt, a user
// who exists is not yet in it, and must not be told their password is wrong.
func (a *Authenticator) WaitForView(settle func(context.Context) error) { a.settle = settle }

// again waits for the view to settle and tells whether a lookup is worth repeating.
func (a *Authenticator) again(ctx context.Context) bool {
	if a.settle == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	return a.settle(ctx) == nil
}

// passwordCacheTTL bounds how long a verified password is trusted without a new hash check.
const passwordCacheTTL = time.Minute

// NewAuthenticator builds an authenticator.
func NewAuthenticator(view AccountView, checker CredentialChecker, now func() time.Time) (*Authenticator, error) {
	if view == nil || checker == nil || now == nil {
		return nil, fmt.Errorf("new authenticator: nil dependency")
	}
	return &Authenticator{view: view, checker: checker, now: now, cache: map[[32]byte]time.Time{}}, nil
}

// Password signs a user in with its name and password.
func (a *Authenticator) Password(ctx context.Context, user, password string) (domain.Actor, error) {
	account, u, err := a.activeUser(ctx, user)
	if errors.Is(err, domain.ErrUserNotFound) && a.again(ctx) {
		account, u, err = a.activeUser(ctx, user)
	}
	switch {
	case err != nil && !errors.Is(err, domain.ErrUserNotFound): // the view cannot be read
		return domain.Actor{}, err
	case err != nil || u.PasswordHash == "":
		return domain.Actor{}, fmt.Errorf("wrong user name or password: %w", domain.ErrUnauthenticated)
	}
	key := sha256.Sum256([]byte(user + "\x00" + password + "\x00" + u.PasswordHash))
	if !a.remembered(key) {
		if !a.checker.VerifyPassword(u.PasswordHash, password) {
			return domain.Actor{}, fmt.Errorf("wrong user name or password: %w", domain.ErrUnauthenticated)
		}
		a.remember(key)
	}
	return domain.Actor{Account: account, User: user, Role: u.Role}, nil
}

// Token signs a user in with an API token.
func (a *Authenticator) Token(ctx context.Context, token string) (domain.Actor, error) {
	id, secret, ok := a.checker.SplitToken(token)
	if !ok {
		return domain.Actor{}, fmt.Errorf("malformed API token: %w", domain.ErrUnauthenticated)
	}
	account, user, ok, err := a.view.TokenOwner(ctx, id)
	if err == nil && !ok && a.again(ctx) {
		account, user, ok, err = a.view.TokenOwner(ctx, id)
	}
	if err != nil {
		return domain.Actor{}, err
	}
	if !ok {
		return domain.Actor{}, fmt.Errorf("unknown API token: %w", domain.ErrUnauthenticated)
	}
	_, u, err := a.activeUser(ctx, user)
	switch {
	case err != nil && !errors.Is(err, domain.ErrUserNotFound): // the view cannot be read
		return domain.Actor{}, err
	case err != nil:
		return domain.Actor{}, fmt.Errorf("API token of a removed user: %w", domain.ErrUnauthenticated)
	}
	t, ok := u.Tokens[id]
	switch {
	case !ok || !a.checker.TokenMatches(t.Hash, secret):
		return domain.Actor{}, fmt.Errorf("unknown API token: %w", domain.ErrUnauthenticated)
	case t.Revoked:
		return domain.Actor{}, fmt.Errorf("revoked API token: %w", domain.ErrUnauthenticated)
	case !t.ExpiresAt.IsZero() && !a.now().Before(t.ExpiresAt):
		return domain.Actor{}, fmt.Errorf("expired API token: %w", domain.ErrUnauthenticated)
	}
	return domain.Actor{Account: account, User: user, Role: u.Role, ByToken: true, TokenExpires: t.ExpiresAt}, nil
}

// activeUser finds a user who may sign in. An error reading the view is passed on as it is:
// a view that cannot be read says nothing of the credentials, and must not turn them down
// (that would close every open websocket, for one).
func (a *Authenticator) activeUser(ctx context.Context, user string) (string, *domain.User, error) {
	account, ok, err := a.view.UserAccount(ctx, user)
	if err != nil {
		return "", nil, fmt.Errorf("read the accounts view: %w", err)
	}
	if !ok {
		return "", nil, fmt.Errorf("user %s: %w", user, domain.ErrUserNotFound)
	}
	acc, ok, err := a.view.Account(ctx, account)
	if err != nil {
		return "", nil, fmt.Errorf("read the accounts view: %w", err)
	}
	if !ok || acc.Deleted {
		return "", nil, fmt.Errorf("user %s: %w", user, domain.ErrUserNotFound)
	}
	u, err := acc.ActiveUser(user)
	return account, u, err
}

func (a *Authenticator) remembered(key [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.cache[key]
	return ok && a.now().Before(until)
}

func (a *Authenticator) remember(key [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) > 10_000 { // bound memory: drop everything rather than track ages
		clear(a.cache)
	}
	a.cache[key] = a.now().Add(passwordCacheTTL)
}

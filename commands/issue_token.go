package commands

import (
	"context"
	"fmt"
	"time"

	"herald/domain"
)

// TokenMaker makes an API token: the token to show once, its id and the digest to keep.
type TokenMaker func() (token, id, digest string, err error)

// IssueToken issues an API token to a user: to the caller itself, or by the admin account to
// anyone. The token is returned once and only its digest is kept.
type IssueToken struct {
	Actor       domain.Actor
	Account     string
	User        string
	Description string
	TTL         time.Duration // 0: never expires
}

// IssuedToken is the token, shown once.
type IssuedToken struct {
	ID        string
	Token     string
	ExpiresAt time.Time
}

// IssueTokenHandler handles IssueToken.
type IssueTokenHandler struct {
	store EventStore
	mint  TokenMaker
	now   Clock
}

// NewIssueTokenHandler builds the handler.
func NewIssueTokenHandler(store EventStore, mint TokenMaker, now Clock) (IssueTokenHandler, error) {
	if store == nil || mint == nil || now == nil {
		return IssueTokenHandler{}, fmt.Errorf("new issue token handler: %w", errNilDependency)
	}
	return IssueTokenHandler{store: store, mint: mint, now: now}, nil
}

// Handle appends TokenIssued and returns the token.
func (h IssueTokenHandler) Handle(ctx context.Context, cmd IssueToken) (IssuedToken, error) {
	if err := requireSelfOrAdmin(cmd.Actor, cmd.Account, cmd.User); err != nil {
		return IssuedToken{}, err
	}
	if cmd.TTL < 0 {
		return IssuedToken{}, invalid("ttl", "must not be negative")
	}
	now := h.now()
	if limit := cmd.Actor.TokenExpires; cmd.Actor.ByToken && !limit.IsZero() && (cmd.TTL == 0 || now.Add(cmd.TTL).After(limit)) {
		left := limit.Sub(now).Truncate(time.Second)
		return IssuedToken{}, invalid("ttl", "the API token this request is signed in with expires at %s, and a token it issues may not outlive it: ask for at most %s (%d seconds), or sign in with a password",
			limit.UTC().Format(time.RFC3339), domain.FormatRetention(left.Truncate(time.Minute)), int(left.Seconds()))
	}
	account, err := loadAccount(ctx, h.store, cmd.Account)
	if err != nil {
		return IssuedToken{}, err
	}
	if _, err := account.ActiveUser(cmd.User); err != nil {
		return IssuedToken{}, err
	}
	token, id, digest, err := h.mint()
	if err != nil {
		return IssuedToken{}, err
	}
	t := domain.Token{ID: id, Description: cmd.Description, Hash: digest, IssuedAt: now}
	if cmd.TTL > 0 {
		t.ExpiresAt = now.Add(cmd.TTL)
	}
	if err := appendAccountFacts(ctx, h.store, account, domain.TokenIssued{User: cmd.User, Token: t}); err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{ID: id, Token: token, ExpiresAt: t.ExpiresAt}, nil
}

// requireSelfOrAdmin lets users manage their own credentials and the admin account anyone's.
func requireSelfOrAdmin(actor domain.Actor, account, user string) error {
	if actor.Account == account && actor.User == user {
		return actor.Require(domain.ManageOwnTokens)
	}
	return actor.Require(domain.ManageAccounts)
}

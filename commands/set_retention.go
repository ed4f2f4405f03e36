package commands

import (
	"context"
	"fmt"
	"time"

	"herald/domain"
)

// MinRetention is the shortest retention an account may have: retention runs at most every
// minute, and a shorter age would clear events before anyone could read them.
const MinRetention = time.Hour

// SetRetention sets how long an account's events are kept; MaxAge 0 goes back to the server's
// default (--retention). Admin only.
type SetRetention struct {
	Actor   domain.Actor
	Account string
	MaxAge  time.Duration
}

// SetRetentionHandler handles SetRetention.
type SetRetentionHandler struct {
	store EventStore
	now   Clock
}

// NewSetRetentionHandler builds the handler.
func NewSetRetentionHandler(store EventStore, now Clock) (SetRetentionHandler, error) {
	if store == nil || now == nil {
		return SetRetentionHandler{}, fmt.Errorf("new set retention handler: %w", errNilDependency)
	}
	return SetRetentionHandler{store: store, now: now}, nil
}

// Handle appends RetentionSet.
func (h SetRetentionHandler) Handle(ctx context.Context, cmd SetRetention) error {
	if err := cmd.Actor.Require(domain.ManageAccounts); err != nil {
		return err
	}
	if cmd.MaxAge != 0 && cmd.MaxAge < MinRetention {
		return invalid("retention", "%s is shorter than the shortest retention, %s; to use the server's default, set none (null in GraphQL, default with the CLI)", cmd.MaxAge, MinRetention)
	}
	if cmd.MaxAge%time.Second != 0 {
		return invalid("retention", "%s is not a whole number of seconds", cmd.MaxAge)
	}
	account, err := loadAccount(ctx, h.store, cmd.Account)
	if err != nil {
		return err
	}
	return appendAccountFacts(ctx, h.store, account, domain.RetentionSet{MaxAge: cmd.MaxAge, At: h.now()})
}

package commands

import (
	"context"
	"fmt"
	"time"

	"herald/domain"
)

// AccountLister lists the accounts (projections.AccountView).
type AccountLister interface {
	Accounts(ctx context.Context) ([]domain.Account, error)
}

// ApplyRetention clears the events that are older than their account's retention, so that the
// log does not grow without bound. Default is the retention of accounts that have none of
// their own (0: kept). Each clear is a bulk clear like any other: one EventsCleared fact.
type ApplyRetention struct {
	Default time.Duration
}

// ApplyRetentionResult tells what a run cleared.
type ApplyRetentionResult struct {
	Cleared int
}

// ApplyRetentionHandler handles ApplyRetention.
type ApplyRetentionHandler struct {
	clear    DeleteEventsHandler
	accounts AccountLister
	now      Clock
}

// NewApplyRetentionHandler builds the handler on top of the bulk clear.
func NewApplyRetentionHandler(clear DeleteEventsHandler, accounts AccountLister, now Clock) (ApplyRetentionHandler, error) {
	if clear.store == nil || accounts == nil || now == nil {
		return ApplyRetentionHandler{}, fmt.Errorf("new apply retention handler: %w", errNilDependency)
	}
	return ApplyRetentionHandler{clear: clear, accounts: accounts, now: now}, nil
}

// Handle clears the expired events and returns how many there were. A clear with nothing
// expired appends no fact.
//
// Without accounts of their own retention, one clear takes every account's events older than
// the default. Otherwise each account is cleared at its own age (or the default), and the
// events of names that are no account at the longest age in force, so that no account loses
// an event before its time.
func (h ApplyRetentionHandler) Handle(ctx context.Context, cmd ApplyRetention) (ApplyRetentionResult, error) {
	var res ApplyRetentionResult
	if cmd.Default < 0 {
		return res, &domain.ValidationError{Fields: []domain.FieldError{{Field: "retention", Message: "must not be negative"}}}
	}
	accounts, err := h.accounts.Accounts(ctx)
	if err != nil {
		return res, fmt.Errorf("list the accounts' retention: %w", err)
	}
	own, longest, _ := retentions(accounts, cmd.Default)
	clearOlder := func(account string, age time.Duration) error {
		if age <= 0 {
			return nil
		}
		r, err := h.clear.Handle(ctx, DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Account: account, Before: h.now().Add(-age)}})
		res.Cleared += r.Count
		if err != nil && account != "" {
			return fmt.Errorf("account %s: %w", account, err)
		}
		return err
	}
	if !own {
		return res, clearOlder("", cmd.Default)
	}
	for _, a := range accounts {
		age := a.Retention
		if age == 0 {
			age = cmd.Default
		}
		if err := clearOlder(a.Name, age); err != nil {
			return res, err
		}
	}
	if cmd.Default > 0 {
		return res, clearOlder("", longest)
	}
	return res, nil
}

// Shortest returns the shortest retention in force (0: none), with def for the accounts that
// have none of their own: a caller that runs retention now and then asks it often, cheaply,
// to run at once when it shortens.
func (h ApplyRetentionHandler) Shortest(ctx context.Context, def time.Duration) (time.Duration, error) {
	accounts, err := h.accounts.Accounts(ctx)
	if err != nil {
		return 0, fmt.Errorf("list the accounts' retention: %w", err)
	}
	_, _, shortest := retentions(accounts, def)
	return shortest, nil
}

// retentions tells whether any account has a retention of its own, and the longest and the
// shortest retention in force (0: none), def standing for the accounts without one.
func retentions(accounts []domain.Account, def time.Duration) (own bool, longest, shortest time.Duration) {
	longest, shortest = def, def
	for _, a := range accounts {
		if a.Retention > 0 {
			own = true
			longest = max(longest, a.Retention)
			if shortest == 0 || a.Retention < shortest {
				shortest = a.Retention
			}
		}
	}
	return own, longest, shortest
}

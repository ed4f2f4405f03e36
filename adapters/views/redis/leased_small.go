package redis

import (
	"context"
	"sync/atomic"

	"herald/domain"
	"herald/projections"
)

// LeasedConfigurations is the configurations view as a lease-guarded runner uses it; see
// LeasedEventLog.
type LeasedConfigurations struct {
	base *Configurations
	cur  atomic.Pointer[Configurations]
}

// NewLeasedConfigurations wraps a view; until the first Claim it writes unfenced.
func NewLeasedConfigurations(base *Configurations) *LeasedConfigurations {
	l := &LeasedConfigurations{base: base}
	l.cur.Store(base)
	return l
}

// Claim implements projections.FenceClaimer.
func (l *LeasedConfigurations) Claim(ctx context.Context, fence uint64) error {
	v := l.base.Fenced(fence)
	if err := v.ClaimFence(ctx); err != nil {
		return err
	}
	l.cur.Store(v)
	return nil
}

// Apply implements projections.ConfigurationView.
func (l *LeasedConfigurations) Apply(ctx context.Context, changes []projections.ConfigurationChange, checkpoint uint64) error {
	return l.cur.Load().Apply(ctx, changes, checkpoint)
}

// Checkpoint implements projections.ConfigurationView.
func (l *LeasedConfigurations) Checkpoint(ctx context.Context) (uint64, error) {
	return l.cur.Load().Checkpoint(ctx)
}

// Configuration implements projections.ConfigurationView.
func (l *LeasedConfigurations) Configuration(ctx context.Context, id string) (domain.Configuration, bool, error) {
	return l.cur.Load().Configuration(ctx, id)
}

// Configurations implements projections.ConfigurationView.
func (l *LeasedConfigurations) Configurations(ctx context.Context, account string, kind domain.EndpointKind) ([]domain.Configuration, error) {
	return l.cur.Load().Configurations(ctx, account, kind)
}

// DisabledEndpoints implements projections.ConfigurationView.
func (l *LeasedConfigurations) DisabledEndpoints(ctx context.Context) (map[domain.EndpointKind]bool, error) {
	return l.cur.Load().DisabledEndpoints(ctx)
}

// Reset implements projections.ConfigurationView.
func (l *LeasedConfigurations) Reset(ctx context.Context) error { return l.cur.Load().Reset(ctx) }

// LeasedAccounts is the accounts view as a lease-guarded runner uses it; see LeasedEventLog.
type LeasedAccounts struct {
	base *Accounts
	cur  atomic.Pointer[Accounts]
}

// NewLeasedAccounts wraps a view; until the first Claim it writes unfenced.
func NewLeasedAccounts(base *Accounts) *LeasedAccounts {
	l := &LeasedAccounts{base: base}
	l.cur.Store(base)
	return l
}

// Claim implements projections.FenceClaimer.
func (l *LeasedAccounts) Claim(ctx context.Context, fence uint64) error {
	v := l.base.Fenced(fence)
	if err := v.ClaimFence(ctx); err != nil {
		return err
	}
	l.cur.Store(v)
	return nil
}

// Apply implements projections.AccountView.
func (l *LeasedAccounts) Apply(ctx context.Context, accounts []domain.Account, checkpoint uint64) error {
	return l.cur.Load().Apply(ctx, accounts, checkpoint)
}

// Checkpoint implements projections.AccountView.
func (l *LeasedAccounts) Checkpoint(ctx context.Context) (uint64, error) {
	return l.cur.Load().Checkpoint(ctx)
}

// Account implements projections.AccountView.
func (l *LeasedAccounts) Account(ctx context.Context, name string) (domain.Account, bool, error) {
	return l.cur.Load().Account(ctx, name)
}

// Accounts implements projections.AccountView.
func (l *LeasedAccounts) Accounts(ctx context.Context) ([]domain.Account, error) {
	return l.cur.Load().Accounts(ctx)
}

// UserAccount implements projections.AccountView.
func (l *LeasedAccounts) UserAccount(ctx context.Context, user string) (string, bool, error) {
	return l.cur.Load().UserAccount(ctx, user)
}

// TokenOwner implements projections.AccountView.
func (l *LeasedAccounts) TokenOwner(ctx context.Context, id string) (string, string, bool, error) {
	return l.cur.Load().TokenOwner(ctx, id)
}

// Reset implements projections.AccountView.
func (l *LeasedAccounts) Reset(ctx context.Context) error { return l.cur.Load().Reset(ctx) }

package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"herald/commands"
	"herald/domain"
	"herald/graph/model"
)

func roleOf(r model.Role) domain.Role {
	if r == model.RoleReadWrite {
		return domain.RoleReadWrite
	}
	return domain.RoleReadOnly
}

func modelRole(r domain.Role) model.Role {
	if r == domain.RoleReadWrite {
		return model.RoleReadWrite
	}
	return model.RoleReadOnly
}

func modelAccount(a domain.Account) model.Account {
	out := model.Account{Name: a.Name, CreatedAt: a.CreatedAt, Users: []model.User{}}
	if a.Retention > 0 {
		r := domain.FormatRetention(a.Retention)
		out.Retention = &r
	}
	names := make([]string, 0, len(a.Users))
	for name, u := range a.Users {
		if !u.Removed {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		out.Users = append(out.Users, modelUser(*a.Users[name]))
	}
	return out
}

func modelUser(u domain.User) model.User {
	out := model.User{Name: u.Name, Role: modelRole(u.Role), HasPassword: u.PasswordHash != "", Tokens: []model.APIToken{}}
	for _, t := range u.Tokens {
		m := model.APIToken{ID: t.ID, Description: t.Description, IssuedAt: t.IssuedAt, Revoked: t.Revoked}
		if !t.ExpiresAt.IsZero() {
			exp := t.ExpiresAt
			m.ExpiresAt = &exp
		}
		out.Tokens = append(out.Tokens, m)
	}
	slices.SortFunc(out.Tokens, func(a, b model.APIToken) int { return a.IssuedAt.Compare(b.IssuedAt) })
	return out
}

func (r *Resolver) account(ctx context.Context, name string) (*model.Account, error) {
	a, ok, err := r.Access.Accounts.Account(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok || a.Deleted {
		return nil, fmt.Errorf("account %s: %w", name, domain.ErrAccountNotFound)
	}
	m := modelAccount(a)
	return &m, nil
}

// knownAccount answers an empty list filtered by an account that does not exist: NOT_FOUND
// saying so, rather than an empty list that reads as "none here".
func (r *Resolver) knownAccount(ctx context.Context, name string) error {
	if _, err := r.account(ctx, name); errors.Is(err, domain.ErrAccountNotFound) {
		return fmt.Errorf("no account %s (names match exactly, case included; herald account list shows them): %w", domain.Quote(name), domain.ErrAccountNotFound)
	} else if err != nil {
		return err
	}
	return nil
}

func (r *Resolver) user(ctx context.Context, account, name string) (*model.User, error) {
	a, err := r.account(ctx, account)
	if err != nil {
		return nil, err
	}
	for _, u := range a.Users {
		if u.Name == name {
			return &u, nil
		}
	}
	return nil, fmt.Errorf("user %s of account %s: %w", name, account, domain.ErrUserNotFound)
}

// conflict marks errors of names already taken, for the CONFLICT code.
func conflict(err error) error {
	if errors.Is(err, commands.ErrAccountExists) || errors.Is(err, commands.ErrUserNameTaken) {
		return fmt.Errorf("%w: %w", err, errConflict)
	}
	return err
}

func (r *Resolver) projectionList(ctx context.Context) ([]model.Projection, error) {
	list, head, err := r.Projections.Progress(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Projection, len(list))
	for i, p := range list {
		lag := int(head) - int(p.Applied)
		m := model.Projection{
			Name: p.View, Position: int(p.Applied), Target: int(p.Target), LogHead: int(head), Lag: max(lag, 0),
			CaughtUp: p.CaughtUp, Standby: p.Standby, RecordsApplied: int(p.Records), RecordsPerSecond: p.Rate,
		}
		if !p.CaughtUp && p.PositionRate > 0 && lag > 0 {
			eta := float64(lag) / p.PositionRate
			m.EtaSeconds = &eta
		}
		out[i] = m
	}
	return out, nil
}

package projections

import (
	"context"
	"fmt"

	"herald/domain"
)

// ConfigurationQueries answers questions about endpoints and their configurations, for the
// actor asking: an account sees its own configurations, the admin account every one.
type ConfigurationQueries struct {
	view ConfigurationView
}

// NewConfigurationQueries builds the query service.
func NewConfigurationQueries(view ConfigurationView) (ConfigurationQueries, error) {
	if view == nil {
		return ConfigurationQueries{}, fmt.Errorf("new configuration queries: nil view")
	}
	return ConfigurationQueries{view: view}, nil
}

// EndpointStatus is an endpoint kind with its system-wide status.
type EndpointStatus struct {
	Kind    domain.EndpointKind
	Enabled bool
}

// Endpoints lists every endpoint kind and whether it is enabled.
func (q ConfigurationQueries) Endpoints(ctx context.Context, actor domain.Actor) ([]EndpointStatus, error) {
	if err := actor.Require(domain.ListNotificationEndpoints); err != nil {
		return nil, err
	}
	disabled, err := q.view.DisabledEndpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	out := make([]EndpointStatus, 0, len(domain.EndpointKinds()))
	for _, k := range domain.EndpointKinds() {
		out = append(out, EndpointStatus{Kind: k, Enabled: !disabled[k]})
	}
	return out, nil
}

// EndpointEnabled tells whether anything may be sent to configurations of a kind.
func (q ConfigurationQueries) EndpointEnabled(ctx context.Context, kind domain.EndpointKind) (bool, error) {
	disabled, err := q.view.DisabledEndpoints(ctx)
	if err != nil {
		return false, err
	}
	return !disabled[kind], nil
}

// Configurations lists the configurations the actor sees, of one kind ("" for all). The admin
// account may narrow the list to one account; others always get their own.
func (q ConfigurationQueries) Configurations(ctx context.Context, actor domain.Actor, kind domain.EndpointKind, account string) ([]domain.Configuration, error) {
	if err := actor.Require(domain.ListNotificationEndpointConfigurations); err != nil {
		return nil, err
	}
	if kind != "" {
		if _, err := domain.ParseEndpointKind(string(kind)); err != nil {
			return nil, err
		}
	}
	if !actor.IsAdmin() {
		if account != "" && account != actor.Account {
			return nil, fmt.Errorf("%s cannot list the configurations of account %s: %w", actor, account, domain.ErrForbidden)
		}
		account = actor.Account
	}
	list, err := q.view.Configurations(ctx, account, kind)
	if err != nil {
		return nil, fmt.Errorf("list configurations: %w", err)
	}
	return list, nil
}

// Configuration returns one configuration the actor sees; others are reported as not found.
func (q ConfigurationQueries) Configuration(ctx context.Context, actor domain.Actor, id string) (domain.Configuration, error) {
	if err := actor.Require(domain.GetNotificationEndpointConfiguration); err != nil {
		return domain.Configuration{}, err
	}
	c, ok, err := q.view.Configuration(ctx, id)
	if err != nil {
		return domain.Configuration{}, fmt.Errorf("get configuration %s: %w", id, err)
	}
	if !ok || !actor.Sees(c.Account) {
		return domain.Configuration{}, domain.ConfigurationNotFound(id)
	}
	return c, nil
}

// All lists every configuration of every account, for the dispatcher.
func (q ConfigurationQueries) All(ctx context.Context) ([]domain.Configuration, error) {
	return q.view.Configurations(ctx, "", "")
}

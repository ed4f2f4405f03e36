package main

import (
	"context"

	"github.com/google/uuid"

	"herald/commands"
	"herald/domain"
	"herald/graph"
	"herald/projections"
)

func (a *app) wireNotifications(ctx context.Context, cfg serveConfig, v views, metrics *metrics, now commands.Clock, el eventLogParts) (graph.NotificationDeps, error) {
	sealer, err := sealerFor(cfg.Auth, cfg.DataDir, cfg.Redis.enabled(), a.logger)
	if err != nil {
		return graph.NotificationDeps{}, err
	}
	register, err := commands.NewRegisterSecretKeyHandler(a.store)
	if err != nil {
		return graph.NotificationDeps{}, err
	}
	if err := register.Handle(ctx, commands.RegisterSecretKey{KeyID: sealer.KeyID()}); err != nil {
		return graph.NotificationDeps{}, err
	}
	projection, err := projections.NewConfigurationProjection(v.configurations)
	if err != nil {
		return graph.NotificationDeps{}, err
	}
	configRunner, err := a.addRunner(projection, v, metrics)
	if err != nil {
		return graph.NotificationDeps{}, err
	}
	d, err := a.wireDelivery(cfg, v, metrics, now, sealer, configRunner, el)
	if err != nil {
		return graph.NotificationDeps{}, err
	}
	deps := graph.NotificationDeps{
		Tester: d.deliverer, Backfills: d.backfiller, Deliveries: d.deliveries, Background: a.background,
		OpenSettings: func(s domain.Settings) (domain.Settings, error) { return commands.OpenSettings(s, sealer) },
	}
	var errs [5]error
	deps.Queries, errs[0] = projections.NewConfigurationQueries(v.configurations)
	deps.Create, errs[1] = commands.NewCreateConfigurationHandler(a.store, sealer, uuid.NewString, now)
	deps.Update, errs[2] = commands.NewUpdateConfigurationHandler(a.store, sealer, now)
	deps.Delete, errs[3] = commands.NewDeleteConfigurationHandler(a.store, now)
	deps.Status, errs[4] = commands.NewSetEndpointStatusHandler(a.store, now)
	return deps, firstError(errs[:]...)
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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
	if err := firstError(errs[:]...); err != nil {
		return graph.NotificationDeps{}, err
	}
	claimNames, err := commands.NewClaimConfigurationNamesHandler(a.store, deps.Queries, now)
	if err != nil {
		return graph.NotificationDeps{}, err
	}
	caughtUp := func(ctx context.Context) error { // with what the log held at start
		head, err := a.store.LastPosition(ctx)
		if err != nil {
			return fmt.Errorf("read the log head: %w", err)
		}
		return configRunner.WaitFor(ctx, head)
	}
	a.jobs = append(a.jobs, func(ctx context.Context) { claimConfigurationNames(ctx, claimNames, caughtUp, a.logger) })
	return deps, nil
}

// claimConfigurationNames claims, once at start, the names of the configurations older
// versions stored without a claim, once the configurations view holds every configuration
// stored before the start. It tries a few times before it gives up until the next start.
func claimConfigurationNames(ctx context.Context, h commands.ClaimConfigurationNamesHandler, caughtUp func(context.Context) error, logger *slog.Logger) {
	const attempts = 5
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		var res commands.ClaimConfigurationNamesResult
		err := caughtUp(ctx)
		if err == nil {
			res, err = h.Handle(ctx, commands.ClaimConfigurationNames{
				Progress: func(done, total, claimed int) {
					logger.Info("claiming the names of configurations stored before names were unique", "done", done, "total", total, "claimed", claimed)
				},
				Duplicate: func(c domain.Configuration, reason string) {
					logger.Info("a configuration stored before names were unique keeps its name, which another configuration of its account holds",
						"configuration", c.ID, "account", c.Account, "name", c.Name, "reason", reason)
				},
			})
		}
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			if res.Claimed > 0 || res.Duplicates > 0 {
				logger.Info("claimed the names of configurations stored before names were unique",
					"configurations", res.Configurations, "claimed", res.Claimed, "duplicates", res.Duplicates)
			}
			return
		case attempt == attempts:
			logger.Error("claim the names of configurations stored before names were unique; until the next start, a new configuration may take one of their names",
				"error", err)
			return
		}
		logger.Warn("claim the names of configurations stored before names were unique; retrying", "error", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff *= 2
	}
}

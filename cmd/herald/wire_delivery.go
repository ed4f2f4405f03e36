package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"herald/adapters/checkpoint"
	"herald/adapters/localpubsub"
	"herald/adapters/pairlock"
	"herald/adapters/senders/email"
	"herald/adapters/senders/github"
	"herald/adapters/senders/jira"
	"herald/adapters/senders/slack"
	"herald/adapters/senders/teams"
	"herald/adapters/senders/webhook"
	"herald/commands"
	"herald/domain"
	"herald/notify"
	"herald/projections"
)

// delivery is what the notification API needs from the delivery side.
type delivery struct {
	deliverer  *notify.Deliverer
	backfiller *notify.Backfiller
	deliveries projections.DeliveryQueries
}

// wireDelivery builds the senders, the router, the dispatcher (when notifications are
// enabled), the deliveries view and the backfiller.
func (a *app) wireDelivery(cfg serveConfig, v views, metrics *metrics, now commands.Clock, sealer commands.SecretSealer, configRunner *projections.Runner, el eventLogParts) (delivery, error) {
	var out delivery
	deliveriesProjection, err := projections.NewDeliveryProjection(v.deliveries)
	if err != nil {
		return out, err
	}
	if _, err := a.addRunner(deliveriesProjection, v, metrics); err != nil {
		return out, err
	}
	if out.deliveries, err = projections.NewDeliveryQueries(v.deliveries); err != nil {
		return out, err
	}
	ledger, err := commands.NewLedger(a.store)
	if err != nil {
		return out, err
	}
	policy, err := cfg.Notify.outbound()
	if err != nil {
		return out, err
	}
	if err := cfg.Notify.checkSizes(); err != nil {
		return out, err
	}
	limits, err := cfg.Notify.rateLimits()
	if err != nil {
		return out, err
	}
	retry, err := cfg.Notify.retry()
	if err != nil {
		return out, err
	}
	system, err := cfg.Notify.systemConfigurations()
	if err != nil {
		return out, err
	}
	if cfg.Notify.SendTimeout <= 0 {
		cfg.Notify.SendTimeout = 30 * time.Second
	}
	if cfg.Notify.Concurrency <= 0 {
		cfg.Notify.Concurrency = notify.DefaultConcurrency
	}
	clients := notify.NewHTTPClients(policy.Transport(), cfg.Notify.Concurrency)
	senders := map[domain.EndpointKind]notify.Sender{
		domain.KindWebhook: webhook.New(clients),
		domain.KindSlack:   slack.New(clients),
		domain.KindTeams:   teams.New(clients),
		domain.KindGitHub:  github.New(clients),
		domain.KindJira:    jira.New(clients),
		domain.KindEmail:   email.New(email.Options{Timeout: cfg.Notify.SendTimeout, DialContext: policy.DialContext(cfg.Notify.SendTimeout)}),
	}
	t, err := a.transport(cfg, v)
	if err != nil {
		return out, err
	}
	out.deliverer, err = notify.NewDeliverer(notify.DelivererConfig{
		Senders: senders, Configurations: v.configurations, Ledger: ledger, System: system, UIURL: cfg.UIURL,
		OpenSettings: func(s domain.Settings) (domain.Settings, error) { return commands.OpenSettings(s, sealer) },
		RateLimits:   limits, SendTimeout: cfg.Notify.SendTimeout, Concurrency: cfg.Notify.Concurrency,
		Logger: a.logger, Metrics: metrics, Now: now, Disabled: v.configurations, Events: eventFinder{store: a.store},
		Removed: configurationLog{store: a.store},
		Pairs:   t.pairs, StepAside: t.aside,
	})
	if err != nil {
		return out, err
	}
	router, err := notify.NewRouter(notify.RouterConfig{Publisher: t.pub, Subscriber: t.sub, Shards: t.shards, Deliverer: out.deliverer, Retry: retry, Scheduler: t.retries, Logger: a.logger})
	if err != nil {
		return out, err
	}
	a.jobs = append(a.jobs, func(ctx context.Context) {
		if t.renewPairs != nil {
			lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
			defer stop() // once the router, and the sends it let finish, have stopped
			go t.renewPairs(lctx)
		}
		if err := router.Run(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("notification router stopped", "error", err)
		}
	})
	a.closers = append(a.closers, func() { _ = router.Close() })
	if out.backfiller, err = notify.NewBackfiller(eventFinder{queries: el.queries, store: a.store}, ledger, router, a.store, cfg.Notify.Window, a.logger); err != nil {
		return out, err
	}
	a.drains = append(a.drains, out.backfiller.Wait)
	if !cfg.NotificationsEnabled {
		a.logger.Warn("notifications are off (--notifications-enabled=false): events are recorded but not sent; tests and backfills still send")
		return out, nil
	}
	var checkpoints notify.CheckpointStore = checkpoint.NewFile(filepath.Join(cfg.DataDir, "dispatcher.checkpoint"))
	if v.dispatchCheckpoint != nil {
		checkpoints = v.dispatchCheckpoint
	}
	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
		Log: a.store, Configurations: v.configurations, WaitConfigurations: configRunner.WaitFor, Ledger: ledger,
		Publisher: router, Checkpoints: checkpoints, System: system, Window: cfg.Notify.Window,
		Copies: checkpoint.NewCopies(a.store, now), CopyEvery: cfg.Notify.checkpointCopyEvery,
		MaxInFlight:    cfg.Notify.MaxInFlight,
		RedeliverAfter: retry.MaxElapsed + 2*cfg.Notify.SendTimeout + time.Minute,
		Sweep:          time.Duration(max(cfg.NotificationsCycle, 1)) * time.Second,
		Logger:         a.logger, Metrics: metrics,
	})
	if err != nil {
		return out, err
	}
	runner, err := projections.NewRunner(a.store, dispatcher, a.logger, metrics)
	if err != nil {
		return out, err
	}
	if l, ok := v.leases[notify.DispatcherName]; ok {
		runner.UseLease(l.lease, l.claim)
	}
	if t.whenLost != nil {
		t.whenLost(dispatcher.RedeliverLost)
	}
	a.dispatch = runner
	a.jobs = append(a.jobs, func(ctx context.Context) {
		select { // dispatch starts once the handlers subscribed
		case <-router.Running():
		case <-ctx.Done():
			return
		}
		swept := make(chan struct{})
		go func() { defer close(swept); _ = dispatcher.Run(ctx) }()
		if err := runner.Run(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("dispatcher stopped", "error", err)
		}
		<-swept
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = dispatcher.Flush(fctx)
	})
	return out, nil
}

// routerTransport is what the router's messages travel on.
type routerTransport struct {
	pub     message.Publisher
	sub     message.Subscriber
	shards  int
	retries notify.RetryScheduler // nil: retries wait in the handler
	pairs   notify.PairLocks      // nil: one instance
	// renewPairs keeps the pair locks until its context ends (nil: one instance). It runs
	// until the router has stopped, so that a send let finish after the stop keeps its lock.
	renewPairs func(context.Context)
	aside      notify.StepAside // nil: the transport does not bound what its handlers hold
	// whenLost sets what to do when the transport lost the messages it held (nil: it
	// cannot lose them without herald stopping too).
	whenLost func(func())
}

// transport is the router's transport: the in-process pub/sub, or Redis Streams shared by
// every instance when views are in Redis, with the retry queue that keeps notifications
// waiting for their next attempt out of the streams, and the pair locks across instances.
func (a *app) transport(cfg serveConfig, v views) (routerTransport, error) {
	logger := notify.WatermillLogger(a.logger.With("component", "pubsub"))
	if v.streams != nil {
		// one subscription per kind and shard, and the poison queue's
		t, err := v.streams(logger, len(domain.EndpointKinds())*max(cfg.Notify.Shards, 1)+1)
		if err != nil {
			return routerTransport{}, fmt.Errorf("redis streams: %w", err)
		}
		a.jobs = append(a.jobs, t.jobs...)
		a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_notifications_waiting_retry",
			Help: "Notifications waiting in the retry queue for their next attempt (Redis Streams).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := t.retries.Waiting(ctx)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}))
		pairs, err := pairlock.New(t.client, t.prefix, pairlock.DefaultTTL, a.logger)
		if err != nil {
			return routerTransport{}, err
		}
		return routerTransport{pub: t.pub, sub: t.sub, shards: cfg.Notify.Shards, retries: t.retries, pairs: pairs, renewPairs: pairs.Run, whenLost: t.whenLost}, nil
	}
	// A kind's handler holds at most four times the sends under way at once: enough to keep
	// every turn to send busy, few enough that the notifications waiting for one cost a queue
	// entry each rather than a goroutine parked deep in the router (~12% of the CPU of a
	// fan-out with 10,000 in flight). Handlers that wait for a retry or a rate limit step
	// aside.
	ch := localpubsub.New(logger, 4*cfg.Notify.Concurrency) // wireDelivery set the default
	a.closers = append(a.closers, func() { _ = ch.Close() })
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_notifications_waiting_turn",
		Help: "Notifications in memory waiting for one of their kind's turns to be handled (a single herald).",
	}, func() float64 { return float64(ch.Queued()) }))
	return routerTransport{pub: ch, sub: ch, shards: 1, aside: localpubsub.StepAside}, nil
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"herald/adapters/retryqueue"
	"herald/adapters/views/memory"
	redisview "herald/adapters/views/redis"
	"herald/notify"
	"herald/projections"
)

// redisFlags select Redis for the views (--redis-url), so that several herald instances serve
// the same views.
type redisFlags struct {
	URL, Username, Password, Prefix, TLSCA string
	TLSInsecure                            bool
	LeaseTTL                               time.Duration
}

func (r *redisFlags) add(f *pflag.FlagSet) {
	f.StringVar(&r.URL, "redis-url", "", "keep the views in Redis (redis://host:6379/0, rediss:// for TLS); default: in memory")
	f.StringVar(&r.Username, "redis-username", "", "Redis ACL user (overrides the URL's)")
	f.StringVar(&r.Password, "redis-password", "", "Redis password (overrides the URL's)")
	f.StringVar(&r.Prefix, "redis-prefix", "herald:", "prefix of herald's Redis keys, to share a Redis with other tools")
	f.StringVar(&r.TLSCA, "redis-tls-ca", "", "PEM file of the CA that signed the Redis server's certificate")
	f.BoolVar(&r.TLSInsecure, "redis-tls-insecure-skip-verify", false, "do not verify the Redis server's certificate (testing only)")
	f.DurationVar(&r.LeaseTTL, "redis-lease-ttl", 10*time.Second, "how long a dead instance keeps its views' leases before another takes over")
}

func (r *redisFlags) enabled() bool { return r.URL != "" }

// client connects to Redis and checks that it answers.
func (r *redisFlags) client(ctx context.Context) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(r.URL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	if r.Username != "" {
		opts.Username = r.Username
	}
	if r.Password != "" {
		opts.Password = r.Password
	}
	if r.TLSCA != "" || r.TLSInsecure {
		if opts.TLSConfig == nil {
			opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		opts.TLSConfig.InsecureSkipVerify = r.TLSInsecure //nolint:gosec // asked for explicitly
		if r.TLSCA != "" {
			pem, err := os.ReadFile(r.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("--redis-tls-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--redis-tls-ca %s: no PEM certificate in it", r.TLSCA)
			}
			opts.TLSConfig.RootCAs = pool
		}
	}
	client := goredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("reach Redis at %s: %w", opts.Addr, err)
	}
	return client, nil
}

// views are the view stores herald serves from, with the lease that guards each when several
// instances share them.
type views struct {
	eventLog       projections.EventLogView
	configurations projections.ConfigurationView
	accounts       projections.AccountView
	deliveries     projections.DeliveryView
	leases         map[string]leased // by view name (and the dispatcher's); empty for memory views
	close          func()
	// storeIdentity records which event store the views follow; nil for memory views.
	storeIdentity *redisview.StoreIdentity
	// dispatchCheckpoint keeps the dispatcher's checkpoint in Redis; nil: a file in --data-dir.
	dispatchCheckpoint notify.CheckpointStore
	// streams opens the router's Redis Streams with a connection for each of its
	// subscriptions; nil: the in-process pub/sub.
	streams func(logger watermill.LoggerAdapter, subscriptions int) (streamTransport, error)
}

type leased struct {
	lease projections.Lease
	claim projections.FenceClaimer
}

// openViews returns memory views, or Redis views with one lease per view.
func openViews(ctx context.Context, r redisFlags, logger *slog.Logger) (views, error) {
	if !r.enabled() {
		return views{eventLog: memoryEventLog(), configurations: memoryConfigurations(), accounts: memoryAccounts(), deliveries: memory.NewDeliveries(), close: func() {}}, nil
	}
	client, err := r.client(ctx)
	if err != nil {
		return views{}, err
	}
	opts := redisview.Options{Prefix: r.Prefix}
	eventLog, err1 := redisview.NewEventLog(client, opts)
	configs, err2 := redisview.NewConfigurations(client, opts)
	accounts, err3 := redisview.NewAccounts(client, opts)
	deliveries, err4 := redisview.NewDeliveries(client, opts)
	checkpoint, err5 := redisview.NewDispatchCheckpoint(client, opts)
	identity, err6 := redisview.NewStoreIdentity(client, opts)
	if err := firstError(err1, err2, err3, err4, err5, err6); err != nil {
		_ = client.Close()
		return views{}, err
	}
	v := views{
		eventLog:       redisview.NewLeasedEventLog(eventLog),
		configurations: redisview.NewLeasedConfigurations(configs),
		accounts:       redisview.NewLeasedAccounts(accounts),
		deliveries:     redisview.NewLeasedDeliveries(deliveries),
		leases:         map[string]leased{},
		close:          func() { _ = client.Close() },

		dispatchCheckpoint: checkpoint,
		storeIdentity:      identity,
		streams:            redisStreams(client, r.Prefix, logger),
	}
	// Each view's lease is named after its layout: a view whose layout changed gets a lease of
	// a new name, so that an instance of the previous version, still applying the old layout
	// during a rolling upgrade, does not keep the new one from being built.
	for _, l := range []struct {
		view, lease string
		claim       projections.FenceClaimer
	}{
		{projections.EventLogViewName, projections.EventLogViewName, v.eventLog.(*redisview.LeasedEventLog).Claim},
		{projections.ConfigurationsViewName, projections.ConfigurationsViewName, v.configurations.(*redisview.LeasedConfigurations).Claim},
		{projections.AccountsViewName, projections.AccountsViewName, v.accounts.(*redisview.LeasedAccounts).Claim},
		{projections.DeliveriesViewName, redisview.DeliveriesLayout, v.deliveries.(*redisview.LeasedDeliveries).Claim},
		{notify.DispatcherName, notify.DispatcherName, checkpoint.Claim},
	} {
		lease, err := redisview.NewLease(client, l.lease, redisview.LeaseOptions{Prefix: r.Prefix, TTL: r.LeaseTTL})
		if err != nil {
			v.close()
			return views{}, fmt.Errorf("lease of view %s: %w", l.view, err)
		}
		v.leases[l.view] = leased{lease: lease, claim: l.claim}
	}
	return v, nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// redisStreams opens the router's publisher and subscriber on Redis Streams: every instance
// joins one consumer group, so each notification is handled by one of them.
// The streams get their own connections: each subscription blocks one in XREADGROUP, and
// sharing the views' pool would starve the leases' renewals.
//
// A notification stays pending with the instance that read it while it is retried, which may
// last --notify-max-retry-time; another instance takes it over only when that instance is
// dead, which its heartbeat key tells (it expires aliveTTL after the instance stopped).
func redisStreams(views *goredis.Client, prefix string, slogger *slog.Logger) func(watermill.LoggerAdapter, int) (streamTransport, error) {
	return func(logger watermill.LoggerAdapter, subscriptions int) (streamTransport, error) {
		opts := *views.Options()
		opts.PoolSize = subscriptions + 8 // and a few for publishing, acknowledging and the heartbeat
		client := goredis.NewClient(&opts)
		pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: client, Marshaller: redisstream.DefaultMarshallerUnmarshaller{}}, logger)
		if err != nil {
			return streamTransport{}, err
		}
		// Unique to the process: a restarted container keeps its host name and often its PID,
		// and must not take over the dead process's name (and with it, its pending messages
		// that nobody would then claim).
		host, _ := os.Hostname()
		consumer := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), watermill.NewShortUUID()[:8])
		alive := func(name string) string { return prefix + "notifications:alive:" + name }
		groups := &consumerGroups{client: client, group: prefix + "notifications", log: slogger}
		sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
			Client: client, Unmarshaller: redisstream.DefaultMarshallerUnmarshaller{},
			ConsumerGroup: groups.group, Consumer: consumer,
			ClaimInterval: time.Second, MaxIdleTime: aliveTTL,
			ShouldStopOnReadErrors: groups.readFailed,
			ShouldClaimPendingMessage: func(p goredis.XPendingExt) bool {
				if p.Consumer == consumer {
					return false
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				n, err := client.Exists(ctx, alive(p.Consumer)).Result()
				return err == nil && n == 0
			},
		}, noGroupQuiet{logger})
		if err != nil {
			return streamTransport{}, err
		}
		retries, err := retryqueue.New(client, prefix, slogger)
		if err != nil {
			return streamTransport{}, err
		}
		heartbeat := func(ctx context.Context) {
			// Its own connection: the streams' pool is mostly blocked in XREADGROUP, and a beat
			// that waits for a connection until the key expires would let other instances take
			// over notifications this one is sending.
			beatOpts := *views.Options()
			beatOpts.PoolSize = 1
			beat := goredis.NewClient(&beatOpts)
			defer beat.Close()
			for {
				bctx, cancel := context.WithTimeout(ctx, aliveTTL/3)
				err := beat.Set(bctx, alive(consumer), time.Now().UTC().Format(time.RFC3339), aliveTTL).Err()
				cancel()
				if err != nil && ctx.Err() == nil {
					logger.Error("notification router heartbeat", err, nil)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(aliveTTL / 5):
				}
			}
		}
		return streamTransport{
			pub: topicPrefixed{pub, prefix}, sub: topicPrefixedSub{sub, prefix, groups}, retries: retries, client: client, prefix: prefix,
			whenLost: groups.whenLost,
			jobs:     []func(context.Context){heartbeat, retries.Run},
		}, nil
	}
}

// streamTransport is the router's transport on Redis Streams.
type streamTransport struct {
	pub     message.Publisher
	sub     message.Subscriber
	retries *retryqueue.Queue // notifications waiting for their next attempt
	client  *goredis.Client   // the streams' connections
	prefix  string            // of herald's keys
	jobs    []func(context.Context)
	// whenLost sets what to do when Redis lost the streams (Dispatcher.RedeliverLost).
	whenLost func(func())
}

// aliveTTL is how long after an instance stopped another takes its pending notifications
// over. It outlasts a GC pause or a Redis failover by far, so that a live instance's
// notifications are not taken from it mid-send.
const aliveTTL = 15 * time.Second

// topicPrefixed keeps the router's streams under the views' prefix.
type topicPrefixed struct {
	message.Publisher
	prefix string
}

func (p topicPrefixed) Publish(topic string, msgs ...*message.Message) error {
	return p.Publisher.Publish(p.prefix+topic, msgs...)
}

type topicPrefixedSub struct {
	message.Subscriber
	prefix string
	groups *consumerGroups
}

func (s topicPrefixedSub) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.groups.subscribed(s.prefix + topic)
	return s.Subscriber.Subscribe(ctx, s.prefix+topic)
}

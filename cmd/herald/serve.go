package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

// serveConfig is what `herald serve` is told through flags and HERALD_* variables.
type serveConfig struct {
	Listen string
	Port   int
	// portGiven tells that --port was set (by flag, HERALD_PORT or the config file), not left
	// at its default.
	portGiven bool
	DataDir   string
	LogFormat string
	LogLevel  string
	Retention retention
	// retentionEvery, when set, is how often retention runs (tests).
	retentionEvery time.Duration
	Kafka          kafkaFlags
	Redis          redisFlags
	EventStore     eventStoreFlags
	Auth           authFlags
	Notify         notifyFlags

	ConfigFile string
	// The notifications section of herald.yaml, with the meaning it has in the product herald
	// replaces.
	NotificationsEnabled bool
	EndpointHostname     string
	NotificationsCycle   int // seconds
	UIURL                string
}

func newServeCommand() *cobra.Command {
	var cfg serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the herald server",
		Long: `Run the herald server: the GraphQL API (and GraphiQL at /), health endpoints (/healthz,
/readyz) and Prometheus metrics (/metrics), on --listen:--port (default :8228).

By default herald is self-contained: the event log is an embedded, durable store in
--data-dir, and the views are kept in memory and rebuilt from the log at start-up.

With --kafka-brokers, herald also ingests events from Kafka (--kafka-topics, default
herald.events) as a member of the consumer group --kafka-group; messages that are no valid
events go to a dead-letter topic (--kafka-dlq-topic, default <topic>.dlq).

To run several instances, share the log and the views: --eventstore-url keeps the log in
KurrentDB (EventStoreDB 22+), --redis-url the views, the leases that pick which instance
applies each view and dispatches notifications, and the notifications' Redis Streams. See the
README's "Running distributed" and docker-compose.yml.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.portGiven = cmd.Flags().Changed("port")
			logger, err := newLogger(cfg.LogFormat, cfg.LogLevel, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			// Here rather than in serve, which tests call in their own process.
			if before, now := setServeProcs(cfg); now != before {
				logger.Info("running with one Go processor more than the CPUs: a thread waiting on the embedded store's disk syncs holds one; set GOMAXPROCS to choose", "gomaxprocs", now, "cpus", before)
			}
			if err := serve(cmd.Context(), cfg, logger); err != nil {
				// with where the flags it names were set, when not on the command line
				logger.Error("herald stopped", "error", withFlagSources(cmd, err))
				return exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "", "address to listen on, a host or host:port (127.0.0.1, 127.0.0.1:9000, [::1]:9000); empty for every interface")
	f.IntVar(&cfg.Port, "port", 8228, "port of the API, health endpoints and metrics")
	f.StringVar(&cfg.DataDir, "data-dir", "./data", "directory of the embedded event store")
	f.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.Var(&cfg.Retention, "retention", "clear events older than this (e.g. 90d, 720h), in accounts without a retention of their own (herald account retention); 0 keeps them forever")
	cfg.Kafka.add(f)
	cfg.Redis.add(f)
	cfg.EventStore.add(f)
	cfg.Auth.add(f)
	cfg.Notify.add(f)
	f.StringVar(&cfg.ConfigFile, "config", "", "herald.yaml to read settings from; flags and HERALD_* variables override it")
	f.BoolVar(&cfg.NotificationsEnabled, "notifications-enabled", true, "route events to the notification endpoints")
	f.StringVar(&cfg.EndpointHostname, "endpoint-hostname", "", "host name other services and people use to reach this instance (shown in logs and /readyz)")
	f.IntVar(&cfg.NotificationsCycle, "notifications-cycle", 30, "seconds between the notification service's sweeps for events it has not handled yet (delivery itself is live)")
	f.StringVar(&cfg.UIURL, "ui-url", "", "base URL of the UI; notifications then link to the event in it")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if cfg.ConfigFile != "" {
			values, err := loadConfigFile(cfg.ConfigFile)
			if err != nil {
				return err
			}
			if err := applySettings(cmd, values); err != nil {
				return err
			}
		}
		return cfg.Kafka.refuseWithoutBrokers(cmd.Flags())
	}
	return cmd
}

func newLogger(format, level string, w interface{ Write([]byte) (int, error) }) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// listenAddress is the address serve listens on. listen is a host (an IPv6 address with or
// without brackets) or a host:port; a port in it wins over --port's default, and one that
// differs from a --port also given is refused rather than guessed between.
func listenAddress(listen string, port int, portGiven bool) (string, error) {
	host, p, err := net.SplitHostPort(listen)
	hasPort := err == nil
	if !hasPort {
		host = strings.TrimSuffix(strings.TrimPrefix(listen, "["), "]")
	}
	if strings.ContainsAny(listen, "/@ ") || strings.ContainsAny(host, "[]") { // a URL, or no host
		return "", fmt.Errorf("--listen %q: give a host name or an IP address, with a :port or without", listen)
	}
	if !hasPort {
		if port <= 0 || port > 65535 {
			return "", fmt.Errorf("--port %d: must lie between 1 and 65535", port)
		}
		return net.JoinHostPort(host, strconv.Itoa(port)), nil
	}
	n, err := strconv.Atoi(p)
	switch {
	case err != nil || n < 1 || n > 65535:
		return "", fmt.Errorf("--listen %q: the port must be a number between 1 and 65535", listen)
	case portGiven && n != port:
		return "", fmt.Errorf("--listen %q names port %d but --port is %d: give the port in one of them", listen, n, port)
	}
	return net.JoinHostPort(host, p), nil
}

// shutdownGrace is how long in-flight requests get to finish on shutdown.
const shutdownGrace = 10 * time.Second

func serve(ctx context.Context, cfg serveConfig, logger *slog.Logger) error {
	addr, err := listenAddress(cfg.Listen, cfg.Port, cfg.portGiven)
	if err != nil {
		return err
	}
	if cfg.Kafka.enabled() {
		if _, err := cfg.Kafka.config(); err != nil {
			return err
		}
	}
	if cfg.EventStore.enabled() {
		if err := cfg.EventStore.check(); err != nil {
			return err
		}
	}
	if _, err := cfg.Auth.givenSecretKey(cfg.Redis.enabled()); err != nil {
		return err
	}
	cfg.Auth.AllowedOrigins = trimOriginPatterns(cfg.Auth.AllowedOrigins)
	if err := checkOriginPatterns(cfg.Auth.AllowedOrigins); err != nil {
		return err
	}
	if _, err := cfg.Notify.outbound(); err != nil {
		return err
	}
	if err := cfg.Notify.checkSizes(); err != nil {
		return err
	}
	// Listen before the store is opened: a taken address stops herald before it writes anything.
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("address %s is in use, perhaps by another herald: stop that one first, or give this one another --port (or --listen): %w", addr, err)
	case err != nil:
		return fmt.Errorf("listen on %s (--listen, --port): %w", addr, err)
	}
	defer ln.Close()
	app, err := newApp(cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()

	srv := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("herald listening", "address", ln.Addr().String(), "graphql", "/graphql", "graphiql", "/", "data_dir", cfg.DataDir, "pid", os.Getpid())

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return app.Run(ctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		logger.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

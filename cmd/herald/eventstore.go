package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"herald/adapters/eventstore"
	"herald/adapters/eventstore/embedded"
	"herald/adapters/eventstore/kurrentdb"
	"herald/domain"
)

// eventStore is the event log herald runs on: the embedded store in --data-dir, or KurrentDB
// with --eventstore-url.
type eventStore = eventstore.Store

// eventStoreFlags select KurrentDB (formerly EventStoreDB) for the event log.
type eventStoreFlags struct {
	URL, Username, Password, TLSCA string
}

func (e *eventStoreFlags) add(f *pflag.FlagSet) {
	f.StringVar(&e.URL, "eventstore-url", "", "keep the event log in KurrentDB/EventStoreDB 22+ (kurrentdb://host:2113?tls=false; kurrentdb+discover:// for a cluster); default: the embedded store in --data-dir")
	f.StringVar(&e.Username, "eventstore-username", "", "KurrentDB user (overrides the connection string's)")
	f.StringVar(&e.Password, "eventstore-password", "", "KurrentDB password (overrides the connection string's)")
	f.StringVar(&e.TLSCA, "eventstore-tls-ca", "", "PEM file of the CA that signed KurrentDB's certificate (the connection string's tlsCAFile)")
}

func (e *eventStoreFlags) enabled() bool { return e.URL != "" }

// check refuses a connection string that cannot be read, before anything starts.
func (e *eventStoreFlags) check() error {
	if err := kurrentdb.CheckURL(e.URL); err != nil {
		return fmt.Errorf("--eventstore-url: %w", err)
	}
	return nil
}

// openEventStore opens the store the flags select.
func openEventStore(cfg serveConfig, logger *slog.Logger) (eventStore, error) {
	if !cfg.EventStore.enabled() {
		store, err := embedded.Open(cfg.DataDir, embedded.Options{Logger: logger})
		if errors.Is(err, embedded.ErrLocked) {
			return nil, fmt.Errorf("--data-dir %s is in use, most likely by a herald already running on it: stop that one first, or give this one another --data-dir: %w", cfg.DataDir, err)
		}
		if err != nil {
			return nil, fmt.Errorf("open event store in %s: %w", cfg.DataDir, err)
		}
		return store, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := kurrentdb.Open(ctx, kurrentdb.Options{
		URL: cfg.EventStore.URL, Username: cfg.EventStore.Username, Password: cfg.EventStore.Password,
		TLSCAFile: cfg.EventStore.TLSCA, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("--eventstore-url: %w", err)
	}
	logger.Info("the event log is kept in KurrentDB", "streams", domain.StreamPrefixes())
	if !cfg.Redis.enabled() {
		logger.Warn("KurrentDB without --redis-url: this instance keeps its own views and sends every notification itself; run one instance, or add --redis-url to run several")
	}
	return store, nil
}

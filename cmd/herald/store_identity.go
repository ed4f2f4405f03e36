package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	redisview "herald/adapters/views/redis"
)

// oneStore keeps views shared in Redis to one event store. An embedded store is this
// instance's own: a second instance with its own store on the same Redis would apply its log
// to the same views, and the writes of whichever did not hold a view's lease would never
// show. The first store to use the views records its identity; another is refused at start.
// Should another claim them while this one runs (after Redis lost its data), the log and
// /readyz say so.
type oneStore struct {
	claim    func(ctx context.Context, identity string) error
	identity string
	prefix   string

	mu  sync.Mutex
	err error // the last check's refusal, for /readyz
}

// storeCheckEvery is how often a running instance checks that the views still follow its
// store.
const storeCheckEvery = 15 * time.Second

// followOneStore checks that the views follow this instance's store, and keeps checking; it
// does nothing for memory views or a shared store (KurrentDB).
func (a *app) followOneStore(ctx context.Context, v views) error {
	identified, ok := a.store.(interface{ Identity() string })
	if v.storeIdentity == nil || !ok {
		return nil
	}
	o := &oneStore{claim: v.storeIdentity.Claim, identity: identified.Identity(), prefix: v.storeIdentity.Prefix()}
	if err := o.check(ctx); err != nil {
		return err
	}
	a.storeCheck = o
	a.jobs = append(a.jobs, func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(storeCheckEvery):
			}
			o.recheck(ctx, a)
		}
	})
	return nil
}

func (o *oneStore) check(ctx context.Context) error {
	err := o.claim(ctx, o.identity)
	if errors.Is(err, redisview.ErrOtherStore) {
		return fmt.Errorf("%w. Views shared in Redis follow one event store, and this instance keeps its own (the embedded store in --data-dir). "+
			"Instances that share views must share a store (--eventstore-url); or give this one views of its own (--redis-prefix); "+
			"or, to rebuild these views from this store's log, delete them first: redis-cli --scan --pattern '%s*' | xargs redis-cli del", err, o.prefix)
	}
	return err
}

// recheck checks again while herald runs, logging a change of answer.
func (o *oneStore) recheck(ctx context.Context, a *app) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := o.check(cctx)
	cancel()
	if ctx.Err() != nil || (err != nil && !errors.Is(err, redisview.ErrOtherStore)) {
		return // Redis unreachable: the views' runners say so
	}
	o.mu.Lock()
	was := o.err
	o.err = err
	o.mu.Unlock()
	switch {
	case err != nil && was == nil:
		a.logger.Error("another instance, with an event store of its own, has claimed the views in Redis (after Redis lost its data): "+
			"the two apply different logs to the same views; stop one of them. /readyz says unavailable meanwhile", "error", err)
	case err == nil && was != nil:
		a.logger.Info("the views in Redis follow this instance's event store again")
	}
}

// refused is the last check's refusal, nil while the views follow this store.
func (o *oneStore) refused() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

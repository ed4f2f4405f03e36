// Package pairlock keeps two herald instances from sending the same notification at once.
//
// With Redis Streams, two messages of one (event, configuration) pair (a dispatch and a
// backfill, or a dispatch after a restart) may be read by two instances. Each checks the
// ledger before sending, so the second would send again if both checked before either
// recorded. Holding the pair's lock from the ledger check to the ledger write closes that
// window: the second instance waits, then finds the first one's outcome.
//
// The lock is a Redis key set with NX and a short expiry, which Run renews while it is held
// (however long the send takes), and released by a script that deletes it only for its
// holder. An instance that dies holding locks holds those pairs up for one expiry (5 s by
// default), less than other instances wait before they take its notifications over.
//
// A holder that cannot renew its lock (Redis out of reach, or the instance stalled past the
// expiry and another one took the lock) must stop before another instance may take over:
// Hold gives a context that ends, with the cause ErrLost, a margin before the lock could
// expire unrenewed, or as soon as a renewal finds another holder.
package pairlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Locks are the pair locks of one herald instance, under its deployment's Redis key prefix.
type Locks struct {
	client goredis.UniversalClient
	prefix string
	ttl    time.Duration
	logger *slog.Logger
	// Poll is the first pause before trying a held lock again; pauses double up to MaxPoll.
	Poll, MaxPoll time.Duration

	mu   sync.Mutex
	held map[string]*holding // by key, renewed by Run
}

// holding is one lock held.
type holding struct {
	token  string
	lost   *time.Timer // fires a margin before the lock expires unless a renewal resets it
	cancel context.CancelCauseFunc
}

// ErrLost is the cause of a held lock's context ending before its release: the lock could
// not be renewed in time, or another holder has it.
var ErrLost = errors.New("the notification's pair lock was lost")

// DefaultTTL is how long a lock outlives its holder.
const DefaultTTL = 5 * time.Second

// New returns the locks under prefix; a lock not renewed expires ttl after it was taken or
// last renewed. Run must run while locks are held.
func New(client goredis.UniversalClient, prefix string, ttl time.Duration, logger *slog.Logger) (*Locks, error) {
	if client == nil || logger == nil {
		return nil, errors.New("pair locks: nil dependency")
	}
	if ttl < 100*time.Millisecond {
		return nil, fmt.Errorf("pair locks: expiry %v is under 100ms", ttl)
	}
	return &Locks{client: client, prefix: prefix, ttl: ttl, logger: logger.With("component", "pairlock"),
		Poll: 20 * time.Millisecond, MaxPoll: 500 * time.Millisecond, held: map[string]*holding{}}, nil
}

// valid is how long a lock is trusted after it was taken or renewed: its expiry less a margin
// for the time a command takes and for the clocks of Redis and of this instance running at
// slightly different rates.
func (l *Locks) valid() time.Duration { return l.ttl - l.ttl/5 }

// renew extends a lock only while it still holds the caller's token.
var renew = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// Run renews the locks held, every third of their expiry, until ctx is done.
func (l *Locks) Run(ctx context.Context) {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		l.renewAll(ctx)
	}
}

// renewAll renews every lock held: one that is renewed is trusted for valid() from the moment
// the renewal was sent; one that another holder has is lost at once; one whose renewal failed
// is lost when its timer fires, unless a later renewal gets through first.
func (l *Locks) renewAll(ctx context.Context) {
	l.mu.Lock()
	held := maps.Clone(l.held)
	l.mu.Unlock()
	if len(held) == 0 {
		return
	}
	sent := time.Now()
	pipe := l.client.Pipeline()
	renewals := make(map[string]*goredis.Cmd, len(held))
	for key, h := range held {
		renewals[key] = renew.Eval(ctx, pipe, []string{key}, h.token, l.ttl.Milliseconds()) // a pipeline cannot fall back from EVALSHA
	}
	if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
		l.logger.Warn("could not renew the notification pair locks this instance holds; sends under them stop before the locks expire",
			"locks", len(held), "error", err)
	}
	lost := 0
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, cmd := range renewals {
		if l.held[key] != held[key] {
			continue // released meanwhile
		}
		renewed, err := cmd.Int()
		switch {
		case err != nil: // the timer decides
		case renewed == 1:
			held[key].lost.Reset(time.Until(sent.Add(l.valid())))
		default:
			held[key].cancel(fmt.Errorf("%w: it expired before it was renewed and another instance holds it now", ErrLost))
			lost++
		}
	}
	if lost > 0 {
		l.logger.Warn("notification pair locks expired before this instance renewed them (was it stalled?); their sends stop, and the ledger tells whether they went out",
			"locks", lost)
	}
}

// release deletes the lock only when it still holds the caller's token: a lock that expired
// and was taken by another instance is not released from under it.
var release = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)

// Hold waits until the lock of the (event, configuration) pair is free and takes it, or
// returns ctx's error. The context returned is ctx for as long as the lock is surely held:
// it ends with the cause ErrLost when that is no longer sure. The function returned releases
// the lock and ends that context.
func (l *Locks) Hold(ctx context.Context, eventID, configurationID string) (context.Context, func(), error) {
	key := l.prefix + "notifications:pair:" + eventID + ":" + configurationID
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	pause := l.Poll
	for {
		sent := time.Now()
		ok, err := l.client.SetNX(ctx, key, token, l.ttl).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("lock notification %s to %s: %w", eventID, configurationID, err)
		}
		if ok {
			return l.taken(ctx, key, token, sent)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("lock notification %s to %s: %w", eventID, configurationID, ctx.Err())
		}
		pause = min(2*pause, l.MaxPoll)
	}
}

// taken keeps a lock taken by a command sent at sent, for Run to renew.
func (l *Locks) taken(ctx context.Context, key, token string, sent time.Time) (context.Context, func(), error) {
	held, cancel := context.WithCancelCause(ctx)
	h := &holding{token: token, cancel: cancel}
	h.lost = time.AfterFunc(time.Until(sent.Add(l.valid())), func() {
		cancel(fmt.Errorf("%w: it could not be renewed before it expires", ErrLost))
	})
	l.mu.Lock()
	l.held[key] = h
	l.mu.Unlock()
	return held, func() {
		l.mu.Lock()
		delete(l.held, key)
		l.mu.Unlock()
		h.lost.Stop()
		cancel(context.Canceled)
		ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = release.Run(ctx, l.client, []string{key}, token).Err() // it expires anyway
	}, nil
}

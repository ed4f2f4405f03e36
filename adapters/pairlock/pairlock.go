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
package pairlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	held map[string]string // key -> token, renewed by Run
}

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
		Poll: 20 * time.Millisecond, MaxPoll: 500 * time.Millisecond, held: map[string]string{}}, nil
}

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
		l.mu.Lock()
		held := make(map[string]string, len(l.held))
		for k, v := range l.held {
			held[k] = v
		}
		l.mu.Unlock()
		if len(held) == 0 {
			continue
		}
		pipe := l.client.Pipeline()
		for key, token := range held {
			renew.Eval(ctx, pipe, []string{key}, token, l.ttl.Milliseconds()) // a pipeline cannot fall back from EVALSHA
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			l.logger.Warn("could not renew the notification pair locks this instance holds; another instance may send those notifications at the same time if this lasts",
				"locks", len(held), "error", err)
		}
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
// returns ctx's error. The returned function releases it.
func (l *Locks) Hold(ctx context.Context, eventID, configurationID string) (func(), error) {
	key := l.prefix + "notifications:pair:" + eventID + ":" + configurationID
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	pause := l.Poll
	for {
		ok, err := l.client.SetNX(ctx, key, token, l.ttl).Result()
		if err != nil {
			return nil, fmt.Errorf("lock notification %s to %s: %w", eventID, configurationID, err)
		}
		if ok {
			l.mu.Lock()
			l.held[key] = token
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, key)
				l.mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = release.Run(ctx, l.client, []string{key}, token).Err() // it expires anyway
			}, nil
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return nil, fmt.Errorf("lock notification %s to %s: %w", eventID, configurationID, ctx.Err())
		}
		pause = min(2*pause, l.MaxPoll)
	}
}

package pairlock_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"herald/adapters/pairlock"
	"herald/adapters/views/redis/redistest"
)

// newLocks returns an instance's locks, renewed until the test ends unless dead.
func newLocks(t *testing.T, client *goredis.Client, ttl time.Duration, dead ...bool) *pairlock.Locks {
	t.Helper()
	l, err := pairlock.New(client, "herald:", ttl, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) == 0 {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go l.Run(ctx)
	}
	return l
}

// TestHold_onePairAtATime: holders of one pair on several instances (each its own Locks and
// connection) never overlap; other pairs do not wait for it.
func TestHold_onePairAtATime(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		l := newLocks(t, client, 10*time.Second)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				release, err := l.Hold(ctx, "e1", "c1")
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > most.Load() {
					most.Store(n)
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				release()
			}
		}()
	}
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	other := newLocks(t, client, 10*time.Second)
	start := time.Now()
	release, err := other.Hold(ctx, "e2", "c1")
	if err != nil || time.Since(start) > time.Second {
		t.Errorf("another pair waited %v (%v)", time.Since(start), err)
	} else {
		release()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one pair at once, want 1", most.Load())
	}
}

// TestHold_renewedWhileHeld: a lock held longer than its expiry by a live instance stays
// held.
func TestHold_renewedWhileHeld(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	live, other := newLocks(t, client, 300*time.Millisecond), newLocks(t, client, 300*time.Millisecond)
	ctx := context.Background()
	release, err := live.Hold(ctx, "e1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, time.Second) // over three expiries
	defer cancel()
	if _, err := other.Hold(short, "e1", "c1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("another instance took a lock held and renewed: %v", err)
	}
	release()
}

// TestHold_expiresAndReleasesOnlyItsOwn: a lock whose holder died frees itself after its
// expiry; the late release of an expired lock does not free the lock another holder took.
func TestHold_expiresAndReleasesOnlyItsOwn(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	dead, l := newLocks(t, client, 300*time.Millisecond, true), newLocks(t, client, 300*time.Millisecond)
	ctx := context.Background()
	staleRelease, err := dead.Hold(ctx, "e1", "c1") // its instance died: never renewed, released too late
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	release, err := l.Hold(ctx, "e1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 2*time.Second {
		t.Errorf("took a lock whose holder died after %v, want about its 300ms expiry", waited)
	}
	staleRelease() // too late: the lock is the second holder's now
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := l.Hold(short, "e1", "c1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a third holder got the lock while the second held it: %v", err)
	}
	release()
	if r, err := l.Hold(ctx, "e1", "c1"); err != nil {
		t.Errorf("after the release: %v", err)
	} else {
		r()
	}
}

package pairlock_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
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
				_, release, err := l.Hold(ctx, "e1", "c1")
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
	_, release, err := other.Hold(ctx, "e2", "c1")
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
	_, release, err := live.Hold(ctx, "e1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, time.Second) // over three expiries
	defer cancel()
	if _, _, err := other.Hold(short, "e1", "c1"); !errors.Is(err, context.DeadlineExceeded) {
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
	_, staleRelease, err := dead.Hold(ctx, "e1", "c1") // its instance died: never renewed, released too late
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, release, err := l.Hold(ctx, "e1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 2*time.Second {
		t.Errorf("took a lock whose holder died after %v, want about its 300ms expiry", waited)
	}
	staleRelease() // too late: the lock is the second holder's now
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := l.Hold(short, "e1", "c1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a third holder got the lock while the second held it: %v", err)
	}
	release()
	if _, r, err := l.Hold(ctx, "e1", "c1"); err != nil {
		t.Errorf("after the release: %v", err)
	} else {
		r()
	}
}

// TestHold_contextEndsWhenAnotherInstanceHasTheLock: a holder whose lock expired (its
// instance stalled) and was taken by another instance learns it at its next renewal: its
// context ends with ErrLost, so that it stops rather than send alongside the new holder.
func TestHold_contextEndsWhenAnotherInstanceHasTheLock(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	l := newLocks(t, client, 300*time.Millisecond)
	held, release, err := l.Hold(context.Background(), "e1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	select { // renewed: still held after more than its expiry
	case <-held.Done():
		t.Fatalf("a renewed lock's context ended: %v", context.Cause(held))
	case <-time.After(500 * time.Millisecond):
	}
	if err := client.Set(context.Background(), "herald:notifications:pair:e1:c1", "another instance", 0).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Done():
		// found by the renewal, not by the lock's running out of time
		if cause := context.Cause(held); !errors.Is(cause, pairlock.ErrLost) || !strings.Contains(cause.Error(), "another instance holds it") {
			t.Errorf("cause %v, want ErrLost for another holder", cause)
		}
	case <-time.After(time.Second):
		t.Fatal("the lock was taken by another holder and its context did not end")
	}
}

// TestHold_contextEndsBeforeAnUnrenewedLockExpires: with Redis out of reach the lock cannot
// be renewed; its holder's context ends before the lock expires in Redis (when another
// instance could take it), not after.
func TestHold_contextEndsBeforeAnUnrenewedLockExpires(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	const ttl = 600 * time.Millisecond
	l := newLocks(t, client, ttl)
	held, release, err := l.Hold(context.Background(), "e1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	time.Sleep(ttl) // renewed meanwhile
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	select {
	case <-held.Done():
		if cause := context.Cause(held); !errors.Is(cause, pairlock.ErrLost) {
			t.Errorf("cause %v, want ErrLost", cause)
		}
		// the last renewal got through at most a third of the expiry before the kill
		if after := time.Since(killed); after >= ttl {
			t.Errorf("the context ended %v after Redis went away; the lock expires within %v", after, ttl)
		}
	case <-time.After(2 * ttl):
		t.Fatal("the lock could not be renewed and its context did not end")
	}
}

// TestHold_releaseEndsTheContextWithoutLoss: a released lock's context ends, and not with
// ErrLost; a lock released while a renewal is under way is not reported lost either.
func TestHold_releaseEndsTheContextWithoutLoss(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	l := newLocks(t, client, 150*time.Millisecond)
	for i := range 20 {
		held, release, err := l.Hold(context.Background(), "e1", "c1")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i) * 5 * time.Millisecond)
		release()
		<-held.Done()
		if cause := context.Cause(held); errors.Is(cause, pairlock.ErrLost) {
			t.Fatalf("hold %d: a released lock's context ended with %v", i, cause)
		}
	}
}

package redis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
)

const testTTL = 600 * time.Millisecond

func newTestLease(t *testing.T, client goredis.UniversalClient, prefix string) *Lease {
	t.Helper()
	l, err := NewLease(client, "view:eventlog", LeaseOptions{Prefix: prefix, TTL: testTTL, RetryEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	return l
}

func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// hold acquires l and claims its fence on view, as a runner does before it applies; it
// returns the fence and the view as the holder writes it.
func hold(t *testing.T, l *Lease, view *EventLog) (uint64, *EventLog) {
	t.Helper()
	fence, err := l.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	held := view.Fenced(fence)
	if err := held.ClaimFence(t.Context()); err != nil {
		t.Fatal(err)
	}
	return fence, held
}

// TestLease_oneHolderAtATime: while one contender holds and renews the lease (after the
// context of its Acquire is done, too), the other waits, however long; a release hands it
// over at once, with a newer fence.
func TestLease_oneHolderAtATime(t *testing.T) {
	t.Parallel()
	client, prefix := shared.Client(t), redistest.Prefix(t)
	a, b := newTestLease(t, client, prefix), newTestLease(t, client, prefix)
	waitCtx, cancelWait := context.WithTimeout(t.Context(), time.Second)
	fa, err := a.Acquire(waitCtx)
	cancelWait() // bounds the wait only, not the holding
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Acquire(t.Context()); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("second Acquire by the holder = %v, want ErrLeaseHeld", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*testTTL)
	defer cancel()
	if _, err := b.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while another holds the lease = %v, want a timeout", err)
	}
	select {
	case <-a.Lost():
		t.Fatal("the holder lost the lease while renewing it")
	default:
	}
	got := make(chan uint64, 1)
	go func() {
		fb, err := b.Acquire(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- fb
	}()
	time.Sleep(50 * time.Millisecond)
	began := time.Now()
	if err := a.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(a.Lost(), time.Second) {
		t.Fatal("Lost is not closed after Release")
	}
	fb := <-got
	if took := time.Since(began); took > testTTL/2 {
		t.Fatalf("the other contender took the released lease after %s", took)
	}
	if fb <= fa {
		t.Fatalf("fence of the second holding %d is not above the first's %d", fb, fa)
	}
}

// TestLease_holderDies: when the holder stops renewing (its process died), another takes
// the lease over within the TTL and continues from the view's checkpoint, while the former
// holder, waking up late, is refused by the view.
func TestLease_holderDies(t *testing.T) {
	t.Parallel()
	client, prefix := shared.Client(t), redistest.Prefix(t)
	a, b := newTestLease(t, client, prefix), newTestLease(t, client, prefix)
	view := newTestView(t, Options{})
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 31})

	fa, viewA := hold(t, a, view)
	if err := viewA.Apply(t.Context(), viewstest.Recorded(gen.Entries(50)...), gen.Position()); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	a.abandon()
	if !closedWithin(a.Lost(), time.Second) {
		t.Fatal("Lost is not closed once the holder stops renewing")
	}
	fb, err := b.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(died); took > testTTL+200*time.Millisecond {
		t.Fatalf("takeover after %s, the TTL is %s", took, testTTL)
	}
	if fb <= fa {
		t.Fatalf("fence %d of the new holder is not above %d", fb, fa)
	}
	viewB := view.Fenced(fb)
	if err := viewB.ClaimFence(t.Context()); err != nil {
		t.Fatal(err)
	}
	cp, err := viewB.Checkpoint(t.Context())
	if err != nil || cp != gen.Position() {
		t.Fatalf("checkpoint seen by the new holder = %d, %v; want %d", cp, err, gen.Position())
	}

	// The former holder wakes up and tries to write: every write is refused.
	held := gen.Position()
	late := gen.Entries(5)
	if err := viewA.Apply(t.Context(), viewstest.Recorded(late...), gen.Position()); !errors.Is(err, ErrFenced) {
		t.Fatalf("Apply with the stale fence = %v, want ErrFenced", err)
	}
	if err := viewA.Reset(t.Context()); !errors.Is(err, ErrFenced) {
		t.Fatalf("Reset with the stale fence = %v, want ErrFenced", err)
	}
	if err := view.Apply(t.Context(), nil, gen.Position()+10); !errors.Is(err, ErrFenced) {
		t.Fatalf("Apply without a fence = %v, want ErrFenced", err)
	}
	if _, ok, _ := view.Entry(t.Context(), late[0].ID); ok {
		t.Fatal("an entry of the refused Apply is held")
	}
	if cp, _ := view.Checkpoint(t.Context()); cp != held {
		t.Fatalf("checkpoint after refused writes = %d, want %d", cp, held)
	}
	if err := viewB.Apply(t.Context(), viewstest.Recorded(late...), gen.Position()); err != nil {
		t.Fatalf("Apply by the new holder: %v", err)
	}
}

// TestLease_redisLosesItsData: after Redis lost its data (FLUSHALL), the holder's writes are
// refused instead of storing a checkpoint over a view that is no longer there, its lease is
// lost, and the next holder draws a fence newer than the former one (the counter went too),
// finds no checkpoint and applies the view from the start.
func TestLease_redisLosesItsData(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client(t)
	prefix := redistest.Prefix(t)
	a, b := newTestLease(t, client, prefix), newTestLease(t, client, prefix)
	view, err := NewEventLog(client, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 7})

	fa, viewA := hold(t, a, view)
	if err := viewA.Apply(t.Context(), viewstest.Recorded(gen.Entries(20)...), gen.Position()); err != nil {
		t.Fatal(err)
	}
	if err := client.FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	err = viewA.Apply(t.Context(), viewstest.Recorded(gen.Entries(5)...), gen.Position())
	if !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "lost its data") {
		t.Fatalf("Apply after Redis lost the view = %v, want ErrFenced saying Redis lost its data", err)
	}
	if cp, err := view.Checkpoint(t.Context()); err != nil || cp != 0 {
		t.Fatalf("checkpoint after the refused write = %d, %v; want 0 (none)", cp, err)
	}
	if !closedWithin(a.Lost(), time.Second) {
		t.Fatal("the holder still holds a lease Redis has lost")
	}

	fb, viewB := hold(t, b, view)
	if fb <= fa {
		t.Fatalf("fence %d drawn after the loss is not above %d, drawn before", fb, fa)
	}
	if err := viewB.Apply(t.Context(), viewstest.Recorded(gen.Entries(5)...), gen.Position()); err != nil {
		t.Fatalf("Apply by the next holder: %v", err)
	}
	if err := viewA.Apply(t.Context(), nil, gen.Position()+1); !errors.Is(err, ErrFenced) {
		t.Fatalf("Apply by the former holder after the next one claimed = %v, want ErrFenced", err)
	}
}

// TestLease_lostWhenTakenOver: a holder that finds the lease in other hands (it expired
// while the holder was paused) reports it lost at its next renewal.
func TestLease_lostWhenTakenOver(t *testing.T) {
	t.Parallel()
	client, prefix := shared.Client(t), redistest.Prefix(t)
	a, b := newTestLease(t, client, prefix), newTestLease(t, client, prefix)
	if _, err := a.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	// As if the lease had expired during a pause of the holder.
	if err := client.Del(t.Context(), a.key).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(a.Lost(), testTTL) {
		t.Fatal("the former holder does not notice that another took the lease over")
	}
	select {
	case <-b.Lost():
		t.Fatal("the new holder lost the lease")
	default:
	}
}

// TestLease_lostWhenRedisIsDown: a holder that cannot renew counts the lease lost before
// it may have expired in Redis.
func TestLease_lostWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	a := newTestLease(t, srv.Client(t), "herald:")
	if _, err := a.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(a.Lost(), 2*testTTL) {
		t.Fatal("Lost is not closed while Redis is down")
	}
	if took := time.Since(killed); took > testTTL {
		t.Fatalf("the holder counted the lease lost %s after Redis went down; the TTL is %s", took, testTTL)
	}
}

// TestStoreIdentity: the first store to claim the views under a prefix holds them; the same
// store may claim again, another is refused, until Redis loses its data.
func TestStoreIdentity(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	client := srv.Client(t)
	ids, err := NewStoreIdentity(client, Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"store-a", "store-a"} {
		if err := ids.Claim(t.Context(), id); err != nil {
			t.Fatalf("claim by %s: %v", id, err)
		}
	}
	err = ids.Claim(t.Context(), "store-b")
	if !errors.Is(err, ErrOtherStore) || !strings.Contains(err.Error(), "holds store-a; this instance's store is store-b") {
		t.Fatalf("claim by another store = %v, want ErrOtherStore naming both", err)
	}
	if err := client.FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := ids.Claim(t.Context(), "store-b"); err != nil {
		t.Fatalf("claim by another store once Redis lost the record: %v", err)
	}
}

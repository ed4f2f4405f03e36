package redis

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
	"herald/domain"
	"herald/projections"
)

func newTestDeliveries(t testing.TB, prefix string, opts Options) *Deliveries {
	t.Helper()
	opts.Prefix = prefix
	v, err := NewDeliveries(shared.Client(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDeliveries(t *testing.T) {
	viewstest.TestDeliveryView(t, func(t *testing.T) projections.DeliveryView {
		return newTestDeliveries(t, redistest.Prefix(t), Options{})
	})
}

// TestDeliveries_smallBudget runs the suite with a budget so small that most pages take
// several calls of the query script, each resuming below the last member the one before
// examined.
func TestDeliveries_smallBudget(t *testing.T) {
	viewstest.TestDeliveryView(t, func(t *testing.T) projections.DeliveryView {
		return newTestDeliveries(t, redistest.Prefix(t), Options{QueryBudget: 100})
	})
}

// TestDeliveries_leased: the leased view runs the suite too, claimed once.
func TestDeliveries_leased(t *testing.T) {
	viewstest.TestDeliveryView(t, func(t *testing.T) projections.DeliveryView {
		l := NewLeasedDeliveries(newTestDeliveries(t, redistest.Prefix(t), Options{}))
		if err := l.Claim(t.Context(), 3); err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// testDelivery returns a delivery of event to configuration cfg of acme at position.
func testDelivery(position uint64, event, cfg string) domain.Delivery {
	return domain.Delivery{
		EventID: event, ConfigurationID: cfg, Account: "acme", Kind: domain.KindWebhook, EventType: "user.image.analysis.failed",
		Level: domain.LevelError, Status: domain.DeliveryFailed, ReceiverStatus: 503, Attempts: 4, Latency: 1500 * time.Microsecond,
		Error: "503 Service Unavailable", Trigger: domain.TriggerDispatch, At: time.Date(2024, 6, 3, 8, 0, 0, 5, time.UTC), Position: position,
	}
}

// TestDeliveries_fencedByLease: once a newer lease holder has claimed the view, every write
// of the former one (Apply, Reset, ClaimFence) is refused with ErrFenced and changes
// nothing, also after the new holder's Reset, which keeps the fence; the new holder writes.
func TestDeliveries_fencedByLease(t *testing.T) {
	t.Parallel()
	ctx, prefix := t.Context(), redistest.Prefix(t)
	view := newTestDeliveries(t, prefix, Options{})
	former, current := NewLeasedDeliveries(view), NewLeasedDeliveries(view)
	if err := former.Claim(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if err := former.Apply(ctx, []domain.Delivery{testDelivery(10, "ev-1", "cfg-1")}, 10); err != nil {
		t.Fatal(err)
	}
	if err := current.Claim(ctx, 5); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("%s with a stale fence = %v, want ErrFenced", what, err)
		}
	}
	held := func(want ...uint64) {
		t.Helper()
		p, err := view.Deliveries(ctx, projections.DeliveryFilter{}, 0, 10)
		var got []uint64
		for _, d := range p.Deliveries {
			got = append(got, d.Position)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("the view holds %v, %v; want %v", got, err, want)
		}
	}
	refused("Apply", former.Apply(ctx, []domain.Delivery{testDelivery(20, "ev-2", "cfg-1")}, 20))
	refused("Apply without a fence", view.Apply(ctx, nil, 20))
	refused("Reset", former.Reset(ctx))
	refused("Claim", former.Claim(ctx, 4))
	held(10)
	if cp, err := view.Checkpoint(ctx); err != nil || cp != 10 {
		t.Fatalf("checkpoint after refused writes = %d, %v; want 10", cp, err)
	}
	if err := current.Reset(ctx); err != nil {
		t.Fatalf("Reset by the new holder: %v", err)
	}
	refused("Apply after a Reset", former.Apply(ctx, nil, 30))
	if err := current.Apply(ctx, []domain.Delivery{testDelivery(30, "ev-3", "cfg-2")}, 30); err != nil {
		t.Fatalf("Apply by the new holder: %v", err)
	}
	held(30)
}

// TestDeliveries_storedLayout: the keys of the view share the hash tag {deliveries.2}; a
// delivery is versioned JSON in one hash, its position indexed in all, by account, by
// configuration, by event and by status; Reset leaves only the fence.
func TestDeliveries_storedLayout(t *testing.T) {
	t.Parallel()
	ctx, client, prefix := t.Context(), shared.Client(t), redistest.Prefix(t)
	v := newTestDeliveries(t, prefix, Options{}).Fenced(1)
	if err := v.ClaimFence(ctx); err != nil {
		t.Fatal(err)
	}
	d := testDelivery(1<<53+1, "ev-1", "cfg-1")
	if err := v.Apply(ctx, []domain.Delivery{d}, 7); err != nil {
		t.Fatal(err)
	}
	want := []string{"{deliveries.2}:a:acme", "{deliveries.2}:all", "{deliveries.2}:c:cfg-1", "{deliveries.2}:cp", "{deliveries.2}:d", "{deliveries.2}:e:ev-1", "{deliveries.2}:fence", "{deliveries.2}:s:failed"}
	if got := viewKeys(t, prefix); !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	member := deliveryMember(d.Position)
	raw, err := client.HGet(ctx, v.keys.deliveries, member).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, `{"v":1,"position":9007199254740993,"at_s":1717401600,"at_ns":5,"status":"failed",`) {
		t.Fatalf("stored delivery = %s", raw)
	}
	for _, index := range []string{v.keys.all, v.keys.account("acme"), v.keys.configuration("cfg-1"), v.keys.event("ev-1"), v.keys.status(domain.DeliveryFailed)} {
		if members, err := client.ZRange(ctx, index, 0, -1).Result(); err != nil || !slices.Equal(members, []string{member}) {
			t.Fatalf("index %s = %q, %v; want the delivery's position", index, members, err)
		}
	}
	if err := v.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := viewKeys(t, prefix); !slices.Equal(got, []string{"{deliveries.2}:fence"}) {
		t.Fatalf("keys after Reset = %v, want the fence alone", got)
	}
}

// TestDeliveries_resetInterrupted: index members whose deliveries a Reset removed before
// failing are skipped by pages, and the deliveries applied again are indexed again.
func TestDeliveries_resetInterrupted(t *testing.T) {
	t.Parallel()
	ctx, client, prefix := t.Context(), shared.Client(t), redistest.Prefix(t)
	v := newTestDeliveries(t, prefix, Options{})
	batch := []domain.Delivery{testDelivery(1, "ev-1", "cfg-1"), testDelivery(2, "ev-1", "cfg-2"), testDelivery(3, "ev-2", "cfg-1")}
	if err := v.Apply(ctx, batch, 3); err != nil {
		t.Fatal(err)
	}
	if err := client.Unlink(ctx, v.keys.checkpoint, v.keys.deliveries, v.keys.all).Err(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []projections.DeliveryFilter{{}, {ConfigurationID: "cfg-1"}, {EventID: "ev-1", Account: "acme"}} {
		if p, err := v.Deliveries(ctx, f, 0, 10); err != nil || len(p.Deliveries) != 0 || p.Next != 0 {
			t.Fatalf("Deliveries(%+v) after the interrupted Reset = %d deliveries, %v", f, len(p.Deliveries), err)
		}
	}
	if err := v.Apply(ctx, batch[:2], 2); err != nil {
		t.Fatal(err)
	}
	p, err := v.Deliveries(ctx, projections.DeliveryFilter{ConfigurationID: "cfg-1"}, 0, 10)
	if err != nil || len(p.Deliveries) != 1 || p.Deliveries[0].Position != 1 {
		t.Fatalf("Deliveries(cfg-1) after the rebuild = %v, %v; want position 1", p.Deliveries, err)
	}
}

// TestDeliveries_scriptCacheLost: after the server forgets its scripts (a restart, SCRIPT
// FLUSH), every script of the view runs again.
func TestDeliveries_scriptCacheLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	client := redistest.Start(t, redistest.Options{}).Client(t)
	v, err := NewDeliveries(client, Options{})
	if err != nil {
		t.Fatal(err)
	}
	flush := func() {
		t.Helper()
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	if err := v.Fenced(1).ClaimFence(ctx); err != nil {
		t.Fatalf("ClaimFence: %v", err)
	}
	flush()
	if err := v.Fenced(1).Apply(ctx, []domain.Delivery{testDelivery(1, "ev-1", "cfg-1")}, 1); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	flush()
	if p, err := v.Deliveries(ctx, projections.DeliveryFilter{Status: domain.DeliveryFailed}, 0, 5); err != nil || len(p.Deliveries) != 1 {
		t.Fatalf("Deliveries = %d, %v", len(p.Deliveries), err)
	}
	flush()
	if err := v.Fenced(1).Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

// TestStoredDeliveries_versioned: values of another version, or not JSON, are refused
// rather than misread.
func TestStoredDeliveries_versioned(t *testing.T) {
	for _, data := range []string{`{"v":2,"position":1}`, `{"position":1}`} {
		if _, err := decodeDelivery([]byte(data)); !errors.Is(err, errUnknownVersion) {
			t.Errorf("decodeDelivery(%s) = %v, want errUnknownVersion", data, err)
		}
	}
	if _, err := decodeDelivery([]byte("not json")); err == nil {
		t.Error("decodeDelivery of garbage succeeded")
	}
}

// TestDeliveries_refusesPagesOfNothing: a limit below one is a caller's mistake.
func TestDeliveries_refusesPagesOfNothing(t *testing.T) {
	t.Parallel()
	v := newTestDeliveries(t, redistest.Prefix(t), Options{})
	if _, err := v.Deliveries(t.Context(), projections.DeliveryFilter{}, 0, 0); err == nil {
		t.Fatal("Deliveries with limit 0 succeeded")
	}
}

// BenchmarkDeliveries_apply applies batches of a thousand deliveries, as a rebuild does;
// each batch is one script, which blocks Redis while it runs.
func BenchmarkDeliveries_apply(b *testing.B) {
	ctx := b.Context()
	v := newTestDeliveries(b, redistest.Prefix(b), Options{})
	batch := make([]domain.Delivery, 1000)
	var position uint64
	for b.Loop() {
		for i := range batch {
			position++
			batch[i] = testDelivery(position, fmt.Sprintf("%032x", position/3), fmt.Sprintf("cfg-%d", position%50))
		}
		if err := v.Apply(ctx, batch, position); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(position), "ns/delivery")
}

// BenchmarkDeliveries_page asks for the first page of 100 of a hundred thousand deliveries,
// by each kind of filter.
func BenchmarkDeliveries_page(b *testing.B) {
	ctx := b.Context()
	v := newTestDeliveries(b, redistest.Prefix(b), Options{})
	const n = 100_000
	batch := make([]domain.Delivery, 0, 1000)
	for p := uint64(1); p <= n; p++ {
		d := testDelivery(p, fmt.Sprintf("%032x", p/3), fmt.Sprintf("cfg-%d", p%50))
		d.Account = fmt.Sprintf("account-%d", p%10)
		d.At = d.At.Add(time.Duration(p) * time.Second)
		if p%10 != 0 {
			d.Status = domain.DeliveryDelivered
		}
		if batch = append(batch, d); len(batch) == cap(batch) {
			if err := v.Apply(ctx, batch, p); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	start := testDelivery(1, "", "").At
	for _, bc := range []struct {
		name string
		f    projections.DeliveryFilter
	}{
		{"none", projections.DeliveryFilter{}},
		{"account", projections.DeliveryFilter{Account: "account-3"}},
		{"configuration", projections.DeliveryFilter{ConfigurationID: "cfg-7"}},
		{"event", projections.DeliveryFilter{EventID: fmt.Sprintf("%032x", n/6)}},
		{"failed", projections.DeliveryFilter{Status: domain.DeliveryFailed}},
		{"account+failed", projections.DeliveryFilter{Account: "account-3", Status: domain.DeliveryFailed}},
		{"window", projections.DeliveryFilter{Since: start.Add(n / 4 * time.Second), Before: start.Add(n / 2 * time.Second)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Deliveries(ctx, bc.f, 0, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

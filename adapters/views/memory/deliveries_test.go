package memory

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"herald/adapters/views/viewstest"
	"herald/domain"
	"herald/projections"
)

func TestDeliveries(t *testing.T) {
	viewstest.TestDeliveryView(t, func(*testing.T) projections.DeliveryView { return NewDeliveries() })
}

// TestDeliveries_rowIsCompact: a row stays 48 bytes without pointers, which is what makes
// millions of deliveries cheap to hold and free for the garbage collector to skip.
func TestDeliveries_rowIsCompact(t *testing.T) {
	if size := unsafe.Sizeof(deliveryRow{}); size != 48 {
		t.Fatalf("a delivery row is %d bytes, want 48", size)
	}
}

// testDelivery returns a delivery of event to configuration at position.
func testDelivery(position uint64, event, configuration string) domain.Delivery {
	return domain.Delivery{
		EventID: event, ConfigurationID: configuration, Account: "acme", Kind: domain.KindSlack, EventType: "user.image.analysis.completed",
		Level: domain.LevelInfo, Status: domain.DeliveryDelivered, ReceiverStatus: 200, Attempts: 1, Latency: time.Second,
		Trigger: domain.TriggerDispatch, At: time.Date(2024, 6, 3, 8, 0, 0, int(position), time.UTC), Position: position,
	}
}

// TestDeliveries_positionsOutOfOrder: the log hands deliveries over in position order, but
// should one come older than those held, it is merged in its place, and every list (event,
// configuration, account, all) still goes newest first.
func TestDeliveries_positionsOutOfOrder(t *testing.T) {
	ctx := t.Context()
	v := NewDeliveries()
	apply := func(positions ...uint64) {
		t.Helper()
		var batch []domain.Delivery
		for _, p := range positions {
			batch = append(batch, testDelivery(p, fmt.Sprintf("event-%d", p%3), fmt.Sprintf("cfg-%d", p%2)))
		}
		if err := v.Apply(ctx, batch, 100); err != nil {
			t.Fatal(err)
		}
	}
	apply(10, 20, 30)
	apply(25, 5, 40, 15, 25, 20)
	want := []uint64{40, 30, 25, 20, 15, 10, 5}
	for _, f := range []projections.DeliveryFilter{{}, {Account: "acme"}, {ConfigurationID: "cfg-0"}, {ConfigurationID: "cfg-1"}, {EventID: "event-1"}} {
		p, err := v.Deliveries(ctx, f, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, d := range p.Deliveries {
			got = append(got, d.Position)
		}
		var expected []uint64
		for _, pos := range want {
			if f.Matches(testDelivery(pos, fmt.Sprintf("event-%d", pos%3), fmt.Sprintf("cfg-%d", pos%2))) {
				expected = append(expected, pos)
			}
		}
		if !slices.Equal(got, expected) {
			t.Errorf("Deliveries(%+v) = %v, want %v", f, got, expected)
		}
	}
	p, err := v.Deliveries(ctx, projections.DeliveryFilter{EventID: "event-1"}, 40, 1)
	if err != nil || len(p.Deliveries) != 1 || p.Deliveries[0].Position != 25 || p.Next != 25 {
		t.Fatalf("a page of event-1 below 40 = %v, %v", p, err)
	}
}

// TestDeliveries_refusesPagesOfNothing: a limit below one is a caller's mistake.
func TestDeliveries_refusesPagesOfNothing(t *testing.T) {
	if _, err := NewDeliveries().Deliveries(t.Context(), projections.DeliveryFilter{}, 0, 0); err == nil {
		t.Fatal("Deliveries with limit 0 succeeded")
	}
}

// BenchmarkDeliveries_memory reports what the view holds per delivery, for a history of
// a million deliveries: about three per event, among a thousand configurations of a hundred
// accounts, a few distinct errors.
func BenchmarkDeliveries_memory(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		v := NewDeliveries()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		batch := make([]domain.Delivery, 0, 1000)
		for i := range n {
			d := testDelivery(uint64(i+1), fmt.Sprintf("%032x", i/3), fmt.Sprintf("0c9a%04d-5f1e-4b7a-9e42-cfg", i%1000))
			d.Account = fmt.Sprintf("account-%d", i%100)
			d.Latency = time.Duration(i) * time.Microsecond
			if i%10 == 0 {
				d.Status, d.ReceiverStatus, d.Error = domain.DeliveryFailed, 500, fmt.Sprintf("500 Internal Server Error (%d)", i%7)
			}
			if batch = append(batch, d); len(batch) == cap(batch) {
				if err := v.Apply(b.Context(), batch, d.Position); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/delivery")
		runtime.KeepAlive(v)
	}
}

package commands_test

import (
	"context"
	"sync"
	"testing"

	"herald/commands"
	"herald/domain"
)

func delivery(status domain.DeliveryStatus, attempts int) domain.Delivery {
	return domain.Delivery{
		EventID: "ev-1", ConfigurationID: "cfg-1", Account: "alice", Kind: domain.KindWebhook, Status: status,
		Attempts: attempts, Trigger: domain.TriggerDispatch, At: now,
	}
}

func TestLedger_firstDeliveryWinsFailuresMayBeFollowedByADelivery(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	ledger, err := commands.NewLedger(store)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ledger.Outcome(ctx, "ev-1", "cfg-1"); err != nil || ok {
		t.Fatalf("outcome of a pair never sent: ok=%v err=%v", ok, err)
	}
	// Two failures (a dispatch, then a backfill that failed too), then a delivery.
	for attempts := 1; attempts <= 2; attempts++ {
		if _, err := ledger.Record(ctx, delivery(domain.DeliveryFailed, attempts)); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, _ := ledger.Outcome(ctx, "ev-1", "cfg-1"); !ok || got.Status != domain.DeliveryFailed || got.Attempts != 2 {
		t.Fatalf("after two failures the outcome is %+v (ok %v), want the last failure", got, ok)
	}
	first, err := ledger.Record(ctx, delivery(domain.DeliveryDelivered, 1))
	if err != nil {
		t.Fatal(err)
	}
	// Recording the delivery again, or a failure after it, adds nothing.
	again, err := ledger.Record(ctx, delivery(domain.DeliveryDelivered, 3))
	if err != nil || again != first {
		t.Fatalf("second delivery recorded at %d (err %v), want the first's position %d", again, err, first)
	}
	if _, err := ledger.Record(ctx, delivery(domain.DeliveryFailed, 4)); err != nil {
		t.Fatal(err)
	}
	records, err := store.ReadStream(ctx, domain.DeliveryStream("ev-1", "cfg-1"))
	if err != nil || len(records) != 3 {
		t.Fatalf("the pair's stream holds %d facts (err %v), want 2 failures and 1 delivery", len(records), err)
	}
	if got, ok, _ := ledger.Outcome(ctx, "ev-1", "cfg-1"); !ok || got.Status != domain.DeliveryDelivered || got.Position != first {
		t.Fatalf("outcome %+v, want the delivery at %d", got, first)
	}
}

func TestLedger_concurrentRecordsOfOnePairKeepOneDelivery(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	ledger, _ := commands.NewLedger(store)
	positions := make([]uint64, 8)
	var wg sync.WaitGroup
	for i := range positions {
		wg.Go(func() {
			p, err := ledger.Record(ctx, delivery(domain.DeliveryDelivered, 1))
			if err != nil {
				t.Error(err)
			}
			positions[i] = p
		})
	}
	wg.Wait()
	for _, p := range positions {
		if p != positions[0] {
			t.Fatalf("instances were told different positions %v for one delivery", positions)
		}
	}
	if records, _ := store.ReadStream(ctx, domain.DeliveryStream("ev-1", "cfg-1")); len(records) != 1 {
		t.Fatalf("the pair's stream holds %d facts, want 1", len(records))
	}
}

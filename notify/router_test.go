package notify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/adapters/localpubsub"
	"herald/domain"
)

// flakyLedger fails its first `fail` outcome reads (herald's own side: a transient failure),
// then answers that nothing is settled; it keeps what Record is given.
type flakyLedger struct {
	mu       sync.Mutex
	fail     int
	recorded []domain.Delivery
}

func (l *flakyLedger) Outcome(context.Context, string, string) (domain.Delivery, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail > 0 {
		l.fail--
		return domain.Delivery{}, false, errors.New("ledger down")
	}
	return domain.Delivery{}, false, nil
}

func (l *flakyLedger) Record(_ context.Context, d domain.Delivery) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recorded = append(l.recorded, d)
	return uint64(len(l.recorded)), nil
}

func (l *flakyLedger) outcomes() []domain.Delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]domain.Delivery(nil), l.recorded...)
}

type unavailableSender struct{ sends atomic.Int32 }

func (s *unavailableSender) Send(context.Context, Notification) (Receipt, error) {
	s.sends.Add(1)
	return Receipt{}, &SendError{Retryable: true, Status: 503, Err: errors.New("unavailable")}
}

// startRouter runs a router that sends webhooks through sender, with at most three attempts a
// millisecond apart, records outcomes in ledger and knows only the system configurations.
func startRouter(t *testing.T, ledger *flakyLedger, sender Sender, events DeletedEvents, system ...domain.Configuration) *Router {
	t.Helper()
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		System: system, Ledger: ledger, Logger: slog.New(slog.DiscardHandler), Now: time.Now, Events: events,
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := localpubsub.New(nil)
	r, err := NewRouter(RouterConfig{Publisher: ps, Subscriber: ps, Deliverer: d, Logger: slog.New(slog.DiscardHandler),
		Retry: RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxElapsed: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); r.Close(); ps.Close() })
	return r
}

// TestRouter_heraldsOwnFailuresDoNotUseUpAttempts: with the ledger down for the first three
// handlings of a notification (nothing is sent then, and the router hands the message over
// again), a receiver that answers 503 still gets MaxAttempts sends before the notification
// fails for good, and the failure records MaxAttempts attempts.
func TestRouter_heraldsOwnFailuresDoNotUseUpAttempts(t *testing.T) {
	ledger := &flakyLedger{fail: 3}
	sender := &unavailableSender{}
	r := startRouter(t, ledger, sender, nil, domain.Configuration{ID: "c1", Kind: domain.KindWebhook})
	ctx := context.Background()
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	if err := r.Publish(ctx, Job{EventID: "e1", ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Fact: domain.EventRecorded{Event: e}.Encode().Data}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second) // each transient failure pauses a second
	for len(ledger.outcomes()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := ledger.outcomes()
	if len(got) != 1 || got[0].Status != domain.DeliveryFailed {
		t.Fatalf("outcomes %+v, want one failure", got)
	}
	if sends := sender.sends.Load(); sends != 3 || got[0].Attempts != 3 {
		t.Errorf("sent %d times, the failure records %d attempts; want 3 and 3", sends, got[0].Attempts)
	}
}

// TestRouter_failureOfARemovedConfigurationKeepsItsAccount: a notification whose configuration
// was removed after it was published fails at once, and the failure is recorded under the
// configuration's account, so that its users see it in their delivery history.
func TestRouter_failureOfARemovedConfigurationKeepsItsAccount(t *testing.T) {
	ledger := &flakyLedger{}
	sender := &unavailableSender{}
	r := startRouter(t, ledger, sender, nil) // no configuration: "gone" was removed
	ctx := context.Background()
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	job := Job{EventID: "e1", ConfigurationID: "gone", Account: "alice", Kind: domain.KindWebhook, Position: 1, Fact: domain.EventRecorded{Event: e}.Encode().Data}
	if back, err := JobOf(job.Message()); err != nil || back.Account != "alice" {
		t.Fatalf("the job read back from its message: %+v %v", back, err)
	}
	if err := r.Publish(ctx, job); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(ledger.outcomes()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := ledger.outcomes()
	if len(got) != 1 || got[0].Status != domain.DeliveryFailed || got[0].Account != "alice" || sender.sends.Load() != 0 {
		t.Fatalf("outcomes %+v after %d sends, want one failure of alice's and no send", got, sender.sends.Load())
	}
}

// deletedAfterFirstSend reports the event deleted once sender has tried it.
type deletedAfterFirstSend struct{ sender *unavailableSender }

func (d deletedAfterFirstSend) EventDeleted(context.Context, string) (bool, error) {
	return d.sender.sends.Load() > 0, nil
}

// TestRouter_aRetryOfADeletedEventIsNotSent: an event deleted while its notification waits for
// a retry is not sent again; the notification fails for good, saying why.
func TestRouter_aRetryOfADeletedEventIsNotSent(t *testing.T) {
	ledger := &flakyLedger{}
	sender := &unavailableSender{}
	r := startRouter(t, ledger, sender, deletedAfterFirstSend{sender}, domain.Configuration{ID: "c1", Kind: domain.KindWebhook})
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	if err := r.Publish(context.Background(), Job{EventID: "e1", ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Fact: domain.EventRecorded{Event: e}.Encode().Data}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(ledger.outcomes()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := ledger.outcomes()
	if len(got) != 1 || got[0].Status != domain.DeliveryFailed || !strings.Contains(got[0].Error, EventDeletedBeforeDelivery("e1")) || sender.sends.Load() != 1 {
		t.Fatalf("outcomes %+v after %d sends, want one failure saying the event was deleted, after the one send before", got, sender.sends.Load())
	}
}

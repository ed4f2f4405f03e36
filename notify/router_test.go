package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"herald/adapters/localpubsub"
	"herald/domain"
	"herald/internal/testtool"
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
	return startRouterWith(t, routerSetup{ledger: ledger, sender: sender, events: events, system: system,
		retry: RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxElapsed: time.Minute}})
}

// routerSetup is what startRouterWith builds a router from.
type routerSetup struct {
	ledger     *flakyLedger
	sender     Sender
	events     DeletedEvents
	system     []domain.Configuration
	retry      RetryPolicy
	rateLimit  float64 // per configuration, notifications per second; 0: none
	handledMax int     // the in-process pub/sub's bound, its handlers stepping aside; 0: none
}

func startRouterWith(t *testing.T, s routerSetup) *Router {
	t.Helper()
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: s.sender},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		System: s.system, Ledger: s.ledger, Logger: slog.New(slog.DiscardHandler), Now: time.Now, Events: s.events,
		RateLimits: map[domain.EndpointKind]float64{domain.KindWebhook: s.rateLimit}, StepAside: localpubsub.StepAside,
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := localpubsub.New(nil, s.handledMax)
	r, err := NewRouter(RouterConfig{Publisher: ps, Subscriber: ps, Deliverer: d, Logger: slog.New(slog.DiscardHandler), Retry: s.retry})
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

// downOrUp answers 503 for configuration "down" and 200 for the others.
type downOrUp struct {
	mu   sync.Mutex
	sent map[string]int // sends by configuration
}

func (s *downOrUp) Send(_ context.Context, n Notification) (Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[n.Configuration.ID]++
	if n.Configuration.ID == "down" {
		return Receipt{}, &SendError{Retryable: true, Status: 503, Err: errors.New("unavailable")}
	}
	return Receipt{Status: 200}, nil
}

// TestRouter_aHandlerThatWaitsStepsAside: with the in-process pub/sub handing out one
// notification at a time, one that waits (a minute for its retry, ten seconds for its
// configuration's rate limit, the lock of its pair) does not hold back a notification to
// another configuration; its wait over, it takes a turn again and is sent.
func TestRouter_aHandlerThatWaitsStepsAside(t *testing.T) {
	system := []domain.Configuration{{ID: "down", Kind: domain.KindWebhook}, {ID: "slow", Kind: domain.KindWebhook}, {ID: "up", Kind: domain.KindWebhook}}
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	job := func(event, configuration string) Job {
		e := e
		e.ID = event
		return Job{EventID: event, ConfigurationID: configuration, Kind: domain.KindWebhook, Position: 1, Fact: domain.EventRecorded{Event: e}.Encode().Data}
	}
	for _, c := range []struct {
		name  string
		first []Job // the one that waits comes last
		// then, the one that waited comes back for a turn and is delivered
		then bool
	}{
		{"a retry", []Job{job("e1", "down")}, false},
		{"a rate limit", []Job{job("e1", "slow"), job("e2", "slow")}, true},
		{"the pair's lock", []Job{job("e1", "down"), job("e1", "down")}, false}, // the second waits for the first, in its retry
	} {
		t.Run(c.name, func(t *testing.T) {
			ledger, sender := &flakyLedger{}, &downOrUp{sent: map[string]int{}}
			r := startRouterWith(t, routerSetup{ledger: ledger, sender: sender, system: system, rateLimit: 0.25, handledMax: 1,
				retry: RetryPolicy{MaxAttempts: 3, InitialInterval: time.Minute, MaxInterval: time.Minute, MaxElapsed: time.Hour}})
			for _, j := range c.first {
				if err := r.Publish(context.Background(), j); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(100 * time.Millisecond) // the last one of them is waiting now
			if err := r.Publish(context.Background(), job("e1", "up")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Second)
			for !delivered(ledger, "up") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !delivered(ledger, "up") {
				t.Fatalf("the notification to up was not delivered within 3s while another waited; outcomes %+v", ledger.outcomes())
			}
			sender.mu.Lock()
			if want := map[string]int{c.first[0].ConfigurationID: 1, "up": 1}; !maps.Equal(sender.sent, want) {
				t.Errorf("sends %v, want %v (the waiting one not sent yet)", sender.sent, want)
			}
			sender.mu.Unlock()
			if !c.then {
				return
			}
			waiting := c.first[len(c.first)-1]
			deadline = time.Now().Add(10 * time.Second)
			for !deliveredPair(ledger, waiting.EventID, waiting.ConfigurationID) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !deliveredPair(ledger, waiting.EventID, waiting.ConfigurationID) {
				t.Fatalf("the notification that waited (%s to %s) was not delivered within 10s; outcomes %+v", waiting.EventID, waiting.ConfigurationID, ledger.outcomes())
			}
		})
	}
}

func delivered(l *flakyLedger, configuration string) bool { return deliveredPair(l, "", configuration) }

// deliveredPair tells whether l holds a delivery to configuration, of event ("" for any).
func deliveredPair(l *flakyLedger, event, configuration string) bool {
	for _, d := range l.outcomes() {
		if d.ConfigurationID == configuration && (event == "" || d.EventID == event) && d.Status == domain.DeliveryDelivered {
			return true
		}
	}
	return false
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

// settlingLedger remembers what is recorded and answers with it, as the ledger in the log does.
type settlingLedger struct {
	mu   sync.Mutex
	done map[pairKey]domain.Delivery
}

func (l *settlingLedger) Outcome(_ context.Context, event, configuration string) (domain.Delivery, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.done[pairKey{event, configuration}]
	return d, ok, nil
}

func (l *settlingLedger) Record(_ context.Context, d domain.Delivery) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done[pairKey{d.EventID, d.ConfigurationID}] = d
	return uint64(len(l.done)), nil
}

// slowSender takes a while to deliver, and counts its sends.
type slowSender struct{ sends atomic.Int32 }

func (s *slowSender) Send(context.Context, Notification) (Receipt, error) {
	s.sends.Add(1)
	time.Sleep(200 * time.Millisecond)
	return Receipt{Status: 200}, nil
}

// TestDeliverer_onePairAcrossInstances: two instances handling the same (event, configuration)
// pair at once (a dispatch and a backfill read by different instances from Redis Streams)
// send it once when they share the pair locks: the second waits, then finds the first one's
// outcome in the ledger. Without the shared locks both would send.
func TestDeliverer_onePairAcrossInstances(t *testing.T) {
	for _, tc := range []struct {
		name  string
		locks PairLocks
		sends int32
	}{{"shared locks", newLocalPairs(nil), 1}, {"no shared locks", nil, 2}} { // one process's locks stand for Redis's
		t.Run(tc.name, func(t *testing.T) {
			ledger := &settlingLedger{done: map[pairKey]domain.Delivery{}}
			sender := &slowSender{}
			system := domain.Configuration{ID: "c1", Kind: domain.KindWebhook}
			e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
			job := Job{EventID: "e1", ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Trigger: domain.TriggerBackfill, Fact: domain.EventRecorded{Event: e}.Encode().Data}
			var wg sync.WaitGroup
			for range 2 { // two instances
				d, err := NewDeliverer(DelivererConfig{
					Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
					Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
					System: []domain.Configuration{system}, Ledger: ledger, Logger: slog.New(slog.DiscardHandler), Now: time.Now, Pairs: tc.locks,
				})
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := d.onePerPair(d.Handle)(job.Message()); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if got := sender.sends.Load(); got != tc.sends {
				t.Errorf("%d sends, want %d", got, tc.sends)
			}
		})
	}
}

// deletedEvents reports the events it holds deleted.
type deletedEvents struct {
	mu    sync.Mutex
	ids   map[string]bool
	asked atomic.Int64
}

func (d *deletedEvents) EventDeleted(_ context.Context, id string) (bool, error) {
	d.asked.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ids[id], nil
}

// TestDeliverer_aDeletedEventHeldBackByTheRateLimitIsNotSent: a notification the
// configuration's rate limit holds back for over a second is not sent if its event was
// deleted meanwhile; those sent at once are.
func TestDeliverer_aDeletedEventHeldBackByTheRateLimitIsNotSent(t *testing.T) {
	ledger := &settlingLedger{done: map[pairKey]domain.Delivery{}}
	sender := &slowSender{}
	deleted := &deletedEvents{ids: map[string]bool{}}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		System: []domain.Configuration{{ID: "c1", Kind: domain.KindWebhook}}, Ledger: ledger, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		RateLimits: map[domain.EndpointKind]float64{domain.KindWebhook: 0.5}, // a burst of two, the next 2 s later
		Events:     deleted,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"first", "second"} {
		if _, err := d.Handle(c1Job(id)); err != nil {
			t.Fatal(err)
		}
	}
	deleted.mu.Lock()
	deleted.ids["third"] = true // deleted while its notification waits for the rate limit
	deleted.mu.Unlock()
	_, err = d.Handle(c1Job("third"))
	if err == nil || !strings.Contains(err.Error(), EventDeletedBeforeDelivery("third")) || IsRetryable(err) {
		t.Errorf("the held-back notification of a deleted event: %v, want a final failure saying it was deleted", err)
	}
	if sends := sender.sends.Load(); sends != 2 {
		t.Errorf("%d sends, want the two of the burst only", sends)
	}
}

// A notification the rate limit holds back is sent as things are when its turn comes: to the
// configuration as edited meanwhile, and not at all once the configuration is removed or its
// endpoint kind turned off.
func TestDeliverer_aSendHeldBackByTheRateLimitSeesChangesMadeMeanwhile(t *testing.T) {
	configs := &changingConfigurations{c: domain.Configuration{ID: "c1", Kind: domain.KindWebhook, Name: "before", Revision: 1,
		Settings: domain.WebhookSettings{URL: "https://a.example/hook"}}}
	sender := &urlSender{}
	disabled := &disabledKinds{}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: configs, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		Ledger: &settlingLedger{done: map[pairKey]domain.Delivery{}}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		RateLimits: map[domain.EndpointKind]float64{domain.KindWebhook: 4}, // a burst of 20, then one every 250 ms
		Disabled:   disabled,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := d.Handle(c1Job(fmt.Sprintf("burst-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// each of these waits 250 ms for its turn; the change comes while it waits
	handleAfter := func(id string, change func()) error {
		done := make(chan error, 1)
		go func() { _, err := d.Handle(c1Job(id)); done <- err }()
		time.Sleep(50 * time.Millisecond)
		change()
		return <-done
	}
	if err := handleAfter("edited", func() {
		configs.set(func(c *domain.Configuration) {
			c.Revision, c.Settings = 2, domain.WebhookSettings{URL: "https://b.example/hook"}
		})
	}); err != nil {
		t.Fatal(err)
	}
	if got := sender.last(); got != "https://b.example/hook" {
		t.Errorf("the send held back while the configuration was edited went to %s, want the new URL", got)
	}
	err = handleAfter("kind-off", func() { disabled.set(domain.KindWebhook, true) })
	if err == nil || !strings.Contains(err.Error(), KindDisabled(domain.KindWebhook)) || IsRetryable(err) {
		t.Errorf("the send held back while webhooks were turned off: %v, want a final failure saying so", err)
	}
	disabled.set(domain.KindWebhook, false)
	err = handleAfter("removed", func() { configs.set(func(c *domain.Configuration) { c.Deleted = true }) })
	if err == nil || !strings.Contains(err.Error(), "configuration c1 was removed") || IsRetryable(err) {
		t.Errorf("the send held back while the configuration was removed: %v, want a final failure saying so", err)
	}
	if sends := sender.count(); sends != 21 {
		t.Errorf("%d sends, want the burst and the edited one", sends)
	}
}

// TestDeliverer_aRemovedConfigurationIsNotWaitedFor: the notifications of a configuration
// removed while they wait for its rate limit fail at once, not each in its turn.
func TestDeliverer_aRemovedConfigurationIsNotWaitedFor(t *testing.T) {
	configs := &changingConfigurations{c: domain.Configuration{ID: "c1", Kind: domain.KindWebhook, Revision: 1,
		Settings: domain.WebhookSettings{URL: "https://a.example/hook"}}}
	sender := &urlSender{}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: configs, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		Ledger: &settlingLedger{done: map[pairKey]domain.Delivery{}}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		RateLimits: map[domain.EndpointKind]float64{domain.KindWebhook: 1}, // a burst of 5, then one a second
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := d.Handle(c1Job(fmt.Sprintf("burst-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	configs.set(func(c *domain.Configuration) { c.Deleted = true })
	start := time.Now()
	for i := range 5 {
		_, err := d.Handle(c1Job(fmt.Sprintf("queued-%d", i)))
		if err == nil || !strings.Contains(err.Error(), "configuration c1 was removed") || IsRetryable(err) {
			t.Fatalf("queued notification %d of a removed configuration: %v, want a final failure saying so", i, err)
		}
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("five notifications of a removed configuration took %s to fail, want no wait for its rate limit", took)
	}
	if sends := sender.count(); sends != 5 {
		t.Errorf("%d sends, want the burst alone", sends)
	}
}

// TestDeliverer_aSendWaitingForItsTurnSeesChangesMadeMeanwhile: a notification that waits
// for a turn (every one taken by a slow receiver) for LateWait or longer reads its
// configuration, the endpoint kinds' status and whether its event is still in the log once it
// has one: it does not go out to a configuration removed, or a kind turned off, or for an
// event deleted, while it waited.
func TestDeliverer_aSendWaitingForItsTurnSeesChangesMadeMeanwhile(t *testing.T) {
	for _, change := range []struct {
		name string
		make func(*changingConfigurations, *disabledKinds, *deletedEvents)
		want string
	}{
		{"removed", func(c *changingConfigurations, _ *disabledKinds, _ *deletedEvents) {
			c.set(func(c *domain.Configuration) { c.Deleted = true })
		}, "configuration c1 was removed"},
		{"kind turned off", func(_ *changingConfigurations, k *disabledKinds, _ *deletedEvents) {
			k.set(domain.KindWebhook, true)
		}, KindDisabled(domain.KindWebhook)},
		{"event deleted", func(_ *changingConfigurations, _ *disabledKinds, e *deletedEvents) {
			e.mu.Lock()
			defer e.mu.Unlock()
			for i := range 3 {
				e.ids[fmt.Sprintf("waiting-%d", i)] = true
			}
		}, "was deleted before it could be delivered"},
	} {
		t.Run(change.name, func(t *testing.T) {
			d, sender, configs, disabled, deleted := turnTestDeliverer(t, 20*time.Millisecond)
			first := make(chan error, 1)
			go func() { _, err := d.Handle(c1Job("first")); first <- err }()
			<-sender.sending // the one turn is taken
			waiting := make(chan error, 3)
			for i := range 3 {
				go func() { _, err := d.Handle(c1Job(fmt.Sprintf("waiting-%d", i))); waiting <- err }()
			}
			time.Sleep(50 * time.Millisecond) // they wait for the turn, longer than LateWait
			change.make(configs, disabled, deleted)
			close(sender.release)
			if err := <-first; err != nil {
				t.Fatalf("the send under way: %v", err)
			}
			for range 3 {
				err := <-waiting
				if err == nil || !strings.Contains(err.Error(), change.want) || IsRetryable(err) {
					t.Errorf("a notification that waited for its turn while the change was made: %v, want a final failure saying %q", err, change.want)
				}
			}
			if sends := sender.sends.Load(); sends != 1 {
				t.Errorf("%d sends, want only the one under way when the change was made", sends)
			}
		})
	}
}

// TestDeliverer_aShortWaitForATurnReadsNothingMore: a notification that waited less than
// LateWait for its turn, the ordinary queueing of a busy fan-out, goes out as dispatched: it
// does not ask the kinds' status or the log for its event (a store read per notification),
// while its configuration is still read as it is now.
func TestDeliverer_aShortWaitForATurnReadsNothingMore(t *testing.T) {
	d, sender, configs, disabled, deleted := turnTestDeliverer(t, time.Hour)
	first := make(chan error, 1)
	go func() { _, err := d.Handle(c1Job("first")); first <- err }()
	<-sender.sending
	waiting := make(chan error, 1)
	go func() { _, err := d.Handle(c1Job("waiting")); waiting <- err }()
	time.Sleep(50 * time.Millisecond)
	configs.set(func(c *domain.Configuration) {
		c.Settings, c.Revision = domain.WebhookSettings{URL: "https://b.example/hook"}, 2
	})
	close(sender.release)
	for _, done := range []chan error{first, waiting} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if sends := sender.sends.Load(); sends != 2 {
		t.Errorf("%d sends, want 2", sends)
	}
	if got := sender.lastURL(); got != "https://b.example/hook" {
		t.Errorf("the notification that waited went to %s, want the configuration's url as edited meanwhile", got)
	}
	if n := disabled.asked.Load(); n != 0 {
		t.Errorf("the kinds' status was asked %d times, want 0", n)
	}
	if n := deleted.asked.Load(); n != 0 {
		t.Errorf("the log was asked %d times whether an event was deleted, want 0", n)
	}
}

// turnTestDeliverer is a deliverer with one send turn, held by a gatedSender, to the
// configuration c1 (a webhook).
func turnTestDeliverer(t *testing.T, lateWait time.Duration) (*Deliverer, *gatedSender, *changingConfigurations, *disabledKinds, *deletedEvents) {
	t.Helper()
	configs := &changingConfigurations{c: domain.Configuration{ID: "c1", Kind: domain.KindWebhook, Revision: 1,
		Settings: domain.WebhookSettings{URL: "https://a.example/hook"}}}
	disabled := &disabledKinds{}
	deleted := &deletedEvents{ids: map[string]bool{}}
	sender := &gatedSender{sending: make(chan struct{}, 10), release: make(chan struct{})}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: configs, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		Ledger: &settlingLedger{done: map[pairKey]domain.Delivery{}}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		Disabled: disabled, Events: deleted, Concurrency: 1, LateWait: lateWait,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, sender, configs, disabled, deleted
}

// gatedSender holds every send until release is closed (or its context ends), and counts
// them; each send says so on sending, which must have room for as many as the test makes.
type gatedSender struct {
	sending chan struct{}
	release chan struct{}
	sends   atomic.Int64
	url     atomic.Value // the last webhook url sent to
}

func (s *gatedSender) Send(ctx context.Context, n Notification) (Receipt, error) {
	s.sends.Add(1)
	if w, ok := n.Configuration.Settings.(domain.WebhookSettings); ok {
		s.url.Store(w.URL)
	}
	s.sending <- struct{}{}
	select {
	case <-s.release:
		return Receipt{Status: 200}, nil
	case <-ctx.Done():
		return Receipt{}, &SendError{Retryable: true, Err: context.Cause(ctx)}
	}
}

func (s *gatedSender) lastURL() string {
	u, _ := s.url.Load().(string)
	return u
}

type changingConfigurations struct {
	mu sync.Mutex
	c  domain.Configuration
}

func (s *changingConfigurations) Configuration(_ context.Context, id string) (domain.Configuration, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c, id == s.c.ID, nil
}

func (s *changingConfigurations) set(change func(*domain.Configuration)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.c)
}

type disabledKinds struct {
	mu    sync.Mutex
	kinds map[domain.EndpointKind]bool
	asked atomic.Int64
}

func (d *disabledKinds) DisabledEndpoints(context.Context) (map[domain.EndpointKind]bool, error) {
	d.asked.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.kinds), nil
}

func (d *disabledKinds) set(kind domain.EndpointKind, off bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.kinds == nil {
		d.kinds = map[domain.EndpointKind]bool{}
	}
	d.kinds[kind] = off
}

// urlSender keeps the URL of each webhook it sends.
type urlSender struct {
	mu   sync.Mutex
	urls []string
}

func (s *urlSender) Send(_ context.Context, n Notification) (Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.urls = append(s.urls, n.Configuration.Settings.(domain.WebhookSettings).URL)
	return Receipt{Status: 200}, nil
}

func (s *urlSender) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.urls[len(s.urls)-1]
}

func (s *urlSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.urls)
}

// postSender posts each notification with PostJSON to its webhook's URL.
type postSender struct{ clients HTTPClients }

func (s postSender) Send(ctx context.Context, n Notification) (Receipt, error) {
	return PostJSON(ctx, s.clients.Verify, n.Configuration.Settings.(domain.WebhookSettings).URL, []byte(`{}`), nil)
}

// TestDeliverer_aReceiverThatDoesNotAnswerIsCutOffAtTheSendTimeout: the HTTP clients have no
// timeout of their own; the send timeout bounds a send to a receiver that takes the request
// and never answers, and that failure is worth retrying.
func TestDeliverer_aReceiverThatDoesNotAnswerIsCutOffAtTheSendTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	hook := domain.Configuration{ID: "c1", Kind: domain.KindWebhook, Settings: domain.WebhookSettings{URL: srv.URL}}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: postSender{NewHTTPClients(nil, 0)}},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		System: []domain.Configuration{hook}, Ledger: &settlingLedger{done: map[pairKey]domain.Delivery{}},
		Logger: slog.New(slog.DiscardHandler), Now: time.Now, SendTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = d.send(context.Background(), Notification{Configuration: hook})
	if took := time.Since(start); err == nil || !IsRetryable(err) || took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("send to a receiver that never answers: %v after %v; want a retryable failure after the 300ms send timeout", err, took)
	}
}

// TestRouter_aSendUnderWayWhenHeraldStopsMayFinish: watermill ends a message's context as
// soon as the router stops; a send under way then is let finish (for stopGrace) and recorded,
// instead of being cut off and sent again after the restart.
func TestRouter_aSendUnderWayWhenHeraldStopsMayFinish(t *testing.T) {
	ledger := &flakyLedger{}
	sender := &gatedSender{sending: make(chan struct{}, 1), release: make(chan struct{})}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		System: []domain.Configuration{{ID: "c1", Kind: domain.KindWebhook}}, Ledger: ledger, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		StepAside: localpubsub.StepAside,
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := localpubsub.New(nil, 0)
	defer ps.Close()
	var logged testtool.Buffer
	r, err := NewRouter(RouterConfig{Publisher: ps, Subscriber: ps, Deliverer: d, Logger: slog.New(slog.NewTextHandler(&logged, nil)),
		Retry: RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxElapsed: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	if err := r.Publish(ctx, Job{EventID: "e1", ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Fact: domain.EventRecorded{Event: e}.Encode().Data}); err != nil {
		t.Fatal(err)
	}
	<-sender.sending
	stop() // herald stops, as on SIGTERM
	time.Sleep(300 * time.Millisecond)
	close(sender.release)
	select {
	case <-ran:
	case <-time.After(stopGrace + 3*time.Second):
		t.Fatal("the router did not stop")
	}
	if got := ledger.outcomes(); len(got) != 1 || got[0].Status != domain.DeliveryDelivered {
		t.Errorf("outcomes %+v, want the send that finished after the stop recorded as delivered", got)
	}
	if out := logged.String(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Errorf("a clean stop logged:\n%s", out)
	}
}

// A receiver that asks (Retry-After) to be sent again after the retries would end fails the
// notification at once, and the failure says that the receiver asked for the wait.
func TestRetryPolicy_aRetryAfterPastTheWindowSaysSo(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, InitialInterval: time.Second, MaxInterval: time.Minute, MaxElapsed: 10 * time.Minute}
	_, final := p.next(1, time.Second, &SendError{Retryable: true, Status: 503, RetryAfter: time.Hour, Err: errors.New("Service Unavailable")})
	if final == nil || IsRetryable(final) || !strings.Contains(final.Error(), "gave up after 1 attempt over 1s; the last failed with: Service Unavailable; the receiver asked to be sent again in 1h0m0s (Retry-After), after herald's retries end (--notify-max-retry-time)") {
		t.Errorf("got %v", final)
	}
	if wait, final := p.next(1, time.Second, &SendError{Retryable: true, Status: 503, RetryAfter: time.Minute, Err: errors.New("Service Unavailable")}); final != nil || wait != time.Minute {
		t.Errorf("a Retry-After within the window: wait %s, final %v", wait, final)
	}
}

// c1Job is the notification of a new error event id through webhook configuration c1.
func c1Job(id string) *message.Message {
	e := domain.LogEvent{ID: id, Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	return Job{EventID: id, ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Fact: domain.EventRecorded{Event: e}.Encode().Data}.Message()
}

// A configuration the configurations view does not hold is removed only if the log says so:
// while the view is rebuilt (or lost with Redis's data) its notifications are held back as
// herald's own failure, not failed for good.
func TestDeliverer_aConfigurationMissingFromItsViewIsAskedOfTheLog(t *testing.T) {
	removed := &logRemovals{}
	sender := &urlSender{}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: &changingConfigurations{}, // holds nothing: being rebuilt
		OpenSettings:   func(s domain.Settings) (domain.Settings, error) { return s, nil },
		Ledger:         &settlingLedger{done: map[pairKey]domain.Delivery{}}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		Removed: removed,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Handle(c1Job("rebuilding"))
	if !errors.Is(err, errTransient) || !strings.Contains(err.Error(), "not yet in the configurations view") {
		t.Errorf("a configuration the log holds but its view does not: %v, want it held back as herald's own failure", err)
	}
	removed.set(true)
	_, err = d.Handle(c1Job("gone"))
	if err == nil || errors.Is(err, errTransient) || IsRetryable(err) || !strings.Contains(err.Error(), "configuration c1 was removed") {
		t.Errorf("a configuration the log says was removed: %v, want a final failure saying so", err)
	}
	if asked := removed.asked.Load(); asked != 2 {
		t.Errorf("the log was asked %d times, want 2", asked)
	}
	if n := sender.count(); n != 0 {
		t.Errorf("%d sends, want none", n)
	}
}

type logRemovals struct {
	removed atomic.Bool
	asked   atomic.Int32
}

func (l *logRemovals) ConfigurationRemoved(context.Context, string) (bool, error) {
	l.asked.Add(1)
	return l.removed.Load(), nil
}

func (l *logRemovals) set(removed bool) { l.removed.Store(removed) }

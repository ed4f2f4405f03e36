package localpubsub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
)

// TestWatermillAcceptance runs the tests of watermill's acceptance suite that apply to a pub/sub
// without persistence. Left out: TestContinueAfterErrors and TestSubscribeCtx expect a new
// subscription to get messages an earlier one was handed (GoChannel passes them only in its
// persistent mode, which keeps every message forever); TestMessageCtx expects each message's
// context to end at its ack, where here it ends with the subscription (herald's handlers are
// done with a message when they ack it, and a context per message cost ~2 µs each).
//
// It runs with subscriptions unbounded and bounded to two messages at once.
func TestWatermillAcceptance(t *testing.T) {
	features := tests.Features{ExactlyOnceDelivery: true, RequireSingleInstance: true}
	for _, limit := range []int{0, 2} {
		pubsub := func(t *testing.T) (message.Publisher, message.Subscriber) {
			p := New(nil, limit)
			return p, p
		}
		for name, run := range map[string]func(*testing.T, tests.TestContext, tests.PubSubConstructor){
			"PublishSubscribe":                  tests.TestPublishSubscribe,
			"ConcurrentSubscribe":               tests.TestConcurrentSubscribe,
			"ConcurrentSubscribeMultipleTopics": tests.TestConcurrentSubscribeMultipleTopics,
			"ResendOnError":                     tests.TestResendOnError,
			"PublisherClose":                    tests.TestPublisherClose,
			"Topic":                             tests.TestTopic,
		} {
			t.Run(fmt.Sprintf("%s/limit=%d", name, limit), func(t *testing.T) {
				t.Parallel()
				run(t, tests.TestContext{TestID: tests.NewTestID(), Features: features}, pubsub)
			})
		}
	}
}

func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("the subscription's channel was closed")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return nil
	}
}

// nothingMore checks that ch hands out nothing within 50ms (it may be closed).
func nothingMore(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	if m, ok := next(ch, 50*time.Millisecond); ok && m != nil {
		t.Fatalf("message %s handed out again", m.UUID)
	}
}

// closed checks that ch is closed within 5s without handing out anything more.
func closed(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	switch m, ok := next(ch, 5*time.Second); {
	case !ok:
		t.Fatal("the subscription's channel was not closed within 5s")
	case m != nil:
		t.Fatalf("message %s handed out by an ended subscription", m.UUID)
	}
}

// next returns what ch hands out within d: a message, nil when ch is closed, or false when
// nothing happened.
func next(ch <-chan *message.Message, d time.Duration) (*message.Message, bool) {
	select {
	case m := <-ch:
		return m, true
	case <-time.After(d):
		return nil, false
	}
}

func TestNackHandsAFreshCopyOutAgain(t *testing.T) {
	p := New(nil, 0)
	defer p.Close()
	ch, err := p.Subscribe(context.Background(), "webhook")
	if err != nil {
		t.Fatal(err)
	}
	sent := message.NewMessage("m1", []byte(`{"event":"e1"}`))
	sent.Metadata.Set("configuration", "c1")
	if err := p.Publish("webhook", sent); err != nil {
		t.Fatal(err)
	}
	first := receive(t, ch)
	if first == sent {
		t.Error("the subscriber got the published message value, not a copy")
	}
	first.Metadata.Set("herald_attempt", "1") // as the retry middleware does
	first.Nack()
	again := receive(t, ch)
	if again == first || again.UUID != "m1" || string(again.Payload) != `{"event":"e1"}` || again.Metadata.Get("configuration") != "c1" {
		t.Fatalf("after a nack got %p %s %q %v, want a fresh copy of m1 as published", again, again.UUID, again.Payload, again.Metadata)
	}
	if got := again.Metadata.Get("herald_attempt"); got != "" {
		t.Errorf("the copy handed out after a nack has herald_attempt=%q, set by the handler of the nacked one", got)
	}
	again.Ack()
	nothingMore(t, ch)
}

func TestEverySubscriptionOfATopicGetsEachMessage(t *testing.T) {
	p := New(nil, 0)
	defer p.Close()
	a, _ := p.Subscribe(context.Background(), "email")
	b, _ := p.Subscribe(context.Background(), "email")
	other, _ := p.Subscribe(context.Background(), "slack")
	if err := p.Publish("email", message.NewMessage("m1", nil)); err != nil {
		t.Fatal(err)
	}
	ma, mb := receive(t, a), receive(t, b)
	if ma.UUID != "m1" || mb.UUID != "m1" || ma == mb {
		t.Fatalf("got %s and %s (same value: %v), want each subscription its own copy of m1", ma.UUID, mb.UUID, ma == mb)
	}
	ma.Ack()
	mb.Nack() // one subscription's nack does not hand the message to the other again
	receive(t, b).Ack()
	nothingMore(t, a)
	nothingMore(t, other)
}

func TestMessagesWaitForTheTopicsFirstSubscription(t *testing.T) {
	p := New(nil, 0)
	defer p.Close()
	for i := range 3 {
		if err := p.Publish("teams", message.NewMessage(fmt.Sprint("m", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	ch, _ := p.Subscribe(context.Background(), "teams")
	got := map[string]bool{}
	for range 3 {
		m := receive(t, ch)
		got[m.UUID] = true
		m.Ack()
	}
	if len(got) != 3 || !got["m0"] || !got["m1"] || !got["m2"] {
		t.Fatalf("got %v, want m0, m1 and m2", got)
	}
	late, _ := p.Subscribe(context.Background(), "teams")
	nothingMore(t, late) // taken by the first subscription, not kept for later ones
}

func TestASubscriptionEndsWithItsContext(t *testing.T) {
	p := New(nil, 0)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := p.Subscribe(ctx, "jira")
	_ = p.Publish("jira", message.NewMessage("held", nil))
	held := receive(t, ch) // handed out, never acked
	cancel()
	closed(t, ch)
	select {
	case <-held.Context().Done():
	default:
		t.Error("the context of a message of an ended subscription is not done")
	}
	// what is published afterwards waits for the next subscription
	_ = p.Publish("jira", message.NewMessage("later", nil))
	next, _ := p.Subscribe(context.Background(), "jira")
	if m := receive(t, next); m.UUID != "later" {
		t.Fatalf("the next subscription got %s, want later", m.UUID)
	}
}

func TestASubscriptionEndedAtOnceLeavesWaitingMessagesForTheNext(t *testing.T) {
	p := New(nil, 0)
	defer p.Close()
	_ = p.Publish("slack", message.NewMessage("m1", nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dead, _ := p.Subscribe(ctx, "slack")
	closed(t, dead)
	live, _ := p.Subscribe(context.Background(), "slack")
	if m := receive(t, live); m.UUID != "m1" {
		t.Fatalf("got %s, want m1", m.UUID)
	}
}

func TestCloseEndsEverySubscriptionAndRefusesMore(t *testing.T) {
	p := New(nil, 0)
	a, _ := p.Subscribe(context.Background(), "github")
	b, _ := p.Subscribe(context.Background(), "webhook")
	_ = p.Publish("github", message.NewMessage("unacked", nil))
	receive(t, a)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	closed(t, a)
	closed(t, b)
	if err := p.Publish("github", message.NewMessage("m", nil)); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if _, err := p.Subscribe(context.Background(), "github"); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestConcurrentPublishersAndNacks has eight publishers and a handler that nacks every third
// message once: each message is acked exactly once in the end, with subscriptions unbounded
// or bounded.
func TestConcurrentPublishersAndNacks(t *testing.T) {
	for _, limit := range []int{0, 1, 4} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) { concurrentPublishersAndNacks(t, limit) })
	}
}

func concurrentPublishersAndNacks(t *testing.T, limit int) {
	const publishers, each = 8, 1000
	p := New(nil, limit)
	defer p.Close()
	ch, _ := p.Subscribe(context.Background(), "webhook")
	var wg sync.WaitGroup
	for w := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := p.Publish("webhook", message.NewMessage(fmt.Sprintf("%d-%d", w, i), nil)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	acked, nacked := map[string]int{}, map[string]bool{}
	for len(acked) < publishers*each {
		m := receive(t, ch)
		if n := len(acked) + len(nacked); n%3 == 0 && !nacked[m.UUID] {
			nacked[m.UUID] = true
			m.Nack()
			continue
		}
		acked[m.UUID]++
		m.Ack()
	}
	wg.Wait()
	nothingMore(t, ch)
	for id, n := range acked {
		if n != 1 {
			t.Errorf("%s acked %d times", id, n)
		}
	}
	for id := range nacked {
		if acked[id] != 1 {
			t.Errorf("%s was nacked and then never handed out again", id)
		}
	}
}

// TestConcurrentCloseReturnsOnceEverythingEnded: the router closes its subscriber from every
// handler at once; a Close that finds another one under way still returns only once every
// subscription's channel is closed.
func TestConcurrentCloseReturnsOnceEverythingEnded(t *testing.T) {
	for range 50 {
		p := New(nil, 0)
		var chs []<-chan *message.Message
		for j := range 20 {
			ch, _ := p.Subscribe(context.Background(), fmt.Sprint("t", j))
			chs = append(chs, ch)
		}
		go p.Close()
		for { // until the first Close is under way
			p.mu.RLock()
			underWay := p.closed
			p.mu.RUnlock()
			if underWay {
				break
			}
			runtime.Gosched()
		}
		_ = p.Close()
		for _, ch := range chs {
			select {
			case _, ok := <-ch:
				if ok {
					t.Fatal("a message from a closed pub/sub")
				}
			default:
				t.Fatal("the second Close returned with a subscription's channel still open")
			}
		}
	}
}

// TestPublishSubscribeEndAndCloseAtOnce: publishers, subscriptions ending (after nacks and
// acks, handlers stepping aside or not) and Close all at once, under -race: nothing panics,
// races or hangs.
func TestPublishSubscribeEndAndCloseAtOnce(t *testing.T) {
	for i := range 10 {
		p := New(nil, i%3)
		var wg sync.WaitGroup
		for s := range 4 {
			wg.Go(func() {
				for k := 0; ; k++ {
					ctx, cancel := context.WithCancel(context.Background())
					ch, err := p.Subscribe(ctx, fmt.Sprint("t", s%2))
					if err != nil {
						cancel()
						return
					}
					time.AfterFunc(time.Millisecond, cancel)
					for m := range ch {
						if k%3 == 0 {
							back := StepAside(m.Context())
							go func() { back(); m.Ack() }()
							continue
						}
						if k%2 == 0 {
							m.Nack()
						} else {
							m.Ack()
						}
					}
				}
			})
		}
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					if err := p.Publish(fmt.Sprint("t", w%2), message.NewMessage(fmt.Sprint(w, "-", i), nil)); err != nil {
						return
					}
				}
			})
		}
		time.Sleep(10 * time.Millisecond)
		closedAll := make(chan struct{})
		go func() { _ = p.Close(); close(closedAll) }()
		select {
		case <-closedAll:
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return within 10s")
		}
		wg.Wait()
	}
}

// TestABoundedSubscriptionQueuesInOrder: a subscription bounded to two hands out two messages
// at once, the others in the order they were published as turns come back at acks; a nacked
// message keeps its turn.
func TestABoundedSubscriptionQueuesInOrder(t *testing.T) {
	p := New(nil, 2)
	defer p.Close()
	ch, _ := p.Subscribe(context.Background(), "webhook")
	for _, id := range []string{"m1", "m2", "m3", "m4", "m5"} {
		if err := p.Publish("webhook", message.NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.Queued(); n != 3 {
		t.Errorf("Queued() = %d with five published and two handed out, want 3", n)
	}
	got := map[string]*message.Message{}
	for range 2 {
		m := receive(t, ch)
		got[m.UUID] = m
	}
	if got["m1"] == nil || got["m2"] == nil {
		t.Fatalf("handed out first: %v, want m1 and m2", keys(got))
	}
	nothingMore(t, ch)
	got["m1"].Ack()
	if m := receive(t, ch); m.UUID != "m3" {
		t.Fatalf("after m1's ack got %s, want m3", m.UUID)
	} else {
		got["m3"] = m
	}
	got["m2"].Nack()
	if m := receive(t, ch); m.UUID != "m2" {
		t.Fatalf("after m2's nack got %s, want m2 again on its own turn", m.UUID)
	} else {
		got["m2"] = m
	}
	nothingMore(t, ch)
	got["m3"].Ack()
	if m := receive(t, ch); m.UUID != "m4" {
		t.Fatalf("after m3's ack got %s, want m4", m.UUID)
	}
	got["m2"].Ack()
	if m := receive(t, ch); m.UUID != "m5" {
		t.Fatalf("after m2's ack got %s, want m5", m.UUID)
	}
	if n := p.Queued(); n != 0 {
		t.Errorf("Queued() = %d with everything handed out, want 0", n)
	}
}

func keys(m map[string]*message.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestStepAsideServesTheQueueAndComesBackFirst: a handler that steps aside lets the next
// message out; coming back it waits for a turn and gets it before the queue.
func TestStepAsideServesTheQueueAndComesBackFirst(t *testing.T) {
	p := New(nil, 1)
	defer p.Close()
	ch, _ := p.Subscribe(context.Background(), "webhook")
	for _, id := range []string{"a", "b", "c"} {
		if err := p.Publish("webhook", message.NewMessage(id, nil)); err != nil {
			t.Fatal(err)
		}
	}
	a := receive(t, ch)
	nothingMore(t, ch)
	ctx, cancel := context.WithCancel(a.Context()) // as the handlers derive theirs
	defer cancel()
	back := StepAside(ctx)
	b := receive(t, ch)
	if a.UUID != "a" || b.UUID != "b" {
		t.Fatalf("handed out %s then %s, want a then b", a.UUID, b.UUID)
	}
	StepAside(a.Context())() // already aside: neither frees another turn nor takes one
	nothingMore(t, ch)
	returned := make(chan struct{})
	go func() { back(); close(returned) }()
	select {
	case <-returned:
		t.Fatal("back returned while b held the only turn")
	case <-time.After(50 * time.Millisecond):
	}
	b.Ack()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("back did not return within 5s of b's ack")
	}
	nothingMore(t, ch) // c waits: a came back first
	a.Ack()
	if c := receive(t, ch); c.UUID != "c" {
		t.Fatalf("after a's ack got %s, want c", c.UUID)
	}
	StepAside(context.Background())() // not a message's context: nothing happens
}

// TestANackAfterSteppingAsideWaitsForATurn: a handler that stepped aside and nacks without
// coming back (its wait was cut short) gets its message handed out again only on a free turn.
func TestANackAfterSteppingAsideWaitsForATurn(t *testing.T) {
	p := New(nil, 1)
	defer p.Close()
	ch, _ := p.Subscribe(context.Background(), "webhook")
	_ = p.Publish("webhook", message.NewMessage("a", nil), message.NewMessage("b", nil))
	a := receive(t, ch)
	StepAside(a.Context())
	b := receive(t, ch)
	a.Nack()
	nothingMore(t, ch)
	b.Ack()
	if again := receive(t, ch); again.UUID != "a" {
		t.Fatalf("after b's ack got %s, want a again", again.UUID)
	} else {
		again.Ack()
	}
	nothingMore(t, ch)
}

// TestStepAsideChurnLeavesNoTurnTaken: handlers in goroutines of their own, as the router
// runs them, step aside and come back, nack and ack at random; every message is acked once,
// and in the end no turn is taken and nothing waits.
func TestStepAsideChurnLeavesNoTurnTaken(t *testing.T) {
	const messages, limit = 500, 3
	p := New(nil, limit)
	defer p.Close()
	ch, _ := p.Subscribe(context.Background(), "webhook")
	for i := range messages {
		_ = p.Publish("webhook", message.NewMessage(fmt.Sprint(i), nil))
	}
	var mu sync.Mutex
	acked, nacked := map[string]int{}, map[string]bool{}
	allAcked := make(chan struct{})
	for done := false; !done; {
		var m *message.Message
		select {
		case m = <-ch:
		case <-allAcked:
			done = true
			continue
		case <-time.After(5 * time.Second):
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("nothing handed out within 5s with %d of %d acked", len(acked), messages)
		}
		go func() {
			n := rand.IntN(4)
			if n < 2 {
				back := StepAside(m.Context())
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
				if n == 0 {
					back()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !nacked[m.UUID] && rand.IntN(3) == 0 {
				nacked[m.UUID] = true
				m.Nack()
				return
			}
			acked[m.UUID]++
			m.Ack()
			if len(acked) == messages && acked[m.UUID] == 1 {
				close(allAcked)
			}
		}()
	}
	nothingMore(t, ch)
	mu.Lock()
	for id, n := range acked {
		if n != 1 {
			t.Errorf("%s acked %d times", id, n)
		}
	}
	mu.Unlock()
	p.mu.RLock()
	s := p.topics["webhook"][0]
	p.mu.RUnlock()
	left := func() (busy, queued, back int) { // the last acks give their turns back a moment later
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.busy, len(s.queue) - s.head, len(s.back)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if busy, queued, back := left(); busy+queued+back == 0 {
			return
		}
	}
	busy, queued, back := left()
	t.Errorf("in the end %d turns taken, %d queued, %d coming back; want none", busy, queued, back)
}

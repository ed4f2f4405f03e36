// Package localpubsub is the notification router's transport when herald runs alone: a
// watermill Publisher and Subscriber in memory.
//
// Every subscription of a topic gets every message published to the topic while it is
// subscribed. A message published while a topic has no subscription waits for the first one
// (herald publishes only to topics its router handles, so nothing waits for long; what is
// published after the router stopped waits until the process ends). A message is handed to
// its subscription again, as a fresh copy of the message as published, when its handler
// nacks it, until it is acked or the subscription ends; the handler's changes to the
// metadata do not carry over, as with watermill's GoChannel. Messages a subscription holds
// when it ends are dropped, not handed to another one. A message's context is the
// subscription's: it ends when the subscription ends, not when the message is acked.
//
// A subscription may be bounded: New's limit is how many of its messages are handed out at
// once, each holding a turn from its handing out to its ack. The others wait their turn in
// memory, in the order they were published, each costing a queue entry rather than a
// goroutine. A handler that waits (for a retry, a rate limit) steps aside (StepAside), so that
// its turn serves the queue meanwhile; coming back, it takes the next free turn before any
// queued message. Handlers that stepped aside are not bounded: each is still a goroutine, and
// Queued does not count them.
//
// Nothing survives the process: herald's dispatcher, not the transport, makes delivery
// durable (after a restart it dispatches again from its checkpoint, and the ledger skips what
// was delivered).
//
// It replaces GoChannel, which cost two goroutines, two copies and a cancellable context per
// message; here a message handed out costs a goroutine per subscription and a copy per handing
// out (Publish takes the published message over rather than copying it). On the notification
// fan-out that was ~5% of herald's CPU; bounding the subscriptions was ~12% more (10,000
// notifications in flight were as many goroutines, parked deep in the router's handler, whose
// stacks the garbage collector scanned).
package localpubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// ErrClosed is the answer to Publish and Subscribe after Close.
var ErrClosed = errors.New("in-process pub/sub closed")

// PubSub is an in-memory publisher and subscriber. It is safe for concurrent use.
type PubSub struct {
	logger watermill.LoggerAdapter
	limit  int

	mu      sync.RWMutex // guards topics, waiting and closed; Publish holds it for reading
	topics  map[string][]*subscription
	waitMu  sync.Mutex                    // guards waiting under a read lock of mu
	waiting map[string][]*message.Message // published while the topic had no subscription
	closed  bool
	closing chan struct{}
	ended   sync.WaitGroup // one per subscription not yet torn down
}

// subscription is one Subscribe call: its messages go out on out, each from its own goroutine
// that waits for the handler's ack or nack.
type subscription struct {
	ctx      context.Context // the context of every message handed out; cancelled when the subscription ends
	out      chan *message.Message
	done     chan struct{}  // closed when the subscription ends
	inFlight sync.WaitGroup // deliveries under way
	limit    int            // turns; 0: no bound

	mu     sync.Mutex         // guards the fields below
	busy   int                // turns taken
	queue  []*message.Message // published, waiting for a turn: queue[head:], oldest first
	head   int
	back   []chan struct{} // handlers coming back from a wait, served before the queue
	ending bool            // no turn is given any more
}

// New returns an empty pub/sub; logger may be nil. limit bounds the messages each
// subscription has handed out at once (0: no bound).
func New(logger watermill.LoggerAdapter, limit int) *PubSub {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &PubSub{logger: logger, limit: max(limit, 0), topics: map[string][]*subscription{}, waiting: map[string][]*message.Message{}, closing: make(chan struct{})}
}

// Publish hands each message to every subscription of topic, without waiting for them to be
// handled, or keeps it for the topic's first subscription. The messages become the pub/sub's:
// the publisher must not change them afterwards (herald's publishers build a message for the
// one Publish call; watermill's poison middleware publishes a copy). Each handing out is a
// copy of its own, so handlers never see each other's changes.
func (p *PubSub) Publish(topic string, messages ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return fmt.Errorf("publish to %s: %w", topic, ErrClosed)
	}
	subs := p.topics[topic]
	if len(subs) == 0 {
		p.waitMu.Lock()
		if len(p.waiting[topic]) == 0 {
			p.logger.Info("No subscription yet; messages are kept for the first one", watermill.LogFields{"topic": topic})
		}
		p.waiting[topic] = append(p.waiting[topic], messages...)
		p.waitMu.Unlock()
		return nil
	}
	for _, m := range messages {
		for _, s := range subs {
			s.hand(m)
		}
	}
	return nil
}

// hand starts the delivery of m, which is shared and must not be changed, or queues it until
// a turn is free.
func (s *subscription) hand(m *message.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ending:
	case s.limit > 0 && s.busy >= s.limit:
		s.queue = append(s.queue, m)
	default:
		s.busy++
		s.start(m)
	}
}

// start delivers m in a goroutine of its own, on a turn already taken. Called with s.mu held:
// the subscription's teardown marks it ending under s.mu before it waits on inFlight, so no
// Add races with that Wait.
func (s *subscription) start(m *message.Message) {
	s.inFlight.Add(1)
	go s.deliver(m)
}

// release gives a turn back: to a handler coming back from a wait, else to the oldest queued
// message.
func (s *subscription) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ending:
	case len(s.back) > 0:
		close(s.back[0]) // the turn passes on as it is
		s.back = s.back[1:]
	case s.head < len(s.queue):
		m := s.queue[s.head]
		s.queue[s.head] = nil
		s.head++
		switch {
		case s.head == len(s.queue) && cap(s.queue) > 4096:
			s.queue, s.head = nil, 0 // a burst's array is not kept
		case s.head == len(s.queue):
			s.queue, s.head = s.queue[:0], 0
		case s.head > 1024 && s.head > len(s.queue)/2:
			n := copy(s.queue, s.queue[s.head:])
			clear(s.queue[n:]) // what moved to the front is not kept twice
			s.queue, s.head = s.queue[:n], 0
		}
		s.start(m)
	default:
		s.busy--
	}
}

// take waits for a turn, before any queued message; false once the subscription ends.
func (s *subscription) take() bool {
	s.mu.Lock()
	if s.ending {
		s.mu.Unlock()
		return false
	}
	if s.limit == 0 || s.busy < s.limit {
		s.busy++
		s.mu.Unlock()
		return true
	}
	given := make(chan struct{})
	s.back = append(s.back, given)
	s.mu.Unlock()
	select {
	case <-given:
		return true
	case <-s.done:
		return false
	}
}

// deliver hands a copy of published out and waits for its handler's verdict, handing a
// fresh copy out again after each nack; the turn is given back at the ack. published itself
// is never handed out.
func (s *subscription) deliver(published *message.Message) {
	defer s.inFlight.Done()
	for {
		t := &turn{Context: s.ctx, s: s}
		m := published.Copy()
		m.SetContext(t)
		select {
		case s.out <- m:
		case <-s.done:
			return
		}
		select {
		case <-m.Acked():
			if !t.isAside() {
				s.release()
			}
			return
		case <-m.Nacked():
			if t.isAside() && !s.take() { // the handler stepped aside and did not come back
				return
			}
		case <-s.done:
			return
		}
	}
}

// turn is the context of a message handed out, which finds its turn through it.
type turn struct {
	context.Context
	s     *subscription
	mu    sync.Mutex
	aside bool // the turn was given back while the handler waits
}

type turnKey struct{}

func (t *turn) Value(key any) any {
	if key == (turnKey{}) {
		return t
	}
	return t.Context.Value(key)
}

func (t *turn) isAside() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.aside
}

// StepAside gives back the turn of the message whose context (or a context derived from it)
// is ctx while its handler waits, so that a queued message is handed out meanwhile. The
// handler calls back once its wait is over: back returns when the handler has a turn again,
// taken before any queued message, or when the subscription ended. For a context that is not
// a message's of this package, or a turn already stepped aside, both do nothing.
func StepAside(ctx context.Context) (back func()) {
	t, _ := ctx.Value(turnKey{}).(*turn)
	if t == nil {
		return func() {}
	}
	t.mu.Lock()
	if t.aside {
		t.mu.Unlock()
		return func() {}
	}
	t.aside = true
	t.mu.Unlock()
	t.s.release()
	return sync.OnceFunc(func() {
		if t.s.take() {
			t.mu.Lock()
			t.aside = false
			t.mu.Unlock()
		}
	})
}

// Subscribe returns the messages published to topic from now until ctx is done or the
// pub/sub is closed; then the channel is closed, once no delivery is under way.
func (p *PubSub) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, ErrClosed)
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &subscription{ctx: sctx, out: make(chan *message.Message), done: make(chan struct{}), limit: p.limit}
	p.topics[topic] = append(p.topics[topic], s)
	if ctx.Err() == nil { // one that ends at once leaves what waits for the next
		for _, m := range p.waiting[topic] {
			s.hand(m)
		}
		delete(p.waiting, topic)
	}
	p.ended.Add(1)
	go func() {
		defer p.ended.Done()
		select {
		case <-ctx.Done():
		case <-p.closing:
		}
		p.remove(topic, s)
		s.mu.Lock()
		s.ending = true // what is queued is dropped
		s.queue, s.back = nil, nil
		s.mu.Unlock()
		cancel() // first: a handler coming back without a turn finds its context ended
		close(s.done)
		s.inFlight.Wait()
		close(s.out)
	}()
	return s.out, nil
}

// remove takes s off topic's subscriptions, so that no Publish hands it anything more.
func (p *PubSub) remove(topic string, s *subscription) {
	p.mu.Lock()
	defer p.mu.Unlock()
	subs := p.topics[topic]
	for i, other := range subs {
		if other == s {
			subs = append(subs[:i:i], subs[i+1:]...)
			break
		}
	}
	if len(subs) == 0 {
		delete(p.topics, topic)
		return
	}
	p.topics[topic] = subs
}

// Queued is how many messages wait for a turn, over every subscription.
func (p *PubSub) Queued() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	for _, subs := range p.topics {
		for _, s := range subs {
			s.mu.Lock()
			n += len(s.queue) - s.head
			s.mu.Unlock()
		}
	}
	return n
}

// Close ends every subscription and refuses further use; it returns once every subscription's
// channel is closed.
func (p *PubSub) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.closing)
	}
	p.mu.Unlock()
	p.ended.Wait() // a second Close waits too
	return nil
}

package projections

import (
	"sync"
	"sync/atomic"

	"herald/domain"
)

// Feed hands newly recorded events to live subscribers (dashboards on the GraphQL
// subscription). A subscriber that does not keep up is dropped rather than allowed to slow
// the projection: its channel is closed and Dropped reports it.
type Feed struct {
	mu     sync.Mutex
	subs   map[*FeedSubscription]struct{}
	active atomic.Int32
}

// FeedSubscription receives the events of one subscriber.
type FeedSubscription struct {
	Events  <-chan domain.LogEvent
	events  chan domain.LogEvent
	filter  domain.EventFilter
	dropped atomic.Bool
}

// Dropped tells whether the subscription was closed because its reader fell behind.
func (s *FeedSubscription) Dropped() bool { return s.dropped.Load() }

// feedBuffer is how many events a subscriber may have unread before it is dropped.
const feedBuffer = 1024

// NewFeed returns a feed with no subscribers.
func NewFeed() *Feed { return &Feed{subs: map[*FeedSubscription]struct{}{}} }

// Subscribe returns a subscription to events matching the filter.
func (f *Feed) Subscribe(filter domain.EventFilter) *FeedSubscription {
	ch := make(chan domain.LogEvent, feedBuffer)
	s := &FeedSubscription{Events: ch, events: ch, filter: filter}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.active.Store(int32(len(f.subs)))
	f.mu.Unlock()
	return s
}

// Unsubscribe ends a subscription and closes its channel.
func (f *Feed) Unsubscribe(s *FeedSubscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; ok {
		delete(f.subs, s)
		close(s.events)
	}
	f.active.Store(int32(len(f.subs)))
}

// HasSubscribers tells whether anyone listens, so that the projection decodes full events
// only when they are wanted.
func (f *Feed) HasSubscribers() bool { return f.active.Load() > 0 }

// Publish offers an event to every subscriber whose filter matches.
func (f *Feed) Publish(e domain.LogEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		if !s.filter.Matches(e) {
			continue
		}
		select {
		case s.events <- e:
		default:
			s.dropped.Store(true)
			delete(f.subs, s)
			close(s.events)
		}
	}
	f.active.Store(int32(len(f.subs)))
}

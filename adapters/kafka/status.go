package kafka

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is what an ingester is doing.
type State string

// States of an ingester.
const (
	StateStarting           State = "starting"             // connecting to the brokers, not yet consuming
	StateJoining            State = "joining"              // joining the consumer group, or waiting for it to rebalance; holds no partitions
	StateConsuming          State = "consuming"            // a member of the group, reading and recording the messages of its partitions
	StateTopicsMissing      State = "topics-missing"       // some topics do not exist; the others are consumed, and the missing ones once they exist
	StateBrokersUnavailable State = "brokers-unavailable"  // the brokers do not answer or serve the topics; consuming resumes when they do
	StateRetryingStore      State = "retrying-store"       // the store refuses a batch; retrying with backoff, nothing committed
	StateRetryingDeadLetter State = "retrying-dead-letter" // the dead-letter topic refuses a message; retrying with backoff
	StateStopped            State = "stopped"              // Run has returned
)

// States is every state, in the order above.
var States = []State{StateStarting, StateJoining, StateConsuming, StateTopicsMissing, StateBrokersUnavailable, StateRetryingStore, StateRetryingDeadLetter, StateStopped}

// Status is an ingester's state, the last error it met and when the state began.
type Status struct {
	State         State
	LastError     string    // empty when nothing failed yet
	LastErrorAt   time.Time // when LastError happened; it stays after the ingester recovers
	Since         time.Time
	Partitions    int      // partitions this member holds in the group
	MissingTopics []string // configured topics that do not exist
}

// Outage tells whether the ingester is kept from consuming by something that does not pass
// on its own while herald starts: brokers or topics missing, the store or the dead-letter
// topic refusing, or Run having returned. Starting and joining are not outages.
func (s Status) Outage() bool {
	return s.State != StateStarting && s.State != StateJoining && s.State != StateConsuming
}

// Ready tells whether the ingester is consuming: it reaches the brokers and the store, every
// topic exists, and it is a member of the group (which may have given it no partition, when
// the group has more members than the topics have partitions).
func (s Status) Ready() bool { return s.State == StateConsuming }

// tracker keeps the status. Broker health and store (or dead-letter) health are kept apart:
// a store outage shows over a broker outage, since it is what holds the commits back.
type tracker struct {
	mu         sync.Mutex
	started    bool          // the brokers have answered at least once
	brokersErr error         // the brokers' last failure, nil once they answer again
	missing    []string      // topics that do not exist
	joined     bool          // a member of the group, with its partitions assigned
	partitions int           // how many, while joined
	retrying   map[State]int // batches retrying, by StateRetryingStore or StateRetryingDeadLetter
	stopped    bool
	lastErr    error
	lastErrAt  time.Time
	state      State
	since      time.Time
}

func newTracker() *tracker {
	return &tracker{retrying: map[State]int{}, state: StateStarting, since: time.Now()}
}

// update changes the facts under the lock and derives the state from them.
func (t *tracker) update(fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fn()
	next := StateStarting
	switch {
	case t.stopped:
		next = StateStopped
	case t.retrying[StateRetryingStore] > 0:
		next = StateRetryingStore
	case t.retrying[StateRetryingDeadLetter] > 0:
		next = StateRetryingDeadLetter
	case t.brokersErr != nil:
		next = StateBrokersUnavailable
	case len(t.missing) > 0:
		next = StateTopicsMissing
	case t.started && t.joined:
		next = StateConsuming
	case t.started:
		next = StateJoining
	}
	if next != t.state {
		t.state, t.since = next, time.Now()
	}
}

// setErr keeps err as the last error; the caller holds the lock.
func (t *tracker) setErr(err error) { t.lastErr, t.lastErrAt = err, time.Now() }

// brokersOK records that the brokers answered.
func (t *tracker) brokersOK() {
	t.mu.Lock()
	fine := t.started && t.brokersErr == nil
	t.mu.Unlock()
	if !fine { // the hot path (every fetched batch) only reads
		t.update(func() { t.started, t.brokersErr = true, nil })
	}
}

// brokersFailed records that the brokers could not be reached or refused to serve.
func (t *tracker) brokersFailed(err error) {
	t.update(func() { t.brokersErr = err; t.setErr(err) })
}

// topicsMissing records which configured topics do not exist (none: all do).
func (t *tracker) topicsMissing(topics []string) {
	t.update(func() {
		t.missing = topics
		if len(topics) > 0 {
			t.setErr(fmt.Errorf("topics do not exist: %s", strings.Join(topics, ", ")))
		}
	})
}

// assigned records that this member joined the group and holds n partitions.
func (t *tracker) assigned(n int) {
	t.update(func() { t.joined, t.partitions = true, n })
}

// unassigned records that the group generation ended: the member rejoins.
func (t *tracker) unassigned() {
	t.update(func() { t.joined, t.partitions = false, 0 })
}

// failed records an error that changes no state, such as a failed offset commit.
func (t *tracker) failed(err error) {
	t.update(func() { t.setErr(err) })
}

// retryStarted records that a batch began retrying; retryOver must follow.
func (t *tracker) retryStarted(state State, err error) {
	t.update(func() { t.retrying[state]++; t.setErr(err) })
}

func (t *tracker) retryOver(state State) {
	t.update(func() { t.retrying[state]-- })
}

func (t *tracker) stop() {
	t.update(func() { t.stopped = true })
}

func (t *tracker) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Status{State: t.state, Since: t.since, Partitions: t.partitions, MissingTopics: slices.Clone(t.missing)}
	if t.lastErr != nil {
		s.LastError, s.LastErrorAt = t.lastErr.Error(), t.lastErrAt
	}
	return s
}

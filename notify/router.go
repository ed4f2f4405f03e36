package notify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"herald/domain"
)

// FailedTopic is the poison queue: notifications that failed for good, with the reason in
// their metadata. Its handler writes the NotificationFailed fact.
const FailedTopic = "notifications.failed"

// topicPrefix starts the topic of each kind.
const topicPrefix = "notifications."

// RouterConfig is what a router is built from.
type RouterConfig struct {
	Publisher  message.Publisher
	Subscriber message.Subscriber
	// Shards spreads each kind over this many topics, by configuration. The in-process
	// pub/sub hands every message to its own goroutine, so 1 is right for it; subscribers
	// that deliver one message at a time per topic (Redis Streams) need more.
	Shards    int
	Deliverer *Deliverer
	Retry     RetryPolicy
	// Scheduler, when set, keeps notifications waiting for a retry out of the subscription
	// (RetryPolicy.deferred); without it a retry waits in its handler, which the in-process
	// pub/sub's goroutine per message makes harmless.
	Scheduler RetryScheduler
	Logger    *slog.Logger
}

// Router is the watermill router of notifications: one handler per kind (per shard), and
// the poison queue's handler, behind middleware for correlation ids, the poison queue, panic
// recovery and retries.
type Router struct {
	cfg    RouterConfig
	router *message.Router
}

// NewRouter builds the router and its handlers.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if cfg.Publisher == nil || cfg.Subscriber == nil || cfg.Deliverer == nil || cfg.Logger == nil {
		return nil, fmt.Errorf("new router: nil dependency")
	}
	if err := cfg.Retry.Validate(); err != nil {
		return nil, err
	}
	cfg.Shards = max(cfg.Shards, 1)
	logger := WatermillLogger(cfg.Logger.With("component", "router"))
	wr, err := message.NewRouter(message.RouterConfig{CloseTimeout: stopGrace + time.Second}, logger)
	if err != nil {
		return nil, fmt.Errorf("new router: %w", err)
	}
	poison, err := middleware.PoisonQueueWithFilter(cfg.Publisher, FailedTopic, func(err error) bool {
		return !errors.Is(err, errTransient) && !errors.Is(err, context.Canceled)
	})
	if err != nil {
		return nil, fmt.Errorf("new router: %w", err)
	}
	d := cfg.Deliverer
	retried := func(msg *message.Message, wait time.Duration, err error) {
		kind := domain.EndpointKind(msg.Metadata.Get(metaKind))
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.Retried(kind)
		}
		cfg.Logger.Info("notification will be sent again", "event", msg.Metadata.Get(metaEvent), "configuration", msg.Metadata.Get(metaConfiguration), "kind", kind, "attempt", attemptOf(msg), "in", wait.Round(time.Millisecond), "error", err)
	}
	wr.AddMiddleware(markStop, roomyStack, middleware.CorrelationID, pauseOnTransient(cfg.Logger), middleware.Recoverer)
	for _, kind := range d.Kinds() {
		for shard := range cfg.Shards {
			topic := kindTopic(kind, shard, cfg.Shards)
			h := wr.AddConsumerHandler("send-"+topic, topic, cfg.Subscriber, func(msg *message.Message) error {
				_, err := d.Handle(msg)
				return err
			})
			retry := cfg.Retry.middleware(retried, d.cfg.StepAside)
			if cfg.Scheduler != nil {
				retry = cfg.Retry.deferred(cfg.Scheduler, topic, retried)
			}
			h.AddMiddleware(poison, middleware.Recoverer, d.onePerPair, retry)
		}
	}
	wr.AddConsumerHandler("record-failures", FailedTopic, cfg.Subscriber, d.RecordFailure)
	return &Router{cfg: cfg, router: wr}, nil
}

// roomyStack grows the stack of a message's goroutine once, while it is still shallow, to
// the size a notification's delivery needs. Watermill hands each message a new goroutine with
// a small stack, and a delivery (configuration, rendering, the HTTP client) grew it several
// times in its deepest frames, each growth copying the whole stack: 6.5% of herald's CPU in
// the fan-out benchmark, against about 2% with this one early growth. (CockroachDB's
// growstack package does the same for its hot goroutines.)
func roomyStack(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		growStack(0)
		return h(msg)
	}
}

// growStack needs a frame of stackRoom bytes, which makes the runtime grow the stack to hold
// it; the room is free again when it returns. It must not be inlined, or its frame would be
// its caller's.
//
//go:noinline
func growStack(i int) byte {
	var room [stackRoom]byte
	room[i] = 1
	return room[i/2]
}

// stackRoom is what a delivery's stack was seen to need past the handler's first frames.
const stackRoom = 8 << 10

// pauseOnTransient holds a failure of herald's own side for a moment before the message is
// handed over again, so that an unavailable store is not hammered. The handler keeps its turn
// meanwhile: stepping aside would let every queued notification fail against the store and
// pause in turn, each in a goroutine of its own.
func pauseOnTransient(logger *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err != nil && isStopping(msg.Context()) {
				return out, fmt.Errorf("%w: %w", errStopping, err)
			}
			if err != nil && errors.Is(err, errTransient) {
				logger.Warn("notification held back: herald could not read its views or write its ledger; trying again shortly", "event", msg.Metadata.Get(metaEvent), "configuration", msg.Metadata.Get(metaConfiguration), "error", err)
				select {
				case <-time.After(time.Second):
				case <-msg.Context().Done():
				}
			}
			return out, err
		}
	}
}

// kindTopic is the topic of a kind's shard.
func kindTopic(kind domain.EndpointKind, shard, shards int) string {
	if shards <= 1 {
		return topicPrefix + string(kind)
	}
	return fmt.Sprintf("%s%s.%d", topicPrefix, kind, shard)
}

// Run runs the router until ctx is done.
func (r *Router) Run(ctx context.Context) error { return r.router.Run(ctx) }

// Running is closed once the router's handlers subscribed.
func (r *Router) Running() <-chan struct{} { return r.router.Running() }

// Close stops the router, letting handlers finish for a moment.
func (r *Router) Close() error { return r.router.Close() }

// Publish hands jobs to the handlers of their kinds. It waits for the router to run, so that
// nothing is published to a topic before its handler subscribed.
func (r *Router) Publish(ctx context.Context, jobs ...Job) error {
	select {
	case <-r.router.Running():
	case <-ctx.Done():
		return ctx.Err()
	}
	byTopic := map[string][]*message.Message{}
	for _, j := range jobs {
		topic := kindTopic(j.Kind, shardOf(j.ConfigurationID, r.cfg.Shards), r.cfg.Shards)
		msg := j.Message()
		middleware.SetCorrelationID(j.EventID, msg) // every notification of an event shares it
		byTopic[topic] = append(byTopic[topic], msg)
	}
	for topic, msgs := range byTopic {
		if err := r.cfg.Publisher.Publish(topic, msgs...); err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
	}
	return nil
}

// shardOf spreads configurations over shards.
func shardOf(configurationID string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(configurationID))
	return int(h.Sum32() % uint32(shards))
}

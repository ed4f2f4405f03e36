package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Ingester is one member of a consumer group that records the events of its partitions.
//
// A batch is a run of up to BatchSize messages fetched within BatchWait. Its valid events are
// recorded in one call to the Recorder, its bad messages written to the dead-letter topic,
// and only then are its offsets committed. Up to InFlight batches are recorded at once, but
// they are committed in the order they were fetched, so a committed offset always means that
// every earlier message of its partition is durable. Whatever was not committed is delivered
// again after a crash or a rebalance, and recorded again as a duplicate of itself.
type Ingester struct {
	cfg         Config
	recorder    Recorder
	metrics     Metrics
	logger      *slog.Logger
	conn        connectors
	status      *tracker
	deadLetters *kafkago.Writer
	now         func() time.Time
	// clientErrors keeps kafka-go's own error log, which repeats itself while the brokers
	// are down, to one warning a minute; the rest go to the debug level.
	clientErrors quieter

	// afterRecord, when set (by tests), runs after a batch's events are durable and before
	// its offsets are committed.
	afterRecord func()
}

// NewIngester builds an ingester; it connects to nothing until Run. metrics may be nil.
func NewIngester(cfg Config, recorder Recorder, metrics Metrics, logger *slog.Logger) (*Ingester, error) {
	if recorder == nil || logger == nil {
		return nil, errors.New("new kafka ingester: nil dependency")
	}
	if metrics == nil {
		metrics = nopMetrics{}
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, err := cfg.Security.connectors(cfg.ClientID)
	if err != nil {
		return nil, fmt.Errorf("kafka config: %w", err)
	}
	return &Ingester{
		cfg: cfg, recorder: recorder, metrics: metrics, conn: conn, status: newTracker(),
		logger:       logger.With("component", "kafka_ingest", "group", cfg.GroupID),
		now:          func() time.Time { return time.Now().UTC() },
		clientErrors: quieter{every: clientErrorEvery},
	}, nil
}

// Status reports what the ingester is doing.
func (in *Ingester) Status() Status { return in.status.status() }

// batch is a run of messages recorded together.
type batch struct {
	msgs    []kafkago.Message
	fetched time.Time
	done    chan struct{} // closed once the batch is durable, or abandoned
	err     error         // why it was abandoned; set before done is closed
	stats   BatchStats
}

// Run consumes until ctx is done, then leaves the group. It returns ctx's error; a failing
// broker or store is retried, never returned. An ingester runs once.
func (in *Ingester) Run(ctx context.Context) error {
	defer in.status.stop()
	in.deadLetters = newDeadLetterWriter(&in.cfg, in.conn)
	in.logger.Info("kafka ingest starting", "brokers", in.cfg.Brokers, "topics", in.cfg.Topics, "group", in.cfg.GroupID,
		"start_offset", string(in.cfg.StartOffset), "batch_size", in.cfg.BatchSize, "batch_wait", in.cfg.BatchWait.String(),
		"tls", in.cfg.Security.tlsEnabled(), "sasl", cmp.Or(strings.ToLower(in.cfg.Security.SASL.Mechanism), "off"))

	wctx, cancel := context.WithCancel(ctx)
	layouts := make(chan layout, 1)
	var wg sync.WaitGroup
	wg.Go(func() { in.watch(wctx, layouts) })
	err := in.sessions(ctx, layouts)
	cancel()
	wg.Wait()
	if err := in.deadLetters.Close(); err != nil {
		in.logger.Warn("close dead-letter writer", "error", err)
	}
	in.logger.Info("kafka ingest stopped")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// sessions consumes the topics that exist, as a member of the group, until ctx is done. Each
// layout of the topics gets a session of its own: when a topic is created or deleted, or
// gains partitions, the member leaves the group and joins it again with the topics as they
// are, and the group spreads the partitions anew. While no topic exists, it waits.
func (in *Ingester) sessions(ctx context.Context, layouts chan layout) error {
	var current layout
	for ctx.Err() == nil {
		if len(current.topics(in.cfg.Topics)) == 0 {
			select {
			case current = <-layouts:
			case <-ctx.Done():
			}
			continue
		}
		next, err := in.consume(ctx, current, layouts)
		if err != nil {
			return err
		}
		current = next
	}
	return nil
}

// consume runs one session: it reads the topics of l until ctx is done or the watcher sends a
// different layout, which it returns. Batches not committed when it ends are delivered again,
// to this member or another, and recorded as duplicates of themselves.
func (in *Ingester) consume(ctx context.Context, l layout, layouts chan layout) (layout, error) {
	topics := l.topics(in.cfg.Topics)
	in.seedGroup(ctx, l, topics)
	commits := newOffsets()
	reader := kafkago.NewReader(in.readerConfig(topics, newStartSeeds(commits)))
	in.logger.Info("kafka group session starting", "topics", topics)

	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	msgs := make(chan kafkago.Message, in.cfg.BatchSize)
	slots := make(chan struct{}, in.cfg.InFlight)
	pending := make(chan *batch, in.cfg.InFlight)
	var fetchErr error
	var next layout
	wg.Go(func() { next = in.awaitChange(rctx, l, layouts, cancel) })
	wg.Go(func() { fetchErr = in.fetch(rctx, reader, msgs) })
	wg.Go(func() { in.complete(rctx, pending, slots, commits) })
	wg.Go(func() { in.commit(rctx, reader, commits) })
	in.batch(rctx, msgs, slots, pending, &wg)
	cancel()
	wg.Wait()
	if err := reader.Close(); err != nil {
		in.logger.Warn("close kafka reader", "error", err)
	}
	in.status.unassigned()
	switch {
	case ctx.Err() != nil:
		return nil, nil
	case next != nil:
		return next, nil
	}
	return nil, fetchErr
}

// awaitChange waits for a layout other than l and returns it, after calling end; or returns
// nil once ctx is done.
func (in *Ingester) awaitChange(ctx context.Context, l layout, layouts chan layout, end func()) layout {
	for {
		select {
		case next := <-layouts:
			if maps.Equal(next, l) {
				continue
			}
			in.logger.Info("kafka topics changed; joining the group again", "before", map[string]int(l), "now", map[string]int(next))
			end()
			return next
		case <-ctx.Done():
			return nil
		}
	}
}

// kafka-go tells of the group membership only in its log. These are its messages (as of
// v0.4.51; the tests of the status and of the start offset fail if they change) when the
// member has been given its partitions, when its generation ends and it joins the group
// again, and when the reader of a partition seeks to where it starts (or resumes, after a
// lost connection).
const (
	logAssigned       = "subscribed to topics and partitions: %+v"
	logGenerationOver = "stopped commit for group %s\n"
	logSeeking        = "the kafka reader for partition %d of %s is seeking to offset %d"
)

// observe follows the membership from kafka-go's log. When the group starts at the last
// offset, it tells seeds of the partitions assigned that the group has no committed offset
// for, and where their readers start, which is then committed (see seedGroup).
func (in *Ingester) observe(format string, args []any, seeds *startSeeds) {
	last := in.cfg.StartOffset == StartLast
	switch format {
	case logAssigned:
		if len(args) == 1 {
			if v := reflect.ValueOf(args[0]); v.Kind() == reflect.Map {
				in.status.assigned(v.Len())
				in.logger.Info("kafka group joined", "partitions", v.Len(), "assigned", assigned(v, nil))
				if last {
					seeds.assign(unstarted(v))
				}
			}
		}
	case logGenerationOver:
		in.status.unassigned()
		seeds.over()
	case logSeeking:
		if len(args) != 3 || !last {
			return
		}
		partition, ok1 := args[0].(int)
		topic, ok2 := args[1].(string)
		if offset := reflect.ValueOf(args[2]); ok1 && ok2 && offset.CanInt() {
			seeds.started(topicPartition{topic, partition}, offset.Int())
		}
	}
}

func (in *Ingester) readerConfig(topics []string, seeds *startSeeds) kafkago.ReaderConfig {
	start := kafkago.FirstOffset
	if in.cfg.StartOffset == StartLast {
		start = kafkago.LastOffset
	}
	return kafkago.ReaderConfig{
		Brokers:           in.cfg.Brokers,
		GroupID:           in.cfg.GroupID,
		GroupTopics:       topics,
		Dialer:            in.conn.dialer,
		StartOffset:       start,
		CommitInterval:    0, // synchronous: CommitMessages returns once the broker has the offsets
		QueueCapacity:     max(in.cfg.BatchSize, 100),
		MinBytes:          1,
		MaxBytes:          max(4<<20, 2*in.cfg.MaxMessageBytes),
		MaxWait:           500 * time.Millisecond,
		ReadLagInterval:   -1,
		SessionTimeout:    in.cfg.SessionTimeout,
		HeartbeatInterval: in.cfg.HeartbeatInterval,
		RebalanceTimeout:  in.cfg.RebalanceTimeout,
		JoinGroupBackoff:  min(in.cfg.RetryMax, time.Second),
		// Not WatchPartitionChanges: the watcher does that (see watch).
		Logger: kafkago.LoggerFunc(func(msg string, args ...any) {
			in.observe(msg, args, seeds)
			if in.logger.Enabled(context.Background(), slog.LevelDebug) {
				in.logger.Debug(fmt.Sprintf(msg, args...))
			}
		}),
		ErrorLogger: kafkago.LoggerFunc(func(msg string, args ...any) {
			err := fmt.Errorf(msg, args...)
			in.status.failed(err)
			switch ok, held := in.clientErrors.pass(in.now()); {
			case !ok:
				in.logger.Debug("kafka client error", "error", err)
			case held > 0:
				in.logger.Warn("kafka client error", "error", err, "held_back", held)
			default:
				in.logger.Warn("kafka client error", "error", err)
			}
		}),
	}
}

// complete takes the batches in the order they were fetched and, once each is durable, hands
// its offsets to the committer. A batch's slot in pending is freed then, not when the commit
// returns, so that the commit round trip does not hold up recording.
func (in *Ingester) complete(ctx context.Context, pending <-chan *batch, slots <-chan struct{}, commits *offsets) {
	for b := range pending {
		select {
		case <-b.done:
		case <-ctx.Done():
			return
		}
		if b.err != nil || ctx.Err() != nil {
			return // abandoned: the batch and all after it are delivered again
		}
		last := lastOfEachPartition(b.msgs)
		b.stats.Lag = make([]PartitionLag, len(last))
		for i, m := range last {
			b.stats.Lag[i] = PartitionLag{Topic: m.Topic, Partition: m.Partition, Lag: max(m.HighWaterMark-m.Offset-1, 0)}
		}
		commits.add(last, b)
		<-slots
	}
}

// commit commits the offsets complete hands over until ctx is done. While one commit is under
// way, the offsets of the batches completed meanwhile gather, and go in the next.
func (in *Ingester) commit(ctx context.Context, reader *kafkago.Reader, commits *offsets) {
	var delays *backoff // while commits fail
	for {
		select {
		case <-commits.ready:
		case <-ctx.Done():
			return
		}
		msgs, batches := commits.take()
		if ctx.Err() != nil {
			return
		}
		if err := reader.CommitMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return
			}
			// The events are durable: the offsets go again after a pause (or with the next
			// batch's), and should herald stop first, their messages are delivered again and
			// recorded as duplicates. Their batches count as committed once they are.
			if delays == nil {
				delays = newBackoff(in.cfg.RetryMin, in.cfg.RetryMax)
			}
			d := delays.delay()
			in.logger.Warn("commit offsets failed; retrying", "error", err, "partitions", len(msgs), "retry_in", d.String())
			in.status.failed(fmt.Errorf("commit offsets: %w", err))
			commits.restore(msgs, batches)
			if !sleep(ctx, d) {
				return
			}
			commits.signal()
			continue
		}
		delays = nil
		for _, b := range batches {
			b.stats.Took = time.Since(b.fetched)
			in.metrics.BatchCommitted(b.stats)
		}
	}
}

// offsets are the newest durable offset of each partition, waiting to be committed.
type offsets struct {
	mu      sync.Mutex
	last    map[topicPartition]kafkago.Message
	batches []*batch
	ready   chan struct{} // holds a token while there is something to commit
}

type topicPartition struct {
	topic     string
	partition int
}

func newOffsets() *offsets {
	return &offsets{last: map[topicPartition]kafkago.Message{}, ready: make(chan struct{}, 1)}
}

func (o *offsets) add(msgs []kafkago.Message, b *batch) {
	o.mu.Lock()
	o.merge(msgs)
	o.batches = append(o.batches, b)
	o.mu.Unlock()
	o.signal()
}

// seed adds the start of partitions the group never committed; it has no batch.
func (o *offsets) seed(msgs []kafkago.Message) {
	o.mu.Lock()
	o.merge(msgs)
	o.mu.Unlock()
	o.signal()
}

// signal says there is something to commit.
func (o *offsets) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// restore puts back offsets whose commit failed, unless newer ones came meanwhile, and their
// batches before those completed meanwhile.
func (o *offsets) restore(msgs []kafkago.Message, batches []*batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.merge(msgs)
	o.batches = append(batches, o.batches...)
}

func (o *offsets) merge(msgs []kafkago.Message) {
	for _, m := range msgs {
		k := topicPartition{m.Topic, m.Partition}
		if prev, ok := o.last[k]; !ok || m.Offset > prev.Offset {
			o.last[k] = m
		}
	}
}

func (o *offsets) take() ([]kafkago.Message, []*batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	msgs := make([]kafkago.Message, 0, len(o.last))
	for k, m := range o.last {
		msgs = append(msgs, m)
		delete(o.last, k)
	}
	batches := o.batches
	o.batches = nil
	return msgs, batches
}

// lastOfEachPartition returns the last message of each topic partition in msgs.
func lastOfEachPartition(msgs []kafkago.Message) []kafkago.Message {
	index := make(map[topicPartition]int, 8)
	var last []kafkago.Message
	for _, m := range msgs {
		k := topicPartition{m.Topic, m.Partition}
		if i, ok := index[k]; ok {
			if m.Offset > last[i].Offset {
				last[i] = m
			}
			continue
		}
		index[k] = len(last)
		last = append(last, m)
	}
	return last
}

package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// fetch moves messages from the reader to msgs until ctx is done or the reader is closed.
// A failing fetch is retried with backoff: kafka-go reconnects by itself.
func (in *Ingester) fetch(ctx context.Context, reader *kafkago.Reader, msgs chan<- kafkago.Message) error {
	defer close(msgs)
	errs := newBackoff(in.cfg.RetryMin, in.cfg.RetryMax)
	failed := true // until the first message
	for {
		m, err := reader.FetchMessage(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			return errors.New("kafka reader closed")
		case err != nil:
			failed = true
			err = in.explainFetch(err)
			in.status.brokersFailed(fmt.Errorf("fetch: %w", err))
			d := errs.delay()
			in.logger.Warn("kafka fetch failed; retrying", "error", err, "retry_in", d.String())
			if !sleep(ctx, d) {
				return nil
			}
			continue
		}
		if failed {
			failed = false
			errs = newBackoff(in.cfg.RetryMin, in.cfg.RetryMax)
			in.status.brokersOK()
		}
		select {
		case msgs <- m:
		case <-ctx.Done():
			return nil
		}
	}
}

// batch cuts the messages into batches and starts recording each, until ctx is done or msgs
// is closed. A batch holds up to BatchSize messages; it is sent once it is full, or once
// BatchWait has passed since its first message and one of the InFlight slots is free. While
// every slot is taken, it keeps filling: a busy store gets fewer, larger batches, not a queue
// of small ones.
func (in *Ingester) batch(ctx context.Context, msgs <-chan kafkago.Message, slots chan<- struct{}, pending chan<- *batch, wg *sync.WaitGroup) {
	defer close(pending)
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	for {
		var first kafkago.Message
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			first = m
		case <-ctx.Done():
			return
		}
		b := &batch{msgs: make([]kafkago.Message, 1, in.cfg.BatchSize), fetched: time.Now(), done: make(chan struct{})}
		b.msgs[0] = first
		wait.Reset(in.cfg.BatchWait)
		var slot chan<- struct{} // nil, which blocks, until the wait is over
		acquired := false
		for !acquired && len(b.msgs) < in.cfg.BatchSize {
			select {
			case m, ok := <-msgs:
				if !ok {
					return // the reader is gone; the batch is delivered again
				}
				b.msgs = append(b.msgs, m)
			case <-wait.C:
				slot = slots
			case slot <- struct{}{}:
				acquired = true
			case <-ctx.Done():
				return
			}
		}
		if !acquired {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		pending <- b // never blocks: pending holds as many batches as there are slots
		wg.Go(func() { in.process(ctx, b) })
	}
}

// explainFetch adds to a failed fetch what usually causes it: TLS or SASL that do not match
// the listener (Security.explain), or a session timeout the brokers do not allow, which they
// answer every attempt to join the group with.
func (in *Ingester) explainFetch(err error) error {
	if errors.Is(err, kafkago.InvalidSessionTimeout) {
		return fmt.Errorf("%w (the brokers refuse a session timeout of %s: set --kafka-session-timeout within their group.min.session.timeout.ms and group.max.session.timeout.ms, 6s and 30m unless changed)",
			err, in.cfg.SessionTimeout)
	}
	return in.cfg.Security.explain(err)
}

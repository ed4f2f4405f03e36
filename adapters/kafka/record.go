package kafka

import (
	"context"
	"errors"
	"fmt"

	"herald/domain"
)

// process makes a batch durable: bad messages to the dead-letter topic, valid events to the
// log. It retries until both are done or ctx is, and then closes the batch's done.
func (in *Ingester) process(ctx context.Context, b *batch) {
	defer close(b.done)
	now := in.now()
	events := make([]domain.LogEvent, 0, len(b.msgs))
	stamped := make([]bool, 0, len(b.msgs))
	from := make([]int, 0, len(b.msgs)) // index in b.msgs of each event
	var bad []deadLetter
	for i := range b.msgs {
		b.stats.count(b.msgs[i].Topic, func(c *Counts) { c.Consumed++ })
		e, s, err := eventOf(&b.msgs[i], in.cfg.MaxMessageBytes, now)
		if err != nil {
			bad = append(bad, deadLetter{msg: &b.msgs[i], err: err})
			continue
		}
		events = append(events, e)
		stamped = append(stamped, s)
		from = append(from, i)
	}
	if len(events) > 0 {
		rejected, err := in.record(ctx, b, events, stamped, from)
		if err != nil {
			b.err = err
			return
		}
		bad = append(bad, rejected...)
	}
	if len(bad) > 0 {
		if err := in.sendDeadLetters(ctx, bad); err != nil {
			b.err = err
			return
		}
		for _, d := range bad {
			b.stats.count(d.msg.Topic, func(c *Counts) { c.DeadLettered++ })
		}
	}
	if in.afterRecord != nil {
		in.afterRecord()
	}
}

// record records the events of a batch in one call, and returns the events the log refused
// to be dead-lettered. Should the store refuse the batch as invalid although every event
// passed validation here (its clock may differ), the events are recorded one by one and those
// it refuses are returned as well.
func (in *Ingester) record(ctx context.Context, b *batch, events []domain.LogEvent, stamped []bool, from []int) ([]deadLetter, error) {
	var res Recorded
	err := in.retry(ctx, StateRetryingStore, "record events", func() (err error) {
		res, err = in.recorder.Record(ctx, events, stamped)
		return err
	})
	var invalid *domain.ValidationError
	if !errors.As(err, &invalid) {
		if err != nil {
			return nil, err
		}
		var refused []deadLetter
		for i := range events {
			topic := b.msgs[from[i]].Topic
			switch reason, isRefused := res.Refused[i]; {
			case isRefused:
				refused = append(refused, deadLetter{msg: &b.msgs[from[i]], err: refusal(reason)})
			case res.duplicate(i):
				b.stats.count(topic, func(c *Counts) { c.Duplicates++ })
			default:
				b.stats.count(topic, func(c *Counts) { c.Recorded++ })
			}
		}
		return refused, nil
	}
	in.logger.Warn("the store refused a batch as invalid; recording its events one by one", "error", err, "events", len(events))
	var rejected []deadLetter
	for i := range events {
		err := in.retry(ctx, StateRetryingStore, "record event", func() (err error) {
			res, err = in.recorder.Record(ctx, events[i:i+1], stamped[i:i+1])
			return err
		})
		switch {
		case errors.As(err, &invalid):
			rejected = append(rejected, deadLetter{msg: &b.msgs[from[i]], err: err})
		case err != nil:
			return nil, err
		case len(res.Refused) > 0:
			rejected = append(rejected, deadLetter{msg: &b.msgs[from[i]], err: refusal(res.Refused[0])})
		case res.duplicate(0):
			b.stats.count(b.msgs[from[i]].Topic, func(c *Counts) { c.Duplicates++ })
		default:
			b.stats.count(b.msgs[from[i]].Topic, func(c *Counts) { c.Recorded++ })
		}
	}
	return rejected, nil
}

// refusal is the error a refused event is dead-lettered with: the log refuses an event for
// its id only.
func refusal(reason string) error { return &refusedError{reason: reason} }

// refusedError is a valid event the log refused: "event refused: id: event id ... is taken
// by an event of another account; ...". Its field is id (errorFields).
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return "event refused: id: " + e.reason }

// retry calls do until it succeeds, fails with a validation error (which no retry mends), or
// ctx is done, waiting with backoff between attempts. While it retries the status says state.
func (in *Ingester) retry(ctx context.Context, state State, what string, do func() error) error {
	var delays *backoff
	for attempt := 1; ; attempt++ {
		err := do()
		var invalid *domain.ValidationError
		if err == nil || errors.As(err, &invalid) || ctx.Err() != nil {
			if delays != nil {
				in.status.retryOver(state)
				if err == nil {
					in.logger.Info(what+" succeeded after retrying", "attempts", attempt)
				}
			}
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if delays == nil {
			delays = newBackoff(in.cfg.RetryMin, in.cfg.RetryMax)
			in.status.retryStarted(state, fmt.Errorf("%s: %w", what, err))
		} else {
			in.status.failed(fmt.Errorf("%s: %w", what, err)) // the last error, and when: it may change as the outage goes on
		}
		d := delays.delay()
		in.logger.Warn(what+" failed; retrying, nothing is committed meanwhile", "error", err, "attempt", attempt, "retry_in", d.String())
		if !sleep(ctx, d) {
			in.status.retryOver(state)
			return ctx.Err()
		}
	}
}

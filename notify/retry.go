package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// RetryPolicy says how often and how long a retryable failure is tried again: exponential
// backoff with jitter, stretched to the receiver's Retry-After, bounded in attempts and in
// time. Past either bound the failure becomes final and the notification goes to the
// poison queue.
type RetryPolicy struct {
	MaxAttempts     int           // sends in all, the first included
	InitialInterval time.Duration // wait after the first failure
	MaxInterval     time.Duration // longest wait between two sends (a Retry-After may exceed it)
	MaxElapsed      time.Duration // give up once this much time has passed since the first send
	Jitter          float64       // each wait is randomised by ± this fraction
}

// DefaultRetryPolicy retries for up to about ten minutes.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 10, InitialInterval: time.Second, MaxInterval: 2 * time.Minute, MaxElapsed: 10 * time.Minute, Jitter: 0.2}
}

// Validate checks the policy.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("retry: max attempts is %d; use at least 1", p.MaxAttempts)
	case p.InitialInterval <= 0 || p.MaxInterval < p.InitialInterval:
		return fmt.Errorf("retry: intervals %s..%s: the initial interval must be positive and not above the maximum", p.InitialInterval, p.MaxInterval)
	case p.MaxElapsed <= 0:
		return fmt.Errorf("retry: max elapsed %s must be positive", p.MaxElapsed)
	case p.Jitter < 0 || p.Jitter >= 1:
		return fmt.Errorf("retry: jitter %v must be in [0, 1)", p.Jitter)
	}
	return nil
}

// wait is the pause after the attempt-th send failed with err.
func (p RetryPolicy) wait(attempt int, err error) time.Duration {
	d := p.InitialInterval
	for i := 1; i < attempt && d < p.MaxInterval; i++ {
		d *= 2
	}
	d = min(d, p.MaxInterval)
	if p.Jitter > 0 {
		d = time.Duration(float64(d) * (1 + p.Jitter*(2*rand.Float64()-1)))
	}
	var se *SendError
	if errors.As(err, &se) && se.RetryAfter > d {
		d = se.RetryAfter
	}
	return d
}

// middleware retries the handler while its error is retryable and the policy allows; the
// handler steps aside (DelivererConfig.StepAside) while it waits.
func (p RetryPolicy) middleware(retried func(msg *message.Message, wait time.Duration, err error), aside StepAside) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			start := time.Now()
			for attempt := attemptOf(msg) + 1; ; attempt++ {
				msg.Metadata.Set(metaAttempt, strconv.Itoa(attempt))
				out, err := h(msg)
				if err != nil && errors.Is(err, errTransient) {
					// herald's own side failed and nothing was sent: the message is handed
					// over again without this attempt counted
					msg.Metadata.Set(metaAttempt, strconv.Itoa(attempt-1))
					return out, err
				}
				if err == nil || !IsRetryable(err) {
					return out, err
				}
				wait, final := p.next(attempt, time.Since(start), err)
				if final != nil {
					return out, final
				}
				retried(msg, wait, err)
				if err := aside.sleep(msg.Context(), wait); err != nil {
					return nil, err
				}
			}
		}
	}
}

// RetryScheduler keeps a notification until its next attempt is due, then publishes it again
// to its topic (retryqueue.Queue, on Redis).
type RetryScheduler interface {
	Schedule(ctx context.Context, topic string, msg *message.Message, at time.Time) error
}

// metaFirstSend is when the first send of a notification was tried (unix nanoseconds), for
// the policy's MaxElapsed across scheduled retries.
const metaFirstSend = "herald_first_send"

// deferred is middleware for subscribers that hand out one message at a time (Redis
// Streams): a retryable failure is scheduled for its time and the message acknowledged, so
// that the wait holds nothing; the policy's bounds count every send of the notification.
func (p RetryPolicy) deferred(s RetryScheduler, topic string, retried func(msg *message.Message, wait time.Duration, err error)) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			prevAttempt, prevFirst := msg.Metadata.Get(metaAttempt), msg.Metadata.Get(metaFirstSend)
			attempt := attemptOf(msg) + 1
			msg.Metadata.Set(metaAttempt, strconv.Itoa(attempt))
			first := time.Now()
			if ns, err := strconv.ParseInt(prevFirst, 10, 64); err == nil && ns > 0 {
				first = time.Unix(0, ns)
			} else {
				msg.Metadata.Set(metaFirstSend, strconv.FormatInt(first.UnixNano(), 10))
			}
			out, err := h(msg)
			if err != nil && errors.Is(err, errTransient) {
				// herald's own failure (its ledger): nothing was sent, the message comes back
				// as it was
				msg.Metadata.Set(metaAttempt, prevAttempt)
				msg.Metadata.Set(metaFirstSend, prevFirst)
			}
			if err == nil || !IsRetryable(err) {
				return out, err
			}
			wait, final := p.next(attempt, time.Since(first), err)
			if final != nil {
				return out, final
			}
			if serr := s.Schedule(msg.Context(), topic, msg, time.Now().Add(wait)); serr != nil {
				return nil, fmt.Errorf("%w: %v", errTransient, serr) // handed over again after a pause
			}
			retried(msg, wait, err)
			return nil, nil
		}
	}
}

// next is the wait before another send after the attempt-th failed with err, elapsed after
// the first; or, once the policy is exhausted, the final failure to hand the poison queue.
func (p RetryPolicy) next(attempt int, elapsed time.Duration, err error) (time.Duration, error) {
	wait := p.wait(attempt, err)
	var se *SendError
	if elapsed+wait > p.MaxElapsed && attempt < p.MaxAttempts && errors.As(err, &se) && se.RetryAfter > p.MaxElapsed-elapsed {
		// the receiver asked to wait past the retry window: say so, or "gave up after 1
		// attempt" reads like herald's own doing
		final := giveUp(err, attempt, elapsed)
		final.Err = fmt.Errorf("%w; the receiver asked to be sent again in %s (Retry-After), after herald's retries end (--notify-max-retry-time)",
			final.Err, se.RetryAfter.Round(time.Second))
		return 0, final
	}
	if attempt >= p.MaxAttempts || elapsed+wait > p.MaxElapsed {
		return 0, giveUp(err, attempt, elapsed)
	}
	return wait, nil
}

// giveUp turns a retryable failure into a final one once the policy is exhausted.
func giveUp(err error, attempts int, took time.Duration) *SendError {
	var se *SendError
	status, last := 0, err
	if errors.As(err, &se) { // its status leads the message once, not twice
		status, last = se.Status, se.Err
	}
	tries := "attempts"
	if attempts == 1 {
		tries = "attempt"
	}
	return &SendError{Status: status, Err: fmt.Errorf("gave up after %d %s over %s; the last failed with: %w", attempts, tries, took.Round(time.Millisecond), last)}
}

package notify

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"herald/domain"
)

// losingLocks hand out pair locks whose context the test ends, as a lock in Redis that could
// not be renewed ends its holder's.
type losingLocks struct{ lose chan context.CancelCauseFunc }

func (l losingLocks) Hold(ctx context.Context, _, _ string) (context.Context, func(), error) {
	held, cancel := context.WithCancelCause(ctx)
	l.lose <- cancel
	return held, func() { cancel(context.Canceled) }, nil
}

var errLockLost = errors.New("the pair lock was lost")

// lockSender sends once the test has ended the pair lock's context, either giving up with it
// (as an HTTP request does) or having got the notification out before it noticed.
type lockSender struct {
	sending, lost chan struct{}
	completes     bool
}

func (s lockSender) Send(ctx context.Context, _ Notification) (Receipt, error) {
	close(s.sending)
	<-s.lost
	if s.completes {
		return Receipt{Status: 200}, nil
	}
	<-ctx.Done()
	return Receipt{}, &SendError{Retryable: true, Err: ctx.Err()}
}

// liveLedger refuses to record with an ended context, as the store does.
type liveLedger struct{ settlingLedger }

func (l *liveLedger) Record(ctx context.Context, d domain.Delivery) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return l.settlingLedger.Record(ctx, d)
}

// TestDeliverer_aLostPairLockStopsTheSendButNotTheRecord: when the pair lock is lost during
// a send (another instance may take the pair over), a send cut short is herald's failure,
// handed over again (not retried against the receiver nor dead-lettered); a send that got
// out before is still recorded in the ledger, so that it is not sent again.
func TestDeliverer_aLostPairLockStopsTheSendButNotTheRecord(t *testing.T) {
	for _, completes := range []bool{false, true} {
		ledger := &liveLedger{settlingLedger{done: map[pairKey]domain.Delivery{}}}
		locks := losingLocks{lose: make(chan context.CancelCauseFunc, 1)}
		sender := lockSender{sending: make(chan struct{}), lost: make(chan struct{}), completes: completes}
		e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
		d, err := NewDeliverer(DelivererConfig{
			Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
			Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
			System: []domain.Configuration{{ID: "c1", Kind: domain.KindWebhook}}, Ledger: ledger,
			Logger: slog.New(slog.DiscardHandler), Now: time.Now, Pairs: locks,
		})
		if err != nil {
			t.Fatal(err)
		}
		job := Job{EventID: "e1", ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Trigger: domain.TriggerDispatch, Fact: domain.EventRecorded{Event: e}.Encode().Data}
		go func() {
			lose := <-locks.lose
			<-sender.sending
			lose(errLockLost)
			close(sender.lost)
		}()
		_, err = d.onePerPair(d.Handle)(job.Message())
		_, recorded := ledger.done[pairKey{"e1", "c1"}]
		if completes {
			if err != nil || !recorded {
				t.Errorf("a send that got out as the lock was lost: error %v, recorded %v; want it recorded", err, recorded)
			}
			continue
		}
		if !errors.Is(err, errTransient) {
			t.Errorf("a send cut short by the lost lock: %v, want herald's own (transient) failure", err)
		}
		var se *SendError
		if errors.As(err, &se) || recorded {
			t.Errorf("a send cut short by the lost lock was taken for the receiver's failure (%v) or recorded (%v)", err, recorded)
		}
	}
}

// finalSender answers with a final failure (400) once the test lets it.
type finalSender struct{ sending, answer chan struct{} }

func (s finalSender) Send(context.Context, Notification) (Receipt, error) {
	close(s.sending)
	<-s.answer
	return Receipt{Status: 400}, &SendError{Status: 400, Err: errors.New("Bad Request")}
}

// TestDeliverer_aReceiversAnswerAfterTheStopStands: a send let finish after herald began to
// stop keeps the receiver's answer (a final 400 goes to the poison queue as usual); only a
// send that herald's side ended is its own, transient, failure.
func TestDeliverer_aReceiversAnswerAfterTheStopStands(t *testing.T) {
	sender := finalSender{sending: make(chan struct{}), answer: make(chan struct{})}
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelError, Message: "m", Timestamp: time.Now()}
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindWebhook: sender},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		System: []domain.Configuration{{ID: "c1", Kind: domain.KindWebhook}}, Ledger: &settlingLedger{done: map[pairKey]domain.Delivery{}},
		Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := Job{EventID: "e1", ConfigurationID: "c1", Kind: domain.KindWebhook, Position: 1, Trigger: domain.TriggerDispatch, Fact: domain.EventRecorded{Event: e}.Encode().Data}.Message()
	running, stop := context.WithCancel(context.Background())
	msg.SetContext(running)
	go func() {
		<-sender.sending
		stop() // herald stops while the receiver answers
		close(sender.answer)
	}()
	_, err = markStop(d.Handle)(msg)
	var se *SendError
	if errors.Is(err, errTransient) || !errors.As(err, &se) || se.Status != 400 {
		t.Errorf("a final answer that came after the stop: %v, want the receiver's 400", err)
	}
}

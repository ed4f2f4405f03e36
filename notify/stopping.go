package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// stopGrace is how long a send under way when herald stops may go on. Watermill ends every
// message's context as soon as the router closes; a send cut off then may well have reached
// the receiver without herald knowing, and would go out again after the restart. The router
// waits a second longer (its CloseTimeout), for the ledger to record the outcome.
const stopGrace = 4 * time.Second

// errStopping marks a notification handed back because herald is stopping: it is not a
// failure, and is logged at debug level only.
var errStopping = errors.New("herald is stopping; the notification is handed out again after the restart")

type stopKey struct{}

// markStop is router middleware that keeps, in the message's context, the signal that herald
// is stopping: the end of the context the router gave the message, before other middleware
// (a pair lock) derives contexts of its own from it.
func markStop(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		msg.SetContext(context.WithValue(msg.Context(), stopKey{}, msg.Context().Done()))
		return h(msg)
	}
}

// stopSignal is closed once herald is stopping; nil where no router marked it (tests that
// call the handler themselves).
func stopSignal(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return stop
}

// isStopping tells whether herald is stopping.
func isStopping(ctx context.Context) bool {
	select {
	case <-stopSignal(ctx):
		return true
	default:
		return false
	}
}

// lingering returns a context for a send under way: it has ctx's values and ends with ctx,
// except when ctx ends because herald is stopping (stopSignal). Then it ends stopGrace later,
// or when cancel is called.
func lingering(ctx context.Context) (context.Context, context.CancelFunc) {
	stop := stopSignal(ctx)
	if stop == nil {
		return context.WithCancel(ctx)
	}
	out, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	// The stop signal is closed before ctx, which derives from it, ends.
	unhook := context.AfterFunc(ctx, func() {
		select {
		case <-stop:
			t := time.NewTimer(stopGrace)
			defer t.Stop()
			select {
			case <-t.C:
				cancel(fmt.Errorf("herald is stopping, and the send did not end within %s", stopGrace))
			case <-out.Done():
			}
		default:
			cancel(context.Cause(ctx)) // a lost pair lock: the send stops now
		}
	})
	return out, func() { unhook(); cancel(context.Canceled) }
}

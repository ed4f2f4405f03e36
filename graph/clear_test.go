package graph

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"herald/commands"
	"herald/domain"
	"herald/graph/model"
)

// laggingViews never reach the log's head.
type laggingViews struct{}

func (laggingViews) WaitFor(context.Context, uint64) error { return nil }
func (laggingViews) WaitForHead(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

type countingClearer struct{ calls int }

func (c *countingClearer) Handle(context.Context, commands.DeleteEvents) (commands.DeleteEventsResult, error) {
	c.calls++
	return commands.DeleteEventsResult{Count: 1}, nil
}

// A clear while the event-log view lags behind the log (a rebuild) is refused: the view's
// matches would leave out the events it has not read, and the clear would report success.
func TestDeleteEvents_waitsForTheViewsToHoldTheLog(t *testing.T) {
	clearer := &countingClearer{}
	r := &mutationResolver{&Resolver{DeleteEvents: clearer, Views: laggingViews{}, Logger: slog.New(slog.DiscardHandler)}}
	ctx := WithActor(context.Background(), domain.SystemActor())
	_, err := r.DeleteEvents(ctx, &model.EventFilter{})
	if !errors.Is(err, errViewsBehind) || clearer.calls != 0 {
		t.Fatalf("clear with the view behind: %v, %d calls of the command; want it refused", err, clearer.calls)
	}
}

// Package graph serves herald's GraphQL API: thin resolvers that parse input, call a command
// or a query, and map the result. The schema is in graph/schema; graph/generated is gqlgen's.
package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"herald/commands"
	"herald/domain"
	"herald/graph/model"
	"herald/projections"
)

// ViewWaiter waits until the views have applied a position, so that a client reads what it
// just wrote.
type ViewWaiter interface {
	WaitFor(ctx context.Context, position uint64) error
}

// The commands the resolvers call.
type (
	EventRecorder interface {
		Handle(ctx context.Context, cmd commands.RecordEvents) (commands.RecordEventsResult, error)
	}
	EventDeleter interface {
		Handle(ctx context.Context, cmd commands.DeleteEvent) (uint64, error)
	}
	EventClearer interface {
		Handle(ctx context.Context, cmd commands.DeleteEvents) (commands.DeleteEventsResult, error)
	}
)

// Resolver holds what the resolvers call. cmd/herald builds it.
type Resolver struct {
	RecordEvents EventRecorder
	DeleteEvent  EventDeleter
	DeleteEvents EventClearer
	EventLog     projections.EventLogQueries
	Feed         *projections.Feed
	Views        ViewWaiter
	Logger       *slog.Logger
}

// Validate refuses a resolver with missing parts.
func (r *Resolver) Validate() error {
	if r.RecordEvents == nil || r.DeleteEvent == nil || r.DeleteEvents == nil || r.Feed == nil || r.Views == nil || r.Logger == nil {
		return fmt.Errorf("graph resolver: %w", errors.New("nil dependency"))
	}
	return nil
}

// viewWaitLimit bounds how long a mutation waits for the views to show its write. The write is
// durable either way; past the limit the client may briefly read the log as it was.
const viewWaitLimit = 5 * time.Second

func (r *Resolver) waitForViews(ctx context.Context, position uint64) {
	if position == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, viewWaitLimit)
	defer cancel()
	if err := r.Views.WaitFor(ctx, position); err != nil {
		r.Logger.WarnContext(ctx, "views lag behind a write", "position", position, "error", err)
	}
}

// record runs RecordEvents, naming invalid events after the argument they came in (arg), and
// waits until the views show the new events.
func (r *Resolver) record(ctx context.Context, events []domain.LogEvent, arg string) (*model.RecordEventsPayload, error) {
	res, err := r.RecordEvents.Handle(ctx, commands.RecordEvents{Events: events})
	if err != nil {
		return nil, inputPath(err, "events", arg)
	}
	r.waitForViews(ctx, res.LastPosition)
	recorded, duplicates := res.Counts()
	out := &model.RecordEventsPayload{Recorded: recorded, Duplicates: duplicates, Results: make([]model.RecordEventResult, len(res.Outcomes))}
	for i, o := range res.Outcomes {
		status := model.RecordStatusRecorded
		if o.Status == commands.Duplicate {
			status = model.RecordStatusDuplicate
		}
		out.Results[i] = model.RecordEventResult{ID: o.ID, Status: status}
	}
	return out, nil
}

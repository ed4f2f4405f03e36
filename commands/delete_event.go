package commands

import (
	"context"
	"errors"
	"fmt"

	"herald/domain"
)

// DeleteEvent removes one event from the log for good.
type DeleteEvent struct {
	Actor domain.Actor
	ID    string
}

// DeleteEventHandler handles DeleteEvent.
type DeleteEventHandler struct {
	store EventStore
	now   Clock
}

// NewDeleteEventHandler builds the handler.
func NewDeleteEventHandler(store EventStore, now Clock) (DeleteEventHandler, error) {
	if store == nil || now == nil {
		return DeleteEventHandler{}, fmt.Errorf("new delete event handler: %w", errNilDependency)
	}
	return DeleteEventHandler{store: store, now: now}, nil
}

// Handle records EventDeleted in the account's event-log stream, then deletes the event's own
// stream, so that its payload is gone from the store and a rebuild never sees it. It returns
// the position of the EventDeleted fact. An unknown or already deleted id is domain.ErrEventNotFound.
func (h DeleteEventHandler) Handle(ctx context.Context, cmd DeleteEvent) (uint64, error) {
	if !domain.ValidEventID(cmd.ID) {
		return 0, &domain.ValidationError{Fields: []domain.FieldError{{Field: "id", Message: fmt.Sprintf("%s is not an event id", domain.Quote(cmd.ID))}}}
	}
	if err := cmd.Actor.Require(domain.DeleteEvents); err != nil {
		return 0, err
	}
	event, err := readEvent(ctx, h.store, cmd.ID)
	if err != nil {
		return 0, err
	}
	if !cmd.Actor.Sees(event.Account()) {
		return 0, domain.EventNotFound(cmd.ID) // not found, not forbidden: ids are not probed
	}
	fact := domain.EventDeleted{ID: cmd.ID, Account: event.Account(), DeletedAt: h.now()}
	res, err := h.store.Append(ctx, domain.EventLogStream(event.Account()), domain.Any(), fact.Encode())
	if err != nil {
		return 0, fmt.Errorf("append %s: %w", domain.EventDeletedType, err)
	}
	if err := h.store.DeleteStream(ctx, domain.LogEventStream(cmd.ID), domain.Any()); err != nil && !errors.Is(err, domain.ErrStreamDeleted) {
		return 0, fmt.Errorf("delete stream of event %s: %w", cmd.ID, err)
	}
	return res.Position, nil
}

// readEvent reads an event from its stream.
func readEvent(ctx context.Context, store EventStore, id string) (domain.LogEvent, error) {
	records, err := store.ReadStream(ctx, domain.LogEventStream(id))
	return domain.EventOfStream(id, records, err)
}

package commands

import (
	"context"
	"fmt"
	"time"

	"herald/domain"
)

// ApplyRetention clears the events that occurred longer than MaxAge ago, so that the log does
// not grow without bound. It is a bulk clear like any other: one EventsCleared fact.
type ApplyRetention struct {
	MaxAge time.Duration
}

// ApplyRetentionHandler handles ApplyRetention.
type ApplyRetentionHandler struct {
	clear DeleteEventsHandler
	now   Clock
}

// NewApplyRetentionHandler builds the handler on top of the bulk clear.
func NewApplyRetentionHandler(clear DeleteEventsHandler, now Clock) (ApplyRetentionHandler, error) {
	if clear.store == nil || now == nil {
		return ApplyRetentionHandler{}, fmt.Errorf("new apply retention handler: %w", errNilDependency)
	}
	return ApplyRetentionHandler{clear: clear, now: now}, nil
}

// Handle clears the expired events and returns how many there were. With nothing expired it
// appends no fact.
func (h ApplyRetentionHandler) Handle(ctx context.Context, cmd ApplyRetention) (int, error) {
	if cmd.MaxAge <= 0 {
		return 0, &domain.ValidationError{Fields: []domain.FieldError{{Field: "retention", Message: "must be a positive duration"}}}
	}
	res, err := h.clear.Handle(ctx, DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Before: h.now().Add(-cmd.MaxAge)}})
	return res.Count, err
}

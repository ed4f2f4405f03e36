package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"herald/domain"
)

// DeleteEvents clears every event that matches a filter (a bulk clear).
type DeleteEvents struct {
	Actor  domain.Actor // a non-admin actor clears only its own account's events
	Filter domain.EventFilter
}

// MatchingEvents finds the ids of the events a filter selects; the event-log view answers it.
type MatchingEvents interface {
	MatchingIDs(ctx context.Context, f domain.EventFilter) ([]string, error)
}

// DeleteEventsResult tells how many events were cleared and where the fact landed.
type DeleteEventsResult struct {
	Count    int
	Position uint64
}

// DeleteEventsHandler handles DeleteEvents.
type DeleteEventsHandler struct {
	store   EventStore
	matches MatchingEvents
	now     Clock
	logger  *slog.Logger
}

// NewDeleteEventsHandler builds the handler.
func NewDeleteEventsHandler(store EventStore, matches MatchingEvents, now Clock, logger *slog.Logger) (DeleteEventsHandler, error) {
	if store == nil || matches == nil || now == nil || logger == nil {
		return DeleteEventsHandler{}, fmt.Errorf("new delete events handler: %w", errNilDependency)
	}
	return DeleteEventsHandler{store: store, matches: matches, now: now, logger: logger}, nil
}

// purgeWorkers is how many stream deletions run at once; the store commits them in groups.
const purgeWorkers = 64

// Handle appends one EventsCleared fact holding the criteria (none when nothing matches), which removes the matching
// events from every view (now and after any rebuild), then deletes the streams of the events
// it found so their payloads leave the store. Events recorded after the fact are untouched.
func (h DeleteEventsHandler) Handle(ctx context.Context, cmd DeleteEvents) (DeleteEventsResult, error) {
	if err := cmd.Actor.Require(domain.DeleteEvents); err != nil {
		return DeleteEventsResult{}, err
	}
	if err := cmd.Filter.Validate(); err != nil {
		return DeleteEventsResult{}, err
	}
	filter, err := cmd.Actor.ScopeFilter(cmd.Filter)
	if err != nil {
		return DeleteEventsResult{}, err
	}
	cmd.Filter = filter
	ids, err := h.matches.MatchingIDs(ctx, cmd.Filter)
	if err != nil {
		return DeleteEventsResult{}, fmt.Errorf("find events to clear: %w", err)
	}
	if len(ids) == 0 {
		return DeleteEventsResult{}, nil // nothing to clear: no fact
	}
	account := cmd.Filter.Account
	if account == "" {
		account = domain.AllAccounts
	}
	fact := domain.EventsCleared{Criteria: cmd.Filter, Count: len(ids), ClearedAt: h.now()}
	res, err := h.store.Append(ctx, domain.EventLogStream(account), domain.Any(), fact.Encode())
	if err != nil {
		return DeleteEventsResult{}, fmt.Errorf("append %s: %w", domain.EventsClearedType, err)
	}
	// The clear has happened once its fact is stored; the purge only frees space, so it
	// finishes even if the caller goes away, and a failure is logged rather than reported.
	if err := h.purge(context.WithoutCancel(ctx), ids); err != nil {
		h.logger.Warn("cleared events are hidden but some payloads stay in the store", "error", err)
	}
	return DeleteEventsResult{Count: len(ids), Position: res.Position}, nil
}

// purge deletes the streams of cleared events, logging progress for large clears.
func (h DeleteEventsHandler) purge(ctx context.Context, ids []string) error {
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(purgeWorkers, len(ids)) {
		wg.Go(func() {
			for id := range work {
				err := h.store.DeleteStream(ctx, domain.LogEventStream(id), domain.Any())
				if err != nil && !errors.Is(err, domain.ErrStreamDeleted) && !errors.Is(err, domain.ErrStreamNotFound) {
					once.Do(func() { firstErr = fmt.Errorf("delete stream of event %s: %w", id, err) })
				}
				done.Add(1)
			}
		})
	}
	start := time.Now()
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ticker.C:
			h.logger.Info("purging cleared events", "done", done.Load(), "total", len(ids), "elapsed", time.Since(start).Round(time.Second))
			work <- id
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

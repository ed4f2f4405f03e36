package commands

import (
	"context"
	"errors"
	"fmt"
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
	// MatchingIDs returns the ids of the matching events at or below position upTo, the point
	// up to which the view had applied the log.
	MatchingIDs(ctx context.Context, f domain.EventFilter) (ids []string, upTo uint64, err error)
}

// DeleteEventsResult tells how many events were cleared and where the fact landed.
type DeleteEventsResult struct {
	Count    int
	Position uint64
}

// PurgeHooks tell the caller how the purges after clears go; a nil hook is told nothing. They
// are the handler's, not a command's, because a purge is no concern of whoever asks for the
// clear (a resolver, retention). Every Handle shares them, clears may run at once, and a purge
// goes on after the request that began it has gone: they must be safe for concurrent use.
type PurgeHooks struct {
	// Progress, when set, is told how far each purge is.
	Progress PurgeProgress
	// Unpurged, when set, is told of a clear whose purge stopped (a store error, the server
	// stopping), and why: its events are hidden, but some payloads stay in the store until
	// ResumePurges at the next start purges them.
	Unpurged func(clearID string, err error)
	// Unrecorded, when set, is told of a clear whose purge is done but whose PurgeFinished fact
	// was not appended, and why: ResumePurges at the next start checks it again.
	Unrecorded func(clearID string, err error)
}

// PurgeProgress is told every 2 s how far the deletion of a clear's events is: done of total
// event streams, elapsed since it began. Clears (PurgeHooks) and ResumePurges both tell it.
type PurgeProgress func(done, total int, elapsed time.Duration)

// DeleteEventsHandler handles DeleteEvents.
type DeleteEventsHandler struct {
	store    EventStore
	matches  MatchingEvents
	now      Clock
	hooks    PurgeHooks
	lifetime context.Context // the server's: a purge outlives its request, not the server
}

// NewDeleteEventsHandler builds the handler. A purge stops when lifetime ends (the server
// stopping), and the next start finishes it. hooks are told how each purge goes.
func NewDeleteEventsHandler(lifetime context.Context, store EventStore, matches MatchingEvents, now Clock, hooks PurgeHooks) (DeleteEventsHandler, error) {
	if lifetime == nil || store == nil || matches == nil || now == nil {
		return DeleteEventsHandler{}, fmt.Errorf("new delete events handler: %w", errNilDependency)
	}
	return DeleteEventsHandler{store: store, matches: matches, now: now, hooks: hooks, lifetime: lifetime}, nil
}

// purgeWorkers is how many stream deletions run at once; the store commits them in groups.
const purgeWorkers = 64

// Handle clears the matching events the event-log view holds. It appends PurgeScheduled, then
// one EventsCleared fact holding the criteria and the view's checkpoint (none when nothing
// matches), which removes those events from every view, now and after any rebuild. Then it
// deletes the streams of the events it found, so that their payloads leave the store, and
// appends PurgeFinished. A purge that does not finish (a crash, a store error) is finished by
// ResumePurges at the next start. Events recorded after the checkpoint are untouched.
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
	ids, upTo, err := h.matches.MatchingIDs(ctx, filter)
	if err != nil {
		return DeleteEventsResult{}, fmt.Errorf("find events to clear: %w", err)
	}
	if len(ids) == 0 {
		return DeleteEventsResult{}, nil // nothing to clear: no fact
	}
	account := filter.Account
	if account == "" {
		account = domain.AllAccounts
	}
	clearID := NewEventID()
	scheduled := domain.PurgeScheduled{ClearID: clearID, Account: account, Criteria: filter, UpTo: upTo, ScheduledAt: h.now()}
	if _, err := h.store.Append(ctx, domain.PurgesStream, domain.Any(), scheduled.Encode()); err != nil {
		return DeleteEventsResult{}, fmt.Errorf("append %s: %w", domain.PurgeScheduledType, err)
	}
	fact := domain.EventsCleared{Criteria: filter, Count: len(ids), UpTo: upTo, ClearID: clearID, ClearedAt: h.now()}
	res, err := h.store.Append(ctx, domain.EventLogStream(account), domain.Any(), fact.Encode())
	if err != nil {
		// The fact may be stored all the same (a timeout): the scheduled purge stays, and the
		// next start purges if the fact is there.
		return DeleteEventsResult{}, fmt.Errorf("append %s: %w", domain.EventsClearedType, err)
	}
	// The clear has happened once its fact is stored; the purge only frees space, so it
	// finishes even if the caller goes away, and a failure is told to the hooks rather than
	// returned. It stops when the server does (a retention clear of a large log could hold a
	// shutdown for minutes): the next start finishes it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(h.lifetime, cancel)()
	deleted, err := purgeEvents(ctx, h.store, h.hooks.Progress, ids)
	if err != nil {
		if h.hooks.Unpurged != nil {
			h.hooks.Unpurged(clearID, err)
		}
		return DeleteEventsResult{Count: len(ids), Position: res.Position}, nil
	}
	finished := domain.PurgeFinished{ClearID: clearID, Cleared: true, Deleted: deleted, FinishedAt: h.now()}
	if _, err := h.store.Append(ctx, domain.PurgesStream, domain.Any(), finished.Encode()); err != nil && h.hooks.Unrecorded != nil {
		h.hooks.Unrecorded(clearID, err)
	}
	return DeleteEventsResult{Count: len(ids), Position: res.Position}, nil
}

// purgeEvents deletes the streams of cleared events, telling progress (when set) every 2 s for
// large clears, and returns how many it deleted (streams already gone are not counted). A
// deletion that fails is tried three times in all. Clears and ResumePurges both purge through
// it.
func purgeEvents(ctx context.Context, store EventStore, progress PurgeProgress, ids []string) (int, error) {
	var done, deleted atomic.Int64
	var firstErr error
	var once sync.Once
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(purgeWorkers, len(ids)) {
		wg.Go(func() {
			for id := range work {
				gone, err := deleteEventStream(ctx, store, id)
				if err != nil {
					once.Do(func() { firstErr = err })
				}
				if gone {
					deleted.Add(1)
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
			if progress != nil {
				progress(int(done.Load()), len(ids), time.Since(start))
			}
			work <- id
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return int(deleted.Load()), firstErr
	}
	return int(deleted.Load()), ctx.Err()
}

// deleteEventStream deletes the stream of event id, trying three times in all. deleted is false
// when the stream was already gone.
func deleteEventStream(ctx context.Context, store EventStore, id string) (deleted bool, err error) {
	for attempt := 1; ; attempt++ {
		err = store.DeleteStream(ctx, domain.LogEventStream(id), domain.Any())
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, domain.ErrStreamDeleted) || errors.Is(err, domain.ErrStreamNotFound):
			return false, nil
		case attempt == 3 || ctx.Err() != nil:
			return false, fmt.Errorf("delete stream of event %s: %w", id, err)
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return false, fmt.Errorf("delete stream of event %s: %w", id, ctx.Err())
		}
	}
}

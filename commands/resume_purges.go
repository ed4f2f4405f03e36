package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"herald/domain"
)

// LogReader reads the whole log in order.
type LogReader interface {
	// ReadAll returns up to limit records with a global position above from, in order.
	ReadAll(ctx context.Context, from uint64, limit int) ([]domain.Record, error)
}

// ResumePurges finishes the purges of bulk clears that an earlier run left unfinished: herald
// stopped mid-purge, or the store refused some deletions.
type ResumePurges struct {
	// Resuming, when set, is told of each purge whose clear was recorded, before its events
	// are looked for.
	Resuming func(p domain.PurgeScheduled)
	// Finding, when set, is told every 2 s how far the search for a clear's events is: the log
	// read to position readTo of the clear's upTo, found events matching so far.
	Finding func(clearID string, readTo, upTo uint64, found int)
	// Progress, when set, is told how far the deletion of a clear's events is.
	Progress PurgeProgress
}

// ResumePurgesResult tells what a ResumePurges run did.
type ResumePurgesResult struct {
	Finished int // purges finished, the clear's events' streams deleted
	Dropped  int // purges scheduled for a clear that was never recorded
	Left     int // purges of a clear not recorded yet, perhaps still running elsewhere
	Deleted  int // event streams deleted
}

// ResumePurgesHandler handles ResumePurges.
type ResumePurgesHandler struct {
	store EventStore
	log   LogReader
	now   Clock
}

// NewResumePurgesHandler builds the handler.
func NewResumePurgesHandler(store EventStore, log LogReader, now Clock) (ResumePurgesHandler, error) {
	if store == nil || log == nil || now == nil {
		return ResumePurgesHandler{}, fmt.Errorf("new resume purges handler: %w", errNilDependency)
	}
	return ResumePurgesHandler{store: store, log: log, now: now}, nil
}

// unrecordedClearGrace is how long a scheduled purge whose EventsCleared fact is missing is
// left alone: the clear may still be on its way from another instance. After it, the clear
// failed and the purge is dropped.
const unrecordedClearGrace = 10 * time.Minute

// scanPage is how many records a purge reads from the log at a time.
const scanPage = 10_000

// Handle finds every purge scheduled and not finished. When its clear was recorded, it deletes
// the stream of every event the clear hides (a matching EventRecorded fact at or below the
// clear's UpTo whose stream still exists), found by reading the log up to UpTo, and records
// PurgeFinished. Purging twice is harmless, so a purge another instance is still running may
// be finished here as well.
func (h ResumePurgesHandler) Handle(ctx context.Context, cmd ResumePurges) (ResumePurgesResult, error) {
	var res ResumePurgesResult
	pending, err := h.pending(ctx)
	if err != nil {
		return res, err
	}
	for _, p := range pending {
		recorded, err := h.clearRecorded(ctx, p)
		if err != nil {
			return res, err
		}
		if !recorded {
			if h.now().Sub(p.ScheduledAt) < unrecordedClearGrace {
				res.Left++
				continue
			}
			if err := h.finish(ctx, domain.PurgeFinished{ClearID: p.ClearID, FinishedAt: h.now()}); err != nil {
				return res, err
			}
			res.Dropped++
			continue
		}
		deleted, err := h.purge(ctx, cmd, p)
		res.Deleted += deleted
		if err != nil {
			return res, err
		}
		if err := h.finish(ctx, domain.PurgeFinished{ClearID: p.ClearID, Cleared: true, Deleted: deleted, FinishedAt: h.now()}); err != nil {
			return res, err
		}
		res.Finished++
	}
	return res, nil
}

// pending returns the purges scheduled and not finished, oldest first.
func (h ResumePurgesHandler) pending(ctx context.Context) ([]domain.PurgeScheduled, error) {
	records, err := h.store.ReadStream(ctx, domain.PurgesStream)
	if errors.Is(err, domain.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the scheduled purges: %w", err)
	}
	var order []string
	open := map[string]domain.PurgeScheduled{}
	for _, r := range records {
		switch r.Type {
		case domain.PurgeScheduledType:
			p, err := domain.DecodePurgeScheduled(r.Data)
			if err != nil {
				return nil, fmt.Errorf("read the scheduled purges: %s at revision %d: %w", domain.PurgesStream, r.Revision, err)
			}
			open[p.ClearID] = p
			order = append(order, p.ClearID)
		case domain.PurgeFinishedType:
			f, err := domain.DecodePurgeFinished(r.Data)
			if err != nil {
				return nil, fmt.Errorf("read the scheduled purges: %s at revision %d: %w", domain.PurgesStream, r.Revision, err)
			}
			delete(open, f.ClearID)
		}
	}
	var pending []domain.PurgeScheduled
	for _, id := range order {
		if p, ok := open[id]; ok {
			pending = append(pending, p)
		}
	}
	return pending, nil
}

// clearRecorded tells whether the EventsCleared fact of a scheduled purge is in the log.
func (h ResumePurgesHandler) clearRecorded(ctx context.Context, p domain.PurgeScheduled) (bool, error) {
	records, err := h.store.ReadStream(ctx, domain.EventLogStream(p.Account))
	if errors.Is(err, domain.ErrStreamNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for clear %s: %w", p.ClearID, err)
	}
	for i := len(records) - 1; i >= 0; i-- {
		if records[i].Type != domain.EventsClearedType {
			continue
		}
		f, err := domain.DecodeEventsCleared(records[i].Data)
		if err != nil {
			return false, fmt.Errorf("look for clear %s: %w", p.ClearID, err)
		}
		if f.ClearID == p.ClearID {
			return true, nil
		}
	}
	return false, nil
}

// purge deletes the stream of every event the clear hides that is still in the log.
func (h ResumePurgesHandler) purge(ctx context.Context, cmd ResumePurges, p domain.PurgeScheduled) (int, error) {
	if cmd.Resuming != nil {
		cmd.Resuming(p)
	}
	ids, err := h.hiddenEvents(ctx, cmd, p)
	if err != nil {
		return 0, err
	}
	deleted, err := purgeEvents(ctx, h.store, cmd.Progress, ids)
	if err != nil {
		return deleted, fmt.Errorf("purge clear %s: %w", p.ClearID, err)
	}
	return deleted, nil
}

// hiddenEvents reads the log up to the clear's UpTo and returns the ids of the matching events
// still there, telling cmd.Finding how far it is every 2 s.
func (h ResumePurgesHandler) hiddenEvents(ctx context.Context, cmd ResumePurges, p domain.PurgeScheduled) ([]string, error) {
	var ids []string
	last := time.Now()
	for from := uint64(0); from < p.UpTo; {
		records, err := h.log.ReadAll(ctx, from, scanPage)
		if err != nil {
			return nil, fmt.Errorf("purge clear %s: %w", p.ClearID, err)
		}
		if len(records) == 0 {
			break
		}
		for _, r := range records {
			if r.Position > p.UpTo {
				break
			}
			if r.Type != domain.EventRecordedType || !strings.HasPrefix(r.Stream, domain.LogEventStreamPrefix) {
				continue
			}
			e, err := domain.DecodeEventRecordedHeader(r.Data)
			if err != nil {
				return nil, fmt.Errorf("purge clear %s: record %d: %w", p.ClearID, r.Position, err)
			}
			if p.Criteria.Matches(e) {
				ids = append(ids, e.ID)
			}
		}
		from = records[len(records)-1].Position
		if cmd.Finding != nil && time.Since(last) > 2*time.Second {
			cmd.Finding(p.ClearID, from, p.UpTo, len(ids))
			last = time.Now()
		}
	}
	return ids, nil
}

func (h ResumePurgesHandler) finish(ctx context.Context, f domain.PurgeFinished) error {
	if _, err := h.store.Append(ctx, domain.PurgesStream, domain.Any(), f.Encode()); err != nil {
		return fmt.Errorf("append %s: %w", domain.PurgeFinishedType, err)
	}
	return nil
}

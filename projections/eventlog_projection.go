package projections

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"herald/domain"
)

// EventLogViewName names the event-log view.
const EventLogViewName = "eventlog"

// EventLogProjection applies the event-log facts to an EventLogView and tells the live feed
// about recorded events.
type EventLogProjection struct {
	view EventLogView
	feed *Feed
}

// NewEventLogProjection builds the projection; feed may be nil.
func NewEventLogProjection(view EventLogView, feed *Feed) (*EventLogProjection, error) {
	if view == nil {
		return nil, fmt.Errorf("new event log projection: nil view")
	}
	return &EventLogProjection{view: view, feed: feed}, nil
}

// Name implements Projection.
func (p *EventLogProjection) Name() string { return EventLogViewName }

// Checkpoint implements Projection.
func (p *EventLogProjection) Checkpoint(ctx context.Context) (uint64, error) {
	return p.view.Checkpoint(ctx)
}

// Reset implements Projection.
func (p *EventLogProjection) Reset(ctx context.Context) error { return p.view.Reset(ctx) }

// parallelDecodeMin is the batch size from which records are decoded on every core.
const parallelDecodeMin = 512

// Apply implements Projection.
func (p *EventLogProjection) Apply(ctx context.Context, records []domain.Record) error {
	changes := make([]Change, len(records))
	live := p.feed != nil && p.feed.HasSubscribers()
	if err := decodeChanges(records, changes); err != nil {
		return err
	}
	kept := changes[:0]
	for _, c := range changes {
		if c.Recorded != nil || c.Deleted != "" || c.Cleared != nil {
			kept = append(kept, c)
		}
	}
	if err := p.view.Apply(ctx, kept, records[len(records)-1].Position); err != nil {
		return err
	}
	if live {
		for i, r := range records {
			if r.Type == domain.EventRecordedType && changes[i].Recorded != nil {
				if full, err := domain.DecodeEventRecorded(r.Data); err == nil {
					p.feed.Publish(full.Event)
				}
			}
		}
	}
	return nil
}

// decodeChanges decodes records into changes, splitting large batches across cores.
func decodeChanges(records []domain.Record, changes []Change) error {
	workers := runtime.GOMAXPROCS(0)
	if len(records) < parallelDecodeMin || workers == 1 {
		return decodeRange(records, changes)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	chunk := (len(records) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(records))
		if lo >= hi {
			break
		}
		wg.Go(func() { errs[w] = decodeRange(records[lo:hi], changes[lo:hi]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeRange(records []domain.Record, changes []Change) error {
	for i, r := range records {
		c, err := changeOf(r)
		if err != nil {
			return fmt.Errorf("record %d (%s in %s): %w", r.Position, r.Type, r.Stream, err)
		}
		changes[i] = c
	}
	return nil
}

// changeOf decodes the change one record makes to the event-log view (none for records of
// other views).
func changeOf(r domain.Record) (Change, error) {
	switch r.Type {
	case domain.EventRecordedType:
		e, err := domain.DecodeEventRecordedHeader(r.Data)
		if err != nil {
			return Change{}, err
		}
		entry := EntryOf(e, r.Position)
		return Change{Recorded: &entry, At: r.Position}, nil
	case domain.EventDeletedType:
		f, err := domain.DecodeEventDeleted(r.Data)
		if err != nil {
			return Change{}, err
		}
		return Change{Deleted: f.ID, At: r.Position}, nil
	case domain.EventsClearedType:
		f, err := domain.DecodeEventsCleared(r.Data)
		if err != nil {
			return Change{}, err
		}
		return Change{Cleared: &f, At: r.Position}, nil
	case domain.StreamDeletedType:
		if id, ok := strings.CutPrefix(r.Stream, domain.LogEventStreamPrefix); ok {
			return Change{Deleted: id, At: r.Position}, nil
		}
	}
	return Change{}, nil
}

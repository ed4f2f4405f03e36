package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"herald/domain"
	"herald/projections"
)

// eventFinder finds a backfill's events in the event-log view and reads their facts from the
// store (notify.EventFinder).
type eventFinder struct {
	queries projections.EventLogQueries
	store   eventReader
}

// eventReader reads an event's stream from the store.
type eventReader interface {
	projections.StreamReader
	ReadLast(ctx context.Context, stream string) (domain.Record, error)
}

// EventsBetween implements notify.EventFinder.
func (f eventFinder) EventsBetween(ctx context.Context, account string, since, before time.Time, visit func(int, domain.LogEvent) error) error {
	filter := domain.EventFilter{Account: account, Since: since, Before: before}
	actor := domain.SystemActor()
	total, err := f.queries.Count(ctx, actor, filter)
	if err != nil {
		return err
	}
	after := ""
	for {
		page, err := f.queries.Events(ctx, actor, filter, projections.MaxPageSize, after)
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			ev := domain.LogEvent{
				ID: e.ID, Timestamp: e.Timestamp, Level: e.Level, Type: e.Type,
				Resource: domain.Resource{ID: e.ResourceID, Type: e.ResourceType, UserID: e.Account},
				Source:   domain.Source{ServiceName: e.Service, HostID: e.Host},
			}
			if err := visit(total, ev); err != nil {
				return err
			}
		}
		if !page.HasNextPage || len(page.Cursors) == 0 {
			return nil
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
}

// EventDeleted implements notify.DeletedEvents.
func (f eventFinder) EventDeleted(ctx context.Context, eventID string) (bool, error) {
	// The stream's newest fact, not all of them: the deliverer asks this of every late
	// notification, and reading the whole stream costs an iterator, about twice as much.
	_, err := f.store.ReadLast(ctx, domain.LogEventStream(eventID))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read event %s: %w", eventID, err)
	}
	return false, nil
}

// EventRecord implements notify.EventFinder.
func (f eventFinder) EventRecord(ctx context.Context, eventID string) (domain.Record, error) {
	records, err := f.store.ReadStream(ctx, domain.LogEventStream(eventID))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return domain.Record{}, domain.ErrEventNotFound // deleted since it was listed
	case err != nil:
		return domain.Record{}, fmt.Errorf("read event %s: %w", eventID, err) // the backfill fails, saying why
	}
	for _, r := range records {
		if r.Type == domain.EventRecordedType {
			return r, nil
		}
	}
	return domain.Record{}, domain.ErrEventNotFound
}

// configurationLog answers from the event store whether a configuration was removed, for
// the deliverer to tell a removed configuration from one its view does not hold yet.
type configurationLog struct{ store projections.StreamReader }

// ConfigurationRemoved implements notify.RemovedConfigurations.
func (l configurationLog) ConfigurationRemoved(ctx context.Context, id string) (bool, error) {
	records, err := l.store.ReadStream(ctx, domain.ConfigurationStream(id))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return true, nil
	case err != nil:
		return false, err
	}
	for _, r := range records {
		if r.Type == domain.ConfigurationDeletedType {
			return true, nil
		}
	}
	return false, nil
}

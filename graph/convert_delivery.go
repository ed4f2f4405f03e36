package graph

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"herald/domain"
	"herald/graph/model"
	"herald/notify"
	"herald/projections"
)

// visibleBackfill returns the progress of backfill id when the caller may follow it; ok is
// false with a nil error for an unknown id and for another account's, alike (not found, not
// forbidden: ids are not probed).
func (r *Resolver) visibleBackfill(ctx context.Context, id string) (p notify.BackfillProgress, ok bool, err error) {
	actor, err := actorOf(ctx)
	if err != nil {
		return notify.BackfillProgress{}, false, err
	}
	if err := actor.Require(domain.BackfillNotifications); err != nil {
		return notify.BackfillProgress{}, false, err
	}
	p, ok, err = r.Notifications.Backfills.Progress(ctx, id)
	if err != nil || !ok || !actor.Sees(p.Account) {
		return notify.BackfillProgress{}, false, err
	}
	return p, true, nil
}

// backfillConfiguration is the configuration id, for a caller who may backfill and sees it.
func (r *Resolver) backfillConfiguration(ctx context.Context, id string) (domain.Configuration, error) {
	actor, err := actorOf(ctx)
	if err != nil {
		return domain.Configuration{}, err
	}
	if err := actor.Require(domain.BackfillNotifications); err != nil {
		return domain.Configuration{}, err
	}
	return r.Notifications.Queries.Configuration(ctx, actor, id)
}

// testConfiguration is the configuration a test goes through, credentials opened: a saved
// one (id), or unsaved settings (kind and input).
func (r *Resolver) testConfiguration(ctx context.Context, actor domain.Actor, id *string, kind *model.EndpointKind, input *model.ConfigurationInput) (domain.Configuration, error) {
	switch {
	case id != nil && (kind != nil || input != nil):
		return domain.Configuration{}, invalid("id", "give either the id of a saved configuration, or kind and input for unsaved settings, not both")
	case id != nil:
		c, err := r.Notifications.Queries.Configuration(ctx, actor, *id)
		if err != nil {
			return domain.Configuration{}, err
		}
		if c.Settings, err = r.Notifications.OpenSettings(c.Settings); err != nil {
			return domain.Configuration{}, fmt.Errorf("open the credentials of configuration %s: %w", c.ID, err)
		}
		return c, nil
	case kind == nil || input == nil:
		return domain.Configuration{}, invalid("kind", "give the id of a saved configuration, or kind and input for unsaved settings")
	}
	k := kindOf(*kind)
	draft, err := draftOf(k, *input, actor.Account)
	if err != nil {
		return domain.Configuration{}, inputPath(err, "", "input")
	}
	if draft.Selectors == nil { // a test needs none; Validate wants one
		sel, _ := domain.NewSelector(domain.ScopeAccount, "*", "*", "*", false)
		draft.Selectors = []domain.Selector{sel}
	}
	if err := draft.Validate(actor.Account); err != nil {
		return domain.Configuration{}, draftPath(err, k)
	}
	return domain.Configuration{ID: "unsaved", Account: actor.Account, Kind: k, Name: draft.Name, VerifyTLS: draft.VerifyTLS, Settings: draft.Settings, Templates: draft.Templates}, nil
}

// pageSize reads a query's first argument: 0 (the queries' default page) when left out, else
// a size between 1 and most; an explicit 0 is a mistake, not "the default".
func pageSize(first *int, most int) (int, error) {
	switch {
	case first == nil:
		return 0, nil
	case *first < 1 || *first > most:
		return 0, invalid("first", fmt.Sprintf("is %d; it must lie between 1 and %d", *first, most))
	}
	return *first, nil
}

func invalid(field, message string) error {
	return &domain.ValidationError{Fields: []domain.FieldError{{Field: field, Message: message}}}
}

func modelTestResult(res notify.TestResult) *model.NotificationTestResult {
	out := &model.NotificationTestResult{Delivered: res.Delivered, Retryable: res.Retryable, LatencyMs: float64(res.Latency.Microseconds()) / 1000}
	if res.ReceiverStatus != 0 {
		out.ReceiverStatus = &res.ReceiverStatus
	}
	if res.Error != "" {
		out.Error = &res.Error
	}
	if res.Response != "" {
		out.Response = &res.Response
	}
	return out
}

func modelDelivery(d domain.Delivery) model.NotificationDelivery {
	out := model.NotificationDelivery{
		EventID: d.EventID, ConfigurationID: d.ConfigurationID, Account: d.Account, Kind: modelKind(d.Kind),
		EventType: d.EventType, Level: d.Level.String(), Status: model.DeliveryStatus(strings.ToUpper(string(d.Status))),
		Attempts: d.Attempts, LatencyMs: float64(d.Latency.Microseconds()) / 1000, Trigger: string(d.Trigger), At: d.At,
	}
	if d.ReceiverStatus != 0 {
		out.ReceiverStatus = &d.ReceiverStatus
	}
	if d.Error != "" {
		out.Error = &d.Error
	}
	return out
}

// deliveryFilter reads the deliveries query's arguments.
func deliveryFilter(configurationID, eventID *string, status *model.DeliveryStatus, since, before *time.Time, after *string) (projections.DeliveryFilter, uint64, error) {
	f := projections.DeliveryFilter{ConfigurationID: value(configurationID, ""), EventID: value(eventID, "")}
	if status != nil {
		f.Status = domain.DeliveryStatus(strings.ToLower(string(*status)))
	}
	if since != nil {
		f.Since = *since
	}
	if before != nil {
		f.Before = *before
	}
	var cursor uint64
	if after != nil && *after != "" {
		var err error
		if cursor, err = strconv.ParseUint(*after, 10, 64); err != nil {
			return f, 0, invalid("after", "is not a cursor of this query; pass the next value of the previous page")
		}
	}
	return f, cursor, nil
}

func modelBackfill(p notify.BackfillProgress) *model.BackfillJob {
	out := &model.BackfillJob{
		ID: p.ID, ConfigurationID: p.ConfigurationID, Before: p.Before, State: model.BackfillState(strings.ToUpper(string(p.State))),
		Total: p.Total, Scanned: p.Scanned, Matched: p.Matched, Skipped: p.Skipped, Published: p.Published,
		Delivered: p.Delivered, Failed: p.Failed, StartedAt: p.StartedAt,
	}
	if !p.Since.IsZero() {
		out.Since = &p.Since
	}
	if p.Error != "" {
		out.Error = &p.Error
	}
	if !p.FinishedAt.IsZero() {
		out.FinishedAt = &p.FinishedAt
	}
	return out
}

// unknownDeliveryFilter tells a history filter that found nothing because its configuration
// or event id is unknown (a typo) from one that matched nothing. A configuration removed, or
// an event deleted, keeps its history: an id is unknown only when nothing of the kind is
// visible and no history names it either. Nil when the ids are known, or were left out.
func (r *Resolver) unknownDeliveryFilter(ctx context.Context, actor domain.Actor, configurationID, eventID *string) error {
	if configurationID != nil {
		if _, err := r.Notifications.Queries.Configuration(ctx, actor, *configurationID); errors.Is(err, domain.ErrConfigurationNotFound) &&
			!r.hasHistory(ctx, actor, projections.DeliveryFilter{ConfigurationID: *configurationID}) {
			return err
		}
	}
	if eventID != nil {
		if _, err := r.EventLog.Event(ctx, actor, *eventID); errors.Is(err, domain.ErrEventNotFound) &&
			!r.hasHistory(ctx, actor, projections.DeliveryFilter{EventID: *eventID}) {
			return err
		}
	}
	return nil
}

// hasHistory tells whether the caller sees a delivery matching f; a failure to read counts
// as yes, so that the caller gets the empty page rather than a wrong "unknown id".
func (r *Resolver) hasHistory(ctx context.Context, actor domain.Actor, f projections.DeliveryFilter) bool {
	page, err := r.Notifications.Deliveries.Deliveries(ctx, actor, f, 0, 1)
	return err != nil || len(page.Deliveries) > 0
}

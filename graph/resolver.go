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
	"herald/notify"
	"herald/projections"
)

// ViewWaiter waits until the views have applied a position (WaitFor), or everything the log
// holds now (WaitForHead), so that a client reads what it just wrote.
type ViewWaiter interface {
	WaitFor(ctx context.Context, position uint64) error
	WaitForHead(ctx context.Context) error
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
	// EventLogView waits on the event-log view alone, for what reads it whole (a bulk
	// clear's matches); nil: Views.
	EventLogView ViewWaiter
	Logger       *slog.Logger

	// Auth checks credentials; RequireAuth false makes requests without credentials act as
	// the admin account (for local use).
	Auth        Authenticator
	RequireAuth bool
	// AllowedOrigins are the host patterns (path.Match: "*.example.com") of other sites whose
	// pages may open websockets; same-origin pages and non-browser clients need none.
	AllowedOrigins []string
	// WebsocketRecheck is how often an open websocket's credentials are checked again
	// (DefaultWebsocketRecheck when 0).
	WebsocketRecheck time.Duration

	Access        AccessDeps
	Notifications NotificationDeps
	Projections   ProjectionControl
}

// ProjectionControl reports and rebuilds the views.
type ProjectionControl interface {
	// Progress reports every view, and the log's head.
	Progress(ctx context.Context) ([]projections.Progress, uint64, error)
	// Rebuild drops one view, or every view for "", and returns once they are dropped; the
	// runners then apply the log to them again.
	Rebuild(ctx context.Context, view string) error
}

// AccountReader reads the accounts view.
type AccountReader interface {
	Account(ctx context.Context, name string) (domain.Account, bool, error)
	Accounts(ctx context.Context) ([]domain.Account, error)
}

// AccessDeps are the commands and view behind accounts, users and tokens.
type AccessDeps struct {
	Accounts       AccountReader
	CreateAccount  commands.CreateAccountHandler
	AddUser        commands.AddUserHandler
	RemoveUser     commands.RemoveUserHandler
	GrantRole      commands.GrantRoleHandler
	SetRetention   commands.SetRetentionHandler
	ChangePassword commands.ChangePasswordHandler
	IssueToken     commands.IssueTokenHandler
	RevokeToken    commands.RevokeTokenHandler
	// PasswordChanged, when set, is told of each password this server changed (serve removes
	// the file of the generated first password once that password is changed).
	PasswordChanged func(account, user string)
}

// NotificationDeps are the commands and queries behind endpoint configurations.
type NotificationDeps struct {
	Queries projections.ConfigurationQueries
	Create  commands.CreateConfigurationHandler
	Update  commands.UpdateConfigurationHandler
	Delete  commands.DeleteConfigurationHandler
	Status  commands.SetEndpointStatusHandler
	// Delivery: tests, backfills and the delivery history.
	Tester       Tester
	OpenSettings func(domain.Settings) (domain.Settings, error)
	Backfills    Backfills
	Deliveries   projections.DeliveryQueries
	// Background bounds backfills: the server's lifetime, not a request's.
	Background context.Context
}

// Tester sends test notifications (notify.Deliverer).
type Tester interface {
	Test(ctx context.Context, c domain.Configuration) notify.TestResult
}

// Backfills runs and reports backfills (notify.Backfiller).
type Backfills interface {
	Start(ctx context.Context, c domain.Configuration, since, before time.Time) (notify.BackfillProgress, error)
	Progress(ctx context.Context, id string) (notify.BackfillProgress, bool, error)
	Cancel(ctx context.Context, id string) (notify.BackfillProgress, bool, error)
	List(ctx context.Context, configurationID string) ([]notify.BackfillProgress, error)
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

// waitViews runs wait for at most viewWaitLimit; when it fails (the limit passed, the views
// failed) it logs that the views lag behind a write, with attrs, and returns the error.
func (r *Resolver) waitViews(ctx context.Context, wait func(context.Context) error, attrs ...any) error {
	wctx, cancel := context.WithTimeout(ctx, viewWaitLimit)
	defer cancel()
	err := wait(wctx)
	if err != nil {
		r.Logger.WarnContext(ctx, "views lag behind a write", append(attrs, "error", err)...)
	}
	return err
}

// waitForHead waits until the views hold every write made so far.
func (r *Resolver) waitForHead(ctx context.Context) { _ = r.waitViews(ctx, r.Views.WaitForHead) }

// errViewsBehind refuses what needs the views to hold the whole log while they do not.
var errViewsBehind = errors.New("the event-log view has not read the whole log yet (it is rebuilding or catching up), and a clear now would miss the events it has not read: try again once herald projections status shows it live")

// eventLogAtHead waits, for at most viewWaitLimit, until the event-log view holds everything
// the log holds now; past that it returns errViewsBehind.
func (r *Resolver) eventLogAtHead(ctx context.Context) error {
	view := r.EventLogView
	if view == nil {
		view = r.Views
	}
	wctx, cancel := context.WithTimeout(ctx, viewWaitLimit)
	defer cancel()
	switch err := view.WaitForHead(wctx); {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return errViewsBehind
	default: // the store could not say where the log ends, or the view failed
		return fmt.Errorf("wait for the event-log view to hold the log: %w", err)
	}
}

// writeNotShownError is a durable write the views did not show within viewWaitLimit: a
// mutation that answers from them would answer with the state before it.
type writeNotShownError struct {
	what     string
	position uint64 // 0: the write's position is not known (the views were waited on to the log's head)
}

func (e *writeNotShownError) Error() string {
	at := ""
	if e.position != 0 {
		at = fmt.Sprintf(" (log position %d)", e.position)
	}
	return fmt.Sprintf("%s was recorded%s, but the views have not shown it within %s, so herald cannot answer with it: they are catching up (see herald projections status). Read it again shortly; do not write it again", e.what, at, viewWaitLimit)
}

// viewsShow waits, for at most viewWaitLimit, until the views show the write at position, for
// a mutation that answers from them; past that it returns a writeNotShownError naming what.
func (r *Resolver) viewsShow(ctx context.Context, position uint64, what string) error {
	if position == 0 {
		return nil
	}
	return r.shown(ctx, what, position, func(ctx context.Context) error { return r.Views.WaitFor(ctx, position) })
}

// viewsShowHead is viewsShow for a write whose position the command does not tell: it waits
// until the views hold the whole log.
func (r *Resolver) viewsShowHead(ctx context.Context, what string) error {
	return r.shown(ctx, what, 0, r.Views.WaitForHead)
}

func (r *Resolver) shown(ctx context.Context, what string, position uint64, wait func(context.Context) error) error {
	switch err := r.waitViews(ctx, wait, "what", what, "position", position); {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return &writeNotShownError{what: what, position: position}
}

// waitForViews waits until the views show the write at position, and only logs past the limit.
func (r *Resolver) waitForViews(ctx context.Context, position uint64) {
	if position != 0 {
		_ = r.waitViews(ctx, func(ctx context.Context) error { return r.Views.WaitFor(ctx, position) }, "position", position)
	}
}

// record runs RecordEvents, naming invalid events after the argument they came in (arg), and
// waits until the views show the new events.
func (r *Resolver) record(ctx context.Context, events []domain.LogEvent, arg string) (*model.RecordEventsPayload, error) {
	actor, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	res, err := r.RecordEvents.Handle(ctx, commands.RecordEvents{Actor: actor, Events: events})
	if err != nil {
		return nil, inputPath(err, "events", arg)
	}
	r.waitForViews(ctx, res.LastPosition)
	c := res.Counts()
	out := &model.RecordEventsPayload{Recorded: c.Recorded, Duplicates: c.Duplicates, Refused: c.Refused, Results: make([]model.RecordEventResult, len(res.Outcomes))}
	for i, o := range res.Outcomes {
		out.Results[i] = model.RecordEventResult{ID: o.ID, Status: model.RecordStatusRecorded}
		switch o.Status {
		case commands.Duplicate:
			out.Results[i].Status = model.RecordStatusDuplicate
			if o.Reason != "" {
				out.Results[i].Reason = &o.Reason
			}
		case commands.Refused:
			out.Results[i].Status = model.RecordStatusRefused
			out.Results[i].Reason = &o.Reason
		}
	}
	return out, nil
}

package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/secrets"
	"herald/adapters/views/memory"
	"herald/commands"
	"herald/domain"
	"herald/graph/model"
	"herald/projections"
)

// stallingViews are views that, once stalled, do not show a write within the mutation's wait
// (as WaitFor answers when its limit passes); until then they wait on the runner.
type stallingViews struct {
	runner  *projections.Runner
	stalled atomic.Bool
}

func (v *stallingViews) WaitFor(ctx context.Context, position uint64) error {
	if v.stalled.Load() {
		return context.DeadlineExceeded
	}
	return v.runner.WaitFor(ctx, position)
}

func (v *stallingViews) WaitForHead(ctx context.Context) error {
	if v.stalled.Load() {
		return context.DeadlineExceeded
	}
	return nil
}

// A configuration (or an account) written while the views lag more than viewWaitLimit behind is recorded, but
// the mutation does not answer with the configuration as the views still show it (the state
// before the write, which `herald config edit` would report as "unchanged"): it answers
// UNAVAILABLE, saying the write was recorded and not to write it again.
func TestConfigurationWrites_answerUnavailableWhenTheViewsDoNotShowThem(t *testing.T) {
	ctx, cancel := context.WithCancel(WithActor(context.Background(), domain.SystemActor()))
	defer cancel()
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sealer, err := secrets.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Now() }
	view := memory.NewConfigurations()
	projection, _ := projections.NewConfigurationProjection(view)
	runner, _ := projections.NewRunner(store, projection, slog.New(slog.DiscardHandler), nil)
	go func() { _ = runner.Run(ctx) }()
	views := &stallingViews{runner: runner}
	var ids atomic.Int64
	var deps NotificationDeps
	deps.Queries, _ = projections.NewConfigurationQueries(view)
	deps.Create, _ = commands.NewCreateConfigurationHandler(store, sealer, func() string { return fmt.Sprint("cfg-", ids.Add(1)) }, now)
	deps.Update, _ = commands.NewUpdateConfigurationHandler(store, sealer, now)
	logs := &strings.Builder{}
	var access AccessDeps
	access.CreateAccount, _ = commands.NewCreateAccountHandler(store, now)
	r := &mutationResolver{&Resolver{Views: views, Notifications: deps, Access: access, Logger: slog.New(slog.NewTextHandler(logs, nil))}}
	account := domain.AdminAccount
	input := model.ConfigurationInput{Name: "hook", Webhook: &model.WebhookSettingsInput{URL: new("https://hooks.example/a")}, QuickSelections: []string{"all"}}

	created, err := r.CreateNotificationEndpointConfiguration(ctx, model.EndpointKindWebhook, input, &account)
	if err != nil {
		t.Fatal(err)
	}
	views.stalled.Store(true)
	input.Webhook.URL = new("https://hooks.example/b")
	_, err = r.UpdateNotificationEndpointConfiguration(ctx, created.ID, input, nil)
	var notShown *writeNotShownError
	if !errors.As(err, &notShown) {
		t.Fatalf("an edit the views do not show: %v, want it told as not shown", err)
	}
	for _, want := range []string{"the change to configuration cfg-1 was recorded", "herald projections status", "do not write it again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the answer does not say %q: %v", want, err)
		}
	}
	gerr := ErrorPresenter(slog.New(slog.DiscardHandler), nil)(ctx, err)
	if gerr.Extensions["code"] != CodeUnavailable || gerr.Extensions["position"] != notShown.position {
		t.Errorf("the GraphQL error's extensions: %v, want code %s and the write's position %d", gerr.Extensions, CodeUnavailable, notShown.position)
	}
	records, err := store.ReadStream(ctx, domain.ConfigurationStream(created.ID))
	if err != nil || records[len(records)-1].Position != notShown.position {
		t.Fatalf("the edit is not in the log at the position told (%d): %v", notShown.position, err)
	}
	if !strings.Contains(logs.String(), "views lag behind a write") {
		t.Errorf("the server log does not say the views lag:\n%s", logs)
	}

	input.Name = "second"
	if _, err := r.CreateNotificationEndpointConfiguration(ctx, model.EndpointKindWebhook, input, &account); !errors.As(err, &notShown) || !strings.Contains(err.Error(), "configuration cfg-2 was recorded") {
		t.Fatalf("a configuration created while the views do not show it: %v", err)
	}
	_, err = r.CreateAccount(ctx, "alice")
	if !errors.As(err, &notShown) || !strings.Contains(err.Error(), "account alice was recorded, but") {
		t.Fatalf("an account created while the views do not show it: %v", err)
	}
	if gerr := ErrorPresenter(slog.New(slog.DiscardHandler), nil)(ctx, err); gerr.Extensions["code"] != CodeUnavailable || gerr.Extensions["position"] != nil {
		t.Errorf("the GraphQL error's extensions: %v, want code %s and no position (the command does not tell it)", gerr.Extensions, CodeUnavailable)
	}
}

package commands_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"herald/adapters/secrets"
	"herald/commands"
	"herald/domain"
)

func sealer(t *testing.T) *secrets.Sealer {
	t.Helper()
	s, err := secrets.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfigurations_createUpdateDeleteKeepSecretsSealed(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	seal := sealer(t)
	create, _ := commands.NewCreateConfigurationHandler(store, seal, func() string { return "cfg-1" }, clock)
	update, _ := commands.NewUpdateConfigurationHandler(store, seal, clock)
	del, _ := commands.NewDeleteConfigurationHandler(store, clock)
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	bob := domain.Actor{Account: "bob", User: "bo", Role: domain.RoleReadWrite}
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := domain.ConfigurationDraft{Name: "ops channel", Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/very-secret")}, Selectors: []domain.Selector{sel}}

	id, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: alice, Draft: draft})
	if err != nil || id != "cfg-1" {
		t.Fatalf("create: %s %v", id, err)
	}
	records, _ := store.ReadStream(ctx, domain.ConfigurationStream(id))
	if bytes.Contains(records[0].Data, []byte("very-secret")) {
		t.Fatalf("the webhook URL is stored in clear: %s", records[0].Data)
	}

	// An update that leaves the secret empty keeps it.
	renamed := domain.ConfigurationDraft{Name: "ops", Settings: domain.SlackSettings{}}
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: renamed}); err != nil {
		t.Fatalf("update keeping the secret: %v", err)
	}
	records, _ = store.ReadStream(ctx, domain.ConfigurationStream(id))
	fact, err := domain.DecodeConfigurationFact(records[1].Type, records[1].Data, domain.KindSlack)
	if err != nil {
		t.Fatal(err)
	}
	kept := fact.(domain.ConfigurationUpdated).Draft
	plain, err := seal.Open(kept.Settings.(domain.SlackSettings).WebhookURL.Reveal())
	if err != nil || plain != "https://hooks.slack.com/services/T0/B0/very-secret" || len(kept.Selectors) != 1 {
		t.Fatalf("kept secret %q (%v), selectors %d", plain, err, len(kept.Selectors))
	}

	// Another account sees nothing, whatever it tries.
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: bob, ID: id, Draft: renamed}); !errors.Is(err, domain.ErrConfigurationNotFound) {
		t.Fatalf("bob updated alice's configuration: %v", err)
	}
	if _, err := del.Handle(ctx, commands.DeleteConfiguration{Actor: bob, ID: id}); !errors.Is(err, domain.ErrConfigurationNotFound) {
		t.Fatalf("bob deleted alice's configuration: %v", err)
	}
	if _, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: bob, Account: "alice", Draft: draft}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("bob created a configuration in alice's account: %v", err)
	}
	reader := domain.Actor{Account: "alice", User: "rita", Role: domain.RoleReadOnly}
	if _, err := del.Handle(ctx, commands.DeleteConfiguration{Actor: reader, ID: id}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a read-only user deleted a configuration: %v", err)
	}
	stale := uint64(0)
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: renamed, ExpectedRevision: &stale}); !errors.Is(err, domain.ErrConcurrency) {
		t.Fatalf("a stale revision was accepted: %v", err)
	}
	if _, err := del.Handle(ctx, commands.DeleteConfiguration{Actor: alice, ID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := del.Handle(ctx, commands.DeleteConfiguration{Actor: alice, ID: id}); !errors.Is(err, domain.ErrConfigurationNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestConfigurations_badDraftsGetFieldErrors(t *testing.T) {
	create, _ := commands.NewCreateConfigurationHandler(openStore(t), sealer(t), commands.NewEventID, clock)
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	global, _ := domain.NewSelector(domain.ScopeGlobal, "*", "*", "*", true)
	_, _, err := create.Handle(context.Background(), commands.CreateConfiguration{Actor: alice, Draft: domain.ConfigurationDraft{
		Name: "x", Settings: domain.EmailSettings{Host: "smtp", Port: 0, Security: domain.EmailStartTLS, From: "a@b.c", To: []string{"x"}}, Selectors: []domain.Selector{global},
	}})
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want field errors, got %v", err)
	}
	want := map[string]bool{"settings.port": false, "settings.to[0]": false, "selectors[0].scope": false}
	for _, f := range v.Fields {
		if _, ok := want[f.Field]; ok {
			want[f.Field] = true
		}
	}
	for field, seen := range want {
		if !seen {
			t.Errorf("no error on %s in %v", field, v)
		}
	}
}

func TestSetEndpointStatus_adminOnly(t *testing.T) {
	h, _ := commands.NewSetEndpointStatusHandler(openStore(t), clock)
	ctx := context.Background()
	if _, err := h.Handle(ctx, commands.SetEndpointStatus{Actor: domain.Actor{Account: "alice", User: "a", Role: domain.RoleReadWrite}, Kind: domain.KindSlack}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("alice disabled slack: %v", err)
	}
	if _, err := h.Handle(ctx, commands.SetEndpointStatus{Actor: admin, Kind: "pager"}); err == nil {
		t.Fatal("an unknown kind was accepted")
	}
	if pos, err := h.Handle(ctx, commands.SetEndpointStatus{Actor: admin, Kind: domain.KindSlack}); err != nil || pos == 0 {
		t.Fatalf("admin disabling slack: %d %v", pos, err)
	}
}

// TestUpdateConfiguration_credentialsDoNotFollowANewServer: whoever may edit a configuration
// cannot point it at a server of their own and have the stored credentials sent there; on
// the same server they are kept as before.
func TestUpdateConfiguration_credentialsDoNotFollowANewServer(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	seal := sealer(t)
	create, _ := commands.NewCreateConfigurationHandler(store, seal, func() string { return "cfg-1" }, clock)
	update, _ := commands.NewUpdateConfigurationHandler(store, seal, clock)
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	webhook := func(url, password string) domain.ConfigurationDraft {
		return domain.ConfigurationDraft{Name: "corp", VerifyTLS: true, Selectors: []domain.Selector{sel}, Settings: domain.WebhookSettings{
			URL: url, Username: "corp", Password: domain.NewSecret(password), Headers: map[string]domain.Secret{"X-Token": domain.NewSecret(password)}}}
	}
	id, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: alice, Draft: webhook("https://corp.example/hook", "TOPSECRET")})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() domain.WebhookSettings {
		t.Helper()
		records, _ := store.ReadStream(ctx, domain.ConfigurationStream(id))
		last := records[len(records)-1]
		fact, err := domain.DecodeConfigurationFact(last.Type, last.Data, domain.KindWebhook)
		if err != nil {
			t.Fatal(err)
		}
		var draft domain.ConfigurationDraft
		switch f := fact.(type) {
		case domain.ConfigurationCreated:
			draft = f.Draft
		case domain.ConfigurationUpdated:
			draft = f.Draft
		}
		s := draft.Settings.(domain.WebhookSettings)
		password, _ := seal.Open(s.Password.Reveal())
		s.Password = domain.NewSecret(password)
		return s
	}

	// another server, credentials left out: refused, by field, and nothing changes
	_, err = update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: webhook("https://attacker.example/hook", "")})
	var v *domain.ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 2 || !strings.Contains(err.Error(), "settings.password") ||
		!strings.Contains(err.Error(), "settings.headers.X-Token") || !strings.Contains(err.Error(), "https://attacker.example/hook instead of https://corp.example/hook") {
		t.Fatalf("moving the credentials to another server: %v", err)
	}
	if s := stored(); s.URL != "https://corp.example/hook" || s.Password.Reveal() != "TOPSECRET" {
		t.Fatalf("a refused update changed the configuration: %+v", s)
	}
	// a URL that is no URL, credentials left out: the URL is named first, then the credentials
	_, err = update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: webhook("notaurl", "")})
	if !errors.As(err, &v) || len(v.Fields) != 3 || v.Fields[0].Field != "settings.url" || !strings.Contains(err.Error(), "settings.password: give it again") {
		t.Fatalf("a bad URL without the credentials: %v", err)
	}
	if s := stored(); s.URL != "https://corp.example/hook" || s.Password.Reveal() != "TOPSECRET" {
		t.Fatalf("a refused update changed the configuration: %+v", s)
	}
	// another path on the same server (a shared service's other customer, a redirect): refused too
	for _, url := range []string{"https://corp.example/other", "https://corp.example/hook?to=https://attacker.example"} {
		if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: webhook(url, "")}); !errors.As(err, &v) {
			t.Fatalf("%s without the credentials: %v", url, err)
		}
	}
	// the same URL, the host written in capitals: kept
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: webhook("https://CORP.example/hook", "")}); err != nil {
		t.Fatalf("same URL: %v", err)
	}
	if s := stored(); s.URL != "https://CORP.example/hook" || s.Password.Reveal() != "TOPSECRET" {
		t.Fatalf("same URL, credentials not kept: %+v", s)
	}
	// TLS verification turned off: the credentials must be given again, with settings or without
	insecure := webhook("https://corp.example/hook", "")
	insecure.VerifyTLS = false
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: insecure}); !errors.As(err, &v) || !strings.Contains(err.Error(), "TLS verification is being turned off") {
		t.Fatalf("turning TLS verification off without the credentials: %v", err)
	}
	insecure.Settings = nil
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: insecure}); !errors.As(err, &v) || !strings.Contains(err.Error(), "TLS verification is being turned off") {
		t.Fatalf("turning TLS verification off, settings left out: %v", err)
	}
	// another server with the credentials given again: fine
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: webhook("https://new.example/hook", "n3w")}); err != nil {
		t.Fatalf("new server with new credentials: %v", err)
	}
	if s := stored(); s.URL != "https://new.example/hook" || s.Password.Reveal() != "n3w" {
		t.Fatalf("new server: %+v", s)
	}
}

// The admin adds configurations to accounts that exist: one for a mistyped account would
// belong to nobody, so it is refused with the account field named.
func TestConfigurations_theAdminAddsToAccountsThatExist(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	create, _ := commands.NewCreateConfigurationHandler(store, sealer(t), commands.NewEventID, clock)
	createAccount, _ := commands.NewCreateAccountHandler(store, clock)
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := domain.ConfigurationDraft{Name: "ops", Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")}, Selectors: []domain.Selector{sel}}

	_, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: admin, Account: "alcie", Draft: draft})
	var invalid *domain.ValidationError
	if !errors.As(err, &invalid) || invalid.Fields[0].Field != "account" || !strings.Contains(err.Error(), `"alcie" is no account`) {
		t.Fatalf("a configuration for a missing account: %v", err)
	}
	// A name no account can have is not looked up, nor echoed whole however long it is.
	_, _, err = create.Handle(ctx, commands.CreateConfiguration{Actor: admin, Account: strings.Repeat("a", 1<<20), Draft: draft})
	if !errors.As(err, &invalid) || invalid.Fields[0].Field != "account" || len(err.Error()) > 300 ||
		!strings.Contains(err.Error(), `"`+strings.Repeat("a", 63)+`…" is not an account name`) {
		t.Fatalf("a configuration for a 1 MB account name: %.300v", err)
	}
	if err := createAccount.Handle(ctx, commands.CreateAccount{Actor: admin, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: admin, Account: "alice", Draft: draft}); err != nil {
		t.Fatalf("a configuration for alice: %v", err)
	}
}

// TestUpdateConfiguration_aChangeLandingMeanwhileIsAPlainConflict: when another edit lands
// between an update's read and its append, the update fails as a conflict that says to read
// again, without the store's stream names and revisions.
func TestUpdateConfiguration_aChangeLandingMeanwhileIsAPlainConflict(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	seal := sealer(t)
	create, _ := commands.NewCreateConfigurationHandler(store, seal, func() string { return "cfg-1" }, clock)
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := domain.ConfigurationDraft{Name: "ops", Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")}, Selectors: []domain.Selector{sel}}
	id, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: alice, Draft: draft})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := commands.NewUpdateConfigurationHandler(store, seal, clock)
	racing := &racingStore{EventStore: store, before: func() {
		if _, err := other.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: domain.ConfigurationDraft{Name: "ops", Description: "theirs", Settings: domain.SlackSettings{}}}); err != nil {
			t.Fatal(err)
		}
	}}
	update, _ := commands.NewUpdateConfigurationHandler(racing, seal, clock)
	_, err = update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: domain.ConfigurationDraft{Name: "ops", Description: "mine", Settings: domain.SlackSettings{}}})
	want := "configuration cfg-1 changed while this change was saved; read it again and retry"
	if !errors.Is(err, domain.ErrConcurrency) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "endpointconfig-") {
		t.Errorf("err = %v, want a conflict saying %q", err, want)
	}
}

// racingStore runs before once, just ahead of the first Append: another writer getting there
// first.
type racingStore struct {
	commands.EventStore
	before func()
	done   bool
}

func (s *racingStore) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error) {
	if !s.done {
		s.done = true
		s.before()
	}
	return s.EventStore.Append(ctx, stream, expected, facts...)
}

// TestConfigurations_aRepeatedSelectorIsStoredOnce: a selector equal to another of the same
// configuration (once normalised, or the one a quick selection stands for) changes nothing
// the configuration matches, so it is dropped when saved rather than refused; the others keep
// their order. Creating and updating alike.
func TestConfigurations_aRepeatedSelectorIsStoredOnce(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	create, _ := commands.NewCreateConfigurationHandler(store, sealer(t), func() string { return "cfg-1" }, clock)
	update, _ := commands.NewUpdateConfigurationHandler(store, sealer(t), clock)
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	sel := func(level, typ string) domain.Selector {
		s, err := domain.NewSelector(domain.ScopeAccount, level, typ, "*", false)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	errs, _ := domain.LookupQuickSelection("errors")
	quickErrors, _ := errs.Selector(false)
	draft := domain.ConfigurationDraft{Name: "ops", Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")},
		Selectors: []domain.Selector{sel("error", "*"), sel("*", "user.checks.*"), quickErrors, sel(" Error ", "*")}}
	stored := func(n int) []string {
		t.Helper()
		records, _ := store.ReadStream(ctx, domain.ConfigurationStream("cfg-1"))
		fact, err := domain.DecodeConfigurationFact(records[n].Type, records[n].Data, domain.KindSlack)
		if err != nil {
			t.Fatal(err)
		}
		var sels []domain.Selector
		switch f := fact.(type) {
		case domain.ConfigurationCreated:
			sels = f.Draft.Selectors
		case domain.ConfigurationUpdated:
			sels = f.Draft.Selectors
		}
		var out []string
		for _, s := range sels {
			out = append(out, s.Level+"/"+s.Type)
		}
		return out
	}

	if _, _, err := create.Handle(ctx, commands.CreateConfiguration{Actor: alice, Draft: draft}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if got := stored(0); !slices.Equal(got, []string{"error/*", "*/user.checks.*"}) {
		t.Fatalf("created with selectors %q", got)
	}
	draft.Selectors = append(draft.Selectors, sel("info", "*"), sel("*", "user.checks.*"))
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: "cfg-1", Draft: draft}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got := stored(1); !slices.Equal(got, []string{"error/*", "*/user.checks.*", "info/*"}) {
		t.Fatalf("updated with selectors %q", got)
	}
}

// TestUpdateConfiguration_anEditThatChangesNothingRecordsNothing: the same values again, the
// stored credentials left out or given again, keep the revision and add no fact; any change
// does add one.
func TestUpdateConfiguration_anEditThatChangesNothingRecordsNothing(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	seal := sealer(t)
	create, _ := commands.NewCreateConfigurationHandler(store, seal, func() string { return "cfg-1" }, clock)
	update, _ := commands.NewUpdateConfigurationHandler(store, seal, clock)
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := func(password string) domain.ConfigurationDraft {
		return domain.ConfigurationDraft{Name: "corp", Description: "ops", VerifyTLS: true, Selectors: []domain.Selector{sel, sel},
			Templates: domain.MessageTemplates{Title: "{{.Type}}"}, Settings: domain.GitHubSettings{APIURL: domain.DefaultGitHubAPIURL,
				Owner: "acme", Repository: "alerts", AccessToken: domain.NewSecret(password), Labels: []string{"sec"}}}
	}
	id, created, err := create.Handle(ctx, commands.CreateConfiguration{Actor: alice, Draft: draft("TOPSECRET")})
	if err != nil {
		t.Fatal(err)
	}
	facts := func() int {
		records, err := store.ReadStream(ctx, domain.ConfigurationStream(id))
		if err != nil {
			t.Fatal(err)
		}
		return len(records)
	}
	for name, d := range map[string]domain.ConfigurationDraft{"the credential left out": draft(""), "the credential given again": draft("TOPSECRET")} {
		pos, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: d})
		if err != nil || pos != created || facts() != 1 {
			t.Fatalf("%s: position %d (created at %d), %v; %d facts, want 1", name, pos, created, err, facts())
		}
	}
	// The API gives lists back as []; stored ones without items decode as nil.
	bare := draft("")
	gh := bare.Settings.(domain.GitHubSettings)
	gh.Labels = nil
	bare.Settings = gh
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: bare}); err != nil || facts() != 2 {
		t.Fatalf("removing the labels: %v; %d facts, want 2", err, facts())
	}
	gh.Labels, gh.Assignees = []string{}, []string{}
	bare.Settings = gh
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: bare}); err != nil || facts() != 2 {
		t.Fatalf("no labels again, as []: %v; %d facts, want 2", err, facts())
	}
	if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: draft("")}); err != nil || facts() != 3 {
		t.Fatalf("the label back: %v; %d facts, want 3", err, facts())
	}

	for name, change := range map[string]func(*domain.ConfigurationDraft){
		"credential": func(d *domain.ConfigurationDraft) { d.Settings = draft("n3w").Settings },
		"label": func(d *domain.ConfigurationDraft) {
			s := d.Settings.(domain.GitHubSettings)
			s.Labels = nil
			d.Settings = s
		},
		"description": func(d *domain.ConfigurationDraft) { d.Description = "" },
		"template":    func(d *domain.ConfigurationDraft) { d.Templates.Title = "" },
		"name":        func(d *domain.ConfigurationDraft) { d.Name = "Corp" },
	} {
		d := draft("")
		change(&d)
		before := facts()
		if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: d}); err != nil || facts() != before+1 {
			t.Fatalf("changing the %s: %v; %d facts, want %d", name, err, facts(), before+1)
		}
		if _, err := update.Handle(ctx, commands.UpdateConfiguration{Actor: alice, ID: id, Draft: draft("")}); err != nil {
			t.Fatalf("changing the %s back: %v", name, err)
		}
	}
}

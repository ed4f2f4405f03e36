package viewstest

import (
	"fmt"
	"testing"

	"herald/domain"
	"herald/projections"
)

// NewConfigurationView returns a fresh, empty configurations view for one test.
type NewConfigurationView func(t *testing.T) projections.ConfigurationView

// TestConfigurationView runs the contract suite of projections.ConfigurationView against the
// views newView makes, each test in parallel on a view of its own, checking the answers
// against a model made of maps.
func TestConfigurationView(t *testing.T, newView func(t *testing.T) projections.ConfigurationView) {
	tests := []struct {
		name string
		test func(*testing.T, NewConfigurationView)
	}{
		{"ReadBack", TestConfigurationReadBack},
		{"UpsertReplaces", TestConfigurationUpsertReplaces},
		{"Deleted", TestConfigurationDeleted},
		{"Listing", TestConfigurationListing},
		{"EndpointStatus", TestEndpointStatus},
		{"Checkpoint", TestConfigurationCheckpoint},
		{"Reset", TestConfigurationReset},
		{"AppliedTwice", TestConfigurationAppliedTwice},
		{"RandomHistory", TestConfigurationRandomHistory},
		{"ConcurrentReadsAndApplies", TestConfigurationConcurrentReadsAndApplies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newView)
		})
	}
}

// TestConfigurationReadBack: a configuration reads back as it was applied, by id and in
// listings: every kind's settings with their sealed secrets (webhook headers too, an empty
// one among them), every shape of selector rebuilt so that it matches (regex, glob, global
// scope), timestamps, revision (beyond 2^53 too), description and TLS verification.
func TestConfigurationReadBack(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	var batch []projections.ConfigurationChange
	n := 0
	for _, account := range []string{domain.AdminAccount, "acme"} {
		for _, kind := range domain.EndpointKinds() {
			for variant := range 2 {
				n++
				id := fmt.Sprintf("0c9a%04d-5f1e-4b7a-9e42-%012d", n, n)
				batch = append(batch, upsert(sampleConfiguration(id, account, kind, fmt.Sprintf("%s %s %d", account, kind, variant), n+variant)))
			}
		}
	}
	fx.apply(batch...)
	fx.check()
	for _, c := range batch {
		got, _, _ := fx.view.Configuration(fx.ctx, c.Upsert.ID)
		for i, s := range got.Selectors {
			if s.Scope == domain.ScopeGlobal && !s.Matches(domain.LogEvent{Level: domain.LevelError, Type: "system.feeds.sync", Resource: domain.Resource{Type: domain.ResourceFeeds, UserID: "other"}}, got.Account) {
				t.Fatalf("Configuration(%s) selector %d: global scope lost", got.ID, i)
			}
		}
	}
}

// TestConfigurationUpsertReplaces: an upsert replaces the whole configuration (fields left
// empty stay empty, fewer selectors stay fewer), within one batch the last upsert wins, and a
// configuration whose account changes moves between the accounts' listings.
func TestConfigurationUpsertReplaces(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	first := sampleConfiguration("cfg-1", "acme", domain.KindWebhook, "hooks", 2)
	other := sampleConfiguration("cfg-2", "acme", domain.KindWebhook, "hooks", 4)
	fx.apply(upsert(first), upsert(other))
	fx.check()

	second := sampleConfiguration("cfg-1", "acme", domain.KindWebhook, "renamed", 5) // no headers, no description
	second.CreatedAt, second.Revision = first.CreatedAt, first.Revision+1
	if len(second.Selectors) >= len(first.Selectors) || second.Description != "" {
		t.Fatal("the replacement should have fewer selectors and no description")
	}
	fx.apply(upsert(second))
	fx.check()

	third, fourth := second, second
	third.Name, third.Revision = "third", second.Revision+1
	fourth.Name, fourth.Revision, fourth.VerifyTLS = "fourth", second.Revision+2, !second.VerifyTLS
	fx.apply(upsert(third), upsert(fourth))
	if got, _, _ := fx.view.Configuration(fx.ctx, "cfg-1"); got.Name != "fourth" {
		t.Fatalf("after two upserts in one batch the name is %q, want the last one's", got.Name)
	}
	fx.check()

	moved := fourth
	moved.Account, moved.Revision = "globex", fourth.Revision+1
	fx.apply(upsert(moved))
	fx.check()
	if list, _ := fx.view.Configurations(fx.ctx, "acme", ""); len(list) != 1 || list[0].ID != "cfg-2" {
		t.Fatalf("acme's listing after the move = %s, want cfg-2 alone", describeList(list))
	}
}

// TestConfigurationDeleted: a deleted configuration is gone by id and from every listing;
// deleting an unknown id, or one twice, changes nothing; in one batch, the order of upsert
// and delete decides.
func TestConfigurationDeleted(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	var batch []projections.ConfigurationChange
	for i, kind := range domain.EndpointKinds() {
		batch = append(batch, upsert(sampleConfiguration(fmt.Sprintf("cfg-%d", i), "acme", kind, "n", i)))
	}
	fx.apply(batch...)
	fx.apply(deleteConfiguration("cfg-0"), deleteConfiguration("cfg-3"))
	fx.check()
	fx.apply(deleteConfiguration("cfg-0"), deleteConfiguration("never-created"))
	fx.check()

	fresh := sampleConfiguration("cfg-new", "globex", domain.KindSlack, "n", 9)
	fx.apply(upsert(fresh), deleteConfiguration("cfg-new"), deleteConfiguration("cfg-1"), upsert(sampleConfiguration("cfg-1", "acme", domain.KindGitHub, "back", 4)))
	fx.check()
	if _, ok, _ := fx.view.Configuration(fx.ctx, "cfg-new"); ok {
		t.Fatal("a configuration upserted then deleted in one batch is held")
	}

	batch = batch[:0]
	for id := range fx.model.byID {
		batch = append(batch, deleteConfiguration(id))
	}
	fx.apply(batch...)
	fx.check()
	if list, err := fx.view.Configurations(fx.ctx, "", ""); err != nil || len(list) != 0 {
		t.Fatalf("Configurations after deleting everything = %s, %v", describeList(list), err)
	}
}

// TestConfigurationListing: listings filter by account, kind, both or neither, and sort by
// name (byte order: upper case first) then id.
func TestConfigurationListing(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	names := []string{"ops", "alerts", "Alerts", "ops", "äpfel", "Zeta", "ops", "z"}
	var batch []projections.ConfigurationChange
	n := 0
	for _, account := range []string{domain.AdminAccount, "acme", "globex"} {
		for _, kind := range domain.EndpointKinds() {
			for range 2 {
				n++
				id := fmt.Sprintf("%08x-cfg", (n*2654435761)%(1<<32)) // ids out of insertion order
				batch = append(batch, upsert(sampleConfiguration(id, account, kind, names[n%len(names)], n)))
			}
		}
	}
	fx.apply(batch...)
	fx.check()
	list, err := fx.view.Configurations(fx.ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(list); i++ {
		if byNameThenID(list[i-1], list[i]) >= 0 {
			t.Fatalf("Configurations: %q/%s comes before %q/%s", list[i-1].Name, list[i-1].ID, list[i].Name, list[i].ID)
		}
	}
	if len(list) != n {
		t.Fatalf("Configurations holds %d, want %d", len(list), n)
	}
}

// TestEndpointStatus: every kind is enabled until disabled; disabling twice or enabling a
// kind never disabled changes nothing; in one batch the last change wins; the map handed
// out is the caller's to change; status does not touch configurations.
func TestEndpointStatus(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	fx.checkDisabled()
	fx.apply(upsert(sampleConfiguration("cfg-1", "acme", domain.KindEmail, "mail", 1)))
	fx.apply(endpointStatus(domain.KindEmail, false), endpointStatus(domain.KindSlack, false))
	fx.check()
	got, _ := fx.view.DisabledEndpoints(fx.ctx)
	if !got[domain.KindEmail] || !got[domain.KindSlack] || got[domain.KindJira] {
		t.Fatalf("DisabledEndpoints = %v, want email and slack", got)
	}
	got[domain.KindJira] = true
	delete(got, domain.KindEmail)
	fx.checkDisabled()

	fx.apply(endpointStatus(domain.KindEmail, false), endpointStatus(domain.KindTeams, true))
	fx.check()
	fx.apply(endpointStatus(domain.KindEmail, true))
	fx.check()
	fx.apply(endpointStatus(domain.KindGitHub, false), endpointStatus(domain.KindGitHub, true), endpointStatus(domain.KindWebhook, true), endpointStatus(domain.KindWebhook, false))
	fx.check()
	if got, _ := fx.view.DisabledEndpoints(fx.ctx); len(got) != 2 || !got[domain.KindSlack] || !got[domain.KindWebhook] {
		t.Fatalf("DisabledEndpoints = %v, want slack and webhook", got)
	}
	for _, kind := range domain.EndpointKinds() {
		fx.apply(endpointStatus(kind, true))
	}
	fx.check()
}

// TestConfigurationCheckpoint: the checkpoint is stored with each Apply, also an empty one,
// and never moves back: an Apply with an older checkpoint still applies its changes. Beyond
// 2^53, where floats lose digits, too.
func TestConfigurationCheckpoint(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	fx.check()
	fx.applyAt(5)
	fx.check()
	fx.applyAt(9, upsert(sampleConfiguration("cfg-1", "acme", domain.KindJira, "j", 1)))
	fx.check()
	fx.applyAt(7, upsert(sampleConfiguration("cfg-2", "acme", domain.KindTeams, "t", 2)), endpointStatus(domain.KindTeams, false))
	fx.check()
	for _, cp := range []uint64{1<<60 + 1, 1<<60 + 2, 1 << 60, 1<<60 + 1, 1<<64 - 2, 1<<64 - 1, 12} {
		fx.applyAt(cp)
		fx.check()
	}
}

// TestConfigurationReset: Reset drops configurations, endpoint status and checkpoint, and
// the view can be rebuilt after it.
func TestConfigurationReset(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	var batch []projections.ConfigurationChange
	for i, kind := range domain.EndpointKinds() {
		batch = append(batch, upsert(sampleConfiguration(fmt.Sprintf("cfg-%d", i), fmt.Sprintf("account-%d", i%3), kind, "n", i)))
	}
	batch = append(batch, endpointStatus(domain.KindJira, false))
	fx.apply(batch...)
	fx.check()
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	ids, accounts := fx.model.ids, fx.model.accounts
	fx.model = newConfigModel()
	fx.model.ids, fx.model.accounts = ids, accounts // check that they are gone
	fx.check()
	fx.apply(batch[2:4]...)
	fx.check()
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if err := fx.view.Reset(fx.ctx); err != nil {
		t.Fatalf("Reset of an empty view: %v", err)
	}
	fx.model = newConfigModel()
	fx.model.ids, fx.model.accounts = ids, accounts
	fx.check()
}

// TestConfigurationAppliedTwice: applying the same batch again (a replay after a crash)
// leaves the view as the first application did.
func TestConfigurationAppliedTwice(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	setup := []projections.ConfigurationChange{
		upsert(sampleConfiguration("cfg-1", "acme", domain.KindEmail, "a", 1)),
		upsert(sampleConfiguration("cfg-2", "acme", domain.KindGitHub, "b", 2)),
		upsert(sampleConfiguration("cfg-3", "globex", domain.KindWebhook, "c", 3)),
	}
	fx.apply(setup...)
	moved := sampleConfiguration("cfg-2", "globex", domain.KindGitHub, "b2", 4)
	batch := []projections.ConfigurationChange{
		upsert(sampleConfiguration("cfg-1", "acme", domain.KindEmail, "a2", 5)),
		deleteConfiguration("cfg-3"),
		upsert(moved),
		upsert(sampleConfiguration("cfg-4", "initech", domain.KindSlack, "d", 6)),
		endpointStatus(domain.KindSlack, false),
		endpointStatus(domain.KindEmail, false),
		endpointStatus(domain.KindEmail, true),
	}
	fx.position += 10
	fx.applyAt(fx.position, batch...)
	fx.check()
	fx.applyAt(fx.position, batch...)
	fx.check()
	fx.applyAt(fx.position, setup...) // an earlier batch replayed before the checkpoint changes
	fx.applyAt(fx.position, batch...) // and is overwritten by the replay of the later one
	fx.check()
}

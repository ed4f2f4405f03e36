package viewstest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"herald/domain"
	"herald/projections"
)

// configModel is what a configurations view must hold: maps, applied in order.
type configModel struct {
	byID       map[string]domain.Configuration
	disabled   map[domain.EndpointKind]bool
	checkpoint uint64
	ids        map[string]bool // every id ever applied, to check that deleted ones are gone
	accounts   map[string]bool // every account ever applied, to check its listing
}

func newConfigModel() *configModel {
	return &configModel{byID: map[string]domain.Configuration{}, disabled: map[domain.EndpointKind]bool{}, ids: map[string]bool{}, accounts: map[string]bool{}}
}

func (m *configModel) apply(changes []projections.ConfigurationChange, checkpoint uint64) {
	for _, c := range changes {
		switch {
		case c.Upsert != nil:
			m.byID[c.Upsert.ID] = *c.Upsert
			m.ids[c.Upsert.ID], m.accounts[c.Upsert.Account] = true, true
		case c.Delete != "":
			delete(m.byID, c.Delete)
			m.ids[c.Delete] = true
		case c.Status != nil:
			if c.Status.Enabled {
				delete(m.disabled, c.Status.Kind)
			} else {
				m.disabled[c.Status.Kind] = true
			}
		}
	}
	m.checkpoint = max(m.checkpoint, checkpoint)
}

func (m *configModel) list(account string, kind domain.EndpointKind) []domain.Configuration {
	var out []domain.Configuration
	for _, c := range m.byID {
		if (account == "" || c.Account == account) && (kind == "" || c.Kind == kind) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, byNameThenID)
	return out
}

func byNameThenID(a, b domain.Configuration) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// configFixture drives one view and the model side by side.
type configFixture struct {
	t        *testing.T
	ctx      context.Context
	view     projections.ConfigurationView
	model    *configModel
	position uint64 // the log position of the last change applied
}

func newConfigFixture(t *testing.T, newView NewConfigurationView) *configFixture {
	return &configFixture{t: t, ctx: t.Context(), view: newView(t), model: newConfigModel()}
}

// apply applies changes to the view and the model, with a checkpoint past the last one.
func (fx *configFixture) apply(changes ...projections.ConfigurationChange) {
	fx.t.Helper()
	fx.position += uint64(len(changes)) + 1
	fx.applyAt(fx.position, changes...)
}

func (fx *configFixture) applyAt(checkpoint uint64, changes ...projections.ConfigurationChange) {
	fx.t.Helper()
	if err := fx.view.Apply(fx.ctx, changes, checkpoint); err != nil {
		fx.t.Fatalf("Apply(%d changes, checkpoint %d): %v", len(changes), checkpoint, err)
	}
	fx.model.apply(changes, checkpoint)
}

func upsert(c domain.Configuration) projections.ConfigurationChange {
	return projections.ConfigurationChange{Upsert: &c}
}

func deleteConfiguration(id string) projections.ConfigurationChange {
	return projections.ConfigurationChange{Delete: id}
}

func endpointStatus(kind domain.EndpointKind, enabled bool) projections.ConfigurationChange {
	return projections.ConfigurationChange{Status: &domain.EndpointStatusChanged{Kind: kind, Enabled: enabled, By: "admin", At: sampleStart}}
}

// check compares the whole view with the model: every configuration ever applied by id,
// every listing (each account, none, an unknown one; each kind and none), the disabled
// kinds and the checkpoint.
func (fx *configFixture) check() {
	fx.t.Helper()
	for _, id := range slices.Sorted(maps.Keys(fx.model.ids)) {
		want, held := fx.model.byID[id]
		got, ok, err := fx.view.Configuration(fx.ctx, id)
		switch {
		case err != nil:
			fx.t.Fatalf("Configuration(%s): %v", id, err)
		case ok != held:
			fx.t.Fatalf("Configuration(%s) found = %v, want %v", id, ok, held)
		case held:
			if d := diffConfiguration(want, got); d != "" {
				fx.t.Fatalf("Configuration(%s): %s", id, d)
			}
		}
	}
	if _, ok, err := fx.view.Configuration(fx.ctx, "never-applied"); err != nil || ok {
		fx.t.Fatalf("Configuration(never-applied) = %v, %v; want nothing", ok, err)
	}
	accounts := append([]string{"", "nobody"}, slices.Sorted(maps.Keys(fx.model.accounts))...)
	kinds := append([]domain.EndpointKind{""}, domain.EndpointKinds()...)
	for _, account := range accounts {
		for _, kind := range kinds {
			fx.checkList(account, kind)
		}
	}
	fx.checkList("", "fax")
	fx.checkDisabled()
	if got, err := fx.view.Checkpoint(fx.ctx); err != nil || got != fx.model.checkpoint {
		fx.t.Fatalf("Checkpoint = %d, %v; want %d", got, err, fx.model.checkpoint)
	}
}

func (fx *configFixture) checkList(account string, kind domain.EndpointKind) {
	fx.t.Helper()
	got, err := fx.view.Configurations(fx.ctx, account, kind)
	if err != nil {
		fx.t.Fatalf("Configurations(%q, %q): %v", account, kind, err)
	}
	want := fx.model.list(account, kind)
	if len(got) != len(want) {
		fx.t.Fatalf("Configurations(%q, %q) = %s, want %s", account, kind, describeList(got), describeList(want))
	}
	for i := range want {
		if d := diffConfiguration(want[i], got[i]); d != "" {
			fx.t.Fatalf("Configurations(%q, %q) = %s, want %s: item %d: %s", account, kind, describeList(got), describeList(want), i, d)
		}
	}
}

func (fx *configFixture) checkDisabled() {
	fx.t.Helper()
	got, err := fx.view.DisabledEndpoints(fx.ctx)
	if err != nil {
		fx.t.Fatalf("DisabledEndpoints: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(fx.model.disabled) { // fmt prints maps sorted
		fx.t.Fatalf("DisabledEndpoints = %v, want %v", got, fx.model.disabled)
	}
}

func describeList(list []domain.Configuration) string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = fmt.Sprintf("%s/%s/%s %q", c.Account, c.Kind, c.ID, c.Name)
	}
	return fmt.Sprint(out)
}

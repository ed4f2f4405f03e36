package viewstest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"herald/domain"
	"herald/projections"
)

// configHistory produces random batches of configuration changes: upserts (of new and
// known ids, sometimes under another account), deletions (of known and unknown ids) and
// endpoint status changes, with names that collide so that ids break ties.
type configHistory struct {
	rng      *rand.Rand
	revision int
	accounts []string
	names    []string
}

func newConfigHistory(seed uint64) *configHistory {
	return &configHistory{
		rng:      rand.New(rand.NewPCG(seed, 0x636f6e666967)),
		accounts: []string{domain.AdminAccount, "acme", "globex", "initech"},
		names:    []string{"alerts", "Alerts", "ops", "pager duty", "sec", "zz"},
	}
}

func (h *configHistory) id() string { return fmt.Sprintf("cfg-%02d", h.rng.IntN(40)) }

// next returns a configuration change; known tells the account an id is held under.
func (h *configHistory) next(known map[string]domain.Configuration) projections.ConfigurationChange {
	kinds := domain.EndpointKinds()
	switch r := h.rng.IntN(20); {
	case r < 12:
		id := h.id()
		account, kind := h.accounts[h.rng.IntN(len(h.accounts))], kinds[h.rng.IntN(len(kinds))]
		if c, ok := known[id]; ok && h.rng.IntN(10) > 0 {
			account, kind = c.Account, c.Kind
		}
		h.revision++
		return upsert(sampleConfiguration(id, account, kind, h.names[h.rng.IntN(len(h.names))], h.revision))
	case r < 17:
		return deleteConfiguration(h.id())
	default:
		return endpointStatus(kinds[h.rng.IntN(len(kinds))], h.rng.IntN(2) == 0)
	}
}

func (h *configHistory) batch(known map[string]domain.Configuration) []projections.ConfigurationChange {
	out := make([]projections.ConfigurationChange, 1+h.rng.IntN(12))
	for i := range out {
		out[i] = h.next(known)
	}
	return out
}

// TestConfigurationRandomHistory: after every batch of a random history, the whole view is
// what the model holds.
func TestConfigurationRandomHistory(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	h := newConfigHistory(41)
	for round := range 40 {
		fx.apply(h.batch(fx.model.byID)...)
		if round%4 == 3 {
			fx.check()
		}
	}
	fx.check()
}

// TestConfigurationConcurrentReadsAndApplies: readers list and look up configurations while
// a writer applies a random history. Every configuration read must be one that was applied,
// whole; listings must be filtered and sorted; the checkpoint must never go back. Run it
// with -race.
func TestConfigurationConcurrentReadsAndApplies(t *testing.T, newView NewConfigurationView) {
	fx := newConfigFixture(t, newView)
	h := newConfigHistory(42)
	var applied sync.Map // "id/revision" -> domain.Configuration, stored before it is applied
	done := make(chan struct{})
	var writerErr error
	go func() {
		defer close(done)
		for range 60 {
			batch := h.batch(fx.model.byID)
			for _, c := range batch {
				if c.Upsert != nil {
					applied.Store(fmt.Sprintf("%s/%d", c.Upsert.ID, c.Upsert.Revision), *c.Upsert)
				}
			}
			fx.position += uint64(len(batch))
			if err := fx.view.Apply(fx.ctx, batch, fx.position); err != nil {
				writerErr = err
				return
			}
			fx.model.apply(batch, fx.position)
		}
	}()
	readWhole := func(got domain.Configuration) error {
		want, ok := applied.Load(fmt.Sprintf("%s/%d", got.ID, got.Revision))
		if !ok {
			return fmt.Errorf("read %s revision %d, which was never applied", got.ID, got.Revision)
		}
		if d := diffConfiguration(want.(domain.Configuration), got); d != "" {
			return fmt.Errorf("read %s revision %d: %s", got.ID, got.Revision, d)
		}
		return nil
	}
	readWhileWriting(t, done, 7, func(rng *rand.Rand, last *uint64) error {
		return readConfigurationsOnce(fx, rng, h.accounts, readWhole, last)
	})
	<-done
	if writerErr != nil {
		t.Fatalf("Apply: %v", writerErr)
	}
	fx.check()
}

func readConfigurationsOnce(fx *configFixture, rng *rand.Rand, accounts []string, readWhole func(domain.Configuration) error, last *uint64) error {
	account := ""
	if rng.IntN(2) == 0 {
		account = accounts[rng.IntN(len(accounts))]
	}
	var kind domain.EndpointKind
	if rng.IntN(2) == 0 {
		kind = domain.EndpointKinds()[rng.IntN(6)]
	}
	list, err := fx.view.Configurations(fx.ctx, account, kind)
	if err != nil {
		return fmt.Errorf("configurations(%q, %q): %w", account, kind, err)
	}
	for i, c := range list {
		if (account != "" && c.Account != account) || (kind != "" && c.Kind != kind) {
			return fmt.Errorf("configurations(%q, %q) holds %s/%s", account, kind, c.Account, c.Kind)
		}
		if i > 0 && byNameThenID(list[i-1], c) >= 0 {
			return fmt.Errorf("configurations(%q, %q) is not sorted: %s", account, kind, describeList(list))
		}
		if err := readWhole(c); err != nil {
			return err
		}
	}
	id := fmt.Sprintf("cfg-%02d", rng.IntN(40))
	c, ok, err := fx.view.Configuration(fx.ctx, id)
	if err != nil {
		return fmt.Errorf("configuration(%s): %w", id, err)
	}
	if ok {
		if err := readWhole(c); err != nil {
			return err
		}
	}
	if _, err := fx.view.DisabledEndpoints(fx.ctx); err != nil {
		return fmt.Errorf("disabled endpoints: %w", err)
	}
	cp, err := fx.view.Checkpoint(fx.ctx)
	if err != nil || cp < *last {
		return fmt.Errorf("checkpoint = %d, %v after %d", cp, err, *last)
	}
	*last = cp
	return nil
}

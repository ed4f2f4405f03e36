package commands_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/commands"
	"herald/domain"
)

// storeUnclaimed writes a configuration as versions before unique names did: its
// ConfigurationCreated fact alone, with no claim on its name.
func storeUnclaimed(t *testing.T, store commands.EventStore, id, account, name string, at time.Time) {
	t.Helper()
	sealed, err := sealer(t).Seal("https://hooks.slack.com/services/T0/B0/x")
	if err != nil {
		t.Fatal(err)
	}
	draft := slackDraft(name)
	draft.Settings = domain.SlackSettings{WebhookURL: domain.NewSecret(sealed)}
	fact, err := domain.EncodeConfigurationFact(domain.ConfigurationCreated{ID: id, Account: account, Kind: domain.KindSlack, Draft: draft, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), domain.ConfigurationStream(id), domain.NoStream(), fact); err != nil {
		t.Fatal(err)
	}
}

// storedConfigurations lists the configurations of the given ids as their streams hold them
// now, in the order given, leaving out deleted ones: what the configurations view lists.
type storedConfigurations struct {
	store commands.EventStore
	ids   []string
}

func (s storedConfigurations) All(ctx context.Context) ([]domain.Configuration, error) {
	var all []domain.Configuration
	for _, id := range s.ids {
		records, err := s.store.ReadStream(ctx, domain.ConfigurationStream(id))
		if err != nil {
			return nil, err
		}
		var c domain.Configuration
		for _, r := range records {
			fact, err := domain.DecodeConfigurationFact(r.Type, r.Data, c.Kind)
			if err != nil {
				return nil, err
			}
			c.Apply(fact, r.Revision)
		}
		if !c.Deleted {
			all = append(all, c)
		}
	}
	return all, nil
}

func claimNames(t *testing.T, store commands.EventStore, ids ...string) commands.ClaimConfigurationNamesResult {
	t.Helper()
	res, _ := claimNamesTelling(t, store, ids...)
	return res
}

// claimNamesTelling is claimNames, also returning the ids of the duplicates the run told of.
func claimNamesTelling(t *testing.T, store commands.EventStore, ids ...string) (commands.ClaimConfigurationNamesResult, []string) {
	t.Helper()
	h, err := commands.NewClaimConfigurationNamesHandler(store, storedConfigurations{store: store, ids: ids}, clock)
	if err != nil {
		t.Fatal(err)
	}
	var duplicates []string
	res, err := h.Handle(context.Background(), commands.ClaimConfigurationNames{
		Duplicate: func(c domain.Configuration, reason string) {
			if !strings.Contains(reason, "already has a configuration named") {
				t.Errorf("duplicate %s told with reason %q", c.ID, reason)
			}
			duplicates = append(duplicates, c.ID)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, duplicates
}

func takenBy(name, id string) string {
	return `account "alice" already has a configuration named "` + name + `" (id ` + id + `); choose another name or edit that one`
}

// TestClaimConfigurationNames_namesStoredBeforeAreTakenAfterwards: once claimed, the name of a
// configuration an older version stored is refused to a new configuration and to a rename, in
// any case and spacing, naming that configuration; another account may still use it.
func TestClaimConfigurationNames_namesStoredBeforeAreTakenAfterwards(t *testing.T) {
	store := openStore(t)
	storeUnclaimed(t, store, "old-ops", "alice", "Ops Slack", now.Add(-48*time.Hour))
	storeUnclaimed(t, store, "old-dev", "alice", "dev", now.Add(-24*time.Hour))
	if res := claimNames(t, store, "old-ops", "old-dev"); res != (commands.ClaimConfigurationNamesResult{Configurations: 2, Claimed: 2}) {
		t.Fatalf("result %+v, want both names claimed", res)
	}
	e := newNameEnv(t, store)
	for _, name := range []string{"Ops Slack", "ops slack", "  OPS   slack "} {
		_, err := e.add(alice, name)
		assertNameTaken(t, err, takenBy("Ops Slack", "old-ops"))
	}
	fresh := e.mustAdd(alice, "fresh")
	assertNameTaken(t, e.rename(alice, fresh, " DEV"), takenBy("dev", "old-dev"))
	if _, err := e.add(bob, "ops slack"); err != nil {
		t.Fatalf("another account using the name: %v", err)
	}
	// the old configurations are edited as before, and one renamed frees its name
	if err := e.rename(alice, "old-ops", "ops slack"); err != nil {
		t.Fatalf("an edit keeping the name: %v", err)
	}
	if err := e.rename(alice, "old-dev", "dev-old"); err != nil {
		t.Fatal(err)
	}
	if err := e.rename(alice, fresh, "Dev"); err != nil {
		t.Fatalf("taking a freed name: %v", err)
	}
}

// TestClaimConfigurationNames_theOldestOfDuplicatesHoldsTheName: of configurations an older
// version stored with one name, the one created first holds it, whatever order they are
// listed in and whatever their ids; the others keep the name, and are read and edited as
// before.
func TestClaimConfigurationNames_theOldestOfDuplicatesHoldsTheName(t *testing.T) {
	store := openStore(t)
	storeUnclaimed(t, store, "a-newer", "alice", "ops", now.Add(-time.Hour))
	storeUnclaimed(t, store, "z-oldest", "alice", "Ops", now.Add(-72*time.Hour))
	storeUnclaimed(t, store, "b-newest", "alice", " OPS", now.Add(-time.Minute))
	res, duplicates := claimNamesTelling(t, store, "a-newer", "b-newest", "z-oldest")
	if res != (commands.ClaimConfigurationNamesResult{Configurations: 3, Claimed: 1, Duplicates: 2}) || !slices.Equal(duplicates, []string{"a-newer", "b-newest"}) {
		t.Fatalf("result %+v, duplicates told %v, want the name claimed once and the two newer told as duplicates", res, duplicates)
	}
	e := newNameEnv(t, store)
	_, err := e.add(alice, "ops")
	assertNameTaken(t, err, takenBy("Ops", "z-oldest"))

	for _, id := range []string{"a-newer", "b-newest", "z-oldest"} {
		if err := e.rename(alice, id, "ops "); err != nil {
			t.Fatalf("editing %s, keeping its name: %v", id, err)
		}
	}
	all, err := storedConfigurations{store: store, ids: []string{"a-newer", "b-newest", "z-oldest"}}.All(context.Background())
	if err != nil || len(all) != 3 {
		t.Fatalf("the duplicates read back as %d configurations (%v), want 3", len(all), err)
	}
	for _, c := range all {
		if c.Name != "ops " || c.Revision != 1 {
			t.Errorf("%s reads back named %q at revision %d, want the edit stored", c.ID, c.Name, c.Revision)
		}
	}
	// a duplicate renamed apart cannot come back: the oldest holds the name
	if err := e.rename(alice, "a-newer", "ops-2"); err != nil {
		t.Fatal(err)
	}
	assertNameTaken(t, e.rename(alice, "a-newer", "OPS"), takenBy("ops ", "z-oldest"))
}

// TestClaimConfigurationNames_runningAgainWritesNothing: a second run finds every name held
// or taken and appends nothing.
func TestClaimConfigurationNames_runningAgainWritesNothing(t *testing.T) {
	store := openStore(t)
	storeUnclaimed(t, store, "old-1", "alice", "ops", now.Add(-2*time.Hour))
	storeUnclaimed(t, store, "old-2", "alice", "ops", now.Add(-time.Hour))
	storeUnclaimed(t, store, "old-3", "bob", "ops", now.Add(-time.Hour))
	ids := []string{"old-1", "old-2", "old-3"}
	if res := claimNames(t, store, ids...); res != (commands.ClaimConfigurationNamesResult{Configurations: 3, Claimed: 2, Duplicates: 1}) {
		t.Fatalf("first run: %+v", res)
	}
	before := lastPosition(t, store)
	if res := claimNames(t, store, ids...); res != (commands.ClaimConfigurationNamesResult{Configurations: 3, Duplicates: 1}) {
		t.Fatalf("second run: %+v, want nothing claimed", res)
	}
	if after := lastPosition(t, store); after != before {
		t.Fatalf("the second run appended: the log went from %d to %d", before, after)
	}
}

// TestClaimConfigurationNames_instancesStartingAtOnceAgree: runs at once, as instances
// starting together make them, all succeed and leave the name with the oldest configuration.
func TestClaimConfigurationNames_instancesStartingAtOnceAgree(t *testing.T) {
	for round := range 10 {
		store := openStore(t)
		ids := []string{"old-1", "old-2", "old-3", "old-4"}
		for i, id := range ids {
			storeUnclaimed(t, store, id, "alice", "ops", now.Add(time.Duration(i-10)*time.Hour))
		}
		h, err := commands.NewClaimConfigurationNamesHandler(store, storedConfigurations{store: store, ids: ids}, clock)
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				<-start
				if _, err := h.Handle(context.Background(), commands.ClaimConfigurationNames{}); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		_, err = newNameEnv(t, store).add(alice, "OPS")
		assertNameTaken(t, err, takenBy("ops", "old-1"))
	}
}

func lastPosition(t *testing.T, store *embedded.Store) uint64 {
	t.Helper()
	p, err := store.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

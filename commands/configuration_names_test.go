package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/commands"
	"herald/domain"
)

// nameEnv creates and updates configurations with ids cfg-1, cfg-2, ... at a clock a test may
// move.
type nameEnv struct {
	t      *testing.T
	store  commands.EventStore
	create commands.CreateConfigurationHandler
	update commands.UpdateConfigurationHandler
	del    commands.DeleteConfigurationHandler
	now    atomic.Pointer[time.Time]
}

func newNameEnv(t *testing.T, store commands.EventStore) *nameEnv {
	e := &nameEnv{t: t, store: store}
	e.now.Store(&now)
	clock := func() time.Time { return *e.now.Load() }
	var ids atomic.Int64
	newID := func() string { return fmt.Sprintf("cfg-%d", ids.Add(1)) }
	var errs [3]error
	e.create, errs[0] = commands.NewCreateConfigurationHandler(store, sealer(t), newID, clock)
	e.update, errs[1] = commands.NewUpdateConfigurationHandler(store, sealer(t), clock)
	e.del, errs[2] = commands.NewDeleteConfigurationHandler(store, clock)
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	return e
}

func slackDraft(name string) domain.ConfigurationDraft {
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	return domain.ConfigurationDraft{Name: name, Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")}, Selectors: []domain.Selector{sel}}
}

func (e *nameEnv) add(actor domain.Actor, name string) (string, error) {
	id, _, err := e.create.Handle(context.Background(), commands.CreateConfiguration{Actor: actor, Draft: slackDraft(name)})
	return id, err
}

func (e *nameEnv) mustAdd(actor domain.Actor, name string) string {
	e.t.Helper()
	id, err := e.add(actor, name)
	if err != nil {
		e.t.Fatalf("add %q: %v", name, err)
	}
	return id
}

func (e *nameEnv) rename(actor domain.Actor, id, name string) error {
	_, err := e.update.Handle(context.Background(), commands.UpdateConfiguration{Actor: actor, ID: id, Draft: slackDraft(name)})
	return err
}

// assertNameTaken checks that err refuses a name on the field "name" with the given message.
func assertNameTaken(t *testing.T, err error, message string) {
	t.Helper()
	var v *domain.ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != "name" || v.Fields[0].Message != message {
		t.Fatalf("error %v, want a validation error on name: %s", err, message)
	}
}

var (
	alice = domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	bob   = domain.Actor{Account: "bob", User: "bo", Role: domain.RoleReadWrite}
)

// TestConfigurationNames_uniqueWithinAnAccount: a name another configuration of the account
// has, in any case and with any spacing around or inside it, is refused on create and on
// rename, naming that configuration; another account may use it.
func TestConfigurationNames_uniqueWithinAnAccount(t *testing.T) {
	e := newNameEnv(t, openStore(t))
	first := e.mustAdd(alice, "ops-slack")
	taken := `account "alice" already has a configuration named "ops-slack" (id ` + first + `); choose another name or edit that one`
	for _, name := range []string{"ops-slack", "  OPS-Slack ", "Ops-SLACK"} {
		_, err := e.add(alice, name)
		assertNameTaken(t, err, taken)
	}
	team := e.mustAdd(alice, "ops   team")
	_, err := e.add(alice, " Ops Team")
	assertNameTaken(t, err, `account "alice" already has a configuration named "ops   team" (id `+team+`); choose another name or edit that one`)

	second := e.mustAdd(alice, "dev-slack")
	assertNameTaken(t, e.rename(alice, second, "OPS-SLACK"), taken)
	if _, err := e.add(bob, "ops-slack"); err != nil {
		t.Fatalf("another account using the name: %v", err)
	}
	// The admin adding to alice's account is checked against alice's names.
	createAccount, _ := commands.NewCreateAccountHandler(e.store, clock)
	if err := createAccount.Handle(context.Background(), commands.CreateAccount{Actor: admin, Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.create.Handle(context.Background(), commands.CreateConfiguration{Actor: admin, Account: "alice", Draft: slackDraft("Ops-Slack")})
	assertNameTaken(t, err, taken)
}

// TestConfigurationNames_keepingOrFreeingAName: an update that keeps a name, whatever its case
// or spacing, passes; a renamed or deleted configuration's name is free for another at once.
func TestConfigurationNames_keepingOrFreeingAName(t *testing.T) {
	e := newNameEnv(t, openStore(t))
	id := e.mustAdd(alice, "ops")
	for _, name := range []string{"ops", "OPS", " Ops "} {
		if err := e.rename(alice, id, name); err != nil {
			t.Fatalf("keeping the name as %q: %v", name, err)
		}
	}
	if err := e.rename(alice, id, "ops-old"); err != nil {
		t.Fatal(err)
	}
	second := e.mustAdd(alice, "ops") // freed by the rename
	if _, err := e.del.Handle(context.Background(), commands.DeleteConfiguration{Actor: alice, ID: second}); err != nil {
		t.Fatal(err)
	}
	third := e.mustAdd(alice, "ops") // freed by the delete
	// and the first may take it back once the third lets it go
	assertNameTaken(t, e.rename(alice, id, "ops"), `account "alice" already has a configuration named "ops" (id `+third+`); choose another name or edit that one`)
	if err := e.rename(alice, third, "ops-new"); err != nil {
		t.Fatal(err)
	}
	if err := e.rename(alice, id, "ops"); err != nil {
		t.Fatalf("taking a freed name back: %v", err)
	}
}

// TestConfigurationNames_duplicatesStoredBeforeKeepWorking: configurations an older version
// stored with one name (no claim) still load and may be updated under that name; only a new
// name is checked.
func TestConfigurationNames_duplicatesStoredBeforeKeepWorking(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	sealed, err := sealer(t).Seal("https://hooks.slack.com/services/T0/B0/x")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old-1", "old-2"} {
		draft := slackDraft("ops")
		draft.Settings = domain.SlackSettings{WebhookURL: domain.NewSecret(sealed)}
		fact, err := domain.EncodeConfigurationFact(domain.ConfigurationCreated{ID: id, Account: "alice", Kind: domain.KindSlack, Draft: draft, At: now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, domain.ConfigurationStream(id), domain.NoStream(), fact); err != nil {
			t.Fatal(err)
		}
	}
	e := newNameEnv(t, store)
	for _, id := range []string{"old-1", "old-2", "old-1"} {
		if err := e.rename(alice, id, "Ops"); err != nil {
			t.Fatalf("updating %s, keeping its name: %v", id, err)
		}
	}
	if err := e.rename(alice, "old-2", "ops-2"); err != nil {
		t.Fatalf("renaming a duplicate apart: %v", err)
	}
	fresh := e.mustAdd(alice, "fresh")
	assertNameTaken(t, e.rename(alice, "old-1", "FRESH"), `account "alice" already has a configuration named "fresh" (id `+fresh+`); choose another name or edit that one`)
}

// TestConfigurationNames_concurrentWritersGetOneEach: of writers adding one name at once,
// exactly one succeeds; the others are told the name is taken.
func TestConfigurationNames_concurrentWritersGetOneEach(t *testing.T) {
	e := newNameEnv(t, openStore(t))
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { _, errs[i] = e.add(alice, fmt.Sprintf(" Race%s", strings.Repeat(" ", i%3))) })
	}
	wg.Wait()
	added := 0
	for _, err := range errs {
		var v *domain.ValidationError
		switch {
		case err == nil:
			added++
		case errors.As(err, &v) && v.Fields[0].Field == "name":
		case errors.Is(err, domain.ErrConcurrency): // lost three times in a row: refused too
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if added != 1 {
		t.Fatalf("%d writers added the name, want 1: %v", added, errs)
	}
}

// failingConfigurationAppends is a store whose appends to configuration streams fail, as a
// store does when it goes away between the name's claim and the configuration's write.
type failingConfigurationAppends struct {
	commands.EventStore
	fail atomic.Bool
}

func (s *failingConfigurationAppends) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, facts ...domain.Fact) (domain.AppendResult, error) {
	if s.fail.Load() && strings.HasPrefix(stream, domain.ConfigurationStreamPrefix) {
		return domain.AppendResult{}, errors.New("store unavailable")
	}
	return s.EventStore.Append(ctx, stream, expected, facts...)
}

// TestConfigurationNames_aClaimWhoseWriteFailedFreesTheNameAfterAMinute: a claim whose
// configuration (or rename) never got written holds while the write may still be on its way,
// then frees the name.
func TestConfigurationNames_aClaimWhoseWriteFailedFreesTheNameAfterAMinute(t *testing.T) {
	store := &failingConfigurationAppends{EventStore: openStore(t)}
	e := newNameEnv(t, store)
	store.fail.Store(true)
	if _, err := e.add(alice, "ops"); err == nil {
		t.Fatal("the failing store took the configuration")
	}
	store.fail.Store(false)
	_, err := e.add(alice, "ops")
	assertNameTaken(t, err, `account "alice" is saving a configuration named "ops" at this moment (id cfg-1); choose another name, or try again in a minute`)
	later := now.Add(time.Minute)
	e.now.Store(&later)
	id, err := e.add(alice, "ops")
	if err != nil {
		t.Fatalf("a minute later: %v", err)
	}

	// the same for a rename whose write failed
	store.fail.Store(true)
	if err := e.rename(alice, id, "ops-2"); err == nil {
		t.Fatal("the failing store took the rename")
	}
	store.fail.Store(false)
	_, err = e.add(alice, "OPS-2")
	assertNameTaken(t, err, `account "alice" is saving a configuration named "ops-2" at this moment (id `+id+`); choose another name, or try again in a minute`)
	evenLater := later.Add(time.Minute)
	e.now.Store(&evenLater)
	if _, err := e.add(alice, "OPS-2"); err != nil {
		t.Fatalf("a minute after the failed rename: %v", err)
	}
}

package commands_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/commands"
	"herald/domain"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func event(id string) domain.LogEvent {
	return domain.LogEvent{ID: id, Level: domain.LevelError, Type: "user.image.analysis.failed", Message: "failed",
		Resource: domain.Resource{ID: "sha256:1", Type: "image_digest", UserID: "alice"}}
}

// An id another account's event has is refused, not taken for a duplicate: the event would
// otherwise be left out without anyone knowing. The same account's repeat stays a duplicate.
func TestRecordEvents_anIDOfAnotherAccountIsRefused(t *testing.T) {
	store := openStore(t)
	h, err := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	of := func(id, account string) domain.LogEvent {
		e := event(id)
		e.Resource.UserID = account
		return e
	}
	bob := domain.Actor{Account: "bob", User: "bo", Role: domain.RoleReadWrite}
	if _, err := h.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{of("digest-1", "alice")}}); err != nil {
		t.Fatal(err)
	}

	// by bob, in another batch (the log has it), and twice in one batch with alice's copy first
	res, err := h.Handle(ctx, commands.RecordEvents{Actor: bob, Events: []domain.LogEvent{of("digest-1", "bob"), of("digest-2", "bob")}})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(); c != (commands.RecordCounts{Recorded: 1, Refused: 1}) {
		t.Fatalf("bob's batch: counts %+v, want 1 recorded and 1 refused: %+v", c, res.Outcomes)
	}
	if o := res.Outcomes[0]; o.Status != commands.Refused || o.Reason != commands.IDTaken("digest-1") || o.Position != 0 {
		t.Fatalf("bob's digest-1: %+v, want refused because the id is taken", o)
	}
	if got := res.Refusals(); len(got) != 1 || got[0] != commands.IDTaken("digest-1") {
		t.Fatalf("refusals %v, want index 0", got)
	}
	res, err = h.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{of("digest-3", "alice"), of("digest-3", "bob"), of("digest-3", "alice")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []commands.RecordStatus{commands.Recorded, commands.Refused, commands.Duplicate}
	for i, o := range res.Outcomes {
		if o.Status != want[i] {
			t.Fatalf("one batch, outcome %d: %v, want %v (%+v)", i, o.Status, want[i], res.Outcomes)
		}
	}

	// what was stored is alice's, untouched
	for _, id := range []string{"digest-1", "digest-3"} {
		records, err := store.ReadStream(ctx, domain.LogEventStream(id))
		if err != nil || len(records) != 1 {
			t.Fatalf("stream of %s holds %d records (%v), want 1", id, len(records), err)
		}
		e, err := domain.DecodeEventRecorded(records[0].Data)
		if err != nil || e.Event.Account() != "alice" {
			t.Fatalf("%s is %q's (%v), want alice's", id, e.Event.Account(), err)
		}
	}
	// alice sending hers again is a duplicate, as before
	res, err = h.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{of("digest-1", "alice")}})
	if err != nil || res.Outcomes[0].Status != commands.Duplicate {
		t.Fatalf("alice again: %+v, %v; want a duplicate", res.Outcomes, err)
	}
}

// A duplicate that differs from the event recorded under its id is not stored either, but
// says in what it differs: two events were most likely given one id. A resent copy, stamped
// anew because it came without a timestamp, says nothing.
func TestRecordEvents_aDuplicateThatDiffersSaysInWhat(t *testing.T) {
	store := openStore(t)
	clockAt := now
	h, err := commands.NewRecordEventsHandler(store, func() time.Time { return clockAt }, commands.NewEventID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	record := func(events ...domain.LogEvent) commands.RecordEventsResult {
		t.Helper()
		res, err := h.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: events})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	record(event("a"))
	withURL := event("u")
	withURL.Details = []byte(`{"url":"http://a/?b=1&c=<2>"}`) // stored escaped, as encoding/json writes it
	record(withURL)
	if o := record(withURL).Outcomes[0]; o.Status != commands.Duplicate || o.Reason != "" {
		t.Errorf("the same details sent again: %+v, want a duplicate without a reason", o)
	}
	clockAt = now.Add(time.Minute)
	other := event("a")
	other.Message, other.Details = "succeeded", []byte(`{"n":1}`)
	stamped := event("a")
	stamped.Timestamp = now.Add(-time.Hour)
	res := record(event("a"), other, stamped)
	want := []string{
		"",
		commands.IDReused("a", []string{"message", "details"}),
		commands.IDReused("a", []string{"timestamp"}),
	}
	for i, o := range res.Outcomes {
		if o.Status != commands.Duplicate || o.Reason != want[i] {
			t.Errorf("outcome %d: %+v, want a duplicate with reason %q", i, o, want[i])
		}
	}
	if got := want[1]; !strings.Contains(got, `event id "a" is already in the log for an event that differs from this one in its message and details; this one was not stored`) {
		t.Errorf("reason reads %q", got)
	}
	if res.Refusals() != nil {
		t.Errorf("refusals %v: a duplicate is no refusal", res.Refusals())
	}
	// in one batch: the later copy is compared with the first
	res = record(event("b"), infoEvent("b"))
	if o := res.Outcomes[1]; o.Status != commands.Duplicate || o.Reason != commands.IDReused("b", []string{"level"}) {
		t.Errorf("within a batch: %+v", o)
	}
	// ... with the event the log holds, not with an earlier one of the batch that was not
	// stored: a copy of "b" after another event under b's id says nothing.
	res = record(infoEvent("b"), event("b"))
	if o := res.Outcomes; o[0].Reason != commands.IDReused("b", []string{"level"}) || o[1].Status != commands.Duplicate || o[1].Reason != "" {
		t.Errorf("a copy of the stored event after another event under its id: %+v", o)
	}
	records, err := store.ReadStream(ctx, domain.LogEventStream("a"))
	if err != nil || len(records) != 1 {
		t.Fatalf("stream of a: %d records (%v), want the first alone", len(records), err)
	}
	if e, _ := domain.DecodeEventRecorded(records[0].Data); e.Event.Message != "failed" {
		t.Errorf("stored event changed: %+v", e.Event)
	}
}

func infoEvent(id string) domain.LogEvent {
	e := event(id)
	e.Level = domain.LevelInfo
	return e
}

func TestRecordEvents_idempotentByID(t *testing.T) {
	store := openStore(t)
	h, err := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := h.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{event("a"), event("b"), event("a")}})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(); c != (commands.RecordCounts{Recorded: 2, Duplicates: 1}) || res.Outcomes[2].Status != commands.Duplicate || res.LastPosition == 0 {
		t.Fatalf("first batch: %+v", res)
	}
	res, err = h.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{event("b"), event("c")}})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Counts(); c != (commands.RecordCounts{Recorded: 1, Duplicates: 1}) || res.Outcomes[0].Status != commands.Duplicate {
		t.Fatalf("second batch: %+v", res)
	}
	records, err := store.ReadStream(ctx, domain.LogEventStream("b"))
	if err != nil || len(records) != 1 {
		t.Fatalf("stream of b holds %d records (%v), want 1", len(records), err)
	}
}

func TestRecordEvents_assignsMissingIDsAndDefaults(t *testing.T) {
	h, _ := commands.NewRecordEventsHandler(openStore(t), clock, func() string { return "assigned" })
	e := event("")
	e.Resource.UserID = ""
	res, err := h.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{e}})
	if err != nil || res.Outcomes[0].ID != "assigned" || res.Outcomes[0].Status != commands.Recorded {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestRecordEvents_invalidBatchStoresNothing(t *testing.T) {
	store := openStore(t)
	h, _ := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	bad := event("bad")
	bad.Level = 0
	_, err := h.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{event("good"), bad}})
	var v *domain.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "events[1].level" {
		t.Fatalf("want a validation error on events[1].level, got %v", err)
	}
	if last, _ := store.LastPosition(context.Background()); last != 0 {
		t.Fatalf("an invalid batch stored records up to position %d", last)
	}
	if _, err := h.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor()}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty batch: %v", err)
	}
}

// TestRecordEvents_kafkaIDsAreKeptForKafka: ids are unique across accounts, so an account
// that recorded the id herald will derive for a Kafka message still to come would have that
// message dropped as a duplicate; only herald itself and the admin account may use them.
func TestRecordEvents_kafkaIDsAreKeptForKafka(t *testing.T) {
	store := openStore(t)
	h, _ := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	ctx := context.Background()
	alice := domain.Actor{Account: "alice", User: "ann", Role: domain.RoleReadWrite}
	_, err := h.Handle(ctx, commands.RecordEvents{Actor: alice, Events: []domain.LogEvent{event("kafka:herald.events:0:42")}})
	var v *domain.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "events[0].id" || !strings.Contains(err.Error(), "kept for the events herald reads from Kafka") {
		t.Fatalf("alice recording a Kafka id: %v", err)
	}
	if last, _ := store.LastPosition(ctx); last != 0 {
		t.Fatalf("the refused batch stored records up to position %d", last)
	}
	for _, actor := range []domain.Actor{domain.SystemActor(), {Account: domain.AdminAccount, User: "admin", Role: domain.RoleReadWrite}} {
		e := event("kafka:herald.events:0:" + actor.User)
		if res, err := h.Handle(ctx, commands.RecordEvents{Actor: actor, Events: []domain.LogEvent{e}}); err != nil || res.Outcomes[0].Status != commands.Recorded {
			t.Errorf("%s recording a Kafka id: %+v %v", actor, res, err)
		}
	}
}

// fixedMatches answers MatchingIDs with ids read at view checkpoint upTo.
type fixedMatches struct {
	ids  []string
	upTo uint64
}

func (m fixedMatches) MatchingIDs(context.Context, domain.EventFilter) ([]string, uint64, error) {
	return m.ids, m.upTo, nil
}

func TestDeleteEvent_removesThePayloadForGood(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	record, _ := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	if _, err := record.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{event("x")}}); err != nil {
		t.Fatal(err)
	}
	del, _ := commands.NewDeleteEventHandler(store, clock)
	pos, err := del.Handle(ctx, commands.DeleteEvent{Actor: domain.SystemActor(), ID: "x"})
	if err != nil || pos == 0 {
		t.Fatalf("delete: %d %v", pos, err)
	}
	if _, err := store.ReadStream(ctx, domain.LogEventStream("x")); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Fatalf("payload still readable: %v", err)
	}
	audit, err := store.ReadStream(ctx, domain.EventLogStream("alice"))
	if err != nil || len(audit) != 1 || audit[0].Type != domain.EventDeletedType {
		t.Fatalf("no EventDeleted fact in the account's stream: %v %v", audit, err)
	}
	if _, err := del.Handle(ctx, commands.DeleteEvent{Actor: domain.SystemActor(), ID: "x"}); !errors.Is(err, domain.ErrEventNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := del.Handle(ctx, commands.DeleteEvent{Actor: domain.SystemActor(), ID: "never"}); !errors.Is(err, domain.ErrEventNotFound) {
		t.Fatalf("deleting an unknown id: %v", err)
	}
}

func TestDeleteEvents_recordsTheClearAndPurges(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	record, _ := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	if _, err := record.Handle(ctx, commands.RecordEvents{Actor: domain.SystemActor(), Events: []domain.LogEvent{event("p"), event("q"), event("r")}}); err != nil {
		t.Fatal(err)
	}
	h, err := commands.NewDeleteEventsHandler(context.Background(), store, fixedMatches{[]string{"p", "q"}, 3}, clock, commands.PurgeHooks{
		Unpurged:   func(id string, err error) { t.Errorf("a purge that went well told as unpurged: %s %v", id, err) },
		Unrecorded: func(id string, err error) { t.Errorf("a purge that went well told as unrecorded: %s %v", id, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	filter := domain.EventFilter{Account: "alice", Before: now}
	res, err := h.Handle(ctx, commands.DeleteEvents{Actor: domain.SystemActor(), Filter: filter})
	if err != nil || res.Count != 2 {
		t.Fatalf("clear: %+v %v", res, err)
	}
	facts, _ := store.ReadStream(ctx, domain.EventLogStream("alice"))
	cleared, err := domain.DecodeEventsCleared(facts[len(facts)-1].Data)
	if err != nil || cleared.Count != 2 || !cleared.Criteria.Before.Equal(now) || cleared.UpTo != 3 || cleared.ClearID == "" {
		t.Fatalf("EventsCleared fact: %+v %v", cleared, err)
	}
	purges, _ := store.ReadStream(ctx, domain.PurgesStream)
	if len(purges) != 2 || purges[0].Type != domain.PurgeScheduledType || purges[1].Type != domain.PurgeFinishedType {
		t.Fatalf("the purge is not scheduled then finished: %+v", purges)
	}
	if f, _ := domain.DecodePurgeFinished(purges[1].Data); f.ClearID != cleared.ClearID || f.Deleted != 2 || !f.Cleared {
		t.Fatalf("PurgeFinished: %+v, want clear %s with 2 deleted", f, cleared.ClearID)
	}
	for id, gone := range map[string]bool{"p": true, "q": true, "r": false} {
		_, err := store.ReadStream(ctx, domain.LogEventStream(id))
		if gone != errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("stream of %s: %v", id, err)
		}
	}
	if _, err := h.Handle(ctx, commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Type: "Bad Type"}}); err == nil {
		t.Fatal("an invalid filter was accepted")
	}
}

func TestConstructors_refuseNilDependencies(t *testing.T) {
	if _, err := commands.NewRecordEventsHandler(nil, clock, commands.NewEventID); err == nil {
		t.Error("NewRecordEventsHandler accepted a nil store")
	}
	if _, err := commands.NewDeleteEventHandler(nil, clock); err == nil {
		t.Error("NewDeleteEventHandler accepted a nil store")
	}
	if _, err := commands.NewDeleteEventsHandler(context.Background(), openStore(t), nil, clock, commands.PurgeHooks{}); err == nil {
		t.Error("NewDeleteEventsHandler accepted nil matches")
	}
}

// failingDeletes is a store whose deletions of the named events' streams fail.
type failingDeletes struct {
	*embedded.Store
	fail map[string]bool
}

func (s failingDeletes) DeleteStream(ctx context.Context, stream string, expected domain.ExpectedRevision) error {
	if s.fail[stream] {
		return errors.New("disk on fire")
	}
	return s.Store.DeleteStream(ctx, stream, expected)
}

// stuckDeletes is a store whose stream deletions hang until their context ends.
type stuckDeletes struct {
	*embedded.Store
	started chan struct{} // receives at each deletion begun
}

func (s stuckDeletes) DeleteStream(ctx context.Context, _ string, _ domain.ExpectedRevision) error {
	select {
	case s.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestDeleteEvents_thePurgeStopsWithTheServer: the purge after a clear outlives its request
// but not the server, so a shutdown is not held up by a long purge; the clear stands, and the
// purge is left scheduled for the next start.
func TestDeleteEvents_thePurgeStopsWithTheServer(t *testing.T) {
	store := openStore(t)
	recordEvents(t, store, event("p"), event("q"))
	lifetime, stop := context.WithCancel(context.Background())
	var unpurged []told // read once Handle returned
	stuck := stuckDeletes{store, make(chan struct{}, 1)}
	h, _ := commands.NewDeleteEventsHandler(lifetime, stuck, fixedMatches{[]string{"p", "q"}, 2}, clock, commands.PurgeHooks{
		Unpurged: func(id string, err error) { unpurged = append(unpurged, told{id, err}) },
	})
	request, cancelRequest := context.WithCancel(context.Background())
	type outcome struct {
		res commands.DeleteEventsResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := h.Handle(request, commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Account: "alice"}})
		done <- outcome{res, err}
	}()
	<-stuck.started
	cancelRequest() // the caller going away does not stop the purge
	select {
	case o := <-done:
		t.Fatalf("the purge stopped with its request: %+v", o)
	case <-time.After(100 * time.Millisecond):
	}
	stop()
	select {
	case o := <-done:
		if o.err != nil || o.res.Count != 2 {
			t.Fatalf("clear: %+v %v, want 2 cleared (an unfinished purge is not the caller's failure)", o.res, o.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the purge went on after the server stopped")
	}
	purges, _ := store.ReadStream(context.Background(), domain.PurgesStream)
	if len(purges) != 1 || purges[0].Type != domain.PurgeScheduledType {
		t.Fatalf("the purges stream holds %d facts, want the PurgeScheduled alone, for the next start", len(purges))
	}
	scheduled, _ := domain.DecodePurgeScheduled(purges[0].Data)
	if len(unpurged) != 1 || unpurged[0].clearID != scheduled.ClearID || !errors.Is(unpurged[0].err, context.Canceled) {
		t.Errorf("told of unpurged clears %v, want clear %s stopped (context canceled)", unpurged, scheduled.ClearID)
	}
}

func recordEvents(t *testing.T, store commands.EventStore, events ...domain.LogEvent) uint64 {
	t.Helper()
	record, _ := commands.NewRecordEventsHandler(store, clock, commands.NewEventID)
	res, err := record.Handle(context.Background(), commands.RecordEvents{Actor: domain.SystemActor(), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition
}

func TestResumePurges_finishesWhatAClearLeft(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	other := event("t") // another account's: does not match
	other.Resource.UserID = "bob"
	recordEvents(t, store, other)
	upTo := recordEvents(t, store, event("p"), event("q"), event("r")) - 1 // the view has applied q, not r
	recordEvents(t, store, event("s"))

	broken := failingDeletes{store, map[string]bool{domain.LogEventStream("q"): true}}
	var unpurged []told
	h, _ := commands.NewDeleteEventsHandler(context.Background(), broken, fixedMatches{[]string{"p", "q"}, upTo}, clock, commands.PurgeHooks{
		Unpurged: func(id string, err error) { unpurged = append(unpurged, told{id, err}) },
	})
	res, err := h.Handle(ctx, commands.DeleteEvents{Actor: domain.SystemActor(), Filter: domain.EventFilter{Account: "alice", Level: domain.LevelError}})
	if err != nil || res.Count != 2 {
		t.Fatalf("clear: %+v %v (a failed purge is not the caller's failure)", res, err)
	}
	clearID := lastClear(t, store, "alice").ClearID
	if len(unpurged) != 1 || unpurged[0].clearID != clearID || unpurged[0].err == nil || !strings.Contains(unpurged[0].err.Error(), "disk on fire") {
		t.Fatalf("told of unpurged clears %v, want clear %s with the store's error", unpurged, clearID)
	}
	if _, err := store.ReadStream(ctx, domain.LogEventStream("q")); err != nil {
		t.Fatalf("the stream of q is gone already: %v", err)
	}

	resume, err := commands.NewResumePurgesHandler(store, store, clock)
	if err != nil {
		t.Fatal(err)
	}
	var resuming []domain.PurgeScheduled
	got, err := resume.Handle(ctx, commands.ResumePurges{Resuming: func(p domain.PurgeScheduled) { resuming = append(resuming, p) }})
	if err != nil || got != (commands.ResumePurgesResult{Finished: 1, Deleted: 1}) {
		t.Fatalf("resume: %+v %v, want one purge finished and q deleted", got, err)
	}
	if len(resuming) != 1 || resuming[0].ClearID != clearID || resuming[0].Account != "alice" || resuming[0].UpTo != upTo {
		t.Fatalf("told of resumed purges %+v, want clear %s of alice up to %d", resuming, clearID, upTo)
	}
	for id, gone := range map[string]bool{"p": true, "q": true, "r": false, "s": false, "t": false} {
		_, err := store.ReadStream(ctx, domain.LogEventStream(id))
		if gone != errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("stream of %s after the resumed purge: %v (want deleted: %v)", id, err, gone)
		}
	}
	if again, err := resume.Handle(ctx, commands.ResumePurges{}); err != nil || again != (commands.ResumePurgesResult{}) {
		t.Fatalf("a second resume: %+v %v, want nothing to do", again, err)
	}
}

func TestResumePurges_dropsAPurgeWhoseClearWasNeverRecorded(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	upTo := recordEvents(t, store, event("p"))
	for _, age := range []time.Duration{time.Hour, time.Minute} {
		p := domain.PurgeScheduled{ClearID: "c-" + age.String(), Account: "alice", Criteria: domain.EventFilter{Account: "alice"}, UpTo: upTo, ScheduledAt: now.Add(-age)}
		if _, err := store.Append(ctx, domain.PurgesStream, domain.Any(), p.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	resume, _ := commands.NewResumePurgesHandler(store, store, clock)
	got, err := resume.Handle(ctx, commands.ResumePurges{
		Resuming: func(p domain.PurgeScheduled) {
			t.Errorf("told of resuming the purge of clear %s, which was never recorded", p.ClearID)
		},
	})
	if err != nil || got != (commands.ResumePurgesResult{Dropped: 1, Left: 1}) {
		t.Fatalf("resume: %+v %v, want the hour-old purge dropped and the minute-old one left", got, err)
	}
	if _, err := store.ReadStream(ctx, domain.LogEventStream("p")); err != nil {
		t.Fatalf("an event was purged for a clear that never happened: %v", err)
	}
}

package standin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"herald/adapters/eventstore/kurrentdb/standin"
)

// Every test drives the stand-in through the official client only, so what they pin down is
// what the herald adapter will see.

const waitLimit = 5 * time.Second

func start(t *testing.T, opts standin.Options) (*standin.Server, *kurrentdb.Client) {
	t.Helper()
	srv, err := standin.StartWith(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kurrentdb.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = kurrentdb.NoopLogging() // the client logs to the console by default
	client, err := kurrentdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.Close()
		srv.Close()
	})
	return srv, client
}

// quiet is a stand-in that writes no stats events of its own.
func quiet(t *testing.T) (*standin.Server, *kurrentdb.Client) {
	return start(t, standin.Options{StatsEvery: -1})
}

func jsonEvents(eventType string, n int) []kurrentdb.EventData {
	out := make([]kurrentdb.EventData, n)
	for i := range out {
		out[i] = kurrentdb.EventData{
			EventID:     uuid.New(),
			EventType:   eventType,
			ContentType: kurrentdb.ContentTypeJson,
			Data:        fmt.Appendf(nil, `{"n":%d}`, i),
		}
	}
	return out
}

func appendOK(t *testing.T, c *kurrentdb.Client, stream string, exp kurrentdb.StreamState, events ...kurrentdb.EventData) *kurrentdb.WriteResult {
	t.Helper()
	res, err := c.AppendToStream(context.Background(), stream, kurrentdb.AppendToStreamOptions{StreamState: exp}, events...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func codeOf(err error) kurrentdb.ErrorCode {
	var e *kurrentdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

func wantCode(t *testing.T, err error, want kurrentdb.ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want error code %d", want)
	}
	if got := codeOf(err); got != want {
		t.Fatalf("got error code %d (%v), want %d", got, err, want)
	}
}

// drain reads a read stream to its end; the error is the one Recv returned, if not io.EOF.
func drain(rs *kurrentdb.ReadStream) ([]*kurrentdb.ResolvedEvent, error) {
	defer rs.Close()
	var out []*kurrentdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func readStream(t *testing.T, c *kurrentdb.Client, stream string, opts kurrentdb.ReadStreamOptions, count uint64) ([]*kurrentdb.ResolvedEvent, error) {
	t.Helper()
	rs, err := c.ReadStream(context.Background(), stream, opts, count)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return drain(rs)
}

func readAll(t *testing.T, c *kurrentdb.Client, opts kurrentdb.ReadAllOptions, count uint64) []*kurrentdb.ResolvedEvent {
	t.Helper()
	rs, err := c.ReadAll(context.Background(), opts, count)
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	evs, err := drain(rs)
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	return evs
}

func revisions(evs []*kurrentdb.ResolvedEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Event.EventNumber
	}
	return out
}

func TestConnectsAndReportsTheStandInVersion(t *testing.T) {
	_, c := quiet(t)
	v, err := c.GetServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.Major != 25 || v.Minor != 1 || v.Patch != 0 {
		t.Fatalf("server version %+v, want 25.1.0 parsed from %q", *v, standin.Version)
	}
}

func TestAppendChecksEveryKindOfExpectedRevision(t *testing.T) {
	_, c := quiet(t)
	const s = "order-1"
	first := appendOK(t, c, s, kurrentdb.NoStream{}, jsonEvents("Placed", 2)...)
	if first.NextExpectedVersion != 1 {
		t.Fatalf("NoStream append of 2 events: next expected %d, want 1", first.NextExpectedVersion)
	}
	second := appendOK(t, c, s, kurrentdb.StreamRevision{Value: 1}, jsonEvents("Paid", 1)...)
	third := appendOK(t, c, s, kurrentdb.StreamExists{}, jsonEvents("Packed", 1)...)
	fourth := appendOK(t, c, s, kurrentdb.Any{}, jsonEvents("Shipped", 1)...)
	for i, res := range []*kurrentdb.WriteResult{second, third, fourth} {
		if want := uint64(2 + i); res.NextExpectedVersion != want {
			t.Fatalf("append %d: next expected %d, want %d", i+2, res.NextExpectedVersion, want)
		}
	}

	mismatches := []struct {
		stream  string
		exp     kurrentdb.StreamState
		message string
	}{
		{s, kurrentdb.NoStream{}, "expecting 'no_stream' but got '4'"},
		{s, kurrentdb.StreamRevision{Value: 1}, "expecting '1' but got '4'"},
		{s, kurrentdb.StreamRevision{Value: 9}, "expecting '9' but got '4'"},
		{"order-missing", kurrentdb.StreamExists{}, "expecting 'stream_exists' but got 'no_stream'"},
		{"order-missing", kurrentdb.StreamRevision{Value: 0}, "expecting '0' but got 'no_stream'"},
	}
	for _, m := range mismatches {
		_, err := c.AppendToStream(context.Background(), m.stream, kurrentdb.AppendToStreamOptions{StreamState: m.exp}, jsonEvents("Late", 1)...)
		wantCode(t, err, kurrentdb.ErrorCodeWrongExpectedVersion)
		if !strings.Contains(err.Error(), m.message) {
			t.Fatalf("error %q does not say %q", err, m.message)
		}
	}
	evs, err := readStream(t, c, s, kurrentdb.ReadStreamOptions{}, 100)
	if err != nil || len(evs) != 5 {
		t.Fatalf("after the refused appends the stream has %d events (%v), want 5", len(evs), err)
	}
}

func TestAppendPositionsAreSparseAndIncreasing(t *testing.T) {
	_, c := quiet(t)
	var last uint64
	for i := range 5 {
		res := appendOK(t, c, fmt.Sprintf("pos-%d", i), kurrentdb.NoStream{}, jsonEvents("E", 1)...)
		if res.CommitPosition != res.PreparePosition {
			t.Fatalf("commit %d != prepare %d", res.CommitPosition, res.PreparePosition)
		}
		if i > 0 && res.CommitPosition <= last+1 {
			t.Fatalf("position %d follows %d: want strictly increasing with gaps", res.CommitPosition, last)
		}
		last = res.CommitPosition
	}
}

func TestReadBackKeepsIdsTypesDataAndCreated(t *testing.T) {
	_, c := quiet(t)
	before := time.Now()
	jsonEv := kurrentdb.EventData{EventID: uuid.New(), EventType: "Placed", ContentType: kurrentdb.ContentTypeJson, Data: []byte(`{"a":1}`), Metadata: []byte(`{"by":"me"}`)}
	binEv := kurrentdb.EventData{EventID: uuid.New(), EventType: "Blob", ContentType: kurrentdb.ContentTypeBinary, Data: []byte{0, 1, 2}}
	res := appendOK(t, c, "item-1", kurrentdb.NoStream{}, jsonEv, binEv)
	after := time.Now()

	evs, err := readStream(t, c, "item-1", kurrentdb.ReadStreamOptions{}, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("read %d events (%v), want 2", len(evs), err)
	}
	for i, want := range []kurrentdb.EventData{jsonEv, binEv} {
		got := evs[i].Event
		if got.EventID != want.EventID || got.EventType != want.EventType || string(got.Data) != string(want.Data) ||
			string(got.UserMetadata) != string(want.Metadata) || got.StreamID != "item-1" || got.EventNumber != uint64(i) {
			t.Fatalf("event %d read back as %+v, written as %+v", i, got, want)
		}
		if got.CreatedDate.Before(before.Add(-time.Millisecond)) || got.CreatedDate.After(after.Add(time.Millisecond)) {
			t.Fatalf("event %d created %v, outside the append (%v..%v)", i, got.CreatedDate, before, after)
		}
		if evs[i].Commit != nil {
			t.Fatalf("a stream read carries commit position %d; the real server sends none", *evs[i].Commit)
		}
	}
	if evs[0].Event.ContentType != "application/json" || evs[1].Event.ContentType != "application/octet-stream" {
		t.Fatalf("content types %q and %q", evs[0].Event.ContentType, evs[1].Event.ContentType)
	}
	if p := evs[1].Event.Position; p.Commit != res.CommitPosition || p.Prepare != res.PreparePosition {
		t.Fatalf("last event at %+v, append said %d", p, res.CommitPosition)
	}

	all := readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)
	if len(all) != 1 || all[0].Commit == nil || *all[0].Commit != res.CommitPosition || all[0].Event.EventID != binEv.EventID {
		t.Fatalf("$all's last event is not the one appended with its commit position: %+v", all)
	}
}

func TestRetriedAppendIsIdempotent(t *testing.T) {
	_, c := quiet(t)
	evs := jsonEvents("Placed", 2)
	first := appendOK(t, c, "retry-1", kurrentdb.NoStream{}, evs...)
	for _, exp := range []kurrentdb.StreamState{kurrentdb.NoStream{}, kurrentdb.Any{}} {
		again := appendOK(t, c, "retry-1", exp, evs...)
		if *again != *first {
			t.Fatalf("retry with %T answered %+v, first append %+v", exp, again, first)
		}
	}
	got, err := readStream(t, c, "retry-1", kurrentdb.ReadStreamOptions{}, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("after retries the stream has %d events (%v), want 2", len(got), err)
	}
}

func TestEmptyAppendWritesNothing(t *testing.T) {
	_, c := quiet(t)
	for range 2 {
		// The server answers "no stream" and no position; this client turns that into
		// revision 0 at position 0, the same as a stream with one event would get.
		res := appendOK(t, c, "empty-1", kurrentdb.NoStream{})
		if res.NextExpectedVersion != 0 || res.CommitPosition != 0 {
			t.Fatalf("empty append answered %+v", res)
		}
	}
	_, err := readStream(t, c, "empty-1", kurrentdb.ReadStreamOptions{}, 10)
	wantCode(t, err, kurrentdb.ErrorCodeResourceNotFound)
	_, err = c.AppendToStream(context.Background(), "empty-1", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.StreamRevision{Value: 3}})
	wantCode(t, err, kurrentdb.ErrorCodeWrongExpectedVersion)
}

func TestAppendOverOneMebibyteIsRefused(t *testing.T) {
	_, c := quiet(t)
	big := kurrentdb.EventData{EventType: "Big", ContentType: kurrentdb.ContentTypeBinary, Data: make([]byte, 1<<20+1)}
	if _, err := c.AppendToStream(context.Background(), "big-1", kurrentdb.AppendToStreamOptions{}, big); err == nil {
		t.Fatal("a 1 MiB + 1 byte append succeeded")
	}
	_, err := readStream(t, c, "big-1", kurrentdb.ReadStreamOptions{}, 10)
	wantCode(t, err, kurrentdb.ErrorCodeResourceNotFound)
}

func TestReadingAMissingStreamIsNotFound(t *testing.T) {
	_, c := quiet(t)
	_, err := readStream(t, c, "never-written", kurrentdb.ReadStreamOptions{}, 10)
	wantCode(t, err, kurrentdb.ErrorCodeResourceNotFound)
}

func TestReadStreamDirectionsAndCounts(t *testing.T) {
	_, c := quiet(t)
	appendOK(t, c, "dir-1", kurrentdb.NoStream{}, jsonEvents("E", 5)...)
	cases := []struct {
		name  string
		opts  kurrentdb.ReadStreamOptions
		count uint64
		want  []uint64
	}{
		{"forwards from start", kurrentdb.ReadStreamOptions{From: kurrentdb.Start{}}, 2, []uint64{0, 1}},
		{"forwards from revision", kurrentdb.ReadStreamOptions{From: kurrentdb.Revision(3)}, 10, []uint64{3, 4}},
		{"forwards from end", kurrentdb.ReadStreamOptions{From: kurrentdb.End{}}, 10, []uint64{}},
		{"backwards from end", kurrentdb.ReadStreamOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 2, []uint64{4, 3}},
		{"backwards from revision", kurrentdb.ReadStreamOptions{Direction: kurrentdb.Backwards, From: kurrentdb.Revision(1)}, 10, []uint64{1, 0}},
	}
	for _, tc := range cases {
		evs, err := readStream(t, c, "dir-1", tc.opts, tc.count)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := revisions(evs); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Fatalf("%s: revisions %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTombstoneDeletesForGood(t *testing.T) {
	_, c := quiet(t)
	ctx := context.Background()
	appendOK(t, c, "gone-1", kurrentdb.NoStream{}, jsonEvents("E", 2)...)

	// A wrong expected revision on a deletion comes back as a FailedPrecondition status with a
	// wrong-expected-version trailer, which this client does not map: ErrorCodeUnknown.
	_, err := c.TombstoneStream(ctx, "gone-1", kurrentdb.TombstoneStreamOptions{StreamState: kurrentdb.StreamRevision{Value: 0}})
	wantCode(t, err, kurrentdb.ErrorCodeUnknown)
	if !strings.Contains(err.Error(), "WrongExpectedVersion") {
		t.Fatalf("error %q does not say WrongExpectedVersion", err)
	}

	del, err := c.TombstoneStream(ctx, "gone-1", kurrentdb.TombstoneStreamOptions{StreamState: kurrentdb.StreamRevision{Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readStream(t, c, "gone-1", kurrentdb.ReadStreamOptions{}, 10)
	wantCode(t, err, kurrentdb.ErrorCodeStreamDeleted)
	_, err = c.AppendToStream(ctx, "gone-1", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.Any{}}, jsonEvents("E", 1)...)
	wantCode(t, err, kurrentdb.ErrorCodeStreamDeleted)
	_, err = c.TombstoneStream(ctx, "gone-1", kurrentdb.TombstoneStreamOptions{StreamState: kurrentdb.Any{}})
	wantCode(t, err, kurrentdb.ErrorCodeStreamDeleted)
	_, err = c.GetStreamMetadata(ctx, "gone-1", kurrentdb.ReadStreamOptions{})
	wantCode(t, err, kurrentdb.ErrorCodeStreamDeleted)

	last := readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)
	if len(last) != 1 {
		t.Fatal("$all is empty")
	}
	ev := last[0].Event
	if ev.EventType != "$streamDeleted" || ev.StreamID != "gone-1" || ev.EventNumber != math.MaxInt64 || ev.Position != del.Position {
		t.Fatalf("$all ends with %s/%s #%d at %+v, want the tombstone at %+v", ev.StreamID, ev.EventType, ev.EventNumber, ev.Position, del.Position)
	}
}

func TestSoftDeleteHidesTheStreamUntilItIsWrittenAgain(t *testing.T) {
	_, c := quiet(t)
	ctx := context.Background()
	appendOK(t, c, "soft-1", kurrentdb.NoStream{}, jsonEvents("E", 2)...)

	_, err := c.DeleteStream(ctx, "soft-1", kurrentdb.DeleteStreamOptions{StreamState: kurrentdb.StreamRevision{Value: 0}})
	wantCode(t, err, kurrentdb.ErrorCodeUnknown)
	if _, err := c.DeleteStream(ctx, "soft-1", kurrentdb.DeleteStreamOptions{StreamState: kurrentdb.StreamRevision{Value: 1}}); err != nil {
		t.Fatal(err)
	}
	_, err = readStream(t, c, "soft-1", kurrentdb.ReadStreamOptions{}, 10)
	wantCode(t, err, kurrentdb.ErrorCodeResourceNotFound)
	_, err = c.AppendToStream(ctx, "soft-1", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.StreamExists{}}, jsonEvents("E", 1)...)
	wantCode(t, err, kurrentdb.ErrorCodeStreamDeleted)

	// Written again, the stream continues from its old revisions, and only the new events show.
	res := appendOK(t, c, "soft-1", kurrentdb.NoStream{}, jsonEvents("E", 3)...)
	if res.NextExpectedVersion != 4 {
		t.Fatalf("recreated stream's next expected %d, want 4", res.NextExpectedVersion)
	}
	evs, err := readStream(t, c, "soft-1", kurrentdb.ReadStreamOptions{}, 10)
	if err != nil || fmt.Sprint(revisions(evs)) != "[2 3 4]" {
		t.Fatalf("recreated stream reads %v (%v), want revisions [2 3 4]", revisions(evs), err)
	}
	meta, err := c.GetStreamMetadata(ctx, "soft-1", kurrentdb.ReadStreamOptions{})
	if err != nil || meta.TruncateBefore() == nil || *meta.TruncateBefore() != 2 {
		t.Fatalf("metadata after recreation: %+v (%v), want $tb 2", meta, err)
	}
	_, err = c.AppendToStream(ctx, "soft-1", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.NoStream{}}, jsonEvents("E", 1)...)
	wantCode(t, err, kurrentdb.ErrorCodeWrongExpectedVersion)
}

func TestReadAllPositions(t *testing.T) {
	_, c := quiet(t)
	var written []*kurrentdb.WriteResult
	for i := range 4 {
		written = append(written, appendOK(t, c, fmt.Sprintf("all-%d", i%2), kurrentdb.Any{}, jsonEvents("E", 1)...))
	}
	// The log's first record, the epoch, is hidden from $all as on the real server, so even
	// the first event a client sees is not at position 0.
	all := readAll(t, c, kurrentdb.ReadAllOptions{}, 100)
	if len(all) != 4 || all[0].Event.Position.Commit == 0 {
		t.Fatalf("$all from the start has %d events, the first at %+v; want 4, not at 0", len(all), all[0].Event.Position)
	}
	for i, ev := range all {
		cur := ev.Event.Position
		if cur.Commit != cur.Prepare || cur.Commit != written[i].CommitPosition || ev.Commit == nil || *ev.Commit != cur.Commit {
			t.Fatalf("event %d at %+v (commit %v), append said %d", i, cur, ev.Commit, written[i].CommitPosition)
		}
		if prev := all[max(i-1, 0)].Event.Position; i > 0 && cur.Commit <= prev.Commit+1 {
			t.Fatalf("position %+v follows %+v: want increasing with gaps", cur, prev)
		}
	}

	third := kurrentdb.Position{Commit: written[2].CommitPosition, Prepare: written[2].PreparePosition}
	fwd := readAll(t, c, kurrentdb.ReadAllOptions{From: third}, 100)
	if len(fwd) != 2 || fwd[0].Event.Position != third {
		t.Fatalf("forwards from %+v starts at %+v with %d events: want the event at that position first", third, fwd[0].Event.Position, len(fwd))
	}
	bwd := readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: third}, 100)
	if len(bwd) != 2 || bwd[0].Event.Position.Commit != written[1].CommitPosition {
		t.Fatalf("backwards from %+v gives %d events starting at %+v: want the events before it", third, len(bwd), bwd[0].Event.Position)
	}
	end := readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 2)
	if len(end) != 2 || end[0].Event.Position.Commit != written[3].CommitPosition || end[1].Event.Position.Commit != written[2].CommitPosition {
		t.Fatal("backwards from the end does not give the last two events, newest first")
	}
	if past := readAll(t, c, kurrentdb.ReadAllOptions{From: kurrentdb.Position{Commit: 1 << 40, Prepare: 1 << 40}}, 10); len(past) != 0 {
		t.Fatalf("forwards from past the end gave %d events", len(past))
	}

	// A dense successor of a real position points inside a record.
	rs, err := c.ReadAll(context.Background(), kurrentdb.ReadAllOptions{From: kurrentdb.Position{Commit: third.Commit + 1, Prepare: third.Prepare + 1}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(rs)
	wantCode(t, err, kurrentdb.ErrorCodeUnknown)
}

func TestSystemEventsAppearInAll(t *testing.T) {
	srv, c := start(t, standin.Options{StatsEvery: 2})
	first := readAll(t, c, kurrentdb.ReadAllOptions{}, 100)
	if len(first) != 1 || first[0].Event.EventType != "$statsCollected" {
		t.Fatalf("a new stand-in's $all holds %d events, want one stats event (the epoch is hidden)", len(first))
	}
	appendOK(t, c, "sys-1", kurrentdb.Any{}, jsonEvents("E", 1)...)
	appendOK(t, c, "sys-1", kurrentdb.Any{}, jsonEvents("E", 1)...)
	last := readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)[0].Event
	if last.EventType != "$statsCollected" || !strings.HasPrefix(last.StreamID, "$stats-") {
		t.Fatalf("after two writes $all ends with %s/%s, want a stats event", last.StreamID, last.EventType)
	}
	pos := srv.WriteStatsEvent()
	last = readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)[0].Event
	if last.EventType != "$statsCollected" || last.Position.Commit != pos {
		t.Fatalf("WriteStatsEvent said %d, $all ends with %s at %d", pos, last.EventType, last.Position.Commit)
	}
}

// feed pumps a subscription's events into a channel so that tests can wait with a limit.
type feed chan *kurrentdb.SubscriptionEvent

func follow(t *testing.T, sub *kurrentdb.Subscription) feed {
	f := make(feed, 10_000)
	go func() {
		for {
			ev := sub.Recv()
			f <- ev
			if ev.SubscriptionDropped != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = sub.Close() })
	return f
}

func (f feed) next(t *testing.T) *kurrentdb.SubscriptionEvent {
	t.Helper()
	select {
	case ev := <-f:
		return ev
	case <-time.After(waitLimit):
		t.Fatal("no subscription event within the limit")
		return nil
	}
}

// untilCaughtUp collects events and checkpoints up to CaughtUp.
func (f feed) untilCaughtUp(t *testing.T) (events []*kurrentdb.ResolvedEvent, checkpoints []kurrentdb.Position, caughtUp *kurrentdb.CaughtUp) {
	t.Helper()
	for {
		ev := f.next(t)
		switch {
		case ev.EventAppeared != nil:
			events = append(events, ev.EventAppeared)
		case ev.CheckPointReached != nil:
			checkpoints = append(checkpoints, *ev.CheckPointReached)
		case ev.CaughtUp != nil:
			return events, checkpoints, ev.CaughtUp
		case ev.SubscriptionDropped != nil:
			t.Fatalf("subscription dropped while catching up: %v", ev.SubscriptionDropped.Error)
		default:
			t.Fatalf("subscription event with nothing set: %+v", ev)
		}
	}
}

// events collects n events, keeping the checkpoints that come between; a CaughtUp among them
// (a subscription that started while writers were busy) is passed over, once.
func (f feed) events(t *testing.T, n int) (events []*kurrentdb.ResolvedEvent, checkpoints []kurrentdb.Position) {
	t.Helper()
	caughtUp := 0
	for len(events) < n {
		ev := f.next(t)
		switch {
		case ev.EventAppeared != nil:
			events = append(events, ev.EventAppeared)
		case ev.CheckPointReached != nil:
			checkpoints = append(checkpoints, *ev.CheckPointReached)
		case ev.CaughtUp != nil && caughtUp == 0:
			caughtUp++
		case ev.SubscriptionDropped != nil:
			t.Fatalf("subscription dropped: %v", ev.SubscriptionDropped.Error)
		default:
			t.Fatalf("unexpected subscription event %+v", ev)
		}
	}
	return events, checkpoints
}

func subscribeAll(t *testing.T, c *kurrentdb.Client, opts kurrentdb.SubscribeToAllOptions) feed {
	t.Helper()
	sub, err := c.SubscribeToAll(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return follow(t, sub)
}

func streamPrefix(prefixes ...string) *kurrentdb.SubscriptionFilter {
	return &kurrentdb.SubscriptionFilter{Type: kurrentdb.StreamFilterType, Prefixes: prefixes}
}

func TestSubscribeToAllFromStartWithAStreamPrefixFilter(t *testing.T) {
	_, c := start(t, standin.Options{StatsEvery: 2})
	var history []kurrentdb.EventData
	for i := range 3 {
		ev := jsonEvents("Placed", 1)
		history = append(history, ev...)
		appendOK(t, c, fmt.Sprintf("order-%d", i), kurrentdb.NoStream{}, ev...)
		appendOK(t, c, fmt.Sprintf("other-%d", i), kurrentdb.NoStream{}, jsonEvents("Noise", 2)...)
	}
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{
		From: kurrentdb.Start{}, Filter: streamPrefix("order-"), MaxSearchWindow: 2, CheckpointInterval: 1,
	})

	got, checkpoints, caughtUp := f.untilCaughtUp(t)
	if len(got) != len(history) {
		t.Fatalf("history delivered %d events, want %d", len(got), len(history))
	}
	for i, ev := range got {
		if ev.Event.EventID != history[i].EventID || !strings.HasPrefix(ev.Event.StreamID, "order-") {
			t.Fatalf("history event %d is %s %v, want %v", i, ev.Event.StreamID, ev.Event.EventID, history[i].EventID)
		}
	}
	if len(checkpoints) == 0 {
		t.Fatal("a filtered catch-up over 10+ records with a window of 2 sent no checkpoint")
	}
	for i := 1; i < len(checkpoints); i++ {
		if checkpoints[i].Commit <= checkpoints[i-1].Commit {
			t.Fatalf("checkpoints not increasing: %v", checkpoints)
		}
	}
	lastHistory := got[len(got)-1].Event.Position
	if caughtUp.Position == nil || caughtUp.Position.Commit < lastHistory.Commit {
		t.Fatalf("CaughtUp at %v, before the last history event %+v", caughtUp.Position, lastHistory)
	}
	if last := checkpoints[len(checkpoints)-1]; last.Commit < lastHistory.Commit {
		t.Fatalf("the last catch-up checkpoint %+v is before the last event %+v", last, lastHistory)
	}

	// Live: only the filtered streams, in order, and checkpoints every two records considered.
	live := jsonEvents("Placed", 3)
	for _, ev := range live {
		appendOK(t, c, "order-live", kurrentdb.Any{}, ev)
		appendOK(t, c, "other-live", kurrentdb.Any{}, jsonEvents("Noise", 1)...)
	}
	gotLive, liveCheckpoints := f.events(t, len(live))
	for i, ev := range gotLive {
		if ev.Event.EventID != live[i].EventID {
			t.Fatalf("live event %d is %v, want %v", i, ev.Event.EventID, live[i].EventID)
		}
		if ev.Event.Position.Commit <= caughtUp.Position.Commit {
			t.Fatalf("live event at %+v is not after CaughtUp %+v", ev.Event.Position, caughtUp.Position)
		}
	}
	if len(liveCheckpoints) == 0 {
		t.Fatal("no checkpoint while live, with six records considered and an interval of two")
	}

	// A checkpoint is a position to resume from: after it come exactly the events not yet
	// delivered before it.
	delivered := append(got, gotLive...)
	cp := checkpoints[0]
	var want []uuid.UUID
	for _, ev := range delivered {
		if ev.Event.Position.Commit > cp.Commit {
			want = append(want, ev.Event.EventID)
		}
	}
	resumed := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: cp, Filter: streamPrefix("order-"), MaxSearchWindow: 2, CheckpointInterval: 1})
	again, _, _ := resumed.untilCaughtUp(t)
	if len(again) != len(want) {
		t.Fatalf("resumed from checkpoint %+v: %d events, want %d", cp, len(again), len(want))
	}
	for i, ev := range again {
		if ev.Event.EventID != want[i] {
			t.Fatalf("resumed event %d is %v, want %v", i, ev.Event.EventID, want[i])
		}
	}
}

func TestSubscribeToAllFromAPositionStartsAfterIt(t *testing.T) {
	_, c := quiet(t)
	var written []*kurrentdb.WriteResult
	evs := jsonEvents("E", 3)
	for _, ev := range evs {
		written = append(written, appendOK(t, c, "after-1", kurrentdb.Any{}, ev))
	}
	from := kurrentdb.Position{Commit: written[1].CommitPosition, Prepare: written[1].PreparePosition}
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: from})
	got, checkpoints, caughtUp := f.untilCaughtUp(t)
	if len(got) != 1 || got[0].Event.EventID != evs[2].EventID {
		t.Fatalf("from the second event's position got %d events, want only the third", len(got))
	}
	if len(checkpoints) != 0 {
		t.Fatalf("an unfiltered subscription sent checkpoints %v", checkpoints)
	}
	if caughtUp.Position == nil || caughtUp.Position.Commit != written[2].CommitPosition {
		t.Fatalf("CaughtUp at %v, want the third event's position %d", caughtUp.Position, written[2].CommitPosition)
	}
}

func TestSubscribeToAllFromEndGetsOnlyLiveEvents(t *testing.T) {
	_, c := quiet(t)
	old := appendOK(t, c, "end-1", kurrentdb.Any{}, jsonEvents("Old", 2)...)
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.End{}})
	got, _, caughtUp := f.untilCaughtUp(t)
	if len(got) != 0 || caughtUp.Position == nil || caughtUp.Position.Commit != old.CommitPosition {
		t.Fatalf("from the end: %d old events, CaughtUp at %v; want none, at %d", len(got), caughtUp.Position, old.CommitPosition)
	}
	fresh := jsonEvents("New", 1)
	appendOK(t, c, "end-1", kurrentdb.Any{}, fresh...)
	if live, _ := f.events(t, 1); live[0].Event.EventID != fresh[0].EventID {
		t.Fatal("the live event is not the one appended")
	}
}

func TestSubscribeToAllEventTypeFilters(t *testing.T) {
	_, c := start(t, standin.Options{StatsEvery: 1})
	appendOK(t, c, "type-1", kurrentdb.Any{}, jsonEvents("OrderPlaced", 2)...)
	appendOK(t, c, "type-1", kurrentdb.Any{}, jsonEvents("OrderPaid", 1)...)

	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.Start{}, Filter: kurrentdb.ExcludeSystemEventsFilter()})
	got, _, _ := f.untilCaughtUp(t)
	if len(got) != 3 {
		t.Fatalf("excluding system events left %d events, want 3", len(got))
	}
	for _, ev := range got {
		if strings.HasPrefix(ev.Event.EventType, "$") {
			t.Fatalf("the system event %s passed the filter", ev.Event.EventType)
		}
	}
	f = subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.Start{}, Filter: &kurrentdb.SubscriptionFilter{Type: kurrentdb.EventFilterType, Prefixes: []string{"OrderPaid"}}})
	if got, _, _ := f.untilCaughtUp(t); len(got) != 1 || got[0].Event.EventType != "OrderPaid" {
		t.Fatalf("an event type prefix filter gave %d events", len(got))
	}
	f = subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.Start{}, Filter: &kurrentdb.SubscriptionFilter{Type: kurrentdb.StreamFilterType, Regex: "^type-[0-9]$"}})
	if got, _, _ := f.untilCaughtUp(t); len(got) != 3 {
		t.Fatalf("a stream regex filter gave %d events, want 3", len(got))
	}
}

func TestSubscribeToAllFromAnInvalidPositionFails(t *testing.T) {
	_, c := quiet(t)
	w := appendOK(t, c, "bad-1", kurrentdb.Any{}, jsonEvents("E", 3)...)
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.Position{Commit: w.CommitPosition - 1, Prepare: w.CommitPosition - 1}})
	ev := f.next(t)
	if ev.SubscriptionDropped == nil || status.Code(ev.SubscriptionDropped.Error) != codes.InvalidArgument {
		t.Fatalf("a subscription from inside a record gave %+v, want a drop with InvalidArgument", ev)
	}
}

func TestDropSubscriptionsEndsThemWithUnavailable(t *testing.T) {
	srv, c := quiet(t)
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.Start{}})
	// With nothing visible in $all yet, CaughtUp carries no position.
	if _, _, caughtUp := f.untilCaughtUp(t); caughtUp.Position != nil {
		t.Fatalf("CaughtUp on an empty $all at %+v, want no position", *caughtUp.Position)
	}
	appendOK(t, c, "resub-1", kurrentdb.Any{}, jsonEvents("E", 1)...)
	_, _ = f.events(t, 1)
	if n := srv.Subscriptions(); n != 1 {
		t.Fatalf("%d active subscriptions, want 1", n)
	}
	if n := srv.DropSubscriptions(); n != 1 {
		t.Fatalf("dropped %d subscriptions, want 1", n)
	}
	ev := f.next(t)
	if ev.SubscriptionDropped == nil || status.Code(ev.SubscriptionDropped.Error) != codes.Unavailable {
		t.Fatalf("after DropSubscriptions the client got %+v, want a drop with Unavailable", ev)
	}
	if n := srv.Subscriptions(); n != 0 {
		t.Fatalf("%d active subscriptions after the drop", n)
	}

	// The same client resubscribes from the last event it had and sees what came after.
	seen := readAll(t, c, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)[0].Event.Position
	fresh := jsonEvents("E", 1)
	appendOK(t, c, "resub-1", kurrentdb.Any{}, fresh...)
	f = subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: seen})
	got, _, _ := f.untilCaughtUp(t)
	if len(got) != 1 || got[0].Event.EventID != fresh[0].EventID {
		t.Fatalf("resubscribed from %+v and got %d events, want the one appended since", seen, len(got))
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	srv, c := quiet(t)
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{})
	f.untilCaughtUp(t)
	srv.Close()
	if ev := f.next(t); ev.SubscriptionDropped == nil {
		t.Fatalf("after Close the subscription got %+v, want a drop", ev)
	}
	if n := srv.Subscriptions(); n != 0 {
		t.Fatalf("%d subscriptions still counted after Close", n)
	}
}

func TestClosingASubscriptionUnregistersIt(t *testing.T) {
	srv, c := quiet(t)
	sub, err := c.SubscribeToAll(context.Background(), kurrentdb.SubscribeToAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Subscriptions() != 1 {
		t.Fatalf("%d active subscriptions, want 1", srv.Subscriptions())
	}
	_ = sub.Close()
	deadline := time.Now().Add(waitLimit)
	for srv.Subscriptions() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the closed subscription is still counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSubscribeToStream(t *testing.T) {
	_, c := quiet(t)
	ctx := context.Background()
	appendOK(t, c, "watch-1", kurrentdb.NoStream{}, jsonEvents("E", 3)...)
	appendOK(t, c, "watch-2", kurrentdb.NoStream{}, jsonEvents("E", 1)...)
	sub, err := c.SubscribeToStream(ctx, "watch-1", kurrentdb.SubscribeToStreamOptions{From: kurrentdb.Revision(0)})
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, sub)
	got, _, caughtUp := f.untilCaughtUp(t)
	if fmt.Sprint(revisions(got)) != "[1 2]" {
		t.Fatalf("from revision 0 got revisions %v, want [1 2]", revisions(got))
	}
	if caughtUp.StreamRevision == nil || *caughtUp.StreamRevision != 2 {
		t.Fatalf("CaughtUp at stream revision %v, want 2", caughtUp.StreamRevision)
	}
	appendOK(t, c, "watch-2", kurrentdb.Any{}, jsonEvents("E", 1)...)
	appendOK(t, c, "watch-1", kurrentdb.Any{}, jsonEvents("E", 1)...)
	if live, _ := f.events(t, 1); live[0].Event.StreamID != "watch-1" || live[0].Event.EventNumber != 3 {
		t.Fatalf("live event %s #%d, want watch-1 #3", live[0].Event.StreamID, live[0].Event.EventNumber)
	}
	if _, err := c.TombstoneStream(ctx, "watch-1", kurrentdb.TombstoneStreamOptions{StreamState: kurrentdb.Any{}}); err != nil {
		t.Fatal(err)
	}
	ev := f.next(t)
	if ev.SubscriptionDropped == nil || status.Code(ev.SubscriptionDropped.Error) != codes.FailedPrecondition {
		t.Fatalf("after the tombstone the stream subscription got %+v, want a drop with FailedPrecondition", ev)
	}
}

// TestConcurrentWritersAndASubscriber runs writers against one shared stream and their own,
// with a subscription that starts while they write: each event arrives once, in $all order.
func TestConcurrentWritersAndASubscriber(t *testing.T) {
	_, c := start(t, standin.Options{StatsEvery: 7})
	const writers, perWriter = 6, 15
	f := subscribeAll(t, c, kurrentdb.SubscribeToAllOptions{From: kurrentdb.Start{}, Filter: streamPrefix("conc-")})
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				_, err := c.AppendToStream(context.Background(), "conc-shared", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.Any{}}, jsonEvents("E", 1)...)
				errs <- err
				exp := kurrentdb.StreamState(kurrentdb.StreamRevision{Value: uint64(i - 1)})
				if i == 0 {
					exp = kurrentdb.NoStream{}
				}
				_, err = c.AppendToStream(context.Background(), fmt.Sprintf("conc-%d", w), kurrentdb.AppendToStreamOptions{StreamState: exp}, jsonEvents("E", 1)...)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.events(t, writers*perWriter*2)
	seen := map[uuid.UUID]bool{}
	shared := map[uint64]bool{}
	for i, ev := range got {
		if seen[ev.Event.EventID] {
			t.Fatalf("event %v delivered twice", ev.Event.EventID)
		}
		seen[ev.Event.EventID] = true
		if i > 0 && ev.Event.Position.Commit <= got[i-1].Event.Position.Commit {
			t.Fatal("events delivered out of $all order")
		}
		if ev.Event.StreamID == "conc-shared" {
			shared[ev.Event.EventNumber] = true
		}
	}
	if len(shared) != writers*perWriter {
		t.Fatalf("the shared stream has %d distinct revisions, want %d", len(shared), writers*perWriter)
	}
}

package eventstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/domain"
)

// Features tells the suite what an adapter does where the contract leaves room.
type Features struct {
	// DeletedFactsLeaveAll is true when a deleted stream's facts disappear from ReadAll and
	// SubscribeAll at once (the embedded store); a KurrentDB store keeps returning them until
	// a scavenge.
	DeletedFactsLeaveAll bool
	// Reopen, when set, closes s and returns the same store opened again, to test that what
	// was acknowledged survives. The suite closes the store it returns.
	Reopen func(t *testing.T, s Store) Store
}

// StoreConstructor returns a store for one test; the suite closes it. Stores may be fresh
// or shared: every test works on its own streams and ignores records of others.
type StoreConstructor func(t *testing.T) Store

// TestContext is what each contract test gets besides its store.
type TestContext struct {
	// ID is unique to the test; every stream the test touches carries it.
	ID       string
	Features Features
}

// Stream returns a stream name unique to the test.
func (tc TestContext) Stream(name string) string { return "test" + tc.ID + "-" + name }

// Mine tells whether a record belongs to one of the test's streams.
func (tc TestContext) Mine(r domain.Record) bool {
	return strings.HasPrefix(r.Stream, "test"+tc.ID+"-")
}

// ContractTest is one test of the contract.
type ContractTest struct {
	Name string
	Func func(t *testing.T, tc TestContext, newStore StoreConstructor)
}

// ContractTests lists the tests TestStore runs.
func ContractTests() []ContractTest {
	return []ContractTest{
		{"AppendAndReadStream", TestAppendAndReadStream},
		{"ExpectedRevision", TestExpectedRevision},
		{"ReadMissingStream", TestReadMissingStream},
		{"ReadLast", TestReadLast},
		{"CanceledContext", TestCanceledContext},
		{"AppendManyMixedOutcomes", TestAppendManyMixedOutcomes},
		{"AppendManyDuplicateInBatch", TestAppendManyDuplicateInBatch},
		{"ReadAllPaging", TestReadAllPaging},
		{"LastPosition", TestLastPosition},
		{"SubscribeAllCatchUpThenLive", TestSubscribeAllCatchUpThenLive},
		{"SubscribeAllHandlerError", TestSubscribeAllHandlerError},
		{"SubscribeAllFromDifferentPositions", TestSubscribeAllFromDifferentPositions},
		{"SubscribeAllSeesDeletion", TestSubscribeAllSeesDeletion},
		{"DeleteStream", TestDeleteStream},
		{"DeleteStreamWrongExpectation", TestDeleteStreamWrongExpectation},
		{"DeleteMissingStream", TestDeleteMissingStream},
		{"DurabilityAcrossReopen", TestDurabilityAcrossReopen},
		{"ConcurrentNoStreamAppends", TestConcurrentNoStreamAppends},
		{"ConcurrentExactAppends", TestConcurrentExactAppends},
	}
}

// TestStore runs every contract test against stores made by newStore, each as a parallel
// subtest with its own id.
func TestStore(t *testing.T, features Features, newStore func(t *testing.T) Store) {
	for _, test := range ContractTests() {
		t.Run(test.Name, func(t *testing.T) {
			t.Parallel()
			test.Func(t, TestContext{ID: newID(), Features: features}, newStore)
		})
	}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// openStore makes a store and closes it when the test ends.
func openStore(t *testing.T, newStore StoreConstructor) Store {
	t.Helper()
	s := newStore(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// testContext bounds a test so that a broken subscription fails it instead of hanging.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fact returns a distinct fact; label names it in its data.
func fact(label string) domain.Fact {
	return domain.Fact{Type: "TestFactRecorded", Data: fmt.Appendf(nil, `{"v":1,"label":%q}`, label)}
}

func facts(prefix string, n int) []domain.Fact {
	out := make([]domain.Fact, n)
	for i := range out {
		out[i] = fact(fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

func mustAppend(ctx context.Context, t *testing.T, s Store, stream string, expected domain.ExpectedRevision, fs ...domain.Fact) domain.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, expected, fs...)
	if err != nil {
		t.Fatalf("append %s (%s): %v", stream, expected, err)
	}
	return res
}

func mustRead(ctx context.Context, t *testing.T, s Store, stream string) []domain.Record {
	t.Helper()
	records, err := s.ReadStream(ctx, stream)
	if err != nil {
		t.Fatalf("read stream %s: %v", stream, err)
	}
	return records
}

func mustLastPosition(ctx context.Context, t *testing.T, s Store) uint64 {
	t.Helper()
	p, err := s.LastPosition(ctx)
	if err != nil {
		t.Fatalf("last position: %v", err)
	}
	return p
}

// readAllMine pages through ReadAll from from until it has passed until, checking the order
// of every page, and returns the test's records.
func readAllMine(ctx context.Context, t *testing.T, s Store, tc TestContext, from, until uint64) []domain.Record {
	t.Helper()
	var mine []domain.Record
	for from < until {
		page, err := s.ReadAll(ctx, from, 100)
		if err != nil {
			t.Fatalf("read all from %d: %v", from, err)
		}
		if len(page) == 0 {
			t.Fatalf("read all from %d: no records, want records up to %d", from, until)
		}
		for _, r := range page {
			if r.Position <= from {
				t.Fatalf("read all: position %d after %d", r.Position, from)
			}
			from = r.Position
			if tc.Mine(r) {
				mine = append(mine, r)
			}
		}
	}
	return mine
}

// checkRecord compares what a store returned with what was appended.
func checkRecord(t *testing.T, got domain.Record, stream string, rev uint64, f domain.Fact) {
	t.Helper()
	if got.Stream != stream || got.Revision != rev || got.Type != f.Type || string(got.Data) != string(f.Data) {
		t.Errorf("record = %s@%d %s %s, want %s@%d %s %s", got.Stream, got.Revision, got.Type, got.Data, stream, rev, f.Type, f.Data)
	}
	if got.Position == 0 {
		t.Errorf("record %s@%d has position 0", stream, rev)
	}
	if got.Time.IsZero() || time.Since(got.Time) > time.Hour || time.Until(got.Time) > time.Minute {
		t.Errorf("record %s@%d time = %v, want about now", stream, rev, got.Time)
	}
}

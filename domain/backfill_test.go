package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestBackfillFacts: every backfill fact reads back as written, and a fact of an unknown
// version or without its required fields is refused.
func TestBackfillFacts(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	counts := BackfillCounts{Total: 9, Scanned: 8, Matched: 7, Skipped: 1, Published: 6, Delivered: 5, Failed: 1}
	for _, fact := range []any{
		BackfillStarted{ID: "bf-1", ConfigurationID: "c1", Account: "alice", Since: at.Add(-time.Hour), Before: at, At: at},
		BackfillStarted{ID: "bf-2", ConfigurationID: "c1", Account: "alice", Before: at, At: at}, // no since: the whole history
		BackfillProgressed{Counts: counts, At: at},
		BackfillCancelRequested{At: at},
		BackfillFinished{State: "failed", Counts: counts, Error: "configuration c1 was removed", At: at},
		BackfillClaimed{ID: "bf-1", At: at},
	} {
		f, err := EncodeBackfillFact(fact)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeBackfillFact(f.Type, f.Data)
		if err != nil || !reflect.DeepEqual(got, fact) {
			t.Errorf("%s %s read back as %#v (%v), want %#v", f.Type, f.Data, got, err, fact)
		}
	}
	for _, c := range []struct{ typ, data string }{
		{BackfillProgressedType, `{"v":2,"at":"2026-11-22T10:00:00Z"}`},
		{BackfillStartedType, `{"v":1,"configuration_id":"c1","at":"2026-11-22T10:00:00Z"}`},
		{BackfillFinishedType, `{"v":1,"at":"2026-11-22T10:00:00Z"}`},
		{BackfillClaimedType, `{"v":1,"at":"2026-11-22T10:00:00Z"}`},
		{BackfillClaimedType, `{"v":1,"id":"bf-1"}`},
		{"BackfillPaused", `{"v":1,"at":"2026-11-22T10:00:00Z"}`},
	} {
		if _, err := DecodeBackfillFact(c.typ, []byte(c.data)); err == nil {
			t.Errorf("%s %s read without an error", c.typ, c.data)
		}
	}
	if _, err := DecodeBackfillFact(BackfillProgressedType, []byte(`{"v":2,"at":"2026-11-22T10:00:00Z"}`)); !errors.Is(err, ErrUnknownFactVersion) {
		t.Errorf("a newer fact: %v, want ErrUnknownFactVersion", err)
	}
}

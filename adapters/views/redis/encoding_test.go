package redis

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"herald/adapters/views/viewstest"
	"herald/domain"
	"herald/projections"
)

// TestSortKey_order: the byte order of sort keys, which Redis sorts index members by, is the
// order of (timestamp, position), before 1970 and after 2262 too; a timestamp's stamp key is
// a prefix of all its sort keys.
func TestSortKey_order(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	stamps := []time.Time{
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Unix(0, 0).UTC(), time.Date(2024, 3, 1, 12, 0, 0, 5, time.UTC), time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 200 {
		stamps = append(stamps, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)).UTC())
	}
	type point struct {
		t   time.Time
		pos uint64
	}
	var points []point
	for _, s := range stamps {
		for range 3 {
			points = append(points, point{s, rng.Uint64() >> rng.IntN(64)})
		}
	}
	for _, a := range points {
		for _, b := range points[:50] {
			want := a.t.Compare(b.t)
			if want == 0 {
				want = cmp.Compare(a.pos, b.pos)
			}
			ka, kb := sortKey(a.t, a.pos), sortKey(b.t, b.pos)
			if got := bytes.Compare(ka, kb); got != want {
				t.Fatalf("sort keys of %v/%d and %v/%d compare %d, want %d", a.t, a.pos, b.t, b.pos, got, want)
			}
			if !bytes.HasPrefix(ka, stampKey(a.t)) {
				t.Fatalf("the stamp key of %v is not a prefix of its sort key", a.t)
			}
		}
		ts, pos, err := decodeSortKey(sortKey(a.t, a.pos))
		if err != nil || !ts.Equal(a.t) || pos != a.pos {
			t.Fatalf("decodeSortKey = %v, %d, %v; want %v, %d", ts, pos, err, a.t, a.pos)
		}
	}
}

func TestEntry_roundTrip(t *testing.T) {
	gen := viewstest.NewGenerator(viewstest.GeneratorConfig{Seed: 3})
	entries := append(gen.Entries(200), projections.EventEntry{ID: "x", Timestamp: time.Unix(0, 0).UTC(), Level: domain.LevelError})
	for _, e := range entries {
		b, err := encodeEntry(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEntry(b)
		if err != nil || got != e {
			t.Fatalf("decodeEntry = %+v, %v; want %+v", got, err, e)
		}
		if _, err := decodeEntry(b[:len(b)-1]); err == nil {
			t.Fatal("a truncated entry decodes")
		}
	}
	long := projections.EventEntry{ID: "y", ResourceID: string(make([]byte, maxField+1))}
	if _, err := encodeEntry(nil, &long); err == nil {
		t.Fatal("a field beyond 64 KiB encodes")
	}
}

// TestEntryFormat_inStepWithLua: the scripts read entries with the format encodeEntry writes.
func TestEntryFormat_inStepWithLua(t *testing.T) {
	if !strings.Contains(luaCommon, "local ENTRY = '"+entryFormat+"'") {
		t.Fatalf("lua/common.lua does not read entries as %s", entryFormat)
	}
}

package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble"

	"herald/domain"
)

// A crash between a deletion's tombstone and the purge of its facts leaves a purge marker;
// the next Open finishes the purge.
func TestOpen_finishesInterruptedPurge(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(ctx, "doomed", domain.NoStream(), domain.Fact{Type: "A", Data: []byte("1")}, domain.Fact{Type: "A", Data: []byte("2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "kept", domain.NoStream(), domain.Fact{Type: "A"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// What the first half of a deletion writes, as the crash left it.
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{log: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	pos := res.Position + 2
	b := db.NewBatch()
	_ = b.Set(globalKey(pos), appendRecord(nil, "doomed", deletedRevision, domain.StreamDeletedType, 1, nil), nil)
	_ = b.Set(headKey("doomed"), appendHead(nil, head{lastRev: 1, firstPos: res.Position - 1, lastPos: pos, deleted: true}), nil)
	_ = b.Set(purgeKey("doomed"), nil, nil)
	_ = b.Set(lastPosKey, binary.BigEndian.AppendUint64(nil, pos), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Acknowledged after the purge, which the writer takes up first.
	if _, err := s.Append(ctx, "later", domain.NoStream(), domain.Fact{Type: "A"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadStream(ctx, "doomed"); !errors.Is(err, domain.ErrStreamDeleted) {
		t.Errorf("read purged stream: err = %v, want ErrStreamDeleted", err)
	}
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, r := range all {
		streams = append(streams, r.Stream+"/"+r.Type)
	}
	want := []string{"kept/A", "doomed/" + domain.StreamDeletedType, "later/A"}
	if len(streams) != len(want) {
		t.Fatalf("log holds %v, want %v", streams, want)
	}
	for i := range want {
		if streams[i] != want[i] {
			t.Fatalf("log holds %v, want %v", streams, want)
		}
	}
	if _, closer, err := s.db.Get(purgeKey("doomed")); !errors.Is(err, pebble.ErrNotFound) {
		if err == nil {
			_ = closer.Close()
		}
		t.Errorf("purge marker still there (err %v)", err)
	}
}

// A purge deletes a stream's index entries one by one: a range tombstone per deleted stream
// made a bulk clear slow down as it ran (pebble reads all of a memtable's range tombstones on
// each lookup) and every read after it slow until a compaction.
func TestPurge_leavesNoRangeTombstones(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stream := func(i int) string { return fmt.Sprintf("logevent-%03d", i) }
	for i := range 200 {
		facts := []domain.Fact{{Type: "A", Data: []byte("1")}}
		if i%2 == 0 { // some streams have index entries, revisions 1 and 2
			facts = append(facts, domain.Fact{Type: "A", Data: []byte("2")}, domain.Fact{Type: "A", Data: []byte("3")})
		}
		if _, err := s.Append(ctx, stream(i), domain.NoStream(), facts...); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if err := s.DeleteStream(ctx, stream(i), domain.Any()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	levels, err := s.db.SSTables(pebble.WithProperties())
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for _, level := range levels {
		for _, table := range level {
			tables++
			if n := table.Properties.NumRangeDeletions; n != 0 {
				t.Errorf("table %s holds %d range deletions, want none", table.FileNum, n)
			}
		}
	}
	if tables == 0 {
		t.Fatal("nothing flushed: the test checks no table")
	}

	// Only the kept streams' index entries remain, and the kept streams read whole.
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: indexPrefix, UpperBound: prefixEnd(indexPrefix)})
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for ok := it.First(); ok; ok = it.Next() {
		entries++
		if name := string(it.Key()[len(indexPrefix) : len(it.Key())-9]); name < stream(100) {
			t.Errorf("index entry of purged stream %s remains", name)
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if entries != 100 { // 50 kept streams with revisions 1 and 2
		t.Errorf("%d index entries remain, want 100", entries)
	}
	for i := 100; i < 200; i++ {
		records, err := s.ReadStream(ctx, stream(i))
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 + 2*(1-i%2); len(records) != want {
			t.Errorf("%s reads %d records, want %d", stream(i), len(records), want)
		}
	}
	for i := range 100 {
		if _, err := s.ReadStream(ctx, stream(i)); !errors.Is(err, domain.ErrStreamDeleted) {
			t.Errorf("read purged %s: err = %v, want ErrStreamDeleted", stream(i), err)
		}
	}
}

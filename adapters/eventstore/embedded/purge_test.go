package embedded

import (
	"context"
	"encoding/binary"
	"errors"
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

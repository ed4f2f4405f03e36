package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"

	"herald/domain"
)

// A store is marked with its format when opened; a store of a newer format is refused, and
// left as it was.
func TestOpen_refusesANewerFormat(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), "kept", domain.NoStream(), domain.Fact{Type: "A"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{log: slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	v, closer, err := db.Get(formatKey)
	if err != nil || binary.BigEndian.Uint64(v) != storeFormat {
		t.Fatalf("the store's format mark: %x %v", v, err)
	}
	closer.Close()
	if err := db.Set(formatKey, binary.BigEndian.AppendUint64(nil, storeFormat+1), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "format 2") {
		t.Fatalf("opening a newer store: %v", err)
	}
	db, _ = pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{log: slog.New(slog.DiscardHandler)}})
	defer db.Close()
	if v, closer, err := db.Get(formatKey); err != nil || binary.BigEndian.Uint64(v) != storeFormat+1 {
		t.Fatalf("the refused store's format mark was changed: %x %v", v, err)
	} else {
		closer.Close()
	}
}

// A store gets an identity when created and keeps it across restarts; another store has
// another.
func TestOpen_givesTheStoreALastingIdentity(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := s.Identity()
	if len(id) != 32 {
		t.Fatalf("identity %q, want 32 hex digits", id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if again := s.Identity(); again != id {
		t.Errorf("identity after a restart %q, want %q", again, id)
	}
	other, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.Identity() == id {
		t.Errorf("two stores share the identity %q", id)
	}
}

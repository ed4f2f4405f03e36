package memory

import (
	"strings"
	"testing"
)

// TestArena_storesEveryIDForm stores ids packed (lower-case hex of even length) and as they
// are (everything else, short and long), and checks that each reads back, compares equal
// only to itself, and survives compaction.
func TestArena_storesEveryIDForm(t *testing.T) {
	ids := []string{
		"67946415c113488b8fff8b335272a45b", // packed
		"67946415C113488B8FFF8B335272A45B", // upper case: as it is
		"67946415c113488b8fff8b335272a45",  // odd length: as it is
		"ab", "a", "0", "00", "0a1b2c", "deadbeefg0",
		"kafka:events:3:1234567",
		strings.Repeat("f", 254),   // packed, the longest that is
		strings.Repeat("f", 256),   // too long to pack
		strings.Repeat("x.y-", 40), // longer than 127: length as a uvarint
		strings.Repeat("0123456789abcdef", 8),
	}
	var a arena
	refs := make([]uint32, len(ids))
	for i, id := range ids {
		ref, err := a.add(id)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	check := func(a *arena) {
		t.Helper()
		for i, id := range ids {
			if got := a.text(refs[i]); got != id {
				t.Fatalf("text(%q) = %q", id, got)
			}
			if got := string(a.appendText([]byte("x"), refs[i])); got != "x"+id {
				t.Fatalf("appendText(%q) = %q", id, got)
			}
			for j, other := range ids {
				if a.equal(refs[i], other) != (i == j) {
					t.Fatalf("equal(%q, %q) = %v", id, other, i != j)
				}
			}
		}
	}
	check(&a)
	if got, want := len(a.encoded(refs[0])), 17; got != want {
		t.Fatalf("a 32-digit hex id takes %d bytes, want %d", got, want)
	}
	var fresh arena
	for i := range refs {
		a.release(refs[i])
		ref, err := fresh.addEncoded(a.encoded(refs[i]))
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	if a.live != 0 || a.dead != fresh.live {
		t.Fatalf("live %d, dead %d after releasing everything; the copy holds %d", a.live, a.dead, fresh.live)
	}
	check(&fresh)
}

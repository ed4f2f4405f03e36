package embedded

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"herald/domain"
)

func tailRecords(from, to uint64) []domain.Record {
	var out []domain.Record
	for p := from; p <= to; p++ {
		out = append(out, domain.Record{Position: p, Stream: fmt.Sprintf("s-%d", p)})
	}
	return out
}

func positions(rs []domain.Record) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Position)
	}
	return out
}

func TestTail_holdsTheNewestAndSaysWhenItCannotAnswer(t *testing.T) {
	tl := newTail(4)
	if _, ok := tl.read(0, 3, 10); ok {
		t.Fatal("an empty tail answered")
	}
	tl.push(tailRecords(1, 3))
	if got, ok := tl.read(0, 3, 10); !ok || !reflect.DeepEqual(positions(got), []uint64{1, 2, 3}) {
		t.Fatalf("read(0, 3) = %v %v", positions(got), ok)
	}
	tl.push(tailRecords(4, 6)) // wraps: holds 3..6
	if _, ok := tl.read(1, 6, 10); ok {
		t.Fatal("answered for position 2, which it dropped")
	}
	if got, ok := tl.read(2, 6, 2); !ok || !reflect.DeepEqual(positions(got), []uint64{3, 4}) {
		t.Fatalf("read(2, 6, limit 2) = %v %v", positions(got), ok)
	}
	if _, ok := tl.read(4, 7, 10); ok {
		t.Fatal("answered up to 7, which it does not hold")
	}
	tl.push(tailRecords(9, 9)) // a gap (after a clear elsewhere): starts over
	if got, ok := tl.read(8, 9, 10); !ok || !reflect.DeepEqual(positions(got), []uint64{9}) {
		t.Fatalf("after a gap read(8, 9) = %v %v", positions(got), ok)
	}
	tl.clear()
	if _, ok := tl.read(8, 9, 10); ok {
		t.Fatal("a cleared tail answered")
	}
}

// Followers read the same records from the tail as from pebble, deletions included.
func TestTail_readsWhatPebbleHolds(t *testing.T) {
	ctx := context.Background()
	withTail, err := Open(t.TempDir(), Options{TailRecords: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer withTail.Close()
	for i := range 100 {
		if _, err := withTail.Append(ctx, fmt.Sprintf("s-%d", i%7), domain.Any(), domain.Fact{Type: "T", Data: fmt.Appendf(nil, `{"i":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(from uint64) (fromTail, fromPebble []domain.Record) {
		t.Helper()
		if _, ok := withTail.tail.read(from, withTail.durable.Load(), 1000); !ok {
			t.Fatalf("the tail does not hold the records above %d", from)
		}
		fromTail, err := withTail.ReadAll(ctx, from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		saved := withTail.tail
		withTail.tail = nil // the same through pebble
		defer func() { withTail.tail = saved }()
		fromPebble, err = withTail.ReadAll(ctx, from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return fromTail, fromPebble
	}
	if a, b := read(60); len(a) != 40 || !reflect.DeepEqual(a, b) {
		t.Fatalf("the tail and pebble differ:\n tail   %v\n pebble %v", a, b)
	}

	// A deletion clears the tail: the deleted facts leave reads at once.
	if err := withTail.DeleteStream(ctx, "s-3", domain.Any()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := withTail.Append(ctx, "s-0", domain.Any(), domain.Fact{Type: "T", Data: fmt.Appendf(nil, `{"after":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := withTail.ReadAll(ctx, 60, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Stream == "s-3" && r.Type != domain.StreamDeletedType {
			t.Fatalf("a fact of the deleted stream is still read: %+v", r)
		}
	}
	last := all[len(all)-1].Position
	if a, b := read(last - 2); len(a) != 2 || !reflect.DeepEqual(a, b) {
		t.Fatalf("after the deletion the tail and pebble differ:\n tail   %v\n pebble %v", a, b)
	}
}

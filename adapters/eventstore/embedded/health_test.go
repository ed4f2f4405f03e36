package embedded

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/cockroachdb/pebble/vfs/errorfs"

	"herald/domain"
)

// When the disk fills up, pebble cannot flush its memtables and would make every write wait
// for room forever. The store fails instead: appends return the reason at once, Health says
// it, and Close returns.
func TestStore_failsWhenTheDiskIsFull(t *testing.T) {
	var full atomic.Bool
	disk := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op, path string) error {
		if full.Load() && op == errorfs.OpCreate && strings.HasSuffix(path, ".sst") {
			return fmt.Errorf("create %s: %w", path, syscall.ENOSPC)
		}
		return nil
	}))
	s, err := Open(t.TempDir(), Options{MemTableBytes: 256 << 10, CacheBytes: 1 << 20, fs: disk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, "before", domain.NoStream(), domain.Fact{Type: "A"}); err != nil || s.Health() != nil {
		t.Fatalf("append before the disk is full: %v (health: %v)", err, s.Health())
	}

	full.Store(true)
	payload := bytes.Repeat([]byte("x"), 16<<10)
	deadline := time.Now().Add(30 * time.Second)
	var appendErr error
	for i := 0; appendErr == nil; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends of 16 KiB went through a disk that cannot take a table", i)
		}
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, appendErr = s.Append(actx, fmt.Sprintf("s-%d", i), domain.NoStream(), domain.Fact{Type: "A", Data: payload})
		cancel()
	}
	t.Logf("append failed: %v", appendErr)
	if !strings.Contains(appendErr.Error(), "the disk is full or failing") {
		t.Fatalf("the append failed with %v, want the full disk named", appendErr)
	}
	if h := s.Health(); h == nil || !strings.Contains(h.Error(), "no space left on device") {
		t.Fatalf("Health() = %v, want the full disk", h)
	}
	if _, err := s.Append(ctx, "after", domain.NoStream(), domain.Fact{Type: "A"}); err == nil || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("an append after the failure: %v", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(closeGrace + 10*time.Second):
		t.Fatal("Close hangs on a full disk")
	}
}

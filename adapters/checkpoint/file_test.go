package checkpoint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFile_savesAndLoads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dispatcher.checkpoint")
	f := NewFile(path)
	if p, err := f.Load(ctx); err != nil || p != 0 {
		t.Fatalf("fresh: %d %v", p, err)
	}
	for _, want := range []uint64{7, 1 << 60, 3} {
		if err := f.Save(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, err := NewFile(path).Load(ctx); err != nil || got != want {
			t.Fatalf("load %d: %d %v", want, got, err)
		}
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
}

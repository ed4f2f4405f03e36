package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"herald/adapters/eventstore/embedded"
	"herald/domain"
)

// crashChildEnv selects the child mode of TestCrash_acknowledgedAppendsSurviveKill: the
// directory of the store to append to until killed.
const crashChildEnv = "HERALD_EMBEDDED_CRASH_DIR"

const (
	crashWriters   = 4
	crashBatchSize = 50
)

func crashStream(writer, batch, i int) string {
	return fmt.Sprintf("crash-%d-%d-%d", writer, batch, i)
}

// TestCrash_acknowledgedAppendsSurviveKill runs a child process that appends batches from
// several goroutines and prints each acknowledged batch, kills it with SIGKILL mid-stream,
// then checks that every acknowledged record is in the reopened store exactly once.
func TestCrash_acknowledgedAppendsSurviveKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		runCrashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash_acknowledgedAppendsSurviveKill$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	type ack struct{ writer, batch int }
	acked := map[ack]uint64{}
	lines := bufio.NewScanner(stdout)
	killed := false
	for lines.Scan() {
		var a ack
		var last uint64
		if _, err := fmt.Sscanf(lines.Text(), "ack %d %d %d", &a.writer, &a.batch, &last); err != nil {
			continue
		}
		acked[a] = last
		if len(acked) == 200 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before it was killed: %v", err)
	}
	t.Logf("child killed after %d acknowledged batches", len(acked))

	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	found := map[string]domain.Record{}
	var prev uint64
	for {
		page, err := s.ReadAll(ctx, prev, 1000)
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.Position <= prev {
				t.Fatalf("position %d after %d", r.Position, prev)
			}
			prev = r.Position
			if _, dup := found[r.Stream]; dup {
				t.Errorf("%s recorded twice", r.Stream)
			}
			found[r.Stream] = r
		}
	}
	for a, last := range acked {
		for i := range crashBatchSize {
			r, ok := found[crashStream(a.writer, a.batch, i)]
			if !ok {
				t.Fatalf("acknowledged %s is missing", crashStream(a.writer, a.batch, i))
			}
			if i == crashBatchSize-1 && r.Position != last {
				t.Errorf("batch %v ends at %d, acknowledged at %d", a, r.Position, last)
			}
		}
	}
	res, err := s.Append(ctx, "after-crash", domain.NoStream(), domain.Fact{Type: "X"})
	if err != nil {
		t.Fatalf("append after crash: %v", err)
	}
	if res.Position <= prev {
		t.Errorf("append after crash landed at %d, not after %d", res.Position, prev)
	}
}

// runCrashChild appends until it is killed, printing "ack <writer> <batch> <last position>"
// once each batch is acknowledged.
func runCrashChild(dir string) {
	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	data := []byte(`{"v":1,"payload":"` + strings.Repeat("x", 400) + `"}`)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for b := 0; ; b++ {
				batch := make([]domain.StreamAppend, crashBatchSize)
				for i := range batch {
					batch[i] = domain.StreamAppend{Stream: crashStream(w, b, i), Expected: domain.NoStream(), Facts: []domain.Fact{{Type: "EventRecorded", Data: data}}}
				}
				out, err := s.AppendMany(context.Background(), batch)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: append:", err)
					os.Exit(2)
				}
				for _, o := range out {
					if o.Err != nil {
						fmt.Fprintln(os.Stderr, "child: append:", o.Err)
						os.Exit(2)
					}
				}
				mu.Lock()
				fmt.Printf("ack %d %d %d\n", w, b, out[len(out)-1].Result.Position)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

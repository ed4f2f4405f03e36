package kurrentdb_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/adapters/eventstore/eventstoretest"
	"herald/adapters/eventstore/kurrentdb"
	"herald/adapters/eventstore/kurrentdb/standin"
	"herald/domain"
)

var _ eventstoretest.Store = (*kurrentdb.Store)(nil)

// server is where the tests run: a real KurrentDB when HERALD_TEST_KURRENTDB_URL names one
// (kurrentdb://admin:changeit@localhost:2113?tls=false for the official container image),
// else the in-process stand-in of the client's gRPC protocol (package standin).
func server(t *testing.T) (url string, stand *standin.Server) {
	t.Helper()
	if url := os.Getenv("HERALD_TEST_KURRENTDB_URL"); url != "" {
		t.Logf("against the KurrentDB server at HERALD_TEST_KURRENTDB_URL")
		return url, nil
	}
	s, err := standin.Start()
	if err != nil {
		t.Fatalf("start the KurrentDB stand-in: %v", err)
	}
	t.Cleanup(s.Close)
	t.Logf("against the in-process KurrentDB stand-in at %s (set HERALD_TEST_KURRENTDB_URL for a real server)", s.Addr())
	return s.URL(), s
}

func serverName() string {
	if os.Getenv("HERALD_TEST_KURRENTDB_URL") != "" {
		return "kurrentdb-server"
	}
	return "standin"
}

func open(t *testing.T, url string) *kurrentdb.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The contract suite names its streams test<id>-...; herald's own prefixes come on top.
	s, err := kurrentdb.Open(ctx, kurrentdb.Options{URL: url, Prefixes: append(domain.StreamPrefixes(), "test")})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	url, _ := server(t)
	features := eventstoretest.Features{
		DeletedFactsLeaveAll: false, // $all keeps a tombstoned stream's events until a scavenge
		Reopen: func(t *testing.T, s eventstoretest.Store) eventstoretest.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			return open(t, url)
		},
	}
	// The subtests carry the server's kind in their names: TestStore/standin/... or
	// TestStore/kurrentdb-server/...
	t.Run(serverName(), func(t *testing.T) {
		eventstoretest.TestStore(t, features, func(t *testing.T) eventstoretest.Store { return open(t, url) })
	})
}

// A subscription that drops (KurrentDB restarted, a leader change) is taken up again from the
// last record handled: nothing is missed and nothing is handed over twice.
func TestSubscribeAll_resubscribesWhenDropped(t *testing.T) {
	url, stand := server(t)
	if stand == nil {
		t.Skip("dropping subscriptions needs the stand-in")
	}
	s := open(t, url)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := func(i int) string { return fmt.Sprintf("test%d-resubscribe-%03d", time.Now().UnixNano(), i) }
	var mu sync.Mutex
	var seen []domain.Record
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	done := make(chan error, 1)
	go func() {
		done <- s.SubscribeAll(ctx, 0, func(_ context.Context, batch []domain.Record) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range batch {
				if strings.Contains(r.Stream, "-resubscribe-") {
					seen = append(seen, r)
				}
			}
			return nil
		})
	}()
	append := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := s.Append(ctx, stream(i), domain.NoStream(), domain.Fact{Type: "Test", Data: []byte(`{"n":1}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitCount := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the subscriber saw %d records, want %d", count(), n)
			}
		}
	}
	append(0, 20)
	waitCount(20)
	for round := range 3 {
		for deadline := time.Now().Add(10 * time.Second); stand.Subscriptions() == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the store did not subscribe again", round)
			}
		}
		if n := stand.DropSubscriptions(); n == 0 {
			t.Fatalf("round %d: no subscription to drop", round)
		}
		append(20+round*10, 30+round*10) // while the store waits to subscribe again
		waitCount(30 + round*10)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 50 {
		t.Fatalf("the subscriber saw %d records, want 50 (no duplicates)", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Position <= seen[i-1].Position {
			t.Fatalf("record %d at position %d after %d: out of order or repeated", i, seen[i].Position, seen[i-1].Position)
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("SubscribeAll ended with %v, want context.Canceled", err)
	}
}

// herald asks for "everything above p" with p a record's position or one less (to read that
// record again); both must work though KurrentDB only knows positions where records start.
func TestReadAllAndSubscribeAll_fromARecordOrJustBeforeIt(t *testing.T) {
	url, _ := server(t)
	s := open(t, url)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := fmt.Sprintf("test%d-from-", time.Now().UnixNano())
	var positions []uint64
	for i := range 5 {
		res, err := s.Append(ctx, fmt.Sprintf("%s%d", prefix, i), domain.NoStream(), domain.Fact{Type: "Test", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, res.Position)
	}
	mine := func(records []domain.Record) []string {
		var out []string
		for _, r := range records {
			if strings.HasPrefix(r.Stream, prefix) {
				out = append(out, strings.TrimPrefix(r.Stream, prefix))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		from uint64
		want string
	}{
		{"above record 2", positions[2], "3,4"},
		{"from record 2 on", positions[2] - 1, "2,3,4"},
		{"from record 0 on", positions[0] - 1, "0,1,2,3,4"},
	} {
		records, err := s.ReadAll(ctx, tc.from, 100)
		if err != nil {
			t.Fatalf("%s: read all: %v", tc.name, err)
		}
		if got := strings.Join(mine(records), ","); got != tc.want {
			t.Errorf("%s: read all gave %q, want %q", tc.name, got, tc.want)
		}
		subCtx, stop := context.WithCancel(ctx)
		var got []string
		_ = s.SubscribeAll(subCtx, tc.from, func(_ context.Context, batch []domain.Record) error {
			got = append(got, mine(batch)...)
			if len(got) >= strings.Count(tc.want, ",")+1 {
				stop()
			}
			return nil
		})
		stop()
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: subscription gave %q, want %q", tc.name, strings.Join(got, ","), tc.want)
		}
	}
}

func TestOpen_saysWhatIsWrong(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct{ url, want string }{
		{"", "no connection string (--eventstore-url)"},
		{"http://localhost:2113", "connection string cannot be read"},
	} {
		if _, err := kurrentdb.Open(ctx, kurrentdb.Options{URL: tc.url}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("open %q: %v, want an error saying %q", tc.url, err, tc.want)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	_, err := kurrentdb.Open(short, kurrentdb.Options{URL: "kurrentdb://admin:s3cret@127.0.0.1:1?tls=false"})
	if err == nil || !strings.Contains(err.Error(), "no answer from kurrentdb://admin:***@127.0.0.1:1") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("open an unreachable server: %v, want an error naming it without its password", err)
	}
}

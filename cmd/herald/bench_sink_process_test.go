package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sinkProcessEnv, set to a count, makes the test binary a webhook sink instead of running
// tests (startSinkProcess starts it so).
const sinkProcessEnv = "HERALD_BENCH_SINK_EXPECT"

func TestMain(m *testing.M) {
	if expect := os.Getenv(sinkProcessEnv); expect != "" {
		os.Exit(runSinkProcess(expect))
	}
	os.Exit(m.Run())
}

// runSinkProcess answers every request 200, prints its address, then "done" once it received
// expect requests. It stops when its standard input closes (its parent ended).
func runSinkProcess(expect string) int {
	n, err := strconv.Atoi(expect)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a count of requests\n", sinkProcessEnv, expect)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var received atomic.Int64
	done := make(chan struct{})
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			if r.Header.Get("X-Herald-Event-Id") == "" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if received.Add(1) == int64(n) {
				close(done)
			}
			w.WriteHeader(http.StatusOK)
		}))
	}()
	fmt.Printf("http://%s\n", ln.Addr())
	parentGone := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(parentGone) }()
	select {
	case <-done:
		fmt.Println("done")
	case <-parentGone:
		return 0
	}
	<-parentGone
	return 0
}

// sinkProcess is a webhook sink running in a child process (runSinkProcess).
type sinkProcess struct {
	url string
	out *bufio.Reader
}

// startSinkProcess starts a sink that tells when it received expect notifications.
func startSinkProcess(b *testing.B, expect int) *sinkProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", sinkProcessEnv, expect))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() }) // closing its input stops it
	s := &sinkProcess{out: bufio.NewReader(stdout)}
	line, err := s.out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		b.Fatalf("the sink process did not tell its address: %q, %v", line, err)
	}
	s.url = strings.TrimSpace(line)
	return s
}

// wait returns once the sink received all it expects.
func (s *sinkProcess) wait(b *testing.B, limit time.Duration) {
	b.Helper()
	got := make(chan string, 1)
	go func() { line, _ := s.out.ReadString('\n'); got <- line }()
	select {
	case line := <-got:
		if strings.TrimSpace(line) != "done" {
			b.Fatalf("the sink process stopped before receiving every notification: %q", line)
		}
	case <-time.After(limit):
		b.Fatalf("the sink process did not receive every notification within %s", limit)
	}
}

// Package redistest starts real redis-server processes for tests and benchmarks: each on a
// free loopback port, in a directory of its own, stopped when the test ends. Tests never use
// port 6379 or a shared instance, so they can run anywhere, in parallel, without cleaning up
// after each other.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/internal/testtool"
)

// Binary is the server the harness runs.
const Binary = "redis-server"

// installHint says how to get the server when it is missing.
const installHint = "redis-server is not installed: run `make test-deps`, or install it yourself " +
	"(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)"

// Options shape a server. The zero value is an in-memory server that forgets everything when
// it stops.
type Options struct {
	// Persistent turns on the append-only file with an fsync per write, so that a restart,
	// even after SIGKILL, finds every acknowledged write.
	Persistent bool
	// StartTimeout bounds how long the server may take to answer PING; default 10s.
	StartTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
}

// Server is one redis-server process. Its port and directory survive Restart and Kill, so a
// restarted server finds its data (when Persistent) at the same address.
type Server struct {
	opts Options
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd has exited
}

// Start starts a server for tb and stops it when tb ends. When redis-server is missing it
// skips tb, or fails it when the environment variable CI is "true".
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	RequireBinary(tb)
	s, err := start(tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("stop redis-server: %v", err)
		}
	})
	return s
}

// RequireBinary skips tb when redis-server is missing, or fails it when CI is "true".
func RequireBinary(tb testing.TB) {
	tb.Helper()
	testtool.Need(tb, Binary, installHint)
}

func start(dir string, opts Options) (*Server, error) {
	opts.setDefaults()
	// A free port can be taken by someone else between the probe and the server's bind, so
	// try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{opts: opts, dir: dir, port: port}
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Dir is the server's working directory (its append-only file, its log).
func (s *Server) Dir() string { return s.dir }

// Client returns a new client of the server, closed when tb ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	c := redis.NewClient(s.ClientOptions())
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// ClientOptions are the options of a client of this server: short timeouts and no retries,
// so that a test against a killed server fails fast instead of hanging.
func (s *Server) ClientOptions() *redis.Options {
	return &redis.Options{
		Addr: s.Addr(), DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		MaxRetries: -1, DisableIdentity: true,
	}
}

func (s *Server) args() []string {
	args := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--daemonize", "no", "--logfile", "redis.log",
	}
	if s.opts.Persistent {
		return append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	return append(args, "--appendonly", "no")
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch() error {
	cmd := exec.Command(Binary, s.args()...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", Binary, err)
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()
	s.mu.Lock()
	s.cmd, s.exit = cmd, exit
	s.mu.Unlock()
	if err := s.waitReady(exit); err != nil {
		_ = cmd.Process.Kill()
		<-exit
		return err
	}
	return nil
}

func (s *Server) waitReady(exit <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DisableIdentity: true})
	defer c.Close()
	deadline := time.Now().Add(s.opts.StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exit:
			return fmt.Errorf("redis-server on port %d exited at start: %s", s.port, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on port %d does not answer PING after %s: %w; log: %s", s.port, s.opts.StartTimeout, err, s.logTail())
		}
	}
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return "(no log)"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Stop ends the server gracefully (SIGTERM: a persistent server writes what it holds), or
// kills it when it does not exit within five seconds. Stopping a stopped server does nothing.
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM, 5*time.Second) }

// Kill ends the server with SIGKILL, as a crash would.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL, 5*time.Second) }

func (s *Server) signal(sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	cmd, exit := s.cmd, s.exit
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal redis-server: %w", err)
	}
	select {
	case <-exit:
		return nil
	case <-time.After(grace):
	}
	_ = cmd.Process.Kill()
	<-exit
	return fmt.Errorf("redis-server on port %d ignored %s for %s and was killed", s.port, sig, grace)
}

// Restart stops the server gracefully if it runs and starts it again on the same port and
// directory.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.launch()
}

// StartAgain starts a stopped or killed server on the same port and directory.
func (s *Server) StartAgain() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return fmt.Errorf("redis-server on port %d is running", s.port)
	}
	return s.launch()
}

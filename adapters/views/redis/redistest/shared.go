package redistest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Shared is one server for a whole package's tests, started by the first test that asks for
// it and stopped by Run once every test has run. Tests keep apart by key prefix (Prefix),
// which is far cheaper than a server each. The zero value is ready to use; declare one in
// the package's test files and call Run from TestMain.
type Shared struct {
	once   sync.Once
	server *Server
	client *redis.Client
	err    error
	dir    string
}

// Run runs the tests and then stops the server, for TestMain: os.Exit(shared.Run(m)).
func (sh *Shared) Run(m *testing.M) int {
	code := m.Run()
	if sh.server != nil {
		_ = sh.client.Close()
		if err := sh.server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "redistest:", err)
		}
		_ = os.RemoveAll(sh.dir)
	}
	return code
}

// Client returns the client of the shared server, starting the server on first use. It
// skips tb when redis-server is missing (fails it when CI is "true").
func (sh *Shared) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	RequireBinary(tb)
	sh.once.Do(func() {
		sh.dir, sh.err = os.MkdirTemp("", "redistest-")
		if sh.err != nil {
			return
		}
		sh.server, sh.err = start(sh.dir, Options{})
		if sh.err == nil {
			opts := sh.server.ClientOptions()
			opts.PoolSize = 32
			sh.client = redis.NewClient(opts)
		}
	})
	if sh.err != nil {
		tb.Fatalf("start the shared redis-server: %v", sh.err)
	}
	return sh.client
}

// Prefix returns a key prefix of tb's own: its name and a random part, so that reruns
// (-count) on the same server start empty too.
func Prefix(tb testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer(" ", "_", "{", "(", "}", ")").Replace(tb.Name())
	return "test:" + name + ":" + hex.EncodeToString(b) + ":"
}

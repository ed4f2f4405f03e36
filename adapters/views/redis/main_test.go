package redis

import (
	"os"
	"testing"

	"herald/adapters/views/redis/redistest"
)

// shared is the one redis-server of this package's tests; each test keeps to a key prefix
// of its own (redistest.Prefix). Tests that stop or restart a server start their own.
var shared redistest.Shared

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }

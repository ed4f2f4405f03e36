// Package testtool holds what tests of several packages share. Need lets them use programs
// `make test` installs (redis-server, kcat, node): a test needing one that is missing skips
// on a developer's machine, and fails under CI (CI=true), where a skip would let it pass
// without checking anything. Buffer collects logs written from other goroutines. ProcessCPU
// gives benchmarks the process's CPU time.
package testtool

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Need returns the path of tool, or skips tb (fails it when CI is "true") saying hint, or
// how to install it when hint is empty.
func Need(tb testing.TB, tool, hint string) string {
	tb.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if hint == "" {
		hint = tool + " is not installed: run `make test-deps`, or install it yourself"
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal(hint)
	}
	tb.Skip(hint + "; skipping")
	return ""
}

// ProcessCPU is the CPU time this process has used so far, user and system; benchmarks
// report the difference over what they measure.
func ProcessCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

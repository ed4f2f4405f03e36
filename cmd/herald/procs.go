package main

import (
	"os"
	"runtime"
)

// serveProcs is the GOMAXPROCS `herald serve` runs with, given the one Go chose (procs): one
// more when the log is the embedded store, unless the GOMAXPROCS variable was set, which is
// then left as it is.
//
// Why one more: Pebble syncs its write-ahead log from one goroutine, and under load that
// goroutine spends most of its time inside fdatasync. A goroutine in a system call keeps its
// P (the scheduler's right to run Go code) until sysmon takes the P back, and sysmon, which
// backs off to ticks of up to 10 ms when it finds nothing to do, seldom catches syncs of
// 0.1–0.6 ms. So one P sat idle with its thread waiting on the disk while work queued on the
// others: 11% of the 2-core machine's time in iowait during the fan-out benchmark. With one P
// more (measured, 2 cores): fan-out +20% (15,900 -> 19,000 notifications/s), the latency
// benchmark's p99 3.3 -> 2.0 ms, Kafka ingest +8%; a third P changed nothing further. Pebble's
// WALMinSyncInterval, which syncs less often, gained less and doubled p50 latency.
func serveProcs(procs int, embedded bool, getenv func(string) string) int {
	if !embedded || getenv("GOMAXPROCS") != "" {
		return procs
	}
	return procs + 1
}

// setServeProcs sets the GOMAXPROCS herald serve runs with for cfg, and returns the one before
// and the one now. It leaves GOMAXPROCS alone when nothing changes: setting it, even to the
// same value, would stop Go following the container's CPU limit.
func setServeProcs(cfg serveConfig) (before, now int) {
	before = runtime.GOMAXPROCS(0)
	now = serveProcs(before, !cfg.EventStore.enabled(), os.Getenv)
	if now != before {
		runtime.GOMAXPROCS(now)
	}
	return before, now
}

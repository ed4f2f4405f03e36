package main

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

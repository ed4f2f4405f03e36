package main

import (
	"strings"
	"testing"
)

// Bad delivery settings are refused when herald starts, naming the flag and what it wants.
func TestNotifyFlags_badValuesNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags notifyFlags
		check func(notifyFlags) error
		want  string
	}{
		{"negative concurrency", notifyFlags{Concurrency: -1}, notifyFlags.checkSizes, "--notify-concurrency is -1: it must be at least 1"},
		{"negative window", notifyFlags{Window: -5}, notifyFlags.checkSizes, "--notify-window is -5"},
		{"negative max in flight", notifyFlags{MaxInFlight: -1}, notifyFlags.checkSizes, "--notify-max-in-flight is -1"},
		{"unknown kind in rate limits", notifyFlags{RateLimits: "slack=1,pager=2"}, func(n notifyFlags) error { _, err := n.rateLimits(); return err }, `"pager=2": use kind=per-second`},
		{"rate that is not a number", notifyFlags{RateLimits: "slack=fast"}, func(n notifyFlags) error { _, err := n.rateLimits(); return err }, "must be a number of notifications per second"},
		{"unknown network name", notifyFlags{OutboundDeny: "loopback,intranet"}, func(n notifyFlags) error { _, err := n.outbound(); return err }, "--outbound-deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.flags)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if err := (notifyFlags{Window: 1000, MaxInFlight: 10_000, Concurrency: 64, Shards: 16}).checkSizes(); err != nil {
		t.Fatalf("the defaults are refused: %v", err)
	}
}

// A KurrentDB connection string that cannot be read stops herald before anything starts,
// naming the flag; a password in it is not echoed.
func TestEventStoreFlags_badURLNamesTheFlag(t *testing.T) {
	for _, url := range []string{"http://db:2113", "kurrentdb://admin:s3cret@db:2113?tls=maybe"} {
		err := (&eventStoreFlags{URL: url}).check()
		if err == nil || !strings.Contains(err.Error(), "--eventstore-url") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("check(%q) = %v, want an error naming --eventstore-url without the password", url, err)
		}
	}
	if err := (&eventStoreFlags{URL: "kurrentdb://db:2113?tls=false"}).check(); err != nil {
		t.Errorf("a good connection string is refused: %v", err)
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
)

// The progress line counts the records the views applied and takes the slowest view's ETA:
// the positions it reckons the share with are no records in KurrentDB.
func TestRenderProgress_countsRecordsAndTakesTheSlowestETA(t *testing.T) {
	fast, slow := 3.0, 125.0
	list := []wireProjection{
		{Name: "eventlog", Position: 4_000_000, LogHead: 8_000_000, RecordsApplied: 900, RecordsPerSecond: 300, EtaSeconds: &slow},
		{Name: "accounts", Position: 7_000_000, LogHead: 8_000_000, RecordsApplied: 1000, RecordsPerSecond: 200, EtaSeconds: &fast},
	}
	var out bytes.Buffer
	if done := renderProgress(newProgressLine(&out), list, ""); done {
		t.Fatal("views catching up are reported done")
	}
	line := out.String()
	for _, want := range []string{" 69%", "1900 records applied", "500 records/s", "ETA 2m5s"} {
		if !strings.Contains(line, want) {
			t.Errorf("the progress line %q does not say %q", line, want)
		}
	}
}

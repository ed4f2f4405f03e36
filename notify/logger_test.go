package notify

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

func TestWatermillLogger_levels(t *testing.T) {
	lines := func(level slog.Level) []string {
		var buf bytes.Buffer
		l := WatermillLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))).With(watermill.LogFields{"handler": "webhook"})
		l.Trace("trace line", watermill.LogFields{"uuid": "m1"})
		l.Debug("debug line", watermill.LogFields{"uuid": "m1"})
		l.Info("info line", watermill.LogFields{"uuid": "m1"})
		l.Error("error line", errors.New("boom"), watermill.LogFields{"uuid": "m1"})
		return strings.Split(strings.TrimSpace(buf.String()), "\n")
	}
	cases := []struct {
		level slog.Level
		want  []string // the messages written, in order
	}{
		{slog.LevelInfo, []string{"error line"}},
		{slog.LevelDebug, []string{"debug line", "info line", "error line"}},
		{watermill.LevelTrace, []string{"trace line", "debug line", "info line", "error line"}},
	}
	for _, c := range cases {
		got := lines(c.level)
		if len(got) != len(c.want) {
			t.Fatalf("at level %v: %d lines, want %d: %q", c.level, len(got), len(c.want), got)
		}
		for i, line := range got {
			if !strings.Contains(line, "msg=\""+c.want[i]+"\"") || !strings.Contains(line, "handler=webhook") || !strings.Contains(line, "uuid=m1") {
				t.Errorf("at level %v, line %d = %q, want message %q with its fields", c.level, i, line, c.want[i])
			}
		}
	}
	// watermill's info lines are herald's debug lines
	if got := lines(slog.LevelDebug)[1]; !strings.Contains(got, "level=DEBUG") {
		t.Errorf("watermill info line written as %q, want level DEBUG", got)
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestReadInputEventsNumbersLines(t *testing.T) {
	for name, tc := range map[string]struct {
		input string
		lines []int
		raws  []string
	}{
		"ndjson": {"\n{\"a\":1}\n\n  {\"b\":2}  \n{\"c\":3}", []int{2, 4, 5}, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
		"array":  {"  [\n  {\"a\": 1},\n  {\n    \"b\": 2\n  }, {\"c\":3}\n]\n", []int{2, 3, 5}, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
	} {
		var lines []int
		var raws []string
		err := readInputEvents(strings.NewReader(tc.input), func(e inputEvent) error {
			lines = append(lines, e.line)
			raws = append(raws, string(e.raw))
			return nil
		})
		if err != nil || len(lines) != len(tc.lines) {
			t.Fatalf("%s: %v, lines %v", name, err, lines)
		}
		for i := range lines {
			if lines[i] != tc.lines[i] || raws[i] != tc.raws[i] {
				t.Errorf("%s: event %d at line %d as %s, want line %d as %s", name, i, lines[i], raws[i], tc.lines[i], tc.raws[i])
			}
		}
	}
	err := readInputEvents(strings.NewReader("[\n{\"a\":1},\n{\"b\":\n]"), func(inputEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line") {
		t.Errorf("malformed array: %v", err)
	}
}

// recordingSink keeps what it is sent.
type recordingSink struct{ batches [][]inputEvent }

func (s *recordingSink) Send(_ context.Context, events []inputEvent) (sendResult, error) {
	s.batches = append(s.batches, append([]inputEvent(nil), events...))
	return sendResult{recorded: len(events)}, nil
}
func (s *recordingSink) Summary(sent int, total sendResult) string {
	return graphqlSink{}.Summary(sent, total)
}
func (s *recordingSink) Close() error { return nil }

func TestSendEventsBatchesAndSkipsBadLines(t *testing.T) {
	input := kafkaEvents("unit", 5) + "{\"level\":\"info\"}\n" + kafkaEvents("more", 2)
	sink := &recordingSink{}
	var out, errOut bytes.Buffer
	err := sendEvents(context.Background(), strings.NewReader(input), "in.ndjson", sink, 3, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "1 events of in.ndjson are not valid") {
		t.Errorf("error = %v", err)
	}
	if got := out.String(); got != "Sent 7 events: 7 recorded, 0 duplicates\n" {
		t.Errorf("stdout = %q", got)
	}
	if !strings.Contains(errOut.String(), "in.ndjson:6: invalid event: type: is required") {
		t.Errorf("stderr = %q", errOut.String())
	}
	if len(sink.batches) != 3 || len(sink.batches[0]) != 3 || sink.batches[0][0].id != "unit-0" || sink.batches[0][1].id != "" {
		t.Errorf("batches = %+v", sink.batches)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"

	"herald/domain"
)

func TestReadInputEventsNumbersLines(t *testing.T) {
	for name, tc := range map[string]struct {
		input string
		lines []int
		raws  []string
	}{
		"ndjson":                          {"\n{\"a\":1}\n\n  {\"b\":2}  \n{\"c\":3}", []int{2, 4, 5}, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
		"array":                           {"  [\n  {\"a\": 1},\n  {\n    \"b\": 2\n  }, {\"c\":3}\n]\n", []int{2, 3, 5}, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
		"byte-order mark":                 {"\uFEFF{\"a\":1}\r\n{\"b\":2}\r\n", []int{1, 2}, []string{`{"a":1}`, `{"b":2}`}},
		"byte-order mark before an array": {"\uFEFF[{\"a\":1}]", []int{1}, []string{`{"a":1}`}},
		"one pretty-printed object":       {"\n{\n  \"a\": 1,\n  \"b\": {\"c\": [2]}\n}\n", []int{2}, []string{`{"a":1,"b":{"c":[2]}}`}},
		"pretty-printed objects as jq prints them": {"{\n  \"a\": 1\n}\n{\n  \"b\": 2\n}\n", []int{1, 4}, []string{`{"a":1}`, `{"b":2}`}},
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
	// An array whose end is broken gives nothing: an event after it, or the closing ] left out.
	for input, want := range map[string]string{
		"[{\"a\":1}]\n{\"b\":2}\n":   "line 2: more after the JSON array's closing ]: give one array, or one event per line (NDJSON)",
		"[{\"a\":1}]\n\n trailing":   "line 3: more after the JSON array's closing ]",
		"[\n{\"a\":1},\n{\"b\":2}\n": "line 4: the JSON array is not closed: ] is missing",
		"[\n{\"a\":1},\n":            "line 3: the JSON array is not closed: ] is missing",
	} {
		var read int
		err := readInputEvents(strings.NewReader(input), func(inputEvent) error { read++; return nil })
		if err == nil || !strings.Contains(err.Error(), want) || read != 0 {
			t.Errorf("%q: %v after %d events, want %q and none", input, err, read, want)
		}
	}
	err = readInputEvents(strings.NewReader("{\n  \"a\": 1,\n  \"b\": 2\n  \"c\": 3\n}\n"), func(inputEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 4: malformed JSON") {
		t.Errorf("malformed pretty-printed object: %v", err)
	}
}

// TestSendEvents_takesOnePrettyPrintedEventWithAByteOrderMark: a file as an editor saves it,
// one event spread over lines after a UTF-8 byte-order mark, is one event; NDJSON whose first
// line is broken still has that line reported and the others sent.
func TestSendEvents_takesOnePrettyPrintedEventWithAByteOrderMark(t *testing.T) {
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(strings.TrimSpace(kafkaEvents("pretty", 1))), "", "  "); err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{}
	var out, errOut bytes.Buffer
	if err := sender(sink, 10, &out, &errOut).send(context.Background(), strings.NewReader("\uFEFF"+pretty.String()+"\n"), "event.json"); err != nil {
		t.Fatalf("pretty-printed event: %v\nstderr: %s", err, errOut.String())
	}
	if len(sink.batches) != 1 || len(sink.batches[0]) != 1 || sink.batches[0][0].id != "pretty-0" || sink.batches[0][0].line != 1 {
		t.Errorf("batches = %+v", sink.batches)
	}

	sink, errOut = &recordingSink{}, bytes.Buffer{}
	err := sender(sink, 10, &out, &errOut).send(context.Background(), strings.NewReader("{\"level\":\n"+kafkaEvents("more", 2)), "in.ndjson")
	if err == nil || !strings.Contains(errOut.String(), "in.ndjson:1:") {
		t.Errorf("broken first line: %v, stderr %q", err, errOut.String())
	}
	if len(sink.batches) != 1 || len(sink.batches[0]) != 2 || sink.batches[0][0].line != 2 {
		t.Errorf("batches after a broken first line = %+v", sink.batches)
	}
}

// sender sends in batches of n events to sink, and reports to out and errOut.
func sender(sink eventSink, n int, out, errOut io.Writer) eventSender {
	return eventSender{sink: sink, limit: batchLimit{events: n}, wait: time.Minute, stdout: out, stderr: errOut}
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
	err := sender(sink, 3, &out, &errOut).send(context.Background(), strings.NewReader(input), "in.ndjson")
	if err == nil || !strings.Contains(err.Error(), "1 event of in.ndjson is not valid and was not sent") {
		t.Errorf("error = %v", err)
	}
	if got := out.String(); got != "Sent 7 events: 7 recorded, 0 duplicates\n" {
		t.Errorf("stdout = %q", got)
	}
	out.Reset()
	if err := sender(&recordingSink{}, 3, &out, &errOut).send(context.Background(), strings.NewReader(kafkaEvents("one", 1)), "one.ndjson"); err != nil {
		t.Fatalf("one event: %v", err)
	}
	if got := out.String(); got != "Sent 1 event: 1 recorded, 0 duplicates\n" {
		t.Errorf("stdout after one event = %q", got)
	}
	if !strings.Contains(errOut.String(), "in.ndjson:6: invalid event: type: is required") {
		t.Errorf("stderr = %q", errOut.String())
	}
	if len(sink.batches) != 3 || len(sink.batches[0]) != 3 || sink.batches[0][0].id != "unit-0" || sink.batches[0][1].id != "" {
		t.Errorf("batches = %+v", sink.batches)
	}
}

func TestCounted(t *testing.T) {
	for n, want := range map[int]string{0: "0 events", 1: "1 event", 2: "2 events", 60000: "60000 events"} {
		if got := counted(n, "event"); got != want {
			t.Errorf("counted(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPrintable_escapesControlCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":              "plain name",
		"a\x1b[31mred":            `a\x1b[31mred`,
		"a\nb\tc\x00d\x7f\u0085é": `a\nb\tc\x00d\x7f\u0085é`,
		"ops\u202egpj.exe":        `ops\u202egpj.exe`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got := printableText("line 1\n\tline 2 \x1b[2J"); got != "line 1\n\tline 2 \\x1b[2J" {
		t.Errorf("printableText kept %q", got)
	}
}

// event get, config get and -o json print what others wrote: a bidirectional override, DEL
// or a C1 control in it (encoding/json leaves those raw) is escaped, in YAML as in JSON, and
// the output still reads back as the same text.
func TestPrintYAMLAndJSON_escapeWhatWouldDriveTheTerminal(t *testing.T) {
	doc := map[string]any{
		"message": "red \x1b[31m alert\u202e done \u009b31m \x7f",
		"details": map[string]any{"k\u2066ey": "v\u202ex", "multi": "line 1\nline 2\u202a"},
		"plain":   "nothing to escape",
	}
	for name, print := range map[string]func(*cobra.Command, any) error{"yaml": printYAML, "json": printJSON} {
		var out bytes.Buffer
		cmd := &cobra.Command{}
		cmd.SetOut(&out)
		if err := print(cmd, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.ContainsFunc(out.String(), func(r rune) bool { return domain.IsBidiOverride(r) || r != '\n' && unicode.IsControl(r) }) {
			t.Errorf("%s holds a raw bidirectional override or control character:\n%q", name, out.String())
		}
		for _, want := range []string{`\u202E`, `\u2066`, `\u202A`} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s does not show %s:\n%s", name, want, out.String())
			}
		}
		var back map[string]any
		var err error
		if name == "yaml" {
			err = yaml.Unmarshal(out.Bytes(), &back)
		} else {
			err = json.Unmarshal(out.Bytes(), &back)
		}
		if err != nil || !reflect.DeepEqual(back, doc) {
			t.Errorf("%s does not read back as what was printed: %v\n%#v\n%s", name, err, back, out.String())
		}
	}
}

func TestSelectorInputs(t *testing.T) {
	read := func(s string) (map[string]any, error) {
		in, err := (&configFlags{selectors: []string{s}}).selectorInputs()
		if err != nil {
			return nil, err
		}
		return in[0], nil
	}
	for s, want := range map[string]map[string]any{
		"system.*":                          {"type": "system.*"},
		"user.checks.*,level=*":             {"type": "user.checks.*", "level": "*"},
		"a.b,LEVEL=error,scope=global":      {"type": "a.b", "level": "error", "scope": "GLOBAL"},
		"a.b,resource-type=image_tag":       {"type": "a.b", "resourceType": "image_tag"},
		"regex:^a{1,3}$,level=error":        {"type": "regex:^a{1,3}$", "level": "error"},
		"regex:^(x|y),z$,resource-type=tag": {"type": "regex:^(x|y),z$", "resourceType": "tag"},
	} {
		got, err := read(s)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: %v, %v; want %v", s, got, err, want)
		}
	}
	for s, want := range map[string]string{
		"a.b,foo=bar":              `--selector "a.b,foo=bar": unknown part "foo=bar"; a selector is TYPE[,level=LEVEL]`,
		"a.b,level=info,level=err": `--selector "a.b,level=info,level=err": level= is given twice`,
	} {
		if _, err := read(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
}

// FuzzReadInputEvents reads arbitrary inputs as `herald event send` does. Whatever the input,
// the reader does not panic, and each event it gives is one line (the form both a
// recordEventsJSON request and a Kafka message take), not empty, on a line of the input, in
// the order of the input.
func FuzzReadInputEvents(f *testing.F) {
	for _, seed := range []string{
		"{\"a\":1}\n\n  {\"b\":2}  \n", "[\n{\"a\": 1},\n{\"b\":\n2}]", "\uFEFF{\"a\":1}\r\n", "{\n  \"a\": 1\n}\n{\n  \"b\": 2\n}",
		"{\"level\":\n{\"a\":1}\n", "[1, \"x\", null]", "[", "\uFEFF", "", "\n\n", "{\"a\":\"\xff\u2028\"}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		lines := bytes.Count(input, []byte{'\n'}) + 1
		last := 1
		_ = readInputEvents(bytes.NewReader(input), func(e inputEvent) error {
			switch {
			case len(e.raw) == 0:
				t.Fatalf("an empty event at line %d of %q", e.line, input)
			case bytes.IndexByte(e.raw, '\n') >= 0:
				t.Fatalf("an event of several lines at line %d of %q: %q", e.line, input, e.raw)
			case e.line < last || e.line > lines:
				t.Fatalf("an event at line %d after line %d, of an input of %d lines: %q", e.line, last, lines, input)
			}
			last = e.line
			return nil
		})
	})
}

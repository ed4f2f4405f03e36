package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"herald/domain"
)

func TestDecodeLogEvents_readsArraysAndLines(t *testing.T) {
	a := `{"level":"info","type":"a.b","message":"first"}`
	b := `{"level":"error","type":"a.c","message":"second","details":"d"}`
	for name, input := range map[string]string{
		"array":           " [" + a + ",\n " + b + "] ",
		"lines":           a + "\n" + b + "\n",
		"lines with CRLF": a + "\r\n\r\n  \t\r\n" + b,
		"last line bare":  "\n" + a + "\n" + b,
	} {
		t.Run(name, func(t *testing.T) {
			events, err := domain.DecodeLogEvents([]byte(input))
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 || events[0].Message != "first" || events[1].Message != "second" || string(events[1].Details) != `{"msg":"d"}` {
				t.Fatalf("decoded %+v", events)
			}
		})
	}
}

func TestDecodeLogEvents_emptyArrayHasNoEvents(t *testing.T) {
	events, err := domain.DecodeLogEvents([]byte(" [ ] "))
	if err != nil || len(events) != 0 {
		t.Fatalf("got %v, %v", events, err)
	}
}

func TestDecodeLogEvents_errorsNameTheEvent(t *testing.T) {
	cases := []struct {
		name, input string
		want        []string // "field: message" beginnings, in order
	}{
		{"every event's errors", `[{"level":"warn"},{"levle":1},{"message":1}]`,
			[]string{`events[0].level: "warn" is not a level`, "events[1].levle: is not a field", "events[2].message: must be a JSON string"}},
		{"lines", "{\"level\":\"warn\"}\n\n{\"resource\":{\"colour\":1}}",
			[]string{`events[0].level: "warn"`, "events[1].resource.colour: is not a field of resource"}},
		{"not an object", `[{}, 3]`, []string{"events[1]: must be a JSON object, not number"}},
		{"malformed array names the index", `[{"level":"warn"}, {"level" "info"}, {"level":"warn"}]`,
			[]string{`events[0].level: "warn"`, "events[1]: malformed JSON at byte 29: invalid character '\"' after object key"}},
		{"missing comma", `[{} {}]`, []string{"events[0]: malformed JSON at byte 5: invalid character '{' after array element"}},
		{"unterminated array", `[{}`, []string{"events[0]: malformed JSON at byte 3: unexpected end of JSON input"}},
		{"malformed line names the line and goes on", "{}\n\n{\"level\":\n{\"level\":\"warn\"}",
			[]string{"events[1]: malformed JSON on line 3 at byte 9: unexpected end", `events[2].level: "warn"`}},
		{"trailing data on a line", "{} {}", []string{"events[0]: unexpected data after the JSON object"}},
		{"trailing data after the array", "[{}] {}", []string{"$: unexpected data after the JSON array"}},
		{"empty", " \n ", []string{"$: empty input"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := domain.DecodeLogEvents([]byte(c.input))
			var v *domain.ValidationError
			if !errors.As(err, &v) || len(v.Fields) != len(c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			for i, f := range v.Fields {
				if !strings.HasPrefix(f.Error(), c.want[i]) {
					t.Fatalf("error %d is %q, want %q", i, f.Error(), c.want[i])
				}
			}
		})
	}
}

func TestDecodeLogEvents_capsTheErrors(t *testing.T) {
	input := "[" + strings.Repeat(`{"level":"warn","levle":1},`, 200) + "{}]"
	_, err := domain.DecodeLogEvents([]byte(input))
	var v *domain.ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 101 || v.Fields[100].Field != "events" || !strings.Contains(v.Fields[100].Message, "too many errors") {
		t.Fatalf("got %d errors: %v", len(v.Fields), err)
	}
	if v.Fields[99].Field != "events[49].level" {
		t.Fatalf("the last error listed is %v", v.Fields[99])
	}
}

func TestDecodeLogEvents_refusesMoreThanABatch(t *testing.T) {
	for name, input := range map[string]string{
		"array": "[" + strings.Repeat("{},", domain.MaxEventsPerBatch) + "{}]",
		"lines": strings.Repeat("{}\n", domain.MaxEventsPerBatch+1),
	} {
		_, err := domain.DecodeLogEvents([]byte(input))
		assertFieldError(t, err, "events", fmt.Sprintf("more than %d events", domain.MaxEventsPerBatch))
		_ = name
	}
}

// FuzzDecodeLogEvents checks that a batch reads as its events read one by one: the elements
// of an array, or the non-blank lines, each through DecodeLogEvent.
func FuzzDecodeLogEvents(f *testing.F) {
	f.Add([]byte(`[` + seedEvent + `,{"level":"info","type":"a","message":"m"}]`))
	f.Add([]byte("{\"level\":\"info\"}\r\n\n{\"details\":\"x\"}\n"))
	f.Add([]byte(`[{"levle":1}, null, 3, {"message":[]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := domain.DecodeLogEvents(data)
		var want []domain.LogEvent
		wantOK := true
		if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
			var elems []json.RawMessage
			wantOK = json.Unmarshal(data, &elems) == nil
			for _, raw := range elems {
				e, err := domain.DecodeLogEvent(raw)
				wantOK = wantOK && err == nil
				want = append(want, e)
			}
		} else {
			for line := range bytes.Lines(data) {
				if len(bytes.Trim(line, " \t\r\n")) == 0 {
					continue
				}
				e, err := domain.DecodeLogEvent(line)
				wantOK = wantOK && err == nil
				want = append(want, e)
			}
			wantOK = wantOK && len(want) > 0
		}
		if (err == nil) != wantOK {
			t.Fatalf("DecodeLogEvents(%q): %v; one by one ok=%v", data, err, wantOK)
		}
		if err != nil {
			var v *domain.ValidationError
			if !errors.As(err, &v) || len(v.Fields) == 0 {
				t.Fatalf("rejected without field errors: %v", err)
			}
			return
		}
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(events, want) {
			t.Fatalf("DecodeLogEvents(%q):\n got %#v\nwant %#v", data, events, want)
		}
	})
}

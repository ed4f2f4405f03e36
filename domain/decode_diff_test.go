package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// checkDecodeLogEventMatches decodes producer input with the codec and with the encoding/json
// decoder it replaced. Both must accept it or both refuse it; what they accept must be the
// same event. Where the old decoder got past the JSON, its errors (timestamp, level, details)
// must be the same; where it found malformed JSON, so must the codec, in the same words.
func checkDecodeLogEventMatches(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := DecodeLogEvent(data)
	want, wantErr := refDecodeLogEvent(data)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("decoding %q: error %v, encoding/json's %v", data, gotErr, wantErr)
	}
	if gotErr == nil {
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoding %q:\n got %#v\nwant %#v", data, got, want)
		}
		return
	}
	var g, w *ValidationError
	if !errors.As(gotErr, &g) || !errors.As(wantErr, &w) || len(g.Fields) == 0 {
		t.Fatalf("decoding %q: not field errors: %v, encoding/json's %v", data, gotErr, wantErr)
	}
	switch first := w.Fields[0]; {
	case (first.Field == "timestamp" || first.Field == "level" || first.Field == "details") &&
		!strings.HasPrefix(first.Message, "must be a JSON string"): // the old event(), not a type error
		if !reflect.DeepEqual(g.Fields, w.Fields) || !reflect.DeepEqual(got, want) {
			t.Fatalf("decoding %q: %v, %#v\nencoding/json's %v, %#v", data, gotErr, got, wantErr, want)
		}
	case strings.HasPrefix(first.Message, "malformed JSON at byte"):
		if !reflect.DeepEqual(g.Fields, w.Fields) {
			t.Fatalf("decoding %q: %v\nencoding/json's %v", data, gotErr, wantErr)
		}
	case first.Field == "$":
		if !hasField(g, "$") {
			t.Fatalf("decoding %q: %v\nencoding/json's %v", data, gotErr, wantErr)
		}
	}
}

func hasField(v *ValidationError, field string) bool {
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestDecodeLogEvent_acceptsWhatEncodingJSONAccepted(t *testing.T) {
	cases := []string{
		`{"level":"info","type":"a.b","message":"m"}`,
		` {"id":"x","timestamp":"2018-06-28T22:36:26.512589Z","level":"ERROR","type":"T","message":"m","resource":{"id":"r","type":"repository","user_id":"u"},"source":{"servicename":"s","hostid":"h","base_url":"b","request_id":"q"},"details":{ "a" : [1, 2.5e-3, true, null, "x"] }} `,
		// keys match as encoding/json matched struct fields, folding case and ſ, K
		`{"LEVEL":"info","Type":"a","MeSSage":"m","meſſage":"n","RESOURCE":{"ID":"r","Account_Name":"acc"},"Source":{"SERVICE_NAME":"s","Host_ID":"h"}}`,
		`{"\u006cevel":"info","resource":{"user\u005fid":"u"}}`,
		// aliases, with the canonical name winning
		`{"resource":{"account_name":"a","user_id":"u"},"source":{"service_name":"s2","servicename":"s","host_id":"h2"}}`,
		// repeated keys: the last wins, objects merge, top-level null unsets, nested null does not
		`{"level":"warn","level":"info","message":"a","message":"b","resource":{"id":"r"},"resource":{"type":"t"}}`,
		`{"message":"a","message":null,"resource":{"id":"r"},"resource":null,"source":{"hostid":"h","hostid":null}}`,
		`{"level":null}`, `{"level":""}`, `{"level":"info","level":null}`, `{"timestamp":null}`, `{"timestamp":""}`,
		`{"details":{"a":1},"details":null}`, `{"details":null,"details":{"a":1}}`, `{"details":{}}`, `{"details":{ }}`,
		`{"details":"text <&> \u2028"}`, `{"details":"\ud83d\ude00\ud800x"}`, `{"details":"\xff"}`, `{"details":""}`,
		`{"details":[1]}`, `{"details":1}`, `{"details":true}`, `{"details":{"a":"\xff<"}}`,
		`null`, ` null `, `{}`,
		// strings: escapes, surrogates, invalid UTF-8
		`{"message":"\"\\\/\b\f\n\r\t\u0000\u00e9\u2028"}`, `{"message":"\ud83d\ude00 \ud83d \ude00 \ud83d\u0041 \udc00\ud800"}`,
		`{"message":"\xff\xfe a \xc3 \xed\xa0\x80 é"}`, `{"message":"\uD83D\uDE00"}`,
		// strings longer than the decoder's buffer for them
		`{"message":"` + strings.Repeat("long é ", 2000) + `","id":"` + strings.Repeat("i", 600) + `","message":"short"}`,
		`{"id":"` + strings.Repeat("i", 500) + `","type":"` + strings.Repeat("t", 20) + `","resource":{"id":"` + strings.Repeat("\\u00e9", 100) + `"}}`,
		// wrong types
		`{"message":42}`, `{"message":true}`, `{"message":{}}`, `{"message":[]}`, `{"resource":"x"}`, `{"resource":[]}`,
		`{"resource":{"id":1}}`, `{"source":{"service_name":false}}`, `{"resource":{"account_name":[]}}`,
		`[1,2]`, `"x"`, `1`, `true`, `[]`,
		// unknown fields
		`{"levle":"info"}`, `{"resource":{"colour":"red"}}`, `{"source":{"x":1}}`, `{"a\"b":1}`,
		// malformed
		`{"level": "info",`, `{`, `{"a"`, `{"a":`, `{"a":1`, `{x`, `{"a" 1}`, `{"a":1 "b":2}`, `{,}`, `{"a":1,}`, `[1,]`,
		`{"message":"a` + "\x01" + `"}`, `{"message":"\q"}`, `{"message":"\u12x4"}`, `{"message":"\u12`, `{"details":-x}`,
		`{"details":1.x}`, `{"details":1ex}`, `{"details":1e+}`, `{"details":01}`, `{"details":tru}`, `{"details":trux}`,
		`{"details":nulx}`, `{"details":fals}`, `x`, "\xef\xbb\xbf{}", `{"details":{"a":1}}}`,
		// trailing data, empty input
		`{"level":"info"} {}`, `{"level":"info"}x`, `{}]`, `null x`, ``, `   `, "\n\t\r ",
		// depth
		`{"details":` + strings.Repeat(`{"a":`, 9998) + `1` + strings.Repeat(`}`, 9998) + `}`,
		`{"details":` + strings.Repeat(`{"a":`, 9999) + `1` + strings.Repeat(`}`, 9999) + `}`,
		`{"details":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
		// values the codec checks after the JSON
		`{"timestamp":"yesterday","level":"warn","details":[1]}`, `{"timestamp":"2018-06-28T22:36:26"}`,
		`{"timestamp":"2018-06-28"}`, `{"timestamp":" 2018-06-28T22:36:26.5+02:00 "}`,
	}
	for _, c := range cases {
		checkDecodeLogEventMatches(t, []byte(c))
	}
}

// FuzzDecodeLogEventMatchesEncodingJSON checks that the codec accepts exactly what the
// encoding/json decoder accepted, and reads the same event from it.
func FuzzDecodeLogEventMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"id":"x","timestamp":"2018-06-28T22:36:26.512589Z","level":"ERROR","type":"T","message":"m\u00e9",` +
		`"resource":{"id":"r","type":"repository","account_name":"u"},"source":{"service_name":"s","hostid":"h"},` +
		`"details":{"a":[1,2.5e-3,true,null,"x"]}}`))
	f.Add([]byte(`{"LEVEL":"info","details":"text","message":null,"resource":null,"Source":{"HOSTID":"h"}}`))
	f.Add([]byte(`{"message":42,"levle":1,"details":[1]}`))
	f.Add([]byte(`{"message":"\ud83d\ude00\ud800\\\"\xff"} `))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeLogEventMatches(t, data)
	})
}

func TestDecodeLogEvent_nestedUnknownFieldNamesItsParent(t *testing.T) {
	cases := map[string]string{
		`{"levle":"info"}`:                   "levle: is not a field of an event",
		`{"resource":{"colour":"red"}}`:      "resource.colour: is not a field of resource",
		`{"source":{"service":"s"}}`:         "source.service: is not a field of source",
		`{"resource":{"account_name":1}}`:    "resource.user_id: must be a JSON string, not number",
		`{"source":{"host_id":{}}}`:          "source.hostid: must be a JSON string, not object",
		`{"message":42,"levle":1,"type":[]}`: "message: must be a JSON string, not number; levle: is not a field of an event; type: must be a JSON string, not array",
	}
	for input, want := range cases {
		_, err := DecodeLogEvent([]byte(input))
		if err == nil || err.Error() != "invalid event: "+want {
			t.Errorf("%s: got %v, want %s", input, err, want)
		}
	}
}

func TestDecodeLogEvent_capsTheErrors(t *testing.T) {
	input := "{" + strings.Repeat(`"x":1,`, 500) + `"y":2}`
	_, err := DecodeLogEvent([]byte(input))
	var v *ValidationError
	if !errors.As(err, &v) || len(v.Fields) != maxFieldErrors+1 || !strings.Contains(v.Fields[maxFieldErrors].Message, "too many errors") {
		t.Fatalf("got %d errors: %v", len(v.Fields), err)
	}
}

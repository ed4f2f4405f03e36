package domain

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeObjectAsEncodingJSON is the reference: encoding/json with UseNumber into a map,
// refusing anything after the value but white space, as json.Unmarshal does.
func decodeObjectAsEncodingJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if rest := data[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return nil, &json.SyntaxError{}
	}
	return m, nil
}

func checkDecodeJSONObjectMatches(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := decodeObjectAsEncodingJSON(data)
	var got map[string]any
	err := DecodeJSONObject(data, func(key string, v any) error {
		if got == nil {
			got = map[string]any{}
		}
		got[key] = v
		return nil
	})
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json's %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	if want == nil && bytes.TrimSpace(data)[0] == '{' {
		want = map[string]any{} // an empty object; the callback saw no member
	}
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
	}
}

func TestDecodeJSONObject_readsAsEncodingJSON(t *testing.T) {
	cases := []string{
		`{}`, ` {"a":1} `, `null`, `{"a":null,"b":true,"c":false,"d":-0.5e+3,"e":"x\"y\\z\u00e9\ud83d\ude00"}`,
		`{"a":[],"b":{},"c":[1,[2,{"d":[]}]],"a":"last wins"}`, `{"s":"` + strings.Repeat(`\"event\" `, 1000) + `"}`,
		`{"bad utf8":"` + "\xff\xfe" + `"}`, `{"lone":"\ud800x"}`,
		// refused
		``, ` `, `[1]`, `"s"`, `1`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1} x`, `{"a":"` + "\x01" + `"}`,
		`{"a":tru}`, `{"a":"\x"}`, `{a:1}`, `{"a":1}{}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, "null\x00", "{}\x00", "{} \x00",
	}
	for _, c := range cases {
		checkDecodeJSONObjectMatches(t, []byte(c))
	}
}

func TestDecodeJSONObject_errorsSayWhere(t *testing.T) {
	cases := map[string]string{
		`{"a":1,}`:  "malformed JSON at byte 8: invalid character '}' looking for beginning of object key string",
		`{"a":1} x`: "malformed JSON at byte 9: invalid character 'x' after top-level value",
		`{"a":"x`:   "malformed JSON at byte 7: unexpected end of JSON input",
		`[1,2]`:     "the JSON document is an array, not an object",
	}
	for in, want := range cases {
		err := DecodeJSONObject([]byte(in), func(string, any) error { return nil })
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

func TestDecodeJSONObject_refusesDeepNesting(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`
	err := DecodeJSONObject([]byte(deep), func(string, any) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Fatalf("error %v, want the depth refused", err)
	}
}

// FuzzDecodeJSONObject checks that DecodeJSONObject accepts exactly what encoding/json
// accepts and reads the same values.
func FuzzDecodeJSONObject(f *testing.F) {
	f.Add([]byte(`{"query":"mutation($e: String!) { recordEventsJSON(events: $e) { recorded } }","variables":{"e":"{\"level\":\"info\"}\n"}}`))
	f.Add([]byte(`{"a":[1,2.5e-3,true,null,"x",{"b":{}}],"A":"\ud83d\ude00\ud800\\\"\xff"} `))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeJSONObjectMatches(t, data)
	})
}

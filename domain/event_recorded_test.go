package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// trickyPieces are the strings that make JSON encoders differ: escapes, HTML characters, the
// JavaScript line separators, control bytes, invalid and non-ASCII UTF-8.
var trickyPieces = []string{
	"", "a", "plain text with spaces", `"`, `\`, `\"`, "/", "<", ">", "&", "<script>&amp;</script>",
	"\u2028", "\u2029", "\xe2\x80", "\xe2\x80\xa8x", "\x00", "\x01", "\x1f", "\b\f\n\r\t", "\x7f",
	"\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "é", "日本語", "😀", "\U0010FFFF", "\ufffd",
	"docker.io/library/nginx", "12345678", "abcdefghijklmnopqrstuvwxyz",
}

func trickyString(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(6) {
		b.WriteString(trickyPieces[rng.IntN(len(trickyPieces))])
	}
	return b.String()
}

// trickyDetails returns valid JSON details: an object with tricky strings and values of every
// kind, written without HTML escaping and sometimes indented, so the encoder must escape and
// compact them as json.Marshal does.
func trickyDetails(rng *rand.Rand) json.RawMessage {
	if rng.IntN(4) == 0 {
		return nil
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch rng.IntN(7) {
		case 0:
			return trickyString(rng)
		case 1:
			return rng.NormFloat64() * 1e6
		case 2:
			return rng.IntN(2) == 0
		case 3:
			return nil
		case 4:
			if depth < 3 {
				return []any{value(depth + 1), value(depth + 1)}
			}
		case 5:
			if depth < 3 {
				return map[string]any{trickyString(rng): value(depth + 1)}
			}
		}
		return rng.Int64()
	}
	obj := map[string]any{}
	for range rng.IntN(5) {
		obj[trickyString(rng)] = value(0)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if rng.IntN(3) == 0 {
		enc.SetIndent(" ", "\t")
	}
	if err := enc.Encode(obj); err != nil {
		panic(err)
	}
	return bytes.TrimSpace(buf.Bytes())
}

func randomEvent(rng *rand.Rand) LogEvent {
	var ts time.Time
	switch rng.IntN(4) {
	case 0:
		ts = time.Unix(0, rng.Int64()) // any instant from 1678 to 2262
	case 1:
		ts = time.Date(rng.IntN(12000)-1000, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, rng.IntN(1e9), time.UTC)
	default:
		ts = time.Date(2018, 6, 28, 22, 36, 26, rng.IntN(1e9), time.FixedZone("x", rng.IntN(50000)-25000))
	}
	return LogEvent{
		ID: trickyString(rng), Timestamp: ts, Level: Level(rng.IntN(4)), Type: trickyString(rng), Message: trickyString(rng),
		Resource: Resource{ID: trickyString(rng), Type: trickyString(rng), UserID: trickyString(rng)},
		Source: Source{
			ServiceName: trickyString(rng), HostID: trickyString(rng), BaseURL: trickyString(rng), RequestID: trickyString(rng),
		},
		Details: trickyDetails(rng),
	}
}

func TestEncodeEventRecorded_writesWhatJSONMarshalWrote(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		e := randomEvent(rng)
		checkEncodeMatches(t, e)
	}
}

func checkEncodeMatches(t *testing.T, e LogEvent) {
	t.Helper()
	want, err := refEncodeEventRecorded(e)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	got := EventRecorded{Event: e}.Encode()
	if got.Type != EventRecordedType || !bytes.Equal(got.Data, want) {
		t.Fatalf("encoding %+v\n got %q\nwant %q", e, got.Data, want)
	}
	for _, full := range []bool{true, false} {
		checkDecodeMatches(t, want, full)
	}
}

func FuzzEncodeEventRecorded(f *testing.F) {
	f.Add("id", "a.b", "message <&>", "res", "repository", "admin", "svc", "host", "", "", int64(1530225386512589000), uint8(1), []byte(`{"msg":"x"}`))
	f.Add("\xff\u2028", "\x00", "\"\\", "😀", "", "", "", "", "http://x?a=1&b=2", "r", int64(-1), uint8(3), []byte(" { \"a\" : [ 1 , \"\u2029<\" ] } "))
	f.Fuzz(func(t *testing.T, id, typ, msg, resID, resType, user, svc, host, baseURL, reqID string, nanos int64, level uint8, details []byte) {
		if !json.Valid(details) {
			details = nil
		}
		checkEncodeMatches(t, LogEvent{
			ID: id, Timestamp: time.Unix(0, nanos), Level: Level(level), Type: typ, Message: msg,
			Resource: Resource{ID: resID, Type: resType, UserID: user},
			Source:   Source{ServiceName: svc, HostID: host, BaseURL: baseURL, RequestID: reqID},
			Details:  details,
		})
	})
}

// checkDecodeMatches decodes a fact with the codec and with json.Unmarshal and wants the same
// event, or an error from both (ErrUnknownFactVersion from both if from either).
func checkDecodeMatches(t *testing.T, data []byte, full bool) {
	t.Helper()
	var got, want LogEvent
	var gotErr, wantErr error
	if full {
		var g, w EventRecorded
		g, gotErr = DecodeEventRecorded(data)
		w, wantErr = refDecodeEventRecorded(data)
		got, want = g.Event, w.Event
	} else {
		got, gotErr = DecodeEventRecordedHeader(data)
		want, wantErr = refDecodeEventRecordedHeader(data)
	}
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("decoding %q (full %v): error %v, encoding/json's %v", data, full, gotErr, wantErr)
	case errors.Is(gotErr, ErrUnknownFactVersion) != errors.Is(wantErr, ErrUnknownFactVersion):
		t.Fatalf("decoding %q: error %v, encoding/json's %v", data, gotErr, wantErr)
	case gotErr != nil && !strings.HasPrefix(gotErr.Error(), "decode EventRecorded"):
		t.Fatalf("decoding %q: error %v lacks the context", data, gotErr)
	case !reflect.DeepEqual(got, want):
		t.Fatalf("decoding %q (full %v):\n got %#v\nwant %#v", data, full, got, want)
	}
}

func TestDecodeEventRecorded_readsWhatJSONUnmarshalRead(t *testing.T) {
	const ts = `"timestamp":"2018-06-28T22:36:26.512589Z"`
	cases := []string{
		`{"v":1,"id":"a",` + ts + `,"level":"error","type":"t","message":"m","resource":{"id":"r","type":"repository","user_id":"u"},"source":{"servicename":"s","hostid":"h"},"details":{"a":1}}`,
		`{"details":{"a":1},"source":{"hostid":"h","servicename":"s"},"resource":{"user_id":"u"},"message":"m","type":"t","level":"info",` + ts + `,"id":"a","v":1}`,
		// as Encode writes it, but for white space the fast path must not take in
		`{"v":1,"id":"a",` + ts + `,"level":"info","type":"t","message":"m","resource":{"id":"","type":"","user_id":""},"source":{"servicename":"","hostid":""},"details": {"a":1}}`,
		`{"v":1,"id":"a",` + ts + `,"level":"info","type":"t","message":"m","resource":{"id":"","type":"","user_id":""},"source":{"servicename":"","hostid":""},"details":{"a":1} }`,
		` { "v" : 1 , ` + ts + ` , "message" : "line\nbreak \u00e9 \ud83d\ude00 \ud800 \udc00x \u2028" } `,
		`{"V":1,"ID":"a","Timestamp":"2018-06-28T22:36:26Z","LEVEL":"Error","resource":{"USER_ID":"u","Id":"x"},"ſource":{"ſervicename":"k"}}`,
		`{"v":1,` + ts + `,"future":{"nested":[1,2,{"x":null}]},"resource":{"colour":"red","id":"r"},"other":"x"}`,
		`{"v":1,` + ts + `,"id":"a","id":"b","resource":{"id":"r"},"resource":{"type":"t"},"level":"info","level":null}`,
		`{"v":1,` + ts + `,"id":null,"resource":null,"source":null,"details":null,"message":null,"timestamp":null}`,
		`{"v":1,"timestamp":"bad","timestamp":"2018-06-28T22:36:26.5Z"}`,
		`{"v":1,"timestamp":"2018-06-28T22:36:26+02:00"}`,
		`{"v":1,"timestamp":"2018-02-30T22:36:26.512589Z"}`,
		`{"v":1,"timestamp":"2018-06-28T24:36:26.512589Z"}`,
		`{"v":1,"timestamp":"yesterday"}`,
		`{"v":1}`,
		`{"v":2,` + ts + `}`, `{"v":0}`, `{"v":-0,` + ts + `}`, `{"v":null,` + ts + `}`, `{"v":1,"v":null,` + ts + `}`,
		`null`, `{}`, `{"v":"1"}`, `{"v":1.0}`, `{"v":1e0}`, `{"v":99999999999999999999}`,
		`{"v":1,` + ts + `,"id":5}`, `{"v":1,` + ts + `,"resource":"x"}`, `{"v":1,` + ts + `,"resource":{"id":[]}}`,
		`{"v":1,` + ts + `,"level":true}`, `{"v":1,` + ts + `,"message":{}}`, `{"v":1,` + ts + `,"message":{},"details":[}`,
		`{"v":1,` + ts + `} x`, `{"v":1,` + ts + `}}`, `{"v":1,` + ts + `,}`, `{"v":1,` + ts + ``, ``, `   `, `[1]`, `"x"`, `1`,
		`{"v":1,` + ts + `,"message":"` + strings.Repeat("long é ", 2000) + `","id":"` + strings.Repeat("i", 600) + `"}`,
		`{"v":1,` + ts + `,"details":"x\u0000"}`, `{"v":1,` + ts + `,"id":"\xff\xfe"}`, `{"v":1,` + ts + `,"id":"a` + "\x01" + `"}`,
		`{"v":1,` + ts + `,"details":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		`{"v":1,` + ts + `,"details":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	}
	for _, c := range cases {
		for _, full := range []bool{true, false} {
			checkDecodeMatches(t, []byte(c), full)
		}
	}
}

func FuzzDecodeEventRecorded(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(EventRecorded{Event: randomEvent(rng)}.Encode().Data)
	}
	f.Add([]byte(`{"V":1,"timestamp":"2018-06-28T22:36:26Z","resource":{"ID":"x"},"details":null,"x":[1,{"a":"\ud800"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeMatches(t, data, true)
		checkDecodeMatches(t, data, false)
	})
}

// TestDecodeEventRecorded_copiesDetails guards against keeping a slice of a buffer the
// store reuses.
func TestDecodeEventRecorded_copiesDetails(t *testing.T) {
	data := EventRecorded{Event: LogEvent{ID: "a", Level: LevelInfo, Details: []byte(`{"a":1}`)}}.Encode().Data
	f, err := DecodeEventRecorded(data)
	if err != nil {
		t.Fatal(err)
	}
	clear(data)
	if string(f.Event.Details) != `{"a":1}` {
		t.Fatalf("details changed with the input: %q", f.Event.Details)
	}
}

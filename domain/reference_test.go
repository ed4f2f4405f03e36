package domain

// The encoding/json implementations the hand-written codec replaced, kept as the reference
// its differential tests and fuzz targets compare against. They are the definition of the
// wire formats and of what producers may send.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type eventRecordedV1 struct {
	V         int             `json:"v"`
	ID        string          `json:"id"`
	Timestamp string          `json:"timestamp"`
	Level     string          `json:"level"`
	Type      string          `json:"type"`
	Message   string          `json:"message"`
	Resource  Resource        `json:"resource"`
	Source    Source          `json:"source"`
	Details   json.RawMessage `json:"details,omitempty"`
}

func refEncodeEventRecorded(e LogEvent) ([]byte, error) {
	return json.Marshal(eventRecordedV1{
		V: factVersion, ID: e.ID, Timestamp: FormatTimestamp(e.Timestamp), Level: e.Level.String(),
		Type: e.Type, Message: e.Message, Resource: e.Resource, Source: e.Source, Details: e.Details,
	})
}

func refDecodeEventRecorded(data []byte) (EventRecorded, error) {
	var w eventRecordedV1
	if err := json.Unmarshal(data, &w); err != nil {
		return EventRecorded{}, fmt.Errorf("decode %s: %w", EventRecordedType, err)
	}
	if w.V != factVersion {
		return EventRecorded{}, fmt.Errorf("decode %s v%d: %w", EventRecordedType, w.V, ErrUnknownFactVersion)
	}
	ts, err := ParseTimestamp(w.Timestamp)
	if err != nil {
		return EventRecorded{}, fmt.Errorf("decode %s: timestamp: %w", EventRecordedType, err)
	}
	level, _ := ParseLevel(w.Level)
	return EventRecorded{Event: LogEvent{
		ID: w.ID, Timestamp: ts, Level: level, Type: w.Type, Message: w.Message,
		Resource: w.Resource, Source: w.Source, Details: w.Details,
	}}, nil
}

type eventRecordedHeaderV1 struct {
	V         int      `json:"v"`
	ID        string   `json:"id"`
	Timestamp string   `json:"timestamp"`
	Level     string   `json:"level"`
	Type      string   `json:"type"`
	Resource  Resource `json:"resource"`
	Source    Source   `json:"source"`
}

func refDecodeEventRecordedHeader(data []byte) (LogEvent, error) {
	var w eventRecordedHeaderV1
	if err := json.Unmarshal(data, &w); err != nil {
		return LogEvent{}, fmt.Errorf("decode %s: %w", EventRecordedType, err)
	}
	if w.V != factVersion {
		return LogEvent{}, fmt.Errorf("decode %s v%d: %w", EventRecordedType, w.V, ErrUnknownFactVersion)
	}
	ts, err := ParseTimestamp(w.Timestamp)
	if err != nil {
		return LogEvent{}, fmt.Errorf("decode %s: timestamp: %w", EventRecordedType, err)
	}
	level, _ := ParseLevel(w.Level)
	return LogEvent{ID: w.ID, Timestamp: ts, Level: level, Type: w.Type, Resource: w.Resource, Source: w.Source}, nil
}

type refWireEvent struct {
	ID        *string          `json:"id"`
	Timestamp *string          `json:"timestamp"`
	Level     *string          `json:"level"`
	Type      *string          `json:"type"`
	Message   *string          `json:"message"`
	Resource  *refWireResource `json:"resource"`
	Source    *refWireSource   `json:"source"`
	Details   json.RawMessage  `json:"details"`
}

type refWireResource struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	UserID      string `json:"user_id"`
	AccountName string `json:"account_name"`
}

type refWireSource struct {
	ServiceName  string `json:"servicename"`
	ServiceName2 string `json:"service_name"`
	HostID       string `json:"hostid"`
	HostID2      string `json:"host_id"`
	BaseURL      string `json:"base_url"`
	RequestID    string `json:"request_id"`
}

func refDecodeLogEvent(data []byte) (LogEvent, error) {
	var w refWireEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return LogEvent{}, refDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return LogEvent{}, &ValidationError{Fields: []FieldError{{Field: "$", Message: "unexpected data after the JSON object"}}}
	}
	return w.event()
}

func (w refWireEvent) event() (LogEvent, error) {
	v := &ValidationError{}
	var e LogEvent
	if w.ID != nil {
		e.ID = *w.ID
	}
	if w.Timestamp != nil && *w.Timestamp != "" {
		t, err := ParseTimestamp(*w.Timestamp)
		if err != nil {
			v.add("timestamp", "%q is not an RFC 3339 timestamp such as 2018-06-28T22:36:26.512589Z", *w.Timestamp)
		}
		e.Timestamp = t
	}
	if w.Level != nil {
		l, ok := ParseLevel(*w.Level)
		if !ok {
			v.add("level", "%q is not a level; use info or error", *w.Level)
		}
		e.Level = l
	}
	if w.Type != nil {
		e.Type = *w.Type
	}
	if w.Message != nil {
		e.Message = *w.Message
	}
	if r := w.Resource; r != nil {
		e.Resource = Resource{ID: r.ID, Type: r.Type, UserID: firstNonEmpty(r.UserID, r.AccountName)}
	}
	if s := w.Source; s != nil {
		e.Source = Source{
			ServiceName: firstNonEmpty(s.ServiceName, s.ServiceName2),
			HostID:      firstNonEmpty(s.HostID, s.HostID2),
			BaseURL:     s.BaseURL,
			RequestID:   s.RequestID,
		}
	}
	details, err := refNormalizeDetails(w.Details)
	if err != nil {
		v.add("details", "%s", err.Error())
	}
	e.Details = details
	return e, v.errOrNil()
}

func refNormalizeDetails(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	switch raw[0] {
	case '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("is not valid JSON: %v", err)
		}
		if buf.Len() == 2 { // {}
			return nil, nil
		}
		return buf.Bytes(), nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("is not a valid JSON string: %v", err)
		}
		wrapped, _ := json.Marshal(map[string]string{"msg": s})
		return wrapped, nil
	}
	return nil, errors.New("must be a JSON object or a string")
}

func refDecodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &ValidationError{Fields: []FieldError{{Field: "$", Message: fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax)}}}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "$"
		}
		field = strings.NewReplacer("service_name", "servicename", "host_id", "hostid", "account_name", "user_id").Replace(field)
		return &ValidationError{Fields: []FieldError{{Field: field, Message: fmt.Sprintf("must be a JSON %s, not %s", refJSONKind(typ.Type.Kind().String()), typ.Value)}}}
	case errors.Is(err, io.EOF):
		return &ValidationError{Fields: []FieldError{{Field: "$", Message: "empty input; want a JSON object"}}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &ValidationError{Fields: []FieldError{{Field: "$", Message: "malformed JSON: unexpected end of input"}}}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &ValidationError{Fields: []FieldError{{Field: strings.Trim(name, `"`), Message: "is not a field of an event"}}}
	}
	return &ValidationError{Fields: []FieldError{{Field: "$", Message: msg}}}
}

func refJSONKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "struct", "map", "ptr":
		return "object"
	case "slice":
		return "array"
	}
	return goKind
}

// BenchmarkReference measures the encoding/json implementations on the event of the codec's
// benchmarks (bench_test.go), for comparing the two on one machine at one time.
func BenchmarkReference(b *testing.B) {
	input := []byte(benchEvent)
	e, err := refDecodeLogEvent(input)
	if err != nil {
		b.Fatal(err)
	}
	fact, _ := refEncodeEventRecorded(e)
	b.Run("EncodeEventRecorded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refEncodeEventRecorded(e)
		}
	})
	b.Run("DecodeEventRecorded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refDecodeEventRecorded(fact)
		}
	})
	b.Run("DecodeEventRecordedHeader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refDecodeEventRecordedHeader(fact)
		}
	})
	b.Run("DecodeLogEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = refDecodeLogEvent(input)
		}
	})
}

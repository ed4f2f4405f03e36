package webhook_test

import (
	"encoding/json"
	"testing"
	"time"

	"herald/adapters/senders/webhook"
	"herald/domain"
)

// refPayload is the webhook body as json.Marshal wrote it before Body was written by hand.
type refPayload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Level     string          `json:"level"`
	Message   string          `json:"message"`
	Details   json.RawMessage `json:"details"`
	Timestamp string          `json:"timestamp"`
	Resource  struct {
		AccountName string `json:"account_name"`
		Type        string `json:"type"`
		ID          string `json:"id"`
	} `json:"resource"`
	Source struct {
		RequestID   string `json:"request_id"`
		ServiceName string `json:"service_name"`
		HostID      string `json:"host_id"`
		BaseURL     string `json:"base_url"`
	} `json:"source"`
}

func refBody(e domain.LogEvent) []byte {
	var p refPayload
	p.ID, p.Type, p.Level, p.Message, p.Timestamp = e.ID, e.Type, e.Level.String(), e.Message, domain.FormatTimestamp(e.Timestamp)
	p.Details = e.Details
	if len(p.Details) == 0 {
		p.Details = json.RawMessage("{}")
	}
	p.Resource.AccountName, p.Resource.Type, p.Resource.ID = e.Resource.UserID, e.Resource.Type, e.Resource.ID
	p.Source.RequestID, p.Source.ServiceName, p.Source.HostID, p.Source.BaseURL = e.Source.RequestID, e.Source.ServiceName, e.Source.HostID, e.Source.BaseURL
	body, _ := json.Marshal(p)
	return body
}

func checkBody(t *testing.T, e domain.LogEvent) {
	t.Helper()
	if got, want := webhook.Body(e), refBody(e); string(got) != string(want) {
		t.Fatalf("body of %#v:\n got %s\nwant %s", e, got, want)
	}
}

func TestBody_asEncodingJSONWroteIt(t *testing.T) {
	checkBody(t, event())
	checkBody(t, domain.LogEvent{})
	checkBody(t, domain.LogEvent{ID: "<&>\u2028\"\\\n\x01\xff", Message: "😀 ünïcode", Level: domain.LevelInfo,
		Details: json.RawMessage(" { \"a\" : [ 1 , \"<\u2029>\" ] , \"b\" : null } "), Timestamp: time.Unix(0, -1)})
}

func FuzzBody(f *testing.F) {
	f.Add("id", "a.b", "message <&>", "res", "repository", "admin", "svc", "host", "", "", int64(1530225386512589000), uint8(1), []byte(`{"msg":"x"}`))
	f.Add("\xff\u2028", "\x00", "\"\\", "😀", "", "", "", "", "http://x?a=1&b=2", "r", int64(-1), uint8(3), []byte(" { \"a\" : [ 1 , \"\u2029<\" ] } "))
	f.Fuzz(func(t *testing.T, id, typ, msg, resID, resType, user, svc, host, baseURL, reqID string, nanos int64, level uint8, details []byte) {
		if !json.Valid(details) {
			details = nil // recorded events have valid details
		}
		checkBody(t, domain.LogEvent{
			ID: id, Timestamp: time.Unix(0, nanos), Level: domain.Level(level), Type: typ, Message: msg,
			Resource: domain.Resource{ID: resID, Type: resType, UserID: user},
			Source:   domain.Source{ServiceName: svc, HostID: host, BaseURL: baseURL, RequestID: reqID},
			Details:  details,
		})
	})
}

func BenchmarkBody(b *testing.B) {
	e := event()
	for b.Loop() {
		webhook.Body(e)
	}
}

func BenchmarkBodyEncodingJSON(b *testing.B) {
	e := event()
	for b.Loop() {
		refBody(e)
	}
}

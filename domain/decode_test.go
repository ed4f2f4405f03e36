package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"herald/domain"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func fixedID() string { return "generated0000000000000000000000a" }

const seedEvent = `{"id": "67946415c113488b8fff8b335272a45b",
 "timestamp": "2018-06-28T22:36:26.512589Z",
 "level": "ERROR",
 "type": "system.repository.list_tags_fail",
 "message": "Failed to list tags in repository",
 "resource": {"id": "docker.io/library/nginx", "type": "repository", "user_id": "admin"},
 "source": {"servicename": "catalog", "hostid": "dockerhostid-localhost", "base_url": "http://localhost:8082"},
 "details": {"msg": "Error encountered in skopeo operation", "exitcode": 1}}`

func TestDecodeLogEvent_seedEvent(t *testing.T) {
	e, err := domain.DecodeLogEvent([]byte(seedEvent))
	if err != nil {
		t.Fatal(err)
	}
	e = e.WithDefaults(now, fixedID)
	if err := e.Validate(now); err != nil {
		t.Fatal(err)
	}
	if e.Level != domain.LevelError || e.Account() != "admin" || e.Source.ServiceName != "catalog" || e.ShortType() != "list_tags_fail" {
		t.Fatalf("decoded %+v", e)
	}
	if got := domain.FormatTimestamp(e.Timestamp); got != "2018-06-28T22:36:26.512589Z" {
		t.Fatalf("timestamp %s", got)
	}
	if string(e.Details) != `{"msg":"Error encountered in skopeo operation","exitcode":1}` {
		t.Fatalf("details %s", e.Details)
	}
}

func TestDecodeLogEvent_defaults(t *testing.T) {
	e, err := domain.DecodeLogEvent([]byte(`{"level":"info","type":"system.feeds.sync.completed","message":"done","details":"plain text"}`))
	if err != nil {
		t.Fatal(err)
	}
	e = e.WithDefaults(now, fixedID)
	if err := e.Validate(now); err != nil {
		t.Fatal(err)
	}
	if e.ID != fixedID() || !e.Timestamp.Equal(now) || e.Account() != domain.DefaultAccount {
		t.Fatalf("defaults not applied: %+v", e)
	}
	if string(e.Details) != `{"msg":"plain text"}` {
		t.Fatalf("string details not wrapped: %s", e.Details)
	}
}

func TestDecodeLogEvent_badInputNamesTheField(t *testing.T) {
	cases := []struct {
		name, input, field, contains string
	}{
		{"malformed json", `{"level": "info",`, "$", "malformed JSON"},
		{"not an object", `[1,2]`, "$", "object"},
		{"empty", ``, "$", "empty input"},
		{"trailing data", `{"level":"info","type":"a.b","message":"m"} {}`, "$", "after the JSON object"},
		{"bad level", `{"level":"warn","type":"a.b","message":"m"}`, "level", `"warn" is not a level`},
		{"bad timestamp", `{"timestamp":"yesterday","level":"info","type":"a.b","message":"m"}`, "timestamp", "RFC 3339"},
		{"unknown field", `{"levle":"info","type":"a.b","message":"m"}`, "levle", "not a field"},
		{"wrong type", `{"level":"info","type":"a.b","message":42}`, "message", "must be a JSON string"},
		{"details array", `{"level":"info","type":"a.b","message":"m","details":[1]}`, "details", "object or a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := domain.DecodeLogEvent([]byte(c.input))
			assertFieldError(t, err, c.field, c.contains)
		})
	}
}

func TestLogEvent_validateRejects(t *testing.T) {
	valid := func() domain.LogEvent {
		e, err := domain.DecodeLogEvent([]byte(seedEvent))
		if err != nil {
			t.Fatal(err)
		}
		return e.WithDefaults(now, fixedID)
	}
	cases := []struct {
		name     string
		mutate   func(*domain.LogEvent)
		field    string
		contains string
	}{
		{"no level", func(e *domain.LogEvent) { e.Level = 0 }, "level", "required"},
		{"bad type", func(e *domain.LogEvent) { e.Type = "System Repo" }, "type", "category.subcategory.event"},
		{"long type", func(e *domain.LogEvent) { e.Type = strings.Repeat("a", 300) }, "type", "limit is 255"},
		{"no message", func(e *domain.LogEvent) { e.Message = "" }, "message", "required"},
		{"huge message", func(e *domain.LogEvent) { e.Message = strings.Repeat("x", domain.MaxMessageLength+1) }, "message", "limit"},
		{"unknown resource type", func(e *domain.LogEvent) { e.Resource.Type = "container" }, "resource.type", "not a resource type"},
		{"oversize details", func(e *domain.LogEvent) {
			e.Details = []byte(`{"x":"` + strings.Repeat("a", domain.MaxDetailsBytes) + `"}`)
		}, "details", "64 KiB"},
		{"bad id", func(e *domain.LogEvent) { e.ID = "has space" }, "id", "letters, digits"},
		{"future timestamp", func(e *domain.LogEvent) { e.Timestamp = now.Add(48 * time.Hour) }, "timestamp", "future"},
		{"invalid utf8", func(e *domain.LogEvent) { e.Source.HostID = "\xff" }, "source.hostid", "UTF-8"},
		{"blank message", func(e *domain.LogEvent) { e.Message = " \t\n\u00a0" }, "message", "is blank"},
		{"bell in resource id", func(e *domain.LogEvent) { e.Resource.ID = "docker.io/a\ab" }, "resource.id", "control character U+0007"},
		{"line break in service", func(e *domain.LogEvent) { e.Source.ServiceName = "cat\nalog" }, "source.servicename", "single line"},
		{"bidi in host", func(e *domain.LogEvent) { e.Source.HostID = "host\u202e1" }, "source.hostid", "bidirectional"},
		{"control in request id", func(e *domain.LogEvent) { e.Source.RequestID = "r\x1b[31m" }, "source.request_id", "U+001B"},
		{"line break in base url", func(e *domain.LogEvent) { e.Source.BaseURL = "http://a\r\n" }, "source.base_url", "single line"},
		{"no account", func(e *domain.LogEvent) { e.Resource.UserID = "" }, "resource.user_id", "required"},
		{"line break in account", func(e *domain.LogEvent) { e.Resource.UserID = "alice\n" }, "resource.user_id", "single line"},
		{"account too long", func(e *domain.LogEvent) { e.Resource.UserID = strings.Repeat("a", 256) }, "resource.user_id", "limit is 255"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := valid()
			c.mutate(&e)
			assertFieldError(t, e.Validate(now), c.field, c.contains)
		})
	}
}

func TestParseLevel_caseInsensitive(t *testing.T) {
	for _, s := range []string{"info", "INFO", " Info "} {
		if l, ok := domain.ParseLevel(s); !ok || l != domain.LevelInfo {
			t.Errorf("ParseLevel(%q) = %v, %v", s, l, ok)
		}
	}
	if _, ok := domain.ParseLevel("warning"); ok {
		t.Error("warning accepted as a level")
	}
}

func assertFieldError(t *testing.T, err error, field, contains string) {
	t.Helper()
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want a ValidationError on %s, got %v", field, err)
	}
	for _, f := range v.Fields {
		if f.Field == field && strings.Contains(f.Message, contains) {
			return
		}
	}
	t.Fatalf("want an error on %s containing %q, got %v", field, contains, v)
}

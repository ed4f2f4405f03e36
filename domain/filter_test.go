package domain_test

import (
	"testing"
	"time"

	"herald/domain"
)

func TestEventFilter_matches(t *testing.T) {
	e := domain.LogEvent{
		Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 0, time.UTC), Level: domain.LevelError,
		Type:     "system.feeds.sync.failed",
		Resource: domain.Resource{ID: "nvd", Type: "feeds", UserID: "admin"},
		Source:   domain.Source{ServiceName: "policy_engine", HostID: "host-1"},
	}
	at := e.Timestamp
	cases := []struct {
		name   string
		filter domain.EventFilter
		want   bool
	}{
		{"empty", domain.EventFilter{}, true},
		{"prefix type", domain.EventFilter{Type: "system.feeds.*"}, true},
		{"other prefix", domain.EventFilter{Type: "user.*"}, false},
		{"star", domain.EventFilter{Type: "*"}, true},
		{"exact type", domain.EventFilter{Type: "system.feeds.sync.failed"}, true},
		{"type is not a prefix without star", domain.EventFilter{Type: "system.feeds"}, false},
		{"level", domain.EventFilter{Level: domain.LevelInfo}, false},
		{"since inclusive", domain.EventFilter{Since: at}, true},
		{"before exclusive", domain.EventFilter{Before: at}, false},
		{"window", domain.EventFilter{Since: at.Add(-time.Hour), Before: at.Add(time.Hour)}, true},
		{"account", domain.EventFilter{Account: "alice"}, false},
		{"service and host", domain.EventFilter{Service: "policy_engine", Host: "host-1"}, true},
		{"resource", domain.EventFilter{ResourceID: "nvd", ResourceType: "feeds"}, true},
	}
	for _, c := range cases {
		if got := c.filter.Matches(e); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEventFilter_validateRejectsUnknownValues(t *testing.T) {
	at := time.Now()
	for name, f := range map[string]domain.EventFilter{
		"type":          {Type: "Not A Type"},
		"resourceType":  {ResourceType: "container"},
		"since":         {Since: at, Before: at.Add(-time.Hour)},
		"type wildcard": {Type: "system.*.failed"},
	} {
		if f.Validate() == nil {
			t.Errorf("%s: filter %+v accepted", name, f)
		}
	}
}

func TestFacts_roundTrip(t *testing.T) {
	cleared := domain.EventsCleared{
		Criteria: domain.EventFilter{Account: "admin", Before: time.Date(2018, 6, 30, 3, 56, 27, 711071000, time.UTC), Level: domain.LevelError, Type: "system.*"},
		Count:    27, ClearedAt: now,
	}
	got, err := domain.DecodeEventsCleared(cleared.Encode().Data)
	if err != nil || got.Count != 27 || !got.Criteria.Before.Equal(cleared.Criteria.Before) || got.Criteria.Level != domain.LevelError || got.Criteria.Type != "system.*" {
		t.Fatalf("EventsCleared round trip: %+v, %v", got, err)
	}
	deleted := domain.EventDeleted{ID: "abc", Account: "admin", DeletedAt: now}
	d, err := domain.DecodeEventDeleted(deleted.Encode().Data)
	if err != nil || d != deleted {
		t.Fatalf("EventDeleted round trip: %+v, %v", d, err)
	}
	if _, err := domain.DecodeEventDeleted([]byte(`{"v":2,"id":"x"}`)); err == nil {
		t.Fatal("a newer fact version was accepted")
	}
}

func TestValidEventType_andID(t *testing.T) {
	for s, want := range map[string]bool{
		"system.feeds.sync.started": true, "list_tags_fail": true, "a-b.c_d.9": true,
		"": false, ".a": false, "a.": false, "a..b": false, "A.b": false, "a b": false, "a.*": false,
	} {
		if got := domain.ValidEventType(s); got != want {
			t.Errorf("ValidEventType(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{
		"67946415c113488b8fff8b335272a45b": true, "kafka:topic-1:0:42": true, "A.b_c": true,
		"": false, "-a": false, ".a": false, "a b": false, "a/b": false,
	} {
		if got := domain.ValidEventID(s); got != want {
			t.Errorf("ValidEventID(%q) = %v", s, got)
		}
	}
}

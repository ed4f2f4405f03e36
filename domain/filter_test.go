package domain_test

import (
	"errors"
	"strings"
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
		Count:    27, UpTo: 40, ClearID: "c1", ClearedAt: now,
	}
	got, err := domain.DecodeEventsCleared(cleared.Encode().Data)
	if err != nil || got.Count != 27 || !got.Criteria.Before.Equal(cleared.Criteria.Before) || got.Criteria.Level != domain.LevelError || got.Criteria.Type != "system.*" ||
		got.UpTo != 40 || got.ClearID != "c1" {
		t.Fatalf("EventsCleared round trip: %+v, %v", got, err)
	}
	if below := got.Below(50); below != 41 {
		t.Errorf("a clear up to 40 recorded at 50 removes below %d, want 41", below)
	}
	old, err := domain.DecodeEventsCleared([]byte(`{"v":1,"criteria":{"level":"error"},"count":3,"cleared_at":"2026-11-22T10:00:00Z"}`))
	if err != nil || old.UpTo != 0 || old.Criteria.Level != domain.LevelError || old.Below(50) != 50 {
		t.Fatalf("a version 1 EventsCleared: %+v, %v (it removes below its own position)", old, err)
	}
	if _, err := domain.DecodeEventsCleared([]byte(`{"v":3,"criteria":{}}`)); !errors.Is(err, domain.ErrUnknownFactVersion) {
		t.Fatalf("a newer EventsCleared: %v", err)
	}
	scheduled := domain.PurgeScheduled{ClearID: "c1", Account: domain.AllAccounts, Criteria: cleared.Criteria, UpTo: 40, ScheduledAt: now}
	s, err := domain.DecodePurgeScheduled(scheduled.Encode().Data)
	if err != nil || s.ClearID != "c1" || s.Account != domain.AllAccounts || s.UpTo != 40 || !s.Criteria.Before.Equal(cleared.Criteria.Before) || !s.ScheduledAt.Equal(now) {
		t.Fatalf("PurgeScheduled round trip: %+v, %v", s, err)
	}
	if _, err := domain.DecodePurgeScheduled([]byte(`{"v":1,"clear_id":"c1","account":"a"}`)); err == nil || !strings.Contains(err.Error(), "up_to") {
		t.Fatalf("a PurgeScheduled without up_to: %v", err)
	}
	finished := domain.PurgeFinished{ClearID: "c1", Cleared: true, Deleted: 27, FinishedAt: now}
	if f, err := domain.DecodePurgeFinished(finished.Encode().Data); err != nil || f != finished {
		t.Fatalf("PurgeFinished round trip: %+v, %v", f, err)
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

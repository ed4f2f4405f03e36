package graph

import (
	"encoding/json"
	"strings"

	"herald/domain"
	"herald/graph/model"
	"herald/projections"
)

func levelOf(l model.Level) domain.Level {
	if l == model.LevelError {
		return domain.LevelError
	}
	if l == model.LevelInfo {
		return domain.LevelInfo
	}
	return 0
}

func modelLevel(l domain.Level) model.Level {
	if l == domain.LevelError {
		return model.LevelError
	}
	return model.LevelInfo
}

func filterOf(f *model.EventFilter) domain.EventFilter {
	var out domain.EventFilter
	if f == nil {
		return out
	}
	out.ResourceID = deref(f.Resource)
	if f.Since != nil {
		out.Since = *f.Since
	}
	if f.Before != nil {
		out.Before = *f.Before
	}
	if f.Level != nil {
		out.Level = levelOf(*f.Level)
	}
	out.Service = deref(f.Service)
	out.Host = deref(f.Host)
	out.Type = strings.ToLower(deref(f.Type)) // types are recorded in lower case
	out.ResourceType = deref(f.ResourceType)
	out.Account = deref(f.Account)
	return out
}

func eventOf(in model.EventInput) domain.LogEvent {
	e := domain.LogEvent{
		ID: deref(in.ID), Level: levelOf(in.Level), Type: in.Type, Message: in.Message,
		Details: json.RawMessage(in.Details),
	}
	if in.Timestamp != nil {
		e.Timestamp = *in.Timestamp
	}
	if r := in.Resource; r != nil {
		e.Resource = domain.Resource{ID: deref(r.ID), Type: deref(r.Type), UserID: deref(r.UserID)}
	}
	if s := in.Source; s != nil {
		e.Source = domain.Source{ServiceName: deref(s.ServiceName), HostID: deref(s.HostID), BaseURL: deref(s.BaseURL), RequestID: deref(s.RequestID)}
	}
	return e
}

func modelEvent(e domain.LogEvent) *model.Event {
	return &model.Event{
		ID: e.ID, Timestamp: e.Timestamp, Level: modelLevel(e.Level), Type: e.Type, Message: e.Message,
		Resource: &model.Resource{ID: e.Resource.ID, Type: e.Resource.Type, UserID: e.Resource.UserID},
		Source: &model.Source{
			ServiceName: e.Source.ServiceName, HostID: e.Source.HostID,
			BaseURL: optional(e.Source.BaseURL), RequestID: optional(e.Source.RequestID),
		},
		Details: e.Details,
	}
}

// entryEvent is the event as far as the view knows it, without message and details.
func entryEvent(e projections.EventEntry) *model.Event {
	return &model.Event{
		ID: e.ID, Timestamp: e.Timestamp, Level: modelLevel(e.Level), Type: e.Type,
		Resource: &model.Resource{ID: e.ResourceID, Type: e.ResourceType, UserID: e.Account},
		Source:   &model.Source{ServiceName: e.Service, HostID: e.Host},
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

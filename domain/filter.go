package domain

import (
	"strings"
	"time"
)

// EventFilter selects events of the log, for listing and for clearing. Zero fields select
// everything. Since is inclusive and Before exclusive, so consecutive windows never overlap.
type EventFilter struct {
	Account      string // "" means every account, which only the admin account may ask for
	ResourceID   string // a tag, image digest or repository name: exact resource.id
	Since        time.Time
	Before       time.Time
	Level        Level  // 0 means any
	Service      string // source.servicename
	Host         string // source.hostid
	Type         string // exact type, or a prefix pattern such as "system.feeds.*"
	ResourceType string
}

// Validate checks that every filter value is one the log can hold.
func (f EventFilter) Validate() error {
	v := &ValidationError{}
	if f.Type != "" && !ValidTypePattern(f.Type) {
		v.add("type", "%s is neither an event type nor a prefix pattern such as system.feeds.*", Quote(f.Type))
	}
	if f.ResourceType != "" && !IsResourceType(f.ResourceType) {
		v.add("resourceType", "%s is not a resource type; use one of %s", Quote(f.ResourceType), strings.Join(ResourceTypes(), ", "))
	}
	if f.Level != 0 && f.Level != LevelInfo && f.Level != LevelError {
		v.add("level", "must be info or error")
	}
	if !f.Since.IsZero() && !f.Before.IsZero() && !f.Since.Before(f.Before) {
		v.add("since", "%s is not before %s (before)", FormatTimestamp(f.Since), FormatTimestamp(f.Before))
	}
	return v.errOrNil()
}

// ValidTypePattern tells whether p is an exact event type, "*", or a prefix pattern "a.b.*".
func ValidTypePattern(p string) bool {
	if p == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(p, ".*"); ok {
		return ValidEventType(prefix)
	}
	return ValidEventType(p)
}

// TypePrefix returns the prefix a pattern stands for ("system.feeds." for "system.feeds.*",
// "" for "*") and true, or false when the pattern is an exact type.
func TypePrefix(pattern string) (string, bool) {
	if pattern == "*" {
		return "", true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return prefix, true
	}
	return "", false
}

// MatchesType tells whether an event type falls under the filter's type.
func (f EventFilter) MatchesType(t string) bool {
	if f.Type == "" {
		return true
	}
	if prefix, ok := TypePrefix(f.Type); ok {
		return strings.HasPrefix(t, prefix)
	}
	return t == f.Type
}

// InWindow tells whether t lies in [Since, Before).
func (f EventFilter) InWindow(t time.Time) bool {
	return (f.Since.IsZero() || !t.Before(f.Since)) && (f.Before.IsZero() || t.Before(f.Before))
}

// Matches tells whether the filter selects e. Views may evaluate filters their own way, but
// must agree with this method; the view contract suite checks that they do.
func (f EventFilter) Matches(e LogEvent) bool {
	return (f.Account == "" || e.Resource.UserID == f.Account) &&
		(f.ResourceID == "" || e.Resource.ID == f.ResourceID) &&
		(f.Level == 0 || e.Level == f.Level) &&
		(f.Service == "" || e.Source.ServiceName == f.Service) &&
		(f.Host == "" || e.Source.HostID == f.Host) &&
		(f.ResourceType == "" || e.Resource.Type == f.ResourceType) &&
		f.MatchesType(e.Type) &&
		f.InWindow(e.Timestamp)
}

// IsEmpty tells whether the filter selects every event of its account.
func (f EventFilter) IsEmpty() bool {
	g := f
	g.Account = ""
	return g == EventFilter{}
}

package domain

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Scope says whose events a selector sees.
type Scope string

// Scopes of a selector.
const (
	ScopeAccount Scope = "account" // events of the configuration's own account
	ScopeGlobal  Scope = "global"  // events of every account; the admin account only
)

// MatchAny is the wildcard of a selector's level, type and resource type.
const MatchAny = "*"

// RegexPrefix marks a type pattern that is a full RE2 expression ("regex:^user\.image\..*$").
const RegexPrefix = "regex:"

// maxPatternLength bounds type patterns; RE2 keeps matching linear, this keeps compiling cheap.
const maxPatternLength = 512

// Selector is one set of criteria choosing events for a notification configuration: every
// criterion must match. Build one with NewSelector, which checks and compiles it.
type Selector struct {
	Scope        Scope
	Level        string // "info", "error" or "*"
	Type         string // exact type, glob with "*", or "regex:" + RE2
	ResourceType string // a resource type or "*"

	level Level          // 0 for "*"
	glob  []string       // the pattern split at "*"; nil for exact and regex patterns
	re    *regexp.Regexp // for regex patterns
}

// NewSelector checks a selector and prepares it for matching. admin says whether the
// configuration belongs to the admin account, the only one allowed the global scope.
func NewSelector(scope Scope, level, typ, resourceType string, admin bool) (Selector, error) {
	s := Selector{Scope: scope, Level: strings.ToLower(strings.TrimSpace(level)), Type: strings.TrimSpace(typ), ResourceType: strings.TrimSpace(resourceType)}
	v := &ValidationError{}
	switch s.Scope {
	case ScopeAccount:
	case ScopeGlobal:
		if !admin {
			v.add("scope", "global scope is reserved to the admin account; use account")
		}
	default:
		v.add("scope", "%s is not a scope; use account or global", Quote(string(scope)))
	}
	if s.Level != MatchAny {
		l, ok := ParseLevel(s.Level)
		if !ok {
			v.add("level", "%s is not a level; use info, error or *", Quote(level))
		}
		s.level = l
	}
	if err := s.compileType(); err != nil {
		v.add("type", "%s", err.Error())
	}
	if s.ResourceType == "" {
		v.add("resourceType", "is required; use a resource type or * for any")
	} else if s.ResourceType != MatchAny && !IsResourceType(s.ResourceType) {
		v.add("resourceType", "%s is not a resource type; use * or one of %s", Quote(s.ResourceType), strings.Join(ResourceTypes(), ", "))
	}
	if err := v.errOrNil(); err != nil {
		return Selector{}, err
	}
	return s, nil
}

func (s *Selector) compileType() error {
	p := s.Type
	switch {
	case p == "":
		return fmt.Errorf("is required; use an event type, a pattern such as user.checks.*, or * for any")
	case len(p) > maxPatternLength:
		return fmt.Errorf("is %d characters long, the limit is %d", len(p), maxPatternLength)
	case strings.HasPrefix(p, RegexPrefix):
		expr := strings.TrimPrefix(p, RegexPrefix)
		wrapped := `^(?:` + expr + `)$`
		re, err := regexp.Compile(wrapped)
		var syntaxErr *syntax.Error
		switch {
		case errors.As(err, &syntaxErr):
			// Its text quotes the whole expression, as herald wrapped it: keep what went
			// wrong and the part at fault, if the expression holds it.
			what := string(syntaxErr.Code)
			if at := strings.TrimSuffix(syntaxErr.Expr, ")$"); syntaxErr.Expr != wrapped && at != "" && strings.Contains(expr, at) {
				what += " at " + Quote(at)
			}
			return fmt.Errorf("%s after regex: is not a valid RE2 expression: %s", Quote(expr), what)
		case err != nil:
			return fmt.Errorf("%s after regex: is not a valid RE2 expression: %v", Quote(expr), err)
		}
		s.re = re
	case strings.Contains(p, "*"):
		if strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789_-.*") != "" {
			return fmt.Errorf("%s: the parts around * may only hold lower-case letters, digits, _, - and dots; use the regex: prefix for more", Quote(p))
		}
		s.glob = strings.Split(p, "*")
	default:
		if !ValidEventType(p) {
			return fmt.Errorf("%s is not an event type (category.subcategory.event); add * for a pattern or the regex: prefix for an expression", Quote(p))
		}
	}
	return nil
}

// MatchesType tells whether an event type falls under the selector's type pattern: equal to
// an exact type, matched by a glob where "*" stands for any run of characters, or matched in
// full by a regex.
func (s Selector) MatchesType(t string) bool {
	switch {
	case s.re != nil:
		return s.re.MatchString(t)
	case s.glob != nil:
		return matchGlob(s.glob, t)
	}
	return t == s.Type
}

// TypeKey tells how an index can find the selector from an event type: exact types by the
// whole type, globs by the literal text before their first "*" (prefix true), and regex
// patterns not at all (indexed false: they are tried for every event).
func (s Selector) TypeKey() (key string, prefix, indexed bool) {
	switch {
	case s.re != nil:
		return "", false, false
	case s.glob != nil:
		return s.glob[0], true, true
	}
	return s.Type, false, true
}

// matchGlob matches t against the parts of a pattern split at "*".
func matchGlob(parts []string, t string) bool {
	if !strings.HasPrefix(t, parts[0]) {
		return false
	}
	t = t[len(parts[0]):]
	last := len(parts) - 1
	for _, part := range parts[1:last] {
		i := strings.Index(t, part)
		if i < 0 {
			return false
		}
		t = t[i+len(part):]
	}
	return strings.HasSuffix(t, parts[last])
}

// Matches tells whether the selector chooses event e for a configuration of account owner.
func (s Selector) Matches(e LogEvent, owner string) bool {
	return (s.Scope == ScopeGlobal || e.Resource.UserID == owner) &&
		(s.level == 0 || e.Level == s.level) &&
		(s.ResourceType == MatchAny || e.Resource.Type == s.ResourceType) &&
		s.MatchesType(e.Type)
}

// DistinctSelectors returns sels without the selectors equal to an earlier one (in scope,
// level, type and resource type, as NewSelector wrote them), in their order. A repeat adds
// nothing, since one matching selector is enough; a quick selection often repeats a selector
// given beside it.
func DistinctSelectors(sels []Selector) []Selector {
	type key struct {
		scope                    Scope
		level, typ, resourceType string
	}
	seen := make(map[key]bool, len(sels))
	out := sels[:0:0]
	for _, s := range sels {
		k := key{s.Scope, s.Level, s.Type, s.ResourceType}
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// QuickSelection is a named preset of selectors, as offered when adding a configuration.
type QuickSelection struct {
	Name        string
	Description string
	Scope       Scope
	Level       string
	Type        string
}

// QuickSelections are the presets: the three offered when adding a configuration (all
// events, policy and vulnerability, errors) and the rest of the documented table.
var quickSelections = []QuickSelection{
	{"all", "All notification events of the account", ScopeAccount, MatchAny, MatchAny},
	{"policy-and-vulnerability", "Policy evaluation and vulnerability updates", ScopeAccount, MatchAny, "user.checks.*"},
	{"errors", "Error events of the account", ScopeAccount, "error", MatchAny},
	{"user-errors", "User errors", ScopeAccount, "error", "user.*"},
	{"user-infos", "User infos", ScopeAccount, "info", "user.*"},
	{"user-all", "Everything user related", ScopeAccount, MatchAny, "user.*"},
	{"system-errors", "System errors", ScopeAccount, "error", "system.*"},
	{"system-infos", "System infos", ScopeAccount, "info", "system.*"},
	{"system-all", "Everything system related", ScopeAccount, MatchAny, "system.*"},
	{"global-all", "All events of every account (admin account only)", ScopeGlobal, MatchAny, MatchAny},
}

// QuickSelections lists the presets.
func QuickSelections() []QuickSelection { return append([]QuickSelection(nil), quickSelections...) }

// QuickSelectionNames lists the presets' names, in order.
func QuickSelectionNames() []string {
	names := make([]string, len(quickSelections))
	for i, q := range quickSelections {
		names[i] = q.Name
	}
	return names
}

// LookupQuickSelection finds a preset by name.
func LookupQuickSelection(name string) (QuickSelection, bool) {
	for _, q := range quickSelections {
		if q.Name == name {
			return q, true
		}
	}
	return QuickSelection{}, false
}

// Selector builds the preset's selector for a configuration (admin: of the admin account).
func (q QuickSelection) Selector(admin bool) (Selector, error) {
	return NewSelector(q.Scope, q.Level, q.Type, MatchAny, admin)
}

package domain_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"herald/domain"
)

func logEvent(account, level, typ, resourceType string) domain.LogEvent {
	l, _ := domain.ParseLevel(level)
	return domain.LogEvent{Level: l, Type: typ, Resource: domain.Resource{UserID: account, Type: resourceType}}
}

// The seed's Quick Selection table, row by row: what each row must receive and must not.
func TestQuickSelections_followTheDocumentedTable(t *testing.T) {
	vulnUpdate := logEvent("alice", "info", "user.checks.tag.vulnerabilities.update", "image_tag")
	policyUpdate := logEvent("alice", "info", "user.checks.tag.policy_evaluation.update", "image_tag")
	analysisFailed := logEvent("alice", "error", "user.image.analysis.failed", "image_digest")
	analysisDone := logEvent("alice", "info", "user.image.analysis.completed", "image_digest")
	listTagsFail := logEvent("alice", "error", "system.repository.list_tags_fail", "repository")
	feedSync := logEvent("alice", "info", "system.feeds.sync.completed", "feeds")
	otherAccount := logEvent("bob", "error", "user.image.analysis.failed", "image_digest")
	all := []domain.LogEvent{vulnUpdate, policyUpdate, analysisFailed, analysisDone, listTagsFail, feedSync, otherAccount}

	cases := []struct {
		preset string
		admin  bool
		want   []domain.LogEvent
	}{
		{"policy-and-vulnerability", false, []domain.LogEvent{vulnUpdate, policyUpdate}},
		{"user-errors", false, []domain.LogEvent{analysisFailed}},
		{"user-infos", false, []domain.LogEvent{vulnUpdate, policyUpdate, analysisDone}},
		{"user-all", false, []domain.LogEvent{vulnUpdate, policyUpdate, analysisFailed, analysisDone}},
		{"system-errors", false, []domain.LogEvent{listTagsFail}},
		{"system-infos", false, []domain.LogEvent{feedSync}},
		{"system-all", false, []domain.LogEvent{listTagsFail, feedSync}},
		{"global-all", true, all},
		{"all", false, all[:6]},
		{"errors", false, []domain.LogEvent{analysisFailed, listTagsFail}},
	}
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			q, ok := domain.LookupQuickSelection(c.preset)
			if !ok {
				t.Fatalf("no preset %s", c.preset)
			}
			sel, err := q.Selector(c.admin)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range all {
				want := false
				for _, w := range c.want {
					want = want || w.Type == e.Type && w.Resource.UserID == e.Resource.UserID
				}
				if got := sel.Matches(e, "alice"); got != want {
					t.Errorf("%s on %s/%s/%s = %v, want %v", c.preset, e.Resource.UserID, e.Level, e.Type, got, want)
				}
			}
		})
	}
}

func TestSelector_globalScopeNeedsAdmin(t *testing.T) {
	_, err := domain.NewSelector(domain.ScopeGlobal, "*", "*", "*", false)
	assertFieldError(t, err, "scope", "admin account")
	if _, err := domain.NewSelector(domain.ScopeGlobal, "*", "*", "*", true); err != nil {
		t.Fatalf("admin refused the global scope: %v", err)
	}
}

func TestSelector_typePatterns(t *testing.T) {
	cases := []struct {
		pattern, typ string
		want         bool
	}{
		{"*", "anything.at.all", true},
		{"user.checks.*", "user.checks.tag.vulnerabilities.update", true},
		{"user.checks.*", "user.image.analysis.failed", false},
		{"system.*.failed", "system.feeds.sync.failed", true},
		{"system.*.failed", "system.feeds.sync.completed", false},
		{"*fail", "system.repository.list_tags_fail", true},
		{"user.image.analysis.failed", "user.image.analysis.failed", true},
		{"user.image.analysis.failed", "user.image.analysis.failed.more", false},
		{`regex:user\.image\.analysis\.(completed|failed)`, "user.image.analysis.failed", true},
		{`regex:user\.image`, "user.image.analysis.failed", false}, // a regex must match in full
	}
	for _, c := range cases {
		sel, err := domain.NewSelector(domain.ScopeAccount, "*", c.pattern, "*", false)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		if got := sel.MatchesType(c.typ); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.typ, got, c.want)
		}
	}
}

func TestSelector_badSelectorsGetPreciseErrors(t *testing.T) {
	cases := []struct {
		scope                   domain.Scope
		level, typ, resource    string
		field, messageSubstring string
	}{
		{"team", "*", "*", "*", "scope", "not a scope"},
		{domain.ScopeAccount, "warn", "*", "*", "level", "not a level"},
		{domain.ScopeAccount, "*", "regex:(unclosed", "*", "type", "not a valid RE2"},
		{domain.ScopeAccount, "*", "User Events", "*", "type", "not an event type"},
		{domain.ScopeAccount, "*", "user/*", "*", "type", "may only hold"},
		{domain.ScopeAccount, "*", "", "*", "type", "required"},
		{domain.ScopeAccount, "*", "*", "container", "resourceType", "not a resource type"},
	}
	for _, c := range cases {
		_, err := domain.NewSelector(c.scope, c.level, c.typ, c.resource, false)
		assertFieldError(t, err, c.field, c.messageSubstring)
	}
}

// FuzzSelectorPattern checks that any pattern either is refused with a ValidationError or
// compiles into a matcher that never panics, and that globs agree with their regex reading.
func FuzzSelectorPattern(f *testing.F) {
	for _, p := range []string{"*", "user.checks.*", "system.*.failed", "regex:^a+$", "regex:(a|b)*c", "a**b", "*.*", "regex:"} {
		f.Add(p, "system.feeds.sync.failed")
	}
	f.Fuzz(func(t *testing.T, pattern, typ string) {
		sel, err := domain.NewSelector(domain.ScopeAccount, "*", pattern, "*", false)
		if err != nil {
			var v *domain.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("refused without a ValidationError: %v", err)
			}
			return
		}
		got := sel.MatchesType(typ)
		if pattern := sel.Type; strings.Contains(pattern, "*") && !strings.HasPrefix(pattern, domain.RegexPrefix) {
			// compiled as a regex selector is (whole type, RE2), not through NewSelector: the
			// twin of a glob near the length limit is longer than the limit ("." becomes "\.")
			re, err := regexp.Compile(`^(?:` + globToRegex(pattern) + `)$`)
			if err != nil {
				t.Fatalf("glob %q has no regex twin: %v", pattern, err)
			}
			if want := re.MatchString(typ); got != want {
				t.Fatalf("glob %q on %q = %v, regex reading says %v", pattern, typ, got, want)
			}
		}
	})
}

func globToRegex(glob string) string {
	parts := strings.Split(glob, "*")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, ".", `\.`)
	}
	return strings.Join(parts, "(?s:.*)")
}

// TestDistinctSelectors_dropsRepeats: a selector equal to an earlier one once normalised
// (level case and spaces around), such as one a quick selection repeats, is dropped; the
// others keep their order.
func TestDistinctSelectors_dropsRepeats(t *testing.T) {
	sel := func(scope domain.Scope, level, typ, resourceType string) domain.Selector {
		t.Helper()
		s, err := domain.NewSelector(scope, level, typ, resourceType, true)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	all, _ := domain.LookupQuickSelection("all")
	quickAll, _ := all.Selector(false)
	errs, _ := domain.LookupQuickSelection("errors")
	quickErrors, _ := errs.Selector(false)
	given := []domain.Selector{
		sel(domain.ScopeAccount, "*", "user.checks.*", "*"),
		sel(domain.ScopeAccount, " ERROR ", "*", "*"),
		quickErrors,
		sel(domain.ScopeAccount, "*", "*", "*"),
		quickAll,
		sel(domain.ScopeGlobal, "*", "*", "*"),
		sel(domain.ScopeAccount, "*", "user.checks.*", " * "),
		sel(domain.ScopeAccount, "*", "user.checks.*", "image_tag"),
	}
	got := domain.DistinctSelectors(given)
	var keys []string
	for _, s := range got {
		keys = append(keys, fmt.Sprintf("%s/%s/%s/%s", s.Scope, s.Level, s.Type, s.ResourceType))
	}
	want := []string{"account/*/user.checks.*/*", "account/error/*/*", "account/*/*/*", "global/*/*/*", "account/*/user.checks.*/image_tag"}
	if !slices.Equal(keys, want) {
		t.Fatalf("distinct selectors %q, want %q", keys, want)
	}
	if !got[0].MatchesType("user.checks.tag.update") {
		t.Fatal("a kept selector lost its compiled pattern")
	}
	if domain.DistinctSelectors(nil) != nil {
		t.Fatal("nil selectors (an update that keeps them) became some")
	}
}

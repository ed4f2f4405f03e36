package viewstest

import (
	"fmt"
	"strings"
	"time"

	"herald/domain"
)

// sampleStart is the time the sample configurations and accounts are created around. Facts
// carry microseconds, so the samples do too.
var sampleStart = time.Date(2024, 3, 1, 9, 30, 15, 123456000, time.UTC)

// sealed returns what a sealed (encrypted at rest) secret looks like: views store it as given.
func sealed(s string) domain.Secret { return domain.NewSecret("sealed:v1:" + s + ":n0nce+/==") }

// sampleSettings returns settings of kind; variant picks one of two shapes per kind, one with
// every optional field set and one with the fewest.
func sampleSettings(kind domain.EndpointKind, variant int) domain.Settings {
	full := variant%2 == 0
	switch kind {
	case domain.KindEmail:
		s := domain.EmailSettings{Host: "smtp.example.com", Port: 587, Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
		if full {
			s.Port, s.Security, s.Username, s.Password = 465, domain.EmailTLS, "notify", sealed("smtp-password")
			s.To = append(s.To, "Security Team <sec@example.com>")
		}
		return s
	case domain.KindGitHub:
		s := domain.GitHubSettings{APIURL: domain.DefaultGitHubAPIURL, Owner: "acme", Repository: "alerts", AccessToken: sealed("ghp")}
		if full {
			s.APIURL, s.Milestone = "https://github.example.com/api/v3", 7
			s.Labels, s.Assignees = []string{"herald", "security"}, []string{"octocat"}
		}
		return s
	case domain.KindJira:
		s := domain.JiraSettings{URL: "https://acme.atlassian.net", Username: "bot@acme.example", APIToken: sealed("jira"), ProjectKey: "OPS", IssueType: "Bug"}
		if full {
			s.Priority, s.Assignee, s.Labels = "High", "jdoe", []string{"herald", "vulnerabilities"}
		}
		return s
	case domain.KindSlack:
		return domain.SlackSettings{WebhookURL: sealed(fmt.Sprintf("https://hooks.slack.com/services/T0/B%d/x", variant))}
	case domain.KindTeams:
		return domain.TeamsSettings{WebhookURL: sealed(fmt.Sprintf("https://acme.webhook.office.com/webhookb2/%d", variant))}
	case domain.KindWebhook:
		s := domain.WebhookSettings{URL: fmt.Sprintf("https://hooks.example.com/herald/%d?x=1&y=%%20", variant)}
		if full {
			s.Username, s.Password, s.HMACSecret = "herald", sealed("basic"), sealed("hmac")
			s.Headers = map[string]domain.Secret{"Authorization": sealed("Bearer abc"), "X-Tenant": sealed("acme"), "x-lower-case": {}}
		}
		return s
	}
	panic("viewstest: no sample settings for kind " + string(kind))
}

// newSelector builds a selector as the domain checks and compiles it.
func newSelector(scope domain.Scope, level, typ, resourceType string) domain.Selector {
	s, err := domain.NewSelector(scope, level, typ, resourceType, true)
	if err != nil {
		panic(fmt.Sprintf("viewstest: selector %s %s %s %s: %v", scope, level, typ, resourceType, err))
	}
	return s
}

// sampleSelectors returns selectors of every shape: exact type, glob, regex, any; every
// level; a resource type; and, for the admin account, the global scope.
func sampleSelectors(account string, variant int) []domain.Selector {
	all := []domain.Selector{
		newSelector(domain.ScopeAccount, "info", "user.image.analysis.completed", domain.ResourceImageDigest),
		newSelector(domain.ScopeAccount, domain.MatchAny, "user.checks.*", domain.MatchAny),
		newSelector(domain.ScopeAccount, "error", `regex:^system\.(feeds|repository)\.[a-z_]+_fail$`, domain.MatchAny),
		newSelector(domain.ScopeAccount, domain.MatchAny, domain.MatchAny, domain.MatchAny),
	}
	if account == domain.AdminAccount {
		all = append(all, newSelector(domain.ScopeGlobal, "error", "*.feeds.*", domain.ResourceFeeds))
	}
	n := 1 + variant%len(all)
	out := make([]domain.Selector, 0, n)
	for i := range n {
		out = append(out, all[(variant+i)%len(all)])
	}
	return out
}

// sampleConfiguration returns a configuration as the projection would hand it to a view.
func sampleConfiguration(id, account string, kind domain.EndpointKind, name string, variant int) domain.Configuration {
	created := sampleStart.Add(time.Duration(variant) * time.Hour)
	c := domain.Configuration{
		ID: id, Account: account, Kind: kind, Name: name, VerifyTLS: variant%3 != 0,
		Settings: sampleSettings(kind, variant), Selectors: sampleSelectors(account, variant),
		CreatedAt: created, UpdatedAt: created.Add(time.Duration(variant)*time.Minute + 789*time.Microsecond),
		Revision: uint64(variant),
	}
	if variant%2 == 0 {
		c.Description = fmt.Sprintf("Équipe sécurité — \"night\" <shift> #%d\nsecond line", variant)
	}
	if variant%3 == 1 {
		c.Templates = domain.MessageTemplates{Title: "{{.Level | upper}} {{.Type}} #" + fmt.Sprint(variant), Body: "{{.Message}}\n— «{{.Resource.ID}}»"}
	}
	if variant%5 == 4 {
		c.Revision = 1<<53 + uint64(variant) // beyond what a float keeps exactly
	}
	return c
}

// diffConfiguration describes how got differs from want, or returns "" when they are the
// same configuration: equal fields, equal instants, equal settings (a nil slice or map and
// an empty one count as equal), and selectors with the same fields that match the same
// events (so that they were rebuilt compiled).
func diffConfiguration(want, got domain.Configuration) string {
	var d []string
	field := func(name string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	field("ID", want.ID, got.ID)
	field("Account", want.Account, got.Account)
	field("Kind", want.Kind, got.Kind)
	field("Name", want.Name, got.Name)
	field("Description", want.Description, got.Description)
	field("VerifyTLS", want.VerifyTLS, got.VerifyTLS)
	field("Revision", want.Revision, got.Revision)
	field("Deleted", want.Deleted, got.Deleted)
	field("Templates", want.Templates, got.Templates)
	if !want.CreatedAt.Equal(got.CreatedAt) {
		d = append(d, fmt.Sprintf("CreatedAt = %s, want %s", got.CreatedAt, want.CreatedAt))
	}
	if !want.UpdatedAt.Equal(got.UpdatedAt) {
		d = append(d, fmt.Sprintf("UpdatedAt = %s, want %s", got.UpdatedAt, want.UpdatedAt))
	}
	if !domain.LooseEqual(want.Settings, got.Settings) {
		d = append(d, fmt.Sprintf("Settings = %s, want %s", describeSettings(got.Settings), describeSettings(want.Settings)))
	}
	if len(want.Selectors) != len(got.Selectors) {
		d = append(d, fmt.Sprintf("%d selectors, want %d", len(got.Selectors), len(want.Selectors)))
	} else {
		for i := range want.Selectors {
			if s := diffSelector(want.Selectors[i], got.Selectors[i], want.Account); s != "" {
				d = append(d, fmt.Sprintf("selector %d: %s", i, s))
			}
		}
	}
	return strings.Join(d, "; ")
}

func describeSettings(s domain.Settings) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("%T%s", s, domain.EncodeSettings(s))
}

// selectorProbes are events that tell selectors apart: levels, exact, glob and regex
// matches and near misses, resource types, the owner's account and another.
func selectorProbes(owner string) []domain.LogEvent {
	var out []domain.LogEvent
	for _, typ := range []string{
		"user.image.analysis.completed", "user.image.analysis.completed.x", "user.checks.tag.vulnerabilities.update",
		"user.checks", "system.feeds.sync_fail", "system.repository.list_tags_fail", "system.feeds.sync",
	} {
		for _, level := range []domain.Level{domain.LevelInfo, domain.LevelError} {
			for _, rt := range []string{domain.ResourceImageDigest, domain.ResourceFeeds} {
				for _, account := range []string{owner, "someone-else"} {
					out = append(out, domain.LogEvent{Level: level, Type: typ, Resource: domain.Resource{ID: "r", Type: rt, UserID: account}})
				}
			}
		}
	}
	return out
}

func diffSelector(want, got domain.Selector, owner string) string {
	if want.Scope != got.Scope || want.Level != got.Level || want.Type != got.Type || want.ResourceType != got.ResourceType {
		return fmt.Sprintf("%+v, want %+v", got, want)
	}
	for _, e := range selectorProbes(owner) {
		if w, g := want.Matches(e, owner), got.Matches(e, owner); w != g {
			return fmt.Sprintf("%s %s %s of %s: matches %v, want %v (not compiled?)", want.Type, e.Level, e.Type, e.Resource.UserID, g, w)
		}
	}
	return ""
}

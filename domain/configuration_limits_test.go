package domain_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"herald/domain"
)

// Valid settings of every kind, each field of which a case below replaces.
var (
	validEmail = domain.EmailSettings{Host: "smtp.example.com", Port: 587, Security: domain.EmailStartTLS,
		From: "herald@example.com", To: []string{"ops@example.com"}}
	validGitHub = domain.GitHubSettings{APIURL: domain.DefaultGitHubAPIURL, Owner: "acme", Repository: "alerts",
		AccessToken: domain.NewSecret("ghp_x")}
	validJira = domain.JiraSettings{URL: "https://acme.atlassian.net", Username: "bot@acme.com",
		APIToken: domain.NewSecret("t"), ProjectKey: "SEC", IssueType: "Bug"}
	validWebhook = domain.WebhookSettings{URL: "https://hooks.example.com/herald"}
)

// longURL is an http URL of n characters.
func longURL(n int) string {
	const prefix = "https://hooks.example.com/"
	return prefix + strings.Repeat("a", n-len(prefix))
}

// dnsName is a host name of n characters: labels of at most 63 letters.
func dnsName(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.Repeat("x", min(63, n-b.Len())))
	}
	return b.String()
}

// list is n short texts.
func list(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("l%d", i)
	}
	return out
}

// headers is n webhook headers.
func headers(n int) map[string]domain.Secret {
	out := make(map[string]domain.Secret, n)
	for i := range n {
		out[fmt.Sprintf("X-H%d", i)] = domain.NewSecret("v")
	}
	return out
}

// TestSettings_lengthLimitsNameTheFieldTheLimitAndTheLength: every string and list of every
// kind's settings is bounded. A value at its limit passes; one over it is refused on its
// field, with its length and the limit, and is never quoted (it may be a credential).
func TestSettings_lengthLimitsNameTheFieldTheLimitAndTheLength(t *testing.T) {
	text := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name     string
		limit    int
		settings func(n int) domain.Settings
		field    string
		message  string // "" for "is <n> characters long, the limit is <limit>"
	}{
		{"email host", 253, func(n int) domain.Settings { s := validEmail; s.Host = dnsName(n); return s }, "host", ""},
		{"email username", 256, func(n int) domain.Settings { s := validEmail; s.Username = text(n); return s }, "username", ""},
		{"email password", 8192, func(n int) domain.Settings {
			s := validEmail
			s.Username, s.Password = "u", domain.NewSecret(text(n))
			return s
		}, "password", ""},
		{"email from", 256, func(n int) domain.Settings { s := validEmail; s.From = text(n-12) + "@example.com"; return s }, "from", ""},
		{"email to", 256, func(n int) domain.Settings { s := validEmail; s.To = []string{text(n-12) + "@example.com"}; return s }, "to[0]", ""},
		{"email recipients", 50, func(n int) domain.Settings {
			s := validEmail
			s.To = make([]string, n)
			for i := range s.To {
				s.To[i] = fmt.Sprintf("r%d@example.com", i)
			}
			return s
		}, "to", "hold %d addresses, the limit is %d"},

		{"github api url", 2048, func(n int) domain.Settings { s := validGitHub; s.APIURL = longURL(n); return s }, "apiUrl", ""},
		{"github owner", 39, func(n int) domain.Settings { s := validGitHub; s.Owner = text(n); return s }, "owner", ""},
		{"github repository", 100, func(n int) domain.Settings { s := validGitHub; s.Repository = text(n); return s }, "repository", ""},
		{"github access token", 8192, func(n int) domain.Settings { s := validGitHub; s.AccessToken = domain.NewSecret(text(n)); return s }, "accessToken", ""},
		{"github label", 256, func(n int) domain.Settings { s := validGitHub; s.Labels = []string{"ok", text(n)}; return s }, "labels[1]", ""},
		{"github labels", 50, func(n int) domain.Settings { s := validGitHub; s.Labels = list(n); return s }, "labels", "hold %d labels, the limit is %d"},
		{"github assignee", 256, func(n int) domain.Settings { s := validGitHub; s.Assignees = []string{text(n)}; return s }, "assignees[0]", ""},
		{"github assignees", 50, func(n int) domain.Settings { s := validGitHub; s.Assignees = list(n); return s }, "assignees", "hold %d assignees, the limit is %d"},

		{"jira url", 2048, func(n int) domain.Settings { s := validJira; s.URL = longURL(n); return s }, "url", ""},
		{"jira username", 256, func(n int) domain.Settings { s := validJira; s.Username = text(n); return s }, "username", ""},
		{"jira api token", 8192, func(n int) domain.Settings { s := validJira; s.APIToken = domain.NewSecret(text(n)); return s }, "apiToken", ""},
		{"jira project key", 256, func(n int) domain.Settings { s := validJira; s.ProjectKey = text(n); return s }, "projectKey", ""},
		{"jira issue type", 256, func(n int) domain.Settings { s := validJira; s.IssueType = text(n); return s }, "issueType", ""},
		{"jira priority", 256, func(n int) domain.Settings { s := validJira; s.Priority = text(n); return s }, "priority", ""},
		{"jira assignee", 256, func(n int) domain.Settings { s := validJira; s.Assignee = text(n); return s }, "assignee", ""},
		{"jira label", 256, func(n int) domain.Settings { s := validJira; s.Labels = []string{text(n)}; return s }, "labels[0]", ""},
		{"jira labels", 50, func(n int) domain.Settings { s := validJira; s.Labels = list(n); return s }, "labels", "hold %d labels, the limit is %d"},

		{"slack webhook url", 2048, func(n int) domain.Settings { return domain.SlackSettings{WebhookURL: domain.NewSecret(longURL(n))} }, "webhookUrl", ""},
		{"teams webhook url", 2048, func(n int) domain.Settings { return domain.TeamsSettings{WebhookURL: domain.NewSecret(longURL(n))} }, "webhookUrl", ""},

		{"webhook url", 2048, func(n int) domain.Settings { s := validWebhook; s.URL = longURL(n); return s }, "url", ""},
		{"webhook username", 256, func(n int) domain.Settings { s := validWebhook; s.Username = text(n); return s }, "username", ""},
		{"webhook password", 8192, func(n int) domain.Settings {
			s := validWebhook
			s.Username, s.Password = "u", domain.NewSecret(text(n))
			return s
		}, "password", ""},
		{"webhook hmac secret", 8192, func(n int) domain.Settings { s := validWebhook; s.HMACSecret = domain.NewSecret(text(n)); return s }, "hmacSecret", ""},
		{"webhook header value", 8192, func(n int) domain.Settings {
			s := validWebhook
			s.Headers = map[string]domain.Secret{"X-Token": domain.NewSecret(text(n))}
			return s
		}, "headers.X-Token", ""},
		{"webhook header name", 256, func(n int) domain.Settings {
			s := validWebhook
			s.Headers = map[string]domain.Secret{text(n): domain.NewSecret("v")}
			return s
		}, "headers", "a header name is %d characters long, the limit is %d"},
		{"webhook headers", 50, func(n int) domain.Settings { s := validWebhook; s.Headers = headers(n); return s }, "headers", "hold %d headers, the limit is %d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.settings(c.limit).Validate(); err != nil {
				t.Fatalf("at the limit, %d: %v", c.limit, err)
			}
			format := c.message
			if format == "" {
				format = "is %d characters long, the limit is %d"
			}
			for _, n := range []int{c.limit + 1, 100 * 1024} {
				err := c.settings(n).Validate()
				want := fmt.Sprintf(format, n, c.limit)
				if got := fieldMessage(t, err, c.field); got != want {
					t.Errorf("%d long: %s: %q, want %q (all: %v)", n, c.field, got, want, err)
				}
				if strings.Contains(err.Error(), strings.Repeat("x", 300)) || strings.Contains(err.Error(), strings.Repeat("a", 300)) {
					t.Errorf("%d long: the error quotes the value: %.200s...", n, err)
				}
			}
		})
	}
}

// TestSettings_aHugeWebhookURLIsRefusedByItsLength: the error a user sees for a 100 KB URL
// says how long it is and how long it may be, under the field, and nothing else.
func TestSettings_aHugeWebhookURLIsRefusedByItsLength(t *testing.T) {
	s := validWebhook
	s.URL = longURL(102400)
	err := s.Validate()
	if err == nil || err.Error() != "invalid input: url: is 102400 characters long, the limit is 2048" {
		t.Fatalf("error %v", err)
	}
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatal("not a validation error")
	}
	if got := v.Prefixed("settings").Fields[0].Field; got != "settings.url" {
		t.Fatalf("field %s", got)
	}
}

// TestConfigurationDraft_lengthLimitsCountCharacters: a name or a description is as long as
// the characters a person reads, not the bytes that encode them.
func TestConfigurationDraft_lengthLimitsCountCharacters(t *testing.T) {
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := func(name, description string) domain.ConfigurationDraft {
		return domain.ConfigurationDraft{Name: name, Description: description, Selectors: []domain.Selector{sel},
			Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")}}
	}
	cases := []struct {
		name              string
		draft             domain.ConfigurationDraft
		field, wantPrefix string // wantPrefix "" when valid
	}{
		{"name at the limit, accented", draft(strings.Repeat("é", 200), ""), "name", ""},
		{"name over the limit", draft(strings.Repeat("n", 201), ""), "name", "is 201 characters long, the limit is 200"},
		{"name with spaces around, at the limit", draft("  "+strings.Repeat("n", 200)+"  ", ""), "name", ""},
		{"description at the limit, in Japanese", draft("ops", strings.Repeat("通", 2000)), "description", ""},
		{"description over the limit", draft("ops", strings.Repeat("d", 2001)), "description", "is 2001 characters long, the limit is 2000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.draft.Validate("alice")
			if c.wantPrefix == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if got := fieldMessage(t, err, c.field); got != c.wantPrefix {
				t.Fatalf("%s: %q, want %q", c.field, got, c.wantPrefix)
			}
		})
	}
}

// fieldMessage returns the message of err's error on field, "" when it has none.
func fieldMessage(t *testing.T, err error, field string) string {
	t.Helper()
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want a ValidationError on %s, got %v", field, err)
	}
	for _, f := range v.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// TestWebhookSettings_aHeaderValueWithALineBreakIsRefused: Go's HTTP client refuses such a
// value at every send, so it is refused on save, without quoting it (it may be a credential).
func TestWebhookSettings_aHeaderValueWithALineBreakIsRefused(t *testing.T) {
	for _, value := range []string{"token\r\nX-Injected: 1", "a\nb", "a\x00b", "a\x7fb"} {
		s := domain.WebhookSettings{URL: "https://hooks.example/x", Headers: map[string]domain.Secret{"X-Token": domain.NewSecret(value)}}
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), "headers.X-Token: holds a line break or another control character") || strings.Contains(err.Error(), "Injected") {
			t.Errorf("header value %q: %v", value, err)
		}
	}
	ok := domain.WebhookSettings{URL: "https://hooks.example/x", Headers: map[string]domain.Secret{"X-Token": domain.NewSecret("Bearer a\tb é")}}
	if err := ok.Validate(); err != nil {
		t.Errorf("a value with a tab and non-ASCII letters: %v", err)
	}
}

// TestWebhookSettings_headerNamesAreTokens: a header name is an HTTP token (RFC 9110); any
// other character (a control character, a quote, a slash, non-ASCII) would fail every send.
func TestWebhookSettings_headerNamesAreTokens(t *testing.T) {
	for _, name := range []string{"", "X Token", "X-Token:", "X\x00Token", "X\x7fToken", "X\"Token", "X/Token", "X-Tökén", "X(1)"} {
		s := domain.WebhookSettings{URL: "https://hooks.example/x", Headers: map[string]domain.Secret{name: domain.NewSecret("v")}}
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "is not a header name") {
			t.Errorf("header name %q: %v", name, err)
		}
	}
	for _, name := range []string{"X-Token", "x_team.id", "X-A!#$%&'*+^`|~1"} {
		s := domain.WebhookSettings{URL: "https://hooks.example/x", Headers: map[string]domain.Secret{name: domain.NewSecret("v")}}
		if err := s.Validate(); err != nil {
			t.Errorf("header name %q: %v", name, err)
		}
	}
}

// TestConfigurationDraft_selectorLimits: a configuration needs one selector and takes at most
// MaxSelectors.
func TestConfigurationDraft_selectorLimits(t *testing.T) {
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := func(n int) domain.ConfigurationDraft {
		return domain.ConfigurationDraft{Name: "ops", Selectors: slices.Repeat([]domain.Selector{sel}, n),
			Settings: domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")}}
	}
	if err := draft(domain.MaxSelectors).Validate("alice"); err != nil {
		t.Errorf("%d selectors: %v", domain.MaxSelectors, err)
	}
	for n, want := range map[int]string{
		0:                       `need at least one selector; the quick selection "all" sends every event of the account`,
		domain.MaxSelectors + 1: "hold 51 selectors, the limit is 50",
	} {
		if got := fieldMessage(t, draft(n).Validate("alice"), "selectors"); got != want {
			t.Errorf("%d selectors: %q, want %q", n, got, want)
		}
	}
}

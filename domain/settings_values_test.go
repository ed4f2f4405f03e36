package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"herald/domain"
)

// TestWebhookSettings_headersAreSentAsGiven: a header herald would send with another value
// than the one configured, or not at all, is refused on save, naming what to do instead.
func TestWebhookSettings_headersAreSentAsGiven(t *testing.T) {
	with := func(username string, names ...string) domain.WebhookSettings {
		s := validWebhook
		s.Username = username
		s.Headers = map[string]domain.Secret{}
		for _, n := range names {
			s.Headers[n] = domain.NewSecret("v")
		}
		return s
	}
	cases := []struct {
		name     string
		settings domain.WebhookSettings
		want     string // the message on "headers"; "" when valid
	}{
		{"names that differ only in case", with("", "X-A", "x-a"), `"X-A" and "x-a" are the same header (header names ignore case); give it once`},
		{"Authorization with username", with("herald", "authorization"), "Authorization cannot be given with username, which sends the password as Basic authentication in that header; use one or the other"},
		{"Authorization alone", with("", "Authorization"), ""},
		{"username alone", with("herald", "X-Team"), ""},
		{"Content-Type", with("", "content-type"), "Content-Type is set by herald and cannot be overridden"},
		{"the signature", with("", "X-Herald-Signature"), "X-Herald-Signature is set by herald and cannot be overridden"},
		{"the idempotency key", with("", "Idempotency-Key"), "Idempotency-Key is set by herald and cannot be overridden"},
		{"the event id", with("", "x-herald-event-id"), "X-Herald-Event-Id is set by herald and cannot be overridden"},
		{"Transfer-Encoding", with("", "Transfer-Encoding"), "Transfer-Encoding belongs to the connection, which herald's HTTP client manages; leave it out"},
		{"Connection", with("", "connection"), "Connection belongs to the connection, which herald's HTTP client manages; leave it out"},
		{"User-Agent, which the sender keeps", with("", "User-Agent"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.settings.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if got := fieldMessage(t, err, "headers"); got != c.want {
				t.Fatalf("headers: %q, want %q (all: %v)", got, c.want, err)
			}
		})
	}
}

// TestSettings_oneLineTextsRefuseControlCharacters: a name, a label or a user name is one line
// of text. A control character (C0, DEL, C1) in it is refused by its field, named by its code
// point rather than quoted; a description may hold line feeds and tabs, nothing else.
func TestSettings_oneLineTextsRefuseControlCharacters(t *testing.T) {
	slack := domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/T0/B0/x")}
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := func(name, description string) domain.ConfigurationDraft {
		return domain.ConfigurationDraft{Name: name, Description: description, Settings: slack, Selectors: []domain.Selector{sel}}
	}
	texts := []struct {
		field string
		check func(s string) error
	}{
		{"name", func(s string) error { return draft(s, "").Validate("alice") }},
		{"settings.priority", func(s string) error {
			d := draft("ops", "")
			j := validJira
			j.Priority = s
			d.Settings = j
			return d.Validate("alice")
		}},
		{"issueType", func(s string) error { j := validJira; j.IssueType = s; return j.Validate() }},
		{"assignee", func(s string) error { j := validJira; j.Assignee = s; return j.Validate() }},
		{"labels[1]", func(s string) error { j := validJira; j.Labels = []string{"ok", s}; return j.Validate() }},
		{"labels[0]", func(s string) error { g := validGitHub; g.Labels = []string{s}; return g.Validate() }},
		{"assignees[0]", func(s string) error { g := validGitHub; g.Assignees = []string{s}; return g.Validate() }},
		{"username", func(s string) error { e := validEmail; e.Username = s; return e.Validate() }},
		{"from", func(s string) error {
			e := validEmail
			e.From = "Herald" + s + " <herald@example.com>"
			return e.Validate()
		}},
		{"to[0]", func(s string) error {
			e := validEmail
			e.To = []string{"Ops" + s + " <ops@example.com>"}
			return e.Validate()
		}},
		{"username", func(s string) error { w := validWebhook; w.Username = s; return w.Validate() }},
		{"accessToken", func(s string) error { g := validGitHub; g.AccessToken = domain.NewSecret(s); return g.Validate() }},
		{"apiToken", func(s string) error { j := validJira; j.APIToken = domain.NewSecret(s); return j.Validate() }},
	}
	refused := map[string]string{
		"a\x00b":   "contains a NUL character; remove it",
		"a\x1bb":   "contains the control character U+001B; remove it",
		"a\nb":     "contains a line break; it must be a single line",
		"a\rb":     "contains a line break; it must be a single line",
		"a\tb":     "contains the control character U+0009; remove it",
		"a\x7fb":   "contains the control character U+007F; remove it",
		"a\u0085b": "contains the control character U+0085; remove it",
		"a\u202eb": "contains the bidirectional control character U+202E, which makes text show in another order than it reads; remove it",
		"a\u2066b": "contains the bidirectional control character U+2066, which makes text show in another order than it reads; remove it",
	}
	for _, text := range texts {
		for value, want := range refused {
			if got := fieldMessage(t, text.check(value), text.field); got != want {
				t.Errorf("%s = %q: %q, want %q", text.field, value, got, want)
			}
		}
		if err := text.check("Ops-Été_2\u200f"); err != nil { // a right-to-left mark is text's, not an override
			t.Errorf("%s without control characters: %v", text.field, err)
		}
	}

	// A configuration's name is what tells it from the account's others: one that looks like
	// another name is refused. The joiners that emoji and some scripts need are text.
	for _, r := range []rune{0x200B, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x3164, 0x115F, 0xFFA0, 0x034F, 0x2065, 0x2800, 0xE0020, 0x2028} {
		want := fmt.Sprintf("contains the invisible character %U, which makes the name look like another; remove it", r)
		if got := fieldMessage(t, draft("ops"+string(r)+"-slack", "").Validate("alice"), "name"); got != want {
			t.Errorf("name with %U: %q, want %q", r, got, want)
		}
	}
	for _, name := range []string{"on-call 👩\u200d💻", "می\u200cخواهم", "love ❤\ufe0f", "\u200fעברית", "\u0600١٢"} {
		if err := draft(name, "").Validate("alice"); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}

	if err := draft("ops", "Pages the on-call team.\n\tWeekdays only.\n").Validate("alice"); err != nil {
		t.Errorf("a description with line feeds and a tab: %v", err)
	}
	for value, want := range map[string]string{
		"line one\r\nline two": `contains a carriage return (U+000D); end lines with a line feed (\n) alone`,
		"bell\a":               "contains the control character U+0007; remove it (only line breaks and tabs may be used)",
		"nul\x00":              "contains a NUL character; remove it",
	} {
		if got := fieldMessage(t, draft("ops", value).Validate("alice"), "description"); got != want {
			t.Errorf("description %q: %q, want %q", value, got, want)
		}
	}
}

// TestEmailSettings_hostIsANameOrAnAddress: the SMTP host is a DNS name or an IP address. A
// scheme, a port (which has its own setting) or a space would make every send fail, so they
// are refused on save with what to give instead.
func TestEmailSettings_hostIsANameOrAnAddress(t *testing.T) {
	for _, host := range []string{"smtp.example.com", "smtp.example.com.", "localhost", "mail_relay", "SMTP-1.Example.COM", "192.0.2.25", "::1", "2001:db8::25", "fe80::1%eth0"} {
		s := validEmail
		s.Host = host
		if err := s.Validate(); err != nil {
			t.Errorf("host %q: %v", host, err)
		}
	}
	for host, want := range map[string]string{
		"smtp.x:25":                          `"smtp.x:25": give the host alone; the port has its own setting (port)`,
		"smtp.x:":                            `"smtp.x:": give the host alone; the port has its own setting (port)`,
		"[::1]:25":                           `"[::1]:25": give the host alone; the port has its own setting (port)`,
		"http://smtp.x":                      `"http://smtp.x": give the host alone, without a scheme such as http:// (for example smtp.example.com)`,
		"[::1]":                              `"[::1]": give the IPv6 address without brackets`,
		"smtp x":                             `"smtp x" is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25`,
		"smtp.x/relay":                       `"smtp.x/relay" is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25`,
		"-smtp.x":                            `"-smtp.x" is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25`,
		"smtp..x":                            `"smtp..x" is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25`,
		"192.0.2.999":                        `"192.0.2.999" is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25`,
		"smtp.x\n":                           "contains a line break; it must be a single line",
		" ":                                  "is required",
		dnsName(254):                         "is 254 characters long, the limit is 253",
		strings.Repeat("a", 64) + ".example": `"` + strings.Repeat("a", 63) + `…" is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25`,
	} {
		s := validEmail
		s.Host = host
		if got := fieldMessage(t, s.Validate(), "host"); got != want {
			t.Errorf("host %q: %q, want %q", host, got, want)
		}
	}
	for port, ok := range map[int]bool{1: true, 587: true, 65535: true, 0: false, -25: false, 65536: false} {
		s := validEmail
		s.Port = port
		if err := s.Validate(); (err == nil) != ok {
			t.Errorf("port %d: %v", port, err)
		}
	}
}

// TestSettings_urlsCanBeRequested: every URL a sender posts to (webhook, Slack, Teams, GitHub,
// Jira) is refused on save when no request could be sent to it as written, with what is
// wrong and never the URL itself, which may carry a token.
func TestSettings_urlsCanBeRequested(t *testing.T) {
	kinds := map[string]func(url string) (domain.Settings, string){
		"webhook": func(u string) (domain.Settings, string) { s := validWebhook; s.URL = u; return s, "url" },
		"slack": func(u string) (domain.Settings, string) {
			return domain.SlackSettings{WebhookURL: domain.NewSecret(u)}, "webhookUrl"
		},
		"teams": func(u string) (domain.Settings, string) {
			return domain.TeamsSettings{WebhookURL: domain.NewSecret(u)}, "webhookUrl"
		},
		"github": func(u string) (domain.Settings, string) { s := validGitHub; s.APIURL = u; return s, "apiUrl" },
		"jira":   func(u string) (domain.Settings, string) { s := validJira; s.URL = u; return s, "url" },
	}
	const outOfRange = " is out of range; use 1 to 65535, or leave the port out for the scheme's default (443 for https, 80 for http)"
	cases := []struct {
		url, want string // want: the message's start; "" when valid
	}{
		{"https://hooks.example.com:65535/SECRET", ""},
		{"http://hooks.example.com:1/SECRET?a=b%20c", ""},
		{"https://hooks.example.com:/SECRET", ""},
		{"http://hooks.example.com:99999/SECRET", "port 99999" + outOfRange},
		{"http://hooks.example.com:0/SECRET", "port 0" + outOfRange},
		{"https://hooks.example.com/SECRET?text=a b", "contains a space; percent-encode it (%20) or remove it"},
		{"https://hooks.example.com/SE CRET", "contains a space; percent-encode it (%20) or remove it"},
		{"https://hooks.example.com/SECRET\u00a0", "contains a space; percent-encode it (%20) or remove it"},
		{"https://hooks.exa mple.com/SECRET", "contains a space; percent-encode it (%20) or remove it"},
		{"https://hooks.example.com/SECRET\t", "contains the control character U+0009; remove it"},
		{"https://hooks.example.com/SECRET\u0085", "contains the control character U+0085; remove it"},
		{"https://hooks.example.com/SECRET%zz", "has an invalid percent escape (a % not followed by two hexadecimal digits); write a % that stands for itself as %25"},
		{"https://u:SECRET@hooks.example.com/x", "must not carry credentials (user:password@ before the host); "},
		{"https://:443/SECRET", "has no host"},
		{"ftp://hooks.example.com/SECRET", "must be an http or https URL"},
	}
	for kind, settings := range kinds {
		for _, c := range cases {
			s, field := settings(c.url)
			err := s.Validate()
			if c.want == "" {
				if err != nil {
					t.Errorf("%s %q: %v", kind, c.url, err)
				}
				continue
			}
			if got := fieldMessage(t, err, field); !strings.HasPrefix(got, c.want) {
				t.Errorf("%s %q: %s: %q, want %q...", kind, c.url, field, got, c.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("%s %q: the error quotes the URL: %v", kind, c.url, err)
			}
		}
	}
}

// TestValidation_quotesAtMost64CharactersOfAValue: an error quotes enough of a refused value
// to recognise it, cut at 64 characters; a megabyte sent by mistake does not come back whole.
func TestValidation_quotesAtMost64CharactersOfAValue(t *testing.T) {
	long := strings.Repeat("z", 1<<20)
	_, levelErr := domain.NewSelector(domain.ScopeAccount, long, "*", "*", false)
	_, typeErr := domain.NewSelector(domain.ScopeAccount, "*", "Z"+long[:300], "*", false)
	_, regexErr := domain.NewSelector(domain.ScopeAccount, "*", "regex:("+long[:500], "*", false)
	_, resourceErr := domain.NewSelector(domain.ScopeAccount, "*", "*", long, false)
	_, scopeErr := domain.NewSelector(domain.Scope(long), "*", "*", "*", false)
	_, kindErr := domain.ParseEndpointKind(long)
	_, roleErr := domain.ParseRole(long)
	_, timestampErr := domain.DecodeLogEvent([]byte(`{"timestamp":"` + long + `"}`))
	_, accountErr := domain.Actor{Account: "alice", Role: domain.RoleReadOnly}.ScopeFilter(domain.EventFilter{Account: long})
	event := domain.LogEvent{ID: "e1", Level: domain.LevelInfo, Type: "user.x"}
	event.Resource.Type = long
	email := validEmail
	email.To = []string{strings.Repeat("z", 200) + " <x>"}
	github := validGitHub
	github.Repository = long[:90] + "/x"
	jira := validJira
	jira.Labels = []string{"a " + long[:200]}
	webhook := validWebhook
	webhook.Headers = map[string]domain.Secret{"X/" + long[:200]: domain.NewSecret("v")}
	for name, err := range map[string]error{
		"selector level":         levelErr,
		"selector type":          typeErr,
		"selector regex":         regexErr,
		"selector resource type": resourceErr,
		"selector scope":         scopeErr,
		"endpoint kind":          kindErr,
		"role":                   roleErr,
		"event timestamp":        timestampErr,
		"event resource type":    event.Validate(event.Timestamp),
		"filter type":            domain.EventFilter{Type: long}.Validate(),
		"filter resource type":   domain.EventFilter{ResourceType: long}.Validate(),
		"filter account":         accountErr,
		"email to":               email.Validate(),
		"github repository":      github.Validate(),
		"jira label":             jira.Validate(),
		"webhook header name":    webhook.Validate(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if msg := err.Error(); len(msg) > 1024 || strings.Contains(msg, strings.Repeat("z", 64)) {
			t.Errorf("%s: a %d-byte error quotes more than 63 characters: %.300s", name, len(msg), msg)
		} else if !strings.Contains(msg, "z…") {
			t.Errorf("%s: the cut is not marked with an ellipsis: %s", name, msg)
		}
	}
}

// TestGitHubSettings_ownerAndRepositoryAreGitHubNames: owner and repository go into the API
// path; a name GitHub cannot give would be escaped into a path to another resource, or to
// none, so it is refused on save. The milestone is GitHub's positive 32-bit number, 0 none.
func TestGitHubSettings_ownerAndRepositoryAreGitHubNames(t *testing.T) {
	const badOwner = " is not a GitHub user or organization name: letters, digits and single hyphens, not starting or ending with a hyphen"
	const badRepository = " is not a GitHub repository name: letters, digits and . - _ only"
	cases := []struct {
		owner, repository string
		milestone         int
		field, want       string // "" when valid
	}{
		{"acme", "alerts", 0, "", ""},
		{"Acme-Corp-2", "my.repo_name-2", 1, "", ""},
		{strings.Repeat("a", 39), strings.Repeat("r", 100), 2147483647, "", ""},
		{"acme", ".github", 0, "", ""},
		{"-acme", "alerts", 0, "owner", `"-acme"` + badOwner},
		{"acme-", "alerts", 0, "owner", `"acme-"` + badOwner},
		{"ac--me", "alerts", 0, "owner", `"ac--me"` + badOwner},
		{"ac_me", "alerts", 0, "owner", `"ac_me"` + badOwner},
		{"..", "alerts", 0, "owner", `".."` + badOwner},
		{"acme/alerts", "alerts", 0, "owner", `"acme/alerts": give the owner alone; the repository has its own setting`},
		{strings.Repeat("a", 40), "alerts", 0, "owner", "is 40 characters long, the limit is 39"},
		{"acme", "..", 0, "repository", `".." is not a repository name; give the name shown on GitHub`},
		{"acme", ".", 0, "repository", `"." is not a repository name; give the name shown on GitHub`},
		{"acme", "r?x#y", 0, "repository", `"r?x#y"` + badRepository},
		{"acme", "my repo", 0, "repository", `"my repo"` + badRepository},
		{"acme", "acme/alerts", 0, "repository", `"acme/alerts": give the repository name alone; the owner has its own setting`},
		{"acme", strings.Repeat("r", 101), 0, "repository", "is 101 characters long, the limit is 100"},
		{"acme", "alerts", -1, "milestone", "-1 is not a milestone number; use 1 to 2147483647 (the number in the milestone's URL), or 0 for none"},
		{"acme", "alerts", 2147483648, "milestone", "2147483648 is not a milestone number; use 1 to 2147483647 (the number in the milestone's URL), or 0 for none"},
	}
	for _, c := range cases {
		s := validGitHub
		s.Owner, s.Repository, s.Milestone = c.owner, c.repository, c.milestone
		err := s.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s/%s milestone %d: %v", c.owner, c.repository, c.milestone, err)
			}
			continue
		}
		if got := fieldMessage(t, err, c.field); got != c.want {
			t.Errorf("%s/%s milestone %d: %s: %q, want %q", c.owner, c.repository, c.milestone, c.field, got, c.want)
		}
	}
}

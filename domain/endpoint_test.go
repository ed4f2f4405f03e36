package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"herald/domain"
)

func TestSettings_validateNamesTheField(t *testing.T) {
	cases := []struct {
		name     string
		settings domain.Settings
		field    string
		contains string
	}{
		{"email port", domain.EmailSettings{Host: "smtp", Port: 70000, Security: domain.EmailStartTLS, From: "a@b.c", To: []string{"d@e.f"}}, "port", "not a port"},
		{"email to", domain.EmailSettings{Host: "smtp", Port: 587, Security: domain.EmailStartTLS, From: "a@b.c", To: []string{"nobody"}}, "to[0]", "not an email address"},
		{"email tls", domain.EmailSettings{Host: "smtp", Port: 587, Security: "ssl3", From: "a@b.c", To: []string{"d@e.f"}}, "useTls", "not a TLS mode"},
		{"email password in clear", domain.EmailSettings{Host: "192.0.2.2", Port: 25, Security: domain.EmailNone, Username: "u", Password: domain.NewSecret("p"), From: "a@b.c", To: []string{"d@e.f"}},
			"useTls", "sends a password in clear to no server but this machine's"},
		{"github url", domain.GitHubSettings{APIURL: "ftp://x", Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}, "apiUrl", "http or https"},
		{"github repo", domain.GitHubSettings{APIURL: domain.DefaultGitHubAPIURL, Owner: "o", Repository: "o/r", AccessToken: domain.NewSecret("t")}, "repository", "owner has its own"},
		{"github website", domain.GitHubSettings{APIURL: "https://GitHub.com/", Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}, "apiUrl", "GitHub's website, not its API: use https://api.github.com"},
		{"github website, trailing dot", domain.GitHubSettings{APIURL: "https://github.com./", Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}, "apiUrl", "GitHub's website, not its API"},
		{"github api over http", domain.GitHubSettings{APIURL: "http://api.github.com", Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}, "apiUrl", "give the API's base, https://api.github.com"},
		{"github api, trailing dot", domain.GitHubSettings{APIURL: "https://api.github.com.", Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}, "apiUrl", "give the API's base, https://api.github.com"},
		{"github repo api url", domain.GitHubSettings{APIURL: "https://api.github.com/repos/o/r", Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}, "apiUrl", "give the API's base, https://api.github.com"},
		{"jira token", domain.JiraSettings{URL: "https://jira", Username: "u", ProjectKey: "P", IssueType: "Bug"}, "apiToken", "required"},
		{"jira api url", domain.JiraSettings{URL: "https://acme.atlassian.net/rest/api/2/issue", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS", IssueType: "Bug"},
			"url", `"https://acme.atlassian.net/rest/api/2/issue": give the Jira site's base, https://acme.atlassian.net (with the server's context path`},
		{"jira issue page", domain.JiraSettings{URL: "https://jira.corp.example/jira/browse/OPS-1", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS", IssueType: "Bug"},
			"url", "give the Jira site's base, https://jira.corp.example/jira (with"},
		{"jira project name", domain.JiraSettings{URL: "https://jira", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "Ops team", IssueType: "Bug"},
			"projectKey", `"Ops team" is not a project key: a key is letters, digits and underscores, starting with a letter, such as OPS`},
		{"jira key with a digit first", domain.JiraSettings{URL: "https://jira", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "1OPS", IssueType: "Bug"}, "projectKey", "is not a project key"},
		{"jira issue key", domain.JiraSettings{URL: "https://jira", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS-1", IssueType: "Bug"}, "projectKey", "is not a project key"},
		{"jira empty issue type", domain.JiraSettings{URL: "https://jira", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS", IssueType: " "},
			"issueType", "is empty; name one of the project's issue types, such as Bug (the default of a configuration added without one) or Task"},
		{"jira cloud board", domain.JiraSettings{URL: "https://acme.atlassian.net/jira/software/projects/OPS/boards/1", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS", IssueType: "Bug"},
			"url", "give the Jira site's base, https://acme.atlassian.net (with"},
		{"jira cloud service desk queue", domain.JiraSettings{URL: "https://acme.atlassian.net/jira/servicedesk/projects/SD/queues", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "SD", IssueType: "Bug"},
			"url", "give the Jira site's base, https://acme.atlassian.net (with"},
		{"jira, a path whose lower case is longer", domain.JiraSettings{URL: "https://jira.example/ȺȺȺȺȺȺȺȺ/REST/api/2", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS", IssueType: "Bug"},
			"url", "give the Jira site's base, https://jira.example/ȺȺȺȺȺȺȺȺ (with"},
		{"slack url", domain.SlackSettings{WebhookURL: domain.NewSecret("not a url")}, "webhookUrl", "http or https"},
		{"teams missing", domain.TeamsSettings{}, "webhookUrl", "required"},
		{"webhook header", domain.WebhookSettings{URL: "https://x", Headers: map[string]domain.Secret{"content-type": domain.NewSecret("x")}}, "headers", "set by herald"},
		{"webhook creds in url", domain.WebhookSettings{URL: "https://u:p@x"}, "url", "must not carry credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assertFieldError(t, c.settings.Validate(), c.field, c.contains) })
	}
}

// A password without TLS is sent only to this machine's server, as go-mail's PLAIN and LOGIN
// authentication do: to another it is refused when saved, not at every send.
func TestEmailSettings_aPasswordInClearOnlyToThisMachine(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		s := domain.EmailSettings{Host: host, Port: 25, Security: domain.EmailNone, Username: "u", Password: domain.NewSecret("p"), From: "a@b.c", To: []string{"d@e.f"}}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	for _, host := range []string{"LOCALHOST", "127.0.0.2", "0:0:0:0:0:0:0:1"} { // go-mail takes the three names above alone
		s := domain.EmailSettings{Host: host, Port: 25, Security: domain.EmailNone, Username: "u", Password: domain.NewSecret("p"), From: "a@b.c", To: []string{"d@e.f"}}
		assertFieldError(t, s.Validate(), "useTls", "sends a password in clear")
	}
	s := domain.EmailSettings{Host: "mail.example.com", Port: 25, Security: domain.EmailNone, From: "a@b.c", To: []string{"d@e.f"}}
	if err := s.Validate(); err != nil {
		t.Errorf("no password, no TLS: %v", err)
	}
}

// A Jira site with a context path, and keys Jira's key patterns allow, are taken.
func TestJiraSettings_sitesAndKeysTaken(t *testing.T) {
	for _, s := range []domain.JiraSettings{
		{URL: "https://jira.corp.example/jira", ProjectKey: "OPS"},
		{URL: "https://acme.atlassian.net/", ProjectKey: "SEC_2"},
		{URL: "http://localhost:8080", ProjectKey: "ab"},
		{URL: "https://corp.example/projects", ProjectKey: "OPS"}, // a context path named like a page
		{URL: "https://corp.example/browse/", ProjectKey: "OPS"},
	} {
		s.Username, s.APIToken, s.IssueType = "u", domain.NewSecret("t"), "Bug"
		if err := s.Validate(); err != nil {
			t.Errorf("%s %s: %v", s.URL, s.ProjectKey, err)
		}
	}
	s := domain.JiraSettings{URL: "https://jira", Username: "u", APIToken: domain.NewSecret("t"), ProjectKey: "OPS\x00", IssueType: "Bug"}
	assertFieldError(t, s.Validate(), "projectKey", "NUL")
	var v *domain.ValidationError
	if errors.As(s.Validate(), &v) && len(v.Fields) != 1 {
		t.Errorf("a key with a NUL: %v; want the NUL alone", v)
	}
}

func TestSecret_neverPrints(t *testing.T) {
	s := domain.WebhookSettings{URL: "https://x", Username: "u", Password: domain.NewSecret("hunter2"), HMACSecret: domain.NewSecret("s3cr3t"),
		Headers: map[string]domain.Secret{"X-Token": domain.NewSecret("tok-123")}}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, s)
		for _, secret := range []string{"hunter2", "s3cr3t", "tok-123"} {
			if strings.Contains(out, secret) {
				t.Fatalf("%s printed a secret: %s", format, out)
			}
		}
	}
	flags := domain.SecretFields(s)
	if !flags["password"] || !flags["hmacSecret"] || !flags["headers.X-Token"] {
		t.Fatalf("secret fields %v", flags)
	}
	sealed, err := s.MapSecrets(func(_ string, sec domain.Secret) (domain.Secret, error) {
		return domain.NewSecret("sealed:" + sec.Reveal()), nil
	})
	if err != nil || sealed.(domain.WebhookSettings).Headers["X-Token"].Reveal() != "sealed:tok-123" || s.Headers["X-Token"].Reveal() != "tok-123" {
		t.Fatalf("MapSecrets: %v", err)
	}
}

func TestDestination(t *testing.T) {
	for _, c := range []struct {
		settings domain.Settings
		want     string
	}{
		{domain.WebhookSettings{URL: "https://Hooks.Example:8443/a?b=c#top"}, "https://hooks.example:8443/a?b=c"},
		{domain.JiraSettings{URL: "https://corp.atlassian.net"}, "https://corp.atlassian.net"},
		{domain.GitHubSettings{APIURL: "https://ghe.corp/api/v3"}, "https://ghe.corp/api/v3"},
		{domain.EmailSettings{Host: "SMTP.corp", Port: 587}, "smtp.corp:587"},
		{domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.slack.com/services/x")}, ""},
	} {
		if got := domain.Destination(c.settings); got != c.want {
			t.Errorf("Destination(%#v) = %q, want %q", c.settings, got, c.want)
		}
	}
}

// GitHub's API URL is accepted in any case and with a closing slash, as the sender reads it.
func TestGitHubSettings_acceptTheAPIInAnyCase(t *testing.T) {
	for _, url := range []string{"https://api.github.com", "https://API.GitHub.com/", "https://ghe.corp/api/v3"} {
		if err := (domain.GitHubSettings{APIURL: url, Owner: "o", Repository: "r", AccessToken: domain.NewSecret("t")}).Validate(); err != nil {
			t.Errorf("%s: %v", url, err)
		}
	}
}

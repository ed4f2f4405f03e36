package domain

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Settings are the connection settings of one endpoint kind. Each kind has its own type.
type Settings interface {
	Kind() EndpointKind
	// Validate checks the settings; field names are the settings' own (host, port, ...).
	Validate() error
	// MapSecrets returns a copy of the settings with every credential replaced by what f
	// returns for it (f gets the field name): sealing at rest, opening, redacting.
	MapSecrets(f func(field string, s Secret) (Secret, error)) (Settings, error)
}

// Destination is where a configuration's credentials are sent: its URL (scheme and host
// compared without case; the fragment, which is never sent, left out), the SMTP server's host
// and port for email, or "" when the URL is itself the credential (Slack, Teams). A credential
// stored for one destination is never carried over to another: an update that changes it
// must give every credential again. The whole URL counts, not only the server: a path may
// lead to another customer's endpoint on a shared service, or to a redirect.
func Destination(s Settings) string {
	target := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return raw
		}
		u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
		return u.String()
	}
	switch s := s.(type) {
	case EmailSettings:
		return strings.ToLower(net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	case GitHubSettings:
		return target(s.APIURL)
	case JiraSettings:
		return target(s.URL)
	case WebhookSettings:
		return target(s.URL)
	default:
		return ""
	}
}

// SecretFields lists the credentials the settings hold, by field name, for the has<Field>
// flags the API shows instead of the values.
func SecretFields(s Settings) map[string]bool {
	set := map[string]bool{}
	_, _ = s.MapSecrets(func(field string, sec Secret) (Secret, error) {
		set[field] = sec.IsSet()
		return sec, nil
	})
	return set
}

// EmailSecurity is how the SMTP connection is protected.
type EmailSecurity string

// Email connection security.
const (
	EmailStartTLS EmailSecurity = "starttls" // plain connection upgraded with STARTTLS (port 587)
	EmailTLS      EmailSecurity = "tls"      // implicit TLS from the first byte (port 465)
	EmailNone     EmailSecurity = "none"     // no TLS: for local relays only
)

// EmailSettings send notifications through an SMTP server.
type EmailSettings struct {
	Host     string
	Port     int
	Username string
	Password Secret
	Security EmailSecurity
	From     string
	To       []string
}

// Kind implements Settings.
func (EmailSettings) Kind() EndpointKind { return KindEmail }

// Validate implements Settings.
func (s EmailSettings) Validate() error {
	v := &ValidationError{}
	required(v, "host", s.Host)
	if strings.TrimSpace(s.Host) != "" && !tooLong(v, "host", s.Host, MaxHostLength) {
		validHost(v, "host", s.Host)
	}
	if s.Port < 1 || s.Port > 65535 {
		v.add("port", "%d is not a port; use 1 to 65535 (587 for STARTTLS, 465 for TLS)", s.Port)
	}
	switch s.Security {
	case EmailStartTLS, EmailTLS, EmailNone:
	default:
		v.add("useTls", "%s is not a TLS mode; use starttls, tls or none", Quote(string(s.Security)))
	}
	if s.Password.IsSet() && s.Username == "" {
		v.add("username", "is required when a password is set")
	}
	if s.Password.IsSet() && s.Security == EmailNone && !localHost(s.Host) {
		v.add("useTls", "is none, and herald's mail client sends a password in clear to no server but this machine's: use starttls or tls, or leave out the username and password")
	}
	settingText(v, "username", s.Username)
	tooLong(v, "password", s.Password.Reveal(), MaxCredentialLength)
	if s.From == "" {
		v.add("from", "is required")
	} else if !settingText(v, "from", s.From) {
		validAddress(v, "from", s.From)
	}
	if len(s.To) == 0 {
		v.add("to", "needs at least one address")
	}
	if !tooMany(v, "to", len(s.To), MaxSettingList, "addresses") {
		for i, to := range s.To {
			if field := fmt.Sprintf("to[%d]", i); !settingText(v, field, to) {
				validAddress(v, field, to)
			}
		}
	}
	return v.errOrNil()
}

// localHost tells whether the mail client (go-mail) sends a password in clear to host: it
// does to these three names of this machine alone, written exactly so.
func localHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// MapSecrets implements Settings.
func (s EmailSettings) MapSecrets(f func(string, Secret) (Secret, error)) (Settings, error) {
	var err error
	s.Password, err = f("password", s.Password)
	return s, err
}

// DefaultJiraIssueType is the issue type of a Jira configuration that names none: the API
// fills it in when a configuration leaves it out, and the CLI's --set issueType= restores it.
const DefaultJiraIssueType = "Bug"

// DefaultPort is the usual port of an SMTP server spoken to this way, the port of an email
// configuration that gives none: 587 (submission) for STARTTLS, 465 (submissions) for TLS,
// 25 for NONE (a local relay).
func (s EmailSecurity) DefaultPort() int {
	switch s {
	case EmailTLS:
		return 465
	case EmailNone:
		return 25
	default:
		return 587
	}
}

// DefaultGitHubAPIURL is github.com's API; GitHub Enterprise Server uses https://HOST/api/v3.
const DefaultGitHubAPIURL = "https://api.github.com"

// GitHubSettings open an issue per notification in a repository.
type GitHubSettings struct {
	APIURL      string
	Owner       string
	Repository  string
	AccessToken Secret
	Milestone   int // 0: none
	Labels      []string
	Assignees   []string
}

// Kind implements Settings.
func (GitHubSettings) Kind() EndpointKind { return KindGitHub }

// Validate implements Settings.
func (s GitHubSettings) Validate() error {
	v := &ValidationError{}
	before := len(v.Fields)
	validHTTPURL(v, "apiUrl", s.APIURL, true, "use the accessToken setting")
	if problem := gitHubAPIProblem(s.APIURL); problem != "" && len(v.Fields) == before {
		v.add("apiUrl", "%s", problem)
	}
	required(v, "owner", s.Owner)
	switch {
	case strings.TrimSpace(s.Owner) == "" || tooLong(v, "owner", s.Owner, MaxGitHubOwner): // required, or too long
	case strings.Contains(s.Owner, "/"):
		v.add("owner", "%s: give the owner alone; the repository has its own setting", Quote(s.Owner))
	case !gitHubOwner(s.Owner):
		v.add("owner", "%s is not a GitHub user or organization name: letters, digits and single hyphens, not starting or ending with a hyphen", Quote(s.Owner))
	}
	required(v, "repository", s.Repository)
	switch {
	case strings.TrimSpace(s.Repository) == "" || tooLong(v, "repository", s.Repository, MaxGitHubRepository): // required, or too long
	case strings.Contains(s.Repository, "/"):
		v.add("repository", "%s: give the repository name alone; the owner has its own setting", Quote(s.Repository))
	case s.Repository == "." || s.Repository == "..":
		v.add("repository", "%s is not a repository name; give the name shown on GitHub", Quote(s.Repository))
	case !gitHubRepository(s.Repository):
		v.add("repository", "%s is not a GitHub repository name: letters, digits and . - _ only", Quote(s.Repository))
	}
	if !s.AccessToken.IsSet() {
		v.add("accessToken", "is required")
	}
	tooLong(v, "accessToken", s.AccessToken.Reveal(), MaxCredentialLength)
	checkCharacters(v, "accessToken", s.AccessToken.Reveal(), oneLine) // sent as it is in a header: a pasted line break would fail every send
	if s.Milestone < 0 || s.Milestone > math.MaxInt32 {
		v.add("milestone", "%d is not a milestone number; use 1 to 2147483647 (the number in the milestone's URL), or 0 for none", s.Milestone)
	}
	shortTexts(v, "labels", s.Labels, "labels")
	shortTexts(v, "assignees", s.Assignees, "assignees")
	return v.errOrNil()
}

// gitHubAPIProblem tells why a URL that parses is still not a GitHub API's base: github.com's
// website, or a path below api.github.com (a repository's API URL, say), to which the sender's
// /repos/OWNER/REPO/issues would be added.
func gitHubAPIProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "" // said by validHTTPURL
	}
	switch host := strings.TrimSuffix(strings.ToLower(u.Hostname()), "."); {
	case host == "github.com" || host == "www.github.com":
		return fmt.Sprintf("%s is GitHub's website, not its API: use %s (or leave apiUrl out); GitHub Enterprise Server's is https://HOST/api/v3", Quote(raw), DefaultGitHubAPIURL)
	case host == "api.github.com" && (u.Scheme != "https" || u.Port() != "" || strings.Trim(u.Path, "/") != "" || !strings.EqualFold(u.Hostname(), host)):
		return fmt.Sprintf("%s: give the API's base, %s; the owner and the repository have settings of their own", Quote(raw), DefaultGitHubAPIURL)
	}
	return ""
}

// GitHub's own limits on the names of users, organizations and repositories.
const (
	MaxGitHubOwner      = 39
	MaxGitHubRepository = 100
)

// gitHubOwner tells whether s is a name GitHub gives a user or an organization: letters,
// digits and single hyphens, not starting or ending with a hyphen (its length is checked
// apart). Anything else would be escaped into the API path and name another resource, or
// none.
func gitHubOwner(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// gitHubRepository tells whether s is a name GitHub gives a repository: letters, digits,
// '.', '-' and '_', not "." or "..".
func gitHubRepository(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MapSecrets implements Settings.
func (s GitHubSettings) MapSecrets(f func(string, Secret) (Secret, error)) (Settings, error) {
	var err error
	s.AccessToken, err = f("accessToken", s.AccessToken)
	return s, err
}

// JiraSettings open a ticket per notification in a Jira project.
type JiraSettings struct {
	URL        string
	Username   string
	APIToken   Secret
	ProjectKey string
	IssueType  string
	Priority   string
	Assignee   string
	Labels     []string
}

// Kind implements Settings.
func (JiraSettings) Kind() EndpointKind { return KindJira }

// Validate implements Settings.
func (s JiraSettings) Validate() error {
	v := &ValidationError{}
	before := len(v.Fields)
	validHTTPURL(v, "url", s.URL, true, "use the username and apiToken settings")
	if problem := jiraSiteProblem(s.URL); problem != "" && len(v.Fields) == before {
		v.add("url", "%s", problem)
	}
	required(v, "username", s.Username)
	settingText(v, "username", s.Username)
	if !s.APIToken.IsSet() {
		v.add("apiToken", "is required")
	}
	tooLong(v, "apiToken", s.APIToken.Reveal(), MaxCredentialLength)
	checkCharacters(v, "apiToken", s.APIToken.Reveal(), oneLine) // a token has none: a line break is a pasting mistake
	required(v, "projectKey", s.ProjectKey)
	if !settingText(v, "projectKey", s.ProjectKey) && strings.TrimSpace(s.ProjectKey) != "" && !jiraProjectKey(s.ProjectKey) {
		v.add("projectKey", "%s is not a project key: a key is letters, digits and underscores, starting with a letter, such as OPS (the prefix of the project's issue keys, OPS-123), not the project's name", Quote(s.ProjectKey))
	}
	if strings.TrimSpace(s.IssueType) == "" {
		v.add("issueType", "is empty; name one of the project's issue types, such as Bug (the default of a configuration added without one) or Task")
	}
	settingText(v, "issueType", s.IssueType)
	settingText(v, "priority", s.Priority)
	settingText(v, "assignee", s.Assignee)
	if !tooMany(v, "labels", len(s.Labels), MaxSettingList, "labels") {
		for i, l := range s.Labels {
			field := fmt.Sprintf("labels[%d]", i)
			if !settingText(v, field, l) && strings.ContainsFunc(l, unicode.IsSpace) {
				v.add(field, "%s: Jira labels cannot contain spaces", Quote(l))
			}
		}
	}
	return v.errOrNil()
}

// jiraSiteProblem tells why a URL that parses is still not a Jira site's base: one with the
// REST API's path, or the page of an issue, a project or a board (Server's, or Cloud's
// /jira/software/...), to which the sender's /rest/api/2/issue would be added. A part counts
// only with something after it, so that a server whose context path is /projects, say, is
// taken; the base suggested ends where the earliest part begins.
func jiraSiteProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "" // said by validHTTPURL
	}
	path := asciiLower(u.Path) // byte for byte u.Path's, so that its indexes hold there
	cut := -1
	for _, part := range []string{"/rest/", "/browse/", "/projects/", "/secure/", "/plugins/servlet/",
		"/jira/software/", "/jira/servicedesk/", "/jira/core/", "/jira/your-work", "/jira/dashboards"} {
		if i := strings.Index(path, part); i >= 0 && len(path) > i+len(part) && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return ""
	}
	base := u.Scheme + "://" + u.Host + u.Path[:cut]
	return fmt.Sprintf("%s: give the Jira site's base, %s (with the server's context path, if it has one: https://HOST/jira); herald adds /rest/api/2/issue, and the project has a setting of its own", Quote(raw), base)
}

// asciiLower lowers A to Z alone, so that the result has s's bytes at s's indexes.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// jiraProjectKey tells whether s can be a Jira project key: letters, digits and
// underscores, starting with a letter. Jira's default rule is stricter (capitals only); a
// space or a hyphen, which a project's name may have, is never in a key.
func jiraProjectKey(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || r == '_'))) {
			return false
		}
	}
	return s != ""
}

// MapSecrets implements Settings.
func (s JiraSettings) MapSecrets(f func(string, Secret) (Secret, error)) (Settings, error) {
	var err error
	s.APIToken, err = f("apiToken", s.APIToken)
	return s, err
}

// SlackSettings post to an incoming webhook; the URL itself is the credential.
type SlackSettings struct {
	WebhookURL Secret
}

// Kind implements Settings.
func (SlackSettings) Kind() EndpointKind { return KindSlack }

// Validate implements Settings.
func (s SlackSettings) Validate() error {
	v := &ValidationError{}
	validSecretURL(v, "webhookUrl", s.WebhookURL, "the webhook URL needs none")
	return v.errOrNil()
}

// MapSecrets implements Settings.
func (s SlackSettings) MapSecrets(f func(string, Secret) (Secret, error)) (Settings, error) {
	var err error
	s.WebhookURL, err = f("webhookUrl", s.WebhookURL)
	return s, err
}

// TeamsSettings post to a Microsoft Teams webhook (a Workflows webhook, or a legacy
// connector URL); the URL itself is the credential.
type TeamsSettings struct {
	WebhookURL Secret
}

// Kind implements Settings.
func (TeamsSettings) Kind() EndpointKind { return KindTeams }

// Validate implements Settings.
func (s TeamsSettings) Validate() error {
	v := &ValidationError{}
	validSecretURL(v, "webhookUrl", s.WebhookURL, "the webhook URL needs none")
	return v.errOrNil()
}

// MapSecrets implements Settings.
func (s TeamsSettings) MapSecrets(f func(string, Secret) (Secret, error)) (Settings, error) {
	var err error
	s.WebhookURL, err = f("webhookUrl", s.WebhookURL)
	return s, err
}

// WebhookSettings POST each event as JSON to a URL.
type WebhookSettings struct {
	URL        string
	Username   string
	Password   Secret
	HMACSecret Secret            // signs the body: X-Herald-Signature: sha256=<hex>
	Headers    map[string]Secret // extra headers; values may carry tokens, so they are secrets
}

// Kind implements Settings.
func (WebhookSettings) Kind() EndpointKind { return KindWebhook }

// reservedHeaders are set by herald itself.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "X-Herald-Signature", "Idempotency-Key", "X-Herald-Event-Id"}

// connectionHeaders describe one connection rather than the request (RFC 9110, 7.6.1). Go's
// HTTP client leaves some out of what it sends, and refuses every HTTP/2 request that
// carries others.
var connectionHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// Validate implements Settings.
func (s WebhookSettings) Validate() error {
	v := &ValidationError{}
	validHTTPURL(v, "url", s.URL, true, "use the username and password settings")
	if s.Password.IsSet() && s.Username == "" {
		v.add("username", "is required when a password is set")
	}
	settingText(v, "username", s.Username)
	tooLong(v, "password", s.Password.Reveal(), MaxCredentialLength)
	tooLong(v, "hmacSecret", s.HMACSecret.Reveal(), MaxCredentialLength)
	if tooMany(v, "headers", len(s.Headers), MaxSettingList, "headers") {
		return v.errOrNil()
	}
	// The sender sets each header by its canonical name: two names that differ only in case
	// would be one header, with either value.
	first := make(map[string]string, len(s.Headers))
	for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
		canonical := http.CanonicalHeaderKey(name)
		seen := first[canonical]
		if seen == "" {
			first[canonical] = name
		}
		switch n := utf8.RuneCountInString(name); {
		case n > MaxSettingText:
			v.add("headers", "a header name is %d characters long, the limit is %d", n, MaxSettingText)
		case !headerToken(name):
			v.add("headers", "%s is not a header name: letters, digits and ! # $ %% & ' * + - . ^ _ ` | ~ only", Quote(name))
		case seen != "":
			v.add("headers", "%s and %s are the same header (header names ignore case); give it once", Quote(seen), Quote(name))
		case containsFold(reservedHeaders, canonical):
			v.add("headers", "%s is set by herald and cannot be overridden", canonical)
		case containsFold(connectionHeaders, canonical):
			v.add("headers", "%s belongs to the connection, which herald's HTTP client manages; leave it out", canonical)
		case canonical == "Authorization" && s.Username != "":
			v.add("headers", "Authorization cannot be given with username, which sends the password as Basic authentication in that header; use one or the other")
		case tooLong(v, "headers."+name, s.Headers[name].Reveal(), MaxCredentialLength):
		case strings.ContainsFunc(s.Headers[name].Reveal(), func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
			// Go's HTTP client would refuse every send; the value is not quoted (a credential)
			v.add("headers."+name, "holds a line break or another control character, which no HTTP header may")
		}
	}
	return v.errOrNil()
}

// headerToken tells whether name is an HTTP token (RFC 9110, 5.6.2), as a header name must be.
func headerToken(name string) bool {
	return name != "" && !strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
	})
}

// MapSecrets implements Settings.
func (s WebhookSettings) MapSecrets(f func(string, Secret) (Secret, error)) (Settings, error) {
	var err error
	if s.Password, err = f("password", s.Password); err != nil {
		return s, err
	}
	if s.HMACSecret, err = f("hmacSecret", s.HMACSecret); err != nil {
		return s, err
	}
	headers := make(map[string]Secret, len(s.Headers))
	for name, value := range s.Headers {
		if headers[name], err = f("headers."+name, value); err != nil {
			return s, err
		}
	}
	s.Headers = headers
	return s, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

package domain

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EndpointKind is a kind of external tool herald sends notifications to.
type EndpointKind string

// Endpoint kinds.
const (
	KindEmail   EndpointKind = "email"
	KindGitHub  EndpointKind = "github"
	KindJira    EndpointKind = "jira"
	KindSlack   EndpointKind = "slack"
	KindTeams   EndpointKind = "teams"
	KindWebhook EndpointKind = "webhook"
)

var endpointKinds = []EndpointKind{KindEmail, KindGitHub, KindJira, KindSlack, KindTeams, KindWebhook}

// EndpointKinds lists every kind, in the order the product lists them.
func EndpointKinds() []EndpointKind { return slices.Clone(endpointKinds) }

// ParseEndpointKind reads a kind name, case-insensitively.
func ParseEndpointKind(s string) (EndpointKind, error) {
	k := EndpointKind(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(endpointKinds, k) {
		return k, nil
	}
	names := make([]string, len(endpointKinds))
	for i, k := range endpointKinds {
		names[i] = string(k)
	}
	return "", &ValidationError{Fields: []FieldError{{Field: "kind", Message: fmt.Sprintf("%s is not an endpoint kind; use one of %s", Quote(s), strings.Join(names, ", "))}}}
}

// Description says what the kind is, for listings.
func (k EndpointKind) Description() string {
	switch k {
	case KindEmail:
		return "Send notifications to an SMTP mail service"
	case KindGitHub:
		return "Open issues in a GitHub repository"
	case KindJira:
		return "Open tickets in a Jira project"
	case KindSlack:
		return "Post messages to a Slack channel through an incoming webhook"
	case KindTeams:
		return "Post cards to a Microsoft Teams channel through a webhook"
	case KindWebhook:
		return "POST the event as JSON to an HTTP endpoint"
	}
	return ""
}

// Secret is a credential. It prints as [redacted], so that it cannot leak through a log line
// or an error message by accident; Reveal returns the value for the one place that needs it.
type Secret struct{ value string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the credential.
func (s Secret) Reveal() string { return s.value }

// IsSet tells whether the secret holds a value.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `domain.Secret{"` + s.String() + `"}` }

// Limits of endpoint settings. Each lies well above what the services themselves accept, so
// that no working configuration meets one; they keep a single configuration from swelling
// the log, every view that holds it and every notification sent through it. URLs share
// MaxURLLength with events: 2,048 characters is the longest URL that common receivers all
// take (IIS refuses a query string over 2,048 characters and a URL over 4,096 by default;
// nginx and Apache a request line over 8 KiB), while the webhook URLs services hand out are
// a few hundred characters.
const (
	// MaxSettingText bounds user names, project keys, issue types, priorities, assignees,
	// labels, header names and email addresses: the longest of these any service allows is
	// 255 characters (a Jira label; an email address has at most 254). Host names and GitHub
	// owners and repositories have their own, tighter limits.
	MaxSettingText = 256
	// MaxCredentialLength bounds passwords, tokens, HMAC secrets and header values. Header
	// values go out in a request header, which servers and proxies commonly limit to 8 KiB
	// (nginx, Apache); a JSON Web Token fits several times over.
	MaxCredentialLength = 8 * 1024
	// MaxSettingList bounds the lists: recipients, labels, assignees, headers.
	MaxSettingList = 50
	// MaxHostLength bounds an SMTP server's host: the longest DNS name.
	MaxHostLength = 253
)

// tooLong reports s when it is longer than limit characters and tells whether it did. The
// value is never quoted: it may be a credential, and a long one would only swell the error.
func tooLong(v *ValidationError, field, s string, limit int) bool {
	if len(s) <= limit { // a string holds at least as many bytes as characters
		return false
	}
	n := utf8.RuneCountInString(s)
	if n <= limit {
		return false
	}
	v.add(field, "is %d characters long, the limit is %d", n, limit)
	return true
}

// tooMany reports a list of n items (what they are) over limit and tells whether it did.
func tooMany(v *ValidationError, field string, n, limit int, what string) bool {
	if n <= limit {
		return false
	}
	v.add(field, "hold %d %s, the limit is %d", n, what, limit)
	return true
}

// shortTexts checks a list of short one-line texts (GitHub labels, assignees): how many, and
// how long each is and what it holds.
func shortTexts(v *ValidationError, field string, list []string, what string) {
	if tooMany(v, field, len(list), MaxSettingList, what) {
		return
	}
	for i, s := range list {
		settingText(v, fmt.Sprintf("%s[%d]", field, i), s)
	}
}

// settingText checks a short one-line setting (a user name, a project key, a label): at most
// MaxSettingText characters and no control character. It tells whether it refused s.
func settingText(v *ValidationError, field, s string) bool {
	return tooLong(v, field, s, MaxSettingText) || checkCharacters(v, field, s, oneLine)
}

// validHTTPURL checks an http(s) URL with a host; credentials says where credentials go
// instead of the URL ("use the username and password settings").
func validHTTPURL(v *ValidationError, field, raw string, required bool, credentials string) {
	if raw == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	if tooLong(v, field, raw, MaxURLLength) {
		return
	}
	if problem := urlProblem(raw, credentials); problem != "" {
		v.add(field, "%s", problem)
	}
}

// validSecretURL checks a URL that is itself a credential (Slack and Teams webhooks) without
// ever quoting it in the error.
func validSecretURL(v *ValidationError, field string, s Secret, credentials string) {
	if !s.IsSet() {
		v.add(field, "is required")
		return
	}
	if tooLong(v, field, s.Reveal(), MaxURLLength) {
		return
	}
	if problem := urlProblem(s.Reveal(), credentials); problem != "" {
		v.add(field, "%s", problem)
	}
}

// urlProblem tells what keeps raw from being an http or https URL that a request can be sent
// to, "" when nothing does. It never quotes the URL, whose path or query may hold a token:
// Go's HTTP client would send a space in a query as it is, and dial port 0 or 99999 to fail
// every send.
func urlProblem(raw, credentials string) string {
	if i := strings.IndexFunc(raw, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(raw[i:])
		return fmt.Sprintf("contains the control character %U; remove it", r)
	}
	const space = "contains a space; percent-encode it (%20) or remove it"
	u, err := url.Parse(raw)
	if err != nil {
		var escape url.EscapeError
		var uerr *url.Error
		switch {
		case errors.As(err, &escape):
			return "has an invalid percent escape (a % not followed by two hexadecimal digits); write a % that stands for itself as %25"
		case strings.ContainsFunc(raw, unicode.IsSpace):
			return space
		case errors.As(err, &uerr):
			// url.Error quotes the whole URL, credentials included: keep only what went wrong.
			err = uerr.Err
		}
		return fmt.Sprintf("is not a valid URL: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http or https URL"
	case u.Hostname() == "":
		return "has no host"
	case u.User != nil:
		return "must not carry credentials (user:password@ before the host); " + credentials
	case strings.ContainsFunc(raw, unicode.IsSpace):
		return space
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %s is out of range; use 1 to 65535, or leave the port out for the scheme's default (443 for https, 80 for http)", Truncate(p, MaxQuoted))
		}
	}
	return ""
}

func required(v *ValidationError, field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, "is required")
	}
}

// validHost checks an SMTP server's host: a DNS name or an IP address. A scheme, a port or a
// space is refused here, since the sender would otherwise fail at every send, and try again.
func validHost(v *ValidationError, field, host string) {
	if checkCharacters(v, field, host, oneLine) {
		return
	}
	_, port, err := net.SplitHostPort(host)
	switch {
	case strings.Contains(host, "://"):
		v.add(field, "%s: give the host alone, without a scheme such as http:// (for example smtp.example.com)", Quote(host))
	case err == nil && port != "", strings.HasSuffix(host, ":") && !strings.HasSuffix(host, "::"):
		v.add(field, "%s: give the host alone; the port has its own setting (port)", Quote(host))
	case strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]"):
		v.add(field, "%s: give the IPv6 address without brackets", Quote(host))
	case !dnsName(host) && !ipAddress(host):
		v.add(field, "%s is not a host name or an IP address: use letters, digits, hyphens and dots (smtp.example.com), or an address such as 192.0.2.25", Quote(host))
	}
}

// dnsName tells whether s is a DNS name as Go's resolver takes one: dot-separated labels of
// 1 to 63 letters, digits, hyphens and underscores (as in container names), no label starting
// or ending with a hyphen, at most 253 characters (a final dot aside), not all digits.
func dnsName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	letters := false
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			switch c := label[i]; {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-':
				letters = true
			case c >= '0' && c <= '9':
			default:
				return false
			}
		}
	}
	return letters
}

// ipAddress tells whether s is an IPv4 or IPv6 address (with a zone, fe80::1%eth0).
func ipAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func validAddress(v *ValidationError, field, addr string) {
	if _, err := mail.ParseAddress(addr); err != nil {
		v.add(field, "%s is not an email address", Quote(addr))
	}
}

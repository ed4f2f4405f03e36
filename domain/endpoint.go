package domain

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
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
	return "", &ValidationError{Fields: []FieldError{{Field: "kind", Message: fmt.Sprintf("%q is not an endpoint kind; use one of %s", s, strings.Join(names, ", "))}}}
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
	// MaxSettingText bounds host names, user names, owners, repositories, project keys,
	// issue types, priorities, assignees, labels, header names and email addresses: the
	// longest of these any service allows is 255 characters (a Jira label; a DNS name has at
	// most 253, an email address 254).
	MaxSettingText = 256
	// MaxCredentialLength bounds passwords, tokens, HMAC secrets and header values. Header
	// values go out in a request header, which servers and proxies commonly limit to 8 KiB
	// (nginx, Apache); a JSON Web Token fits several times over.
	MaxCredentialLength = 8 * 1024
	// MaxSettingList bounds the lists: recipients, labels, assignees, headers.
	MaxSettingList = 50
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

// shortTexts checks a list of short texts (GitHub labels, assignees): how many, and how long
// each is.
func shortTexts(v *ValidationError, field string, list []string, what string) {
	if tooMany(v, field, len(list), MaxSettingList, what) {
		return
	}
	for i, s := range list {
		tooLong(v, fmt.Sprintf("%s[%d]", field, i), s, MaxSettingText)
	}
}

// validHTTPURL checks an http(s) URL with a host.
func validHTTPURL(v *ValidationError, field, raw string, required bool) {
	if raw == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	if tooLong(v, field, raw, MaxURLLength) {
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		// url.Error quotes the whole URL, credentials included: keep only what went wrong.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		v.add(field, "is not a valid URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(field, "must be an http or https URL")
	case u.Host == "":
		v.add(field, "has no host")
	case u.User != nil:
		v.add(field, "must not carry credentials; use the username and password settings")
	}
}

// validSecretURL checks a URL that is itself a credential (Slack and Teams webhooks) without
// ever quoting it in the error.
func validSecretURL(v *ValidationError, field string, s Secret) {
	if !s.IsSet() {
		v.add(field, "is required")
		return
	}
	if tooLong(v, field, s.Reveal(), MaxURLLength) {
		return
	}
	u, err := url.Parse(s.Reveal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add(field, "must be an http or https URL with a host")
	}
}

func required(v *ValidationError, field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, "is required")
	}
}

func validAddress(v *ValidationError, field, addr string) {
	if _, err := mail.ParseAddress(addr); err != nil {
		v.add(field, "%q is not an email address", addr)
	}
}

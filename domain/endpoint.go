package domain

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
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

// validHTTPURL checks an http(s) URL with a host.
func validHTTPURL(v *ValidationError, field, raw string, required bool) {
	if raw == "" {
		if required {
			v.add(field, "is required")
		}
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

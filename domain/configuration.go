package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Configuration is an endpoint configuration: where one account's notifications of one kind
// go, and which events they are about. It is an aggregate: its state changes only by its
// facts (Apply), and commands check its rules before recording them.
type Configuration struct {
	ID          string
	Account     string
	Kind        EndpointKind
	Name        string
	Description string
	VerifyTLS   bool
	Settings    Settings // secrets sealed while at rest
	Selectors   []Selector
	Templates   MessageTemplates // "" fields: herald's default text
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Revision    uint64 // revision of the last fact applied, for optimistic concurrency
	Deleted     bool
}

// ConfigurationStream names the stream of a configuration.
func ConfigurationStream(id string) string { return "endpointconfig-" + id }

// ConfigurationStreamPrefix is the prefix of every configuration stream.
const ConfigurationStreamPrefix = "endpointconfig-"

// ErrConfigurationNotFound means no configuration with that id is visible to the caller.
var ErrConfigurationNotFound = errors.New("endpoint configuration not found")

// ConfigurationNotFound is ErrConfigurationNotFound for one id, in the words its reader sees.
func ConfigurationNotFound(id string) error {
	return notFound{fmt.Sprintf("no endpoint configuration with id %s (never created, removed, or in an account you cannot see)", id), ErrConfigurationNotFound}
}

// Limits of a configuration.
const (
	MaxConfigurationName = 200
	MaxDescription       = 2000
	MaxSelectors         = 50
)

// ConfigurationDraft is what a user gives to create or replace a configuration.
type ConfigurationDraft struct {
	Name        string
	Description string
	VerifyTLS   bool
	Settings    Settings
	Selectors   []Selector
	Templates   MessageTemplates
}

// Validate checks a draft for a configuration of account; settings errors are reported under
// "settings." and selector errors under "selectors[i].".
func (d ConfigurationDraft) Validate(account string) error {
	v := &ValidationError{}
	if name := strings.TrimSpace(d.Name); name == "" {
		v.add("name", "is required")
	} else if !tooLong(v, "name", name, MaxConfigurationName) {
		checkCharacters(v, "name", name, nameLine)
	}
	if !tooLong(v, "description", d.Description, MaxDescription) {
		checkCharacters(v, "description", d.Description, multiLine)
	}
	if d.Settings == nil {
		v.add("settings", "are required")
	} else if err := d.Settings.Validate(); err != nil {
		var sv *ValidationError
		if !errors.As(err, &sv) {
			return err
		}
		v.Fields = append(v.Fields, sv.Prefixed("settings").Fields...)
	}
	if err := d.Templates.Validate(); err != nil {
		var tv *ValidationError
		if errors.As(err, &tv) {
			v.Fields = append(v.Fields, tv.Prefixed("templates").Fields...)
		}
	}
	if d.Settings != nil && d.Settings.Kind() == KindWebhook && !d.Templates.IsZero() {
		v.add("templates", "are not used by webhooks, which post the event itself as JSON; leave them out (empty strings remove stored ones)")
	}
	if len(d.Selectors) == 0 {
		v.add("selectors", "need at least one selector; the quick selection \"all\" sends every event of the account")
	}
	tooMany(v, "selectors", len(d.Selectors), MaxSelectors, "selectors")
	for i, s := range d.Selectors {
		if s.Scope == ScopeGlobal && account != AdminAccount {
			v.add(fmt.Sprintf("selectors[%d].scope", i), "global scope is reserved to the admin account; use account")
		}
		// Checked here rather than by NewSelector, which also reads selectors stored before.
		if expr, ok := strings.CutPrefix(s.Type, RegexPrefix); ok && strings.TrimSpace(expr) == "" {
			v.add(fmt.Sprintf("selectors[%d].type", i), "regex: needs an expression after it, such as regex:^user\\.image\\..*$; an empty one matches no event")
		}
	}
	return v.errOrNil()
}

// Matches tells whether the configuration wants event e: one of its selectors matches.
func (c Configuration) Matches(e LogEvent) bool {
	for _, s := range c.Selectors {
		if s.Matches(e, c.Account) {
			return true
		}
	}
	return false
}

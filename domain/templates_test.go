package domain_test

import (
	"errors"
	"strings"
	"testing"

	"herald/domain"
)

func TestTruncate_keepsCharactersNotBytes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"vulnérabilité", 13, "vulnérabilité"},
		{"vulnérabilité", 6, "vulné…"},
		{"🚨🚨🚨", 2, "🚨…"},
		{"abc", 0, "abc"},
	} {
		if got := domain.Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// A template that would fail every send is refused when saved: a field events do not have, a
// function called with the wrong number of arguments. One that only fails for some events (a
// details key they lack) is accepted, as are the defaults' forms.
func TestMessageTemplates_refuseWhatFailsEverySend(t *testing.T) {
	for _, tc := range []struct {
		title, body string
		want        string // in the error; "" for none
	}{
		{title: "{{.Nope}}", want: "title: uses a field events do not have"},
		{body: "{{.Resource.Name}}", want: "body: uses a field events do not have"},
		{title: "{{truncate 5}}", want: "title: calls a function with the wrong number of arguments"},
		{title: "{{.Level | upper}} {{.Type}}{{with .Resource.ID}} on {{.}}{{end}}", body: "{{.Details.image.tag}} {{index .Details \"x\"}} {{.Source.HostID}}"},
		{body: "{{range $k, $v := .Details}}{{$k}}={{$v}} {{end}}{{.URL}} {{.Configuration}} {{.Description}}"},
	} {
		err := domain.MessageTemplates{Title: tc.title, Body: tc.body}.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q / %q refused: %v", tc.title, tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q / %q: %v, want %q", tc.title, tc.body, err, tc.want)
		}
	}
	err := domain.MessageTemplates{Title: "{{.Nope}}"}.Validate()
	if err == nil || !strings.Contains(err.Error(), ".Resource.AccountName") {
		t.Errorf("the error does not list the fields a template may use: %v", err)
	}
}

// Webhooks post the event itself: templates on one would be ignored, so they are refused.
func TestMessageTemplates_notOnWebhooks(t *testing.T) {
	all, _ := domain.LookupQuickSelection("all")
	sel, _ := all.Selector(false)
	draft := domain.ConfigurationDraft{Name: "hook", Settings: domain.WebhookSettings{URL: "https://receiver.example/hook"}, Selectors: []domain.Selector{sel},
		Templates: domain.MessageTemplates{Title: "{{.Type}}"}}
	var v *domain.ValidationError
	if err := draft.Validate("alice"); !errors.As(err, &v) || v.Fields[0].Field != "templates" || !strings.Contains(err.Error(), "not used by webhooks") {
		t.Errorf("a webhook with templates: %v", err)
	}
	draft.Templates = domain.MessageTemplates{}
	if err := draft.Validate("alice"); err != nil {
		t.Errorf("a webhook without templates: %v", err)
	}
}

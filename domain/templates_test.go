package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
		{"a\xffbc", 3, "a\uFFFD…"}, // as a conversion to runes reads a broken byte
		{strings.Repeat("z", 1<<20), 3, "zz…"},
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

// A template is refused when saved if, over a sample event, it loops or calls templates past
// the limit, or calls a template it does not define; saving one takes no longer than the limit.
func TestMessageTemplates_refuseWhatRunsWithoutEnd(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"{{range 1000000000}}x{{end}}", "body: template too costly: it runs more than 10000 range iterations"},
		{"{{range 1000000000}}{{end}}", "range iterations and template calls"},
		{`{{define "x"}}{{template "x"}}{{template "x"}}{{end}}{{template "x"}}`, "nest more than 100 deep"},
		{`{{define "x"}}{{.}}{{end}}{{define "y"}}{{template "x"}}{{template "x"}}{{end}}{{define "z"}}{{range 100}}{{template "y"}}{{end}}{{end}}{{range 100}}{{template "z"}}{{end}}`, "range iterations and template calls"},
		{`{{define "x"}}{{range 2}}{{template "x"}}{{end}}{{end}}{{template "x"}}`, "nest more than 100 deep"},
		{`{{range 100}}{{range 100}}{{range 100}}{{end}}{{end}}{{end}}`, "range iterations and template calls"},
		{`{{template "x"}}`, `body: calls a template that is not defined at 1:11: template "x" not defined`},
	} {
		start := time.Now()
		err := domain.MessageTemplates{Body: tc.body}.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
		if took := time.Since(start); took > domain.MaxTemplateTime+time.Second {
			t.Errorf("%q: saving took %s", tc.body, took)
		}
	}
	for _, ok := range []string{
		`{{range 10}}{{.}}{{end}}`,
		`{{define "line"}}{{.}}{{end}}{{range $k, $v := .Details}}{{template "line" $k}}{{end}}{{if .URL}}{{range 3}}-{{end}}{{else}}{{range 3}}={{end}}{{end}}`,
		`{{block "b" .}}{{.Type}}{{end}}`,
	} {
		if err := (domain.MessageTemplates{Body: ok}).Validate(); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	if err := (domain.MessageTemplates{Body: "{{heraldStep}}"}).Validate(); err == nil || !strings.Contains(err.Error(), "is not a valid Go template") {
		t.Errorf("a template calling the step function: %v", err)
	}
}

// At send time the same limits hold over the real event: a rendering past the steps fails with
// ErrTemplateTooCostly; one that writes too much is cut off at MaxTemplateOutput, whole
// characters, with an ellipsis, and stops there.
func TestRenderMessageTemplate_limits(t *testing.T) {
	list := make([]any, 200)
	data := domain.TemplateData{Type: "t", Details: map[string]any{"list": list}}
	tmpl, err := domain.ParseMessageTemplate("body", `{{range .Details.list}}{{range $.Details.list}}{{end}}{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := domain.RenderMessageTemplate(tmpl, data); !errors.Is(err, domain.ErrTemplateTooCostly) {
		t.Errorf("200 x 200 iterations: %v, want ErrTemplateTooCostly", err)
	}
	data.Details["list"] = list[:50]
	if out, err := domain.RenderMessageTemplate(tmpl, data); err != nil || out != "" {
		t.Errorf("50 x 50 iterations: %q, %v", out, err)
	}

	tmpl, err = domain.ParseMessageTemplate("body", `{{range 5000}}{{printf "%0100d" 0}}é{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := domain.RenderMessageTemplate(tmpl, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > domain.MaxTemplateOutput+len("…") || len(out) < domain.MaxTemplateOutput-2 || !strings.HasSuffix(out, "…") || !utf8.ValidString(out) {
		t.Errorf("cut off at %d bytes, valid UTF-8 %v, ends %q", len(out), utf8.ValidString(out), out[len(out)-8:])
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("rendering past the output limit took %s", took)
	}

	// A byte that is no character, early in the text (slice cut a character of the event's
	// in two), stays: the cut trims only a character it split itself.
	data.Message = "é"
	tmpl, err = domain.ParseMessageTemplate("body", `{{slice .Message 0 1}}{{range 5000}}{{printf "%0100d" 0}}é{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err = domain.RenderMessageTemplate(tmpl, data)
	if err != nil || len(out) < domain.MaxTemplateOutput-2 || !strings.HasPrefix(out, "\xc3000") || !strings.HasSuffix(out, "…") {
		t.Errorf("text with an early broken character cut to %d bytes (%v), starting %q", len(out), err, out[:min(len(out), 8)])
	}
}

// default stands in for what an event lacks or leaves empty: a details key it does not have,
// an empty string, a number or a list, as Sprig's default (Helm, Alertmanager's users) does.
func TestTemplateDefault_standsInForWhatIsMissing(t *testing.T) {
	data := domain.TemplateData{Type: "user.image.analysis.failed", Details: map[string]any{
		"count": float64(3), "zero": float64(0), "empty": "", "tags": []any{"a", "b"}, "none": []any{}, "nil": nil, "tag": "latest",
	}}
	for src, want := range map[string]string{
		`{{.Details.missing | default "none"}}`:        "none",
		`{{.Details.nil | default "none"}}`:            "none",
		`{{.Details.empty | default "none"}}`:          "none",
		`{{.Details.tag | default "none"}}`:            "latest",
		`{{.Details.count | default "none"}}`:          "3",
		`{{.Details.zero | default "none"}}`:           "none",
		`{{.Details.tags | default "none"}}`:           "[a b]",
		`{{.Details.none | default "none"}}`:           "none",
		`{{.Resource.ID | default "no image"}}`:        "no image",
		`{{default "x" .Type}}`:                        "user.image.analysis.failed",
		`{{.Details.count | default 1 | printf "%v"}}`: "3",
	} {
		tmpl, err := domain.ParseMessageTemplate("body", src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if err := (domain.MessageTemplates{Body: src}).Validate(); err != nil {
			t.Errorf("%s refused: %v", src, err)
		}
		if out, err := domain.RenderMessageTemplate(tmpl, data); err != nil || out != want {
			t.Errorf("%s = %q, %v; want %q", src, out, err, want)
		}
	}
}

package graph

import (
	"errors"
	"strings"
	"testing"

	"herald/domain"
	"herald/graph/model"
)

// TestDraftOf_refusesWhatItWouldDropOrEchoWhole: a webhook header given twice under one name
// would keep one value silently, so it is refused; an unknown quick selection is quoted cut at
// 64 characters, however long it is.
func TestDraftOf_refusesWhatItWouldDropOrEchoWhole(t *testing.T) {
	long := strings.Repeat("q", 1<<20)
	webhook := func(names ...string) *model.WebhookSettingsInput {
		w := &model.WebhookSettingsInput{URL: new("https://hooks.example.com/herald")}
		for _, n := range names {
			w.Headers = append(w.Headers, model.HeaderInput{Name: n, Value: "v"})
		}
		return w
	}
	cases := []struct {
		name  string
		in    model.ConfigurationInput
		field string
		want  string // "" when valid
	}{
		{"a header given twice", model.ConfigurationInput{Name: "ops", Webhook: webhook("X-Team", "X-A", "X-A")},
			"webhook.headers", `"X-A" is given twice; give each header once`},
		{"headers given once", model.ConfigurationInput{Name: "ops", Webhook: webhook("X-Team", "X-A")}, "", ""},
		{"a long unknown quick selection", model.ConfigurationInput{Name: "ops", Webhook: webhook(), QuickSelections: []string{"all", long}},
			"quickSelections[1]", `"` + strings.Repeat("q", 63) + `…" is not a quick selection; use one of all, policy-and-vulnerability, errors,`},
	}
	// Every selector's and quick selection's errors come at once, each with its path.
	warn := "warn"
	in := model.ConfigurationInput{Name: "ops", Webhook: webhook(), QuickSelections: []string{"nope", "all", "global-all"},
		Selectors: []model.SelectorInput{{Type: "a.b", Level: &warn}, {Type: "ok.*"}, {Type: "x y"}}}
	_, err := draftOf(domain.KindWebhook, in, "alice")
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("several bad selectors: %v", err)
	}
	var fields []string
	for _, f := range v.Fields {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, " "); got != "selectors[0].level selectors[2].type quickSelections[0] quickSelections[2]" {
		t.Errorf("several bad selectors report %s:\n%v", got, err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := draftOf(domain.KindWebhook, c.in, "alice")
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var v *domain.ValidationError
			if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != c.field || !strings.HasPrefix(v.Fields[0].Message, c.want) {
				t.Fatalf("got %.300v, want %s: %s...", err, c.field, c.want)
			}
		})
	}
}

// TestSettingsOf_anEmailPortLeftOutIsTheUsualOneOfItsSecurity: 587 for STARTTLS (also when
// useTls is left out), 465 for TLS, 25 for NONE; a port given is kept whatever the security.
func TestSettingsOf_anEmailPortLeftOutIsTheUsualOneOfItsSecurity(t *testing.T) {
	sec := func(s model.EmailSecurity) *model.EmailSecurity { return &s }
	for _, tc := range []struct {
		useTLS *model.EmailSecurity
		port   *int
		want   int
	}{
		{nil, nil, 587},
		{sec(model.EmailSecurityStarttls), nil, 587},
		{sec(model.EmailSecurityTLS), nil, 465},
		{sec(model.EmailSecurityNone), nil, 25},
		{sec(model.EmailSecurityTLS), new(2465), 2465},
	} {
		in := model.ConfigurationInput{Email: &model.EmailSettingsInput{Host: new("smtp.example.com"), UseTLS: tc.useTLS, Port: tc.port}}
		if got := settingsOf(domain.KindEmail, in).(domain.EmailSettings).Port; got != tc.want {
			t.Errorf("useTls %v, port %v: port %d, want %d", tc.useTLS, tc.port, got, tc.want)
		}
	}
}

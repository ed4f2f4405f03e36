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

package domain

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/template"
	"unicode/utf8"
)

// MessageTemplates override the text of a configuration's notifications: Title is the mail
// subject, the issue title or the chat message's header; Body the text under it. Both are Go
// text/template sources over the event (TemplateData); "" keeps herald's default.
type MessageTemplates struct {
	Title string
	Body  string
}

// TemplateData is what a message template sees: {{.Type}}, {{.Level}}, {{.Message}},
// {{.Resource.ID}}, {{.Details.some_key}}, {{.URL}} ...
type TemplateData struct {
	ID, Type, Level, Message, Timestamp string
	Resource                            struct{ AccountName, Type, ID string }
	Source                              struct{ RequestID, ServiceName, HostID, BaseURL string }
	Details                             map[string]any // the event's details, decoded
	URL                                 string         // the event in the UI; "" without ui_url
	Configuration                       string         // the configuration's name
	Description                         string         // the catalog's description of the type, when known
}

// templateFields names what a template may use, for the error of one that uses something else.
const templateFields = ".ID, .Type, .Level, .Message, .Timestamp, .Resource.AccountName, .Resource.Type, .Resource.ID, " +
	".Source.RequestID, .Source.ServiceName, .Source.HostID, .Source.BaseURL, .Details.<key>, .URL, .Configuration, .Description"

// Limits of message templates.
const (
	MaxTitleTemplate = 1024
	MaxBodyTemplate  = 16 * 1024
)

// Truncate keeps s within n characters, ending a shortened text with an ellipsis; n below 1
// keeps s whole. Message templates and the senders' field limits use it.
func Truncate(s string, n int) string {
	if n < 1 || utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// TemplateFuncs are the functions a message template may call, besides text/template's own.
var TemplateFuncs = template.FuncMap{
	"upper":    strings.ToUpper,
	"lower":    strings.ToLower,
	"truncate": func(n int, s string) string { return Truncate(s, n) },
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"default": func(fallback, v string) string {
		if v == "" {
			return fallback
		}
		return v
	},
}

// IsZero tells whether no template is overridden.
func (t MessageTemplates) IsZero() bool { return t.Title == "" && t.Body == "" }

// Validate parses both templates; errors are reported under "title" and "body".
func (t MessageTemplates) Validate() error {
	v := &ValidationError{}
	for _, f := range []struct {
		field, src string
		limit      int
	}{{"title", t.Title, MaxTitleTemplate}, {"body", t.Body, MaxBodyTemplate}} {
		if len(f.src) > f.limit {
			v.add(f.field, "is %d bytes long, the limit is %d", len(f.src), f.limit)
			continue
		}
		t, err := ParseMessageTemplate(f.field, f.src)
		if err != nil {
			v.add(f.field, "%v", err)
			continue
		}
		if err := tryTemplate(t); err != nil {
			v.add(f.field, "%v", err)
		}
	}
	return v.errOrNil()
}

// tryTemplate runs t over a sample event, to find at once what would fail every send: a field
// TemplateData does not have, a function called with the wrong number of arguments. What
// depends on the event (a details key it lacks) is left for the send to find.
func tryTemplate(t *template.Template) error {
	sample := TemplateData{ID: "0123456789abcdef", Type: "user.image.analysis.failed", Level: "error", Message: "m",
		Timestamp: "2026-01-01T00:00:00Z", Details: map[string]any{}}
	err := t.Execute(io.Discard, sample)
	if err == nil {
		return nil
	}
	m := executionError.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	where, expr, what := m[1], m[2], m[3]
	switch {
	case strings.HasPrefix(what, "can't evaluate field "):
		field, _, _ := strings.Cut(strings.TrimPrefix(what, "can't evaluate field "), " ")
		return fmt.Errorf("uses a field events do not have, %s, in {{%s}} at %s; a template may use %s", field, expr, where, templateFields)
	case strings.Contains(what, "wrong number of args"):
		return fmt.Errorf("calls a function with the wrong number of arguments at %s: %s", where, what)
	}
	return nil
}

// executionError takes text/template's execution errors apart: `template: title:1:2:
// executing "title" at <.Nope>: can't evaluate field Nope in type ...` gives the line and
// column, the expression and what went wrong.
var executionError = regexp.MustCompile(`^template: \w+:(\d+:\d+): executing "\w+" at <(.*?)>: (.*)$`)

// ParseMessageTemplate parses one template source with TemplateFuncs; a parse error names the
// line, as text/template reports it.
func ParseMessageTemplate(name, src string) (*template.Template, error) {
	t, err := template.New(name).Funcs(TemplateFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("is not a valid Go template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

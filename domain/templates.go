package domain

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode/utf8"
)

// MessageTemplates override the text of a configuration's notifications: Title is the mail
// subject, the issue title or the chat message's header; Body the text under it. Both are Go
// text/template sources over the event (notify.TemplateData); "" keeps herald's default.
type MessageTemplates struct {
	Title string
	Body  string
}

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
		if _, err := ParseMessageTemplate(f.field, f.src); err != nil {
			v.add(f.field, "%v", err)
		}
	}
	return v.errOrNil()
}

// ParseMessageTemplate parses one template source with TemplateFuncs; a parse error names the
// line, as text/template reports it.
func ParseMessageTemplate(name, src string) (*template.Template, error) {
	t, err := template.New(name).Funcs(TemplateFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("is not a valid Go template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

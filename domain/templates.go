package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
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

// Limits of message templates: the length of their source, and what one rendering may take.
// A template is Go code of sorts, and its author need not be the server's operator: a range
// over 1e9, or a template that calls itself twice, would otherwise hold a core for hours.
const (
	MaxTitleTemplate = 1024
	MaxBodyTemplate  = 16 * 1024

	// MaxTemplateSteps bounds the range iterations and template calls of one rendering.
	MaxTemplateSteps = 10_000
	// MaxTemplateDepth bounds how deep template calls nest.
	MaxTemplateDepth = 100
	// MaxTemplateOutput bounds the text of one rendering, more than any sender keeps; what a
	// template writes beyond it is cut off, and the rendering stops there.
	MaxTemplateOutput = 256 * 1024
	// MaxTemplateTime bounds the time of one rendering.
	MaxTemplateTime = time.Second
)

// ErrTemplateTooCostly is why a rendering was stopped: it took more than MaxTemplateSteps
// steps, MaxTemplateDepth nested template calls or MaxTemplateTime.
var ErrTemplateTooCostly = errors.New("template too costly")

// Truncate keeps s within n characters, ending a shortened text with an ellipsis; n below 1
// keeps s whole. Message templates and the senders' field limits use it.
func Truncate(s string, n int) string {
	if n < 1 || len(s) <= n { // a string holds at least as many bytes as characters
		return s
	}
	// Find where the n-th character starts without decoding the rest: s may be a megabyte
	// that an error message quotes the start of.
	count, cut := 0, 0
	for i := range s {
		if count == n-1 {
			cut = i
		}
		if count == n {
			return string([]rune(s[:cut])) + "…" // invalid bytes become U+FFFD, as before
		}
		count++
	}
	return s
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
	"default": func(fallback, v any) any {
		if isEmpty(v) {
			return fallback
		}
		return v
	},
}

// isEmpty tells whether v is what default stands in for, as Sprig's default (Helm's
// templates) reads it: nothing (a details key the event lacks, a JSON null), empty text, a
// list or an object without items, 0 or false; a struct never is.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return r.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return r.IsNil()
	case reflect.Struct: // as Sprig has it: never empty
		return false
	default:
		return r.IsZero()
	}
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
// TemplateData does not have, a function called with the wrong number of arguments, a template
// that is not defined, one that runs past the limits. What depends on the event (a details key
// it lacks) is left for the send to find.
func tryTemplate(t *template.Template) error {
	sample := TemplateData{ID: "0123456789abcdef", Type: "user.image.analysis.failed", Level: "error", Message: "m",
		Timestamp: "2026-01-01T00:00:00Z", Details: map[string]any{}}
	_, err := RenderMessageTemplate(t, sample)
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrTemplateTooCostly) {
		return fmt.Errorf("%v, on a sample event", err)
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
	case strings.HasPrefix(expr, "{{template ") && strings.HasSuffix(what, " not defined"):
		return fmt.Errorf("calls a template that is not defined at %s: %s; define it with {{define \"name\"}}...{{end}}", where, what)
	}
	return nil
}

// executionError takes text/template's execution errors apart: `template: title:1:2:
// executing "title" at <.Nope>: can't evaluate field Nope in type ...` gives the line and
// column, the expression and what went wrong.
var executionError = regexp.MustCompile(`^template: \w+:(\d+:\d+): executing "\w+" at <(.*?)>: (.*)$`)

// ParseMessageTemplate parses one template source with TemplateFuncs; a parse error names the
// line, as text/template reports it.
//
// Each range iteration and each template call counts a step: ParseMessageTemplate puts a call
// of stepFunc at the start of every range body and every template, which RenderMessageTemplate
// binds to its own count. (A template's source cannot call stepFunc: it is not defined when
// the source is parsed.)
func ParseMessageTemplate(name, src string) (*template.Template, error) {
	t, err := template.New(name).Funcs(TemplateFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("is not a valid Go template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	t.Funcs(template.FuncMap{stepFunc: noStep})
	for _, each := range t.Templates() {
		if each.Tree != nil && each.Tree.Root != nil {
			countSteps(each.Tree.Root, true)
		}
	}
	return t, nil
}

// stepFunc is the function the steps of a rendering call, with 0 for a range iteration, 1 on
// entering a template and -1 on leaving it (a template's body has no way out but its end, or
// an error that ends the rendering). The nodes below call it so.
const stepFunc = "heraldStep"

var iterationNode, enterNode, leaveNode = stepCall(0), stepCall(1), stepCall(-1)

// noStep is stepFunc outside RenderMessageTemplate, which counts nothing.
func noStep(int) string { return "" }

func stepCall(delta int) parse.Node {
	t := template.New("step").Funcs(template.FuncMap{stepFunc: noStep})
	return template.Must(t.Parse(fmt.Sprintf("{{%s %d}}", stepFunc, delta))).Tree.Root.Nodes[0]
}

// countSteps puts iterationNode at the start of every range body within list and, when
// body is set (list is a template's body), enterNode and leaveNode around list.
func countSteps(list *parse.ListNode, body bool) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.RangeNode:
			countSteps(n.List, false)
			n.List.Nodes = append([]parse.Node{iterationNode}, n.List.Nodes...)
			countSteps(n.ElseList, false)
		case *parse.IfNode:
			countSteps(n.List, false)
			countSteps(n.ElseList, false)
		case *parse.WithNode:
			countSteps(n.List, false)
			countSteps(n.ElseList, false)
		case *parse.ListNode:
			countSteps(n, false)
		}
	}
	if body {
		list.Nodes = append(append([]parse.Node{enterNode}, list.Nodes...), leaveNode)
	}
}

// RenderMessageTemplate runs t (from ParseMessageTemplate) over data within the limits: a
// rendering that takes more than MaxTemplateSteps steps or MaxTemplateTime fails with
// ErrTemplateTooCostly, and one that writes more than MaxTemplateOutput is cut off there,
// ending in an ellipsis.
func RenderMessageTemplate(t *template.Template, data TemplateData) (string, error) {
	run, err := t.Clone() // to bind stepFunc to this rendering's count
	if err != nil {
		return "", err
	}
	b := &renderBudget{until: time.Now().Add(MaxTemplateTime)}
	run.Funcs(template.FuncMap{stepFunc: b.step})
	switch err := run.Execute(b, data); {
	case errors.Is(err, ErrTemplateTooCostly):
		return "", b.why
	case errors.Is(err, errOutputFull):
		out := b.out.Bytes()
		last := len(out) - 1 // drop the start of a character the cut split, and no more
		for last > 0 && !utf8.RuneStart(out[last]) {
			last--
		}
		if last >= 0 && !utf8.FullRune(out[last:]) {
			out = out[:last]
		}
		return string(out) + "…", nil
	case err != nil:
		return "", err
	}
	return b.out.String(), nil
}

// renderBudget is what one rendering may still take, and the writer of its text.
type renderBudget struct {
	out   bytes.Buffer
	steps int
	depth int // of template calls
	until time.Time
	why   error // once exceeded
}

var errOutputFull = errors.New("the rendering's text is full")

func (b *renderBudget) step(delta int) (string, error) {
	if delta < 0 {
		b.depth--
		return "", nil
	}
	b.steps++
	b.depth += delta
	switch {
	case b.depth > MaxTemplateDepth:
		b.why = fmt.Errorf("%w: its template calls nest more than %d deep (a template that calls itself)", ErrTemplateTooCostly, MaxTemplateDepth)
	case b.steps > MaxTemplateSteps:
		b.why = fmt.Errorf("%w: it runs more than %d range iterations and template calls (a range over a large number, or a template that calls itself)", ErrTemplateTooCostly, MaxTemplateSteps)
	case b.late(): // it said why
	default:
		return "", nil
	}
	return "", b.why
}

// late tells whether the rendering has run past MaxTemplateTime, and says so in b.why.
func (b *renderBudget) late() bool {
	if !time.Now().After(b.until) {
		return false
	}
	b.why = fmt.Errorf("%w: it takes longer than %s to render", ErrTemplateTooCostly, MaxTemplateTime)
	return true
}

func (b *renderBudget) Write(p []byte) (int, error) {
	if b.late() {
		return 0, b.why
	}
	if room := MaxTemplateOutput - b.out.Len(); len(p) > room {
		b.out.Write(p[:room])
		return room, errOutputFull
	}
	return b.out.Write(p)
}

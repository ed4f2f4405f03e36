package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/template"

	"herald/domain"
)

// Default templates: what a notification says when its configuration does not override them.
const (
	DefaultTitleTemplate = `[{{.Level | upper}}] {{.Type}}{{with .Resource.ID}} on {{.}}{{end}}`
	DefaultBodyTemplate  = `{{.Message}}
{{with .Description}}
{{.}}
{{end}}
Level:    {{.Level}}
Type:     {{.Type}}
Resource: {{with .Resource.Type}}{{.}} {{end}}{{.Resource.ID}}
Account:  {{.Resource.AccountName}}
Source:   {{.Source.ServiceName}}{{with .Source.HostID}} on {{.}}{{end}}
Time:     {{.Timestamp}}
Event:    {{.ID}}{{with .URL}}
Open in the UI: {{.}}{{end}}
`
)

// DefaultFieldsBodyTemplate is the default text of senders that show the event's fields
// themselves (FieldsSender: Slack, Teams): the message and what the event type means.
const DefaultFieldsBodyTemplate = `{{.Message}}{{with .Description}}

{{.}}{{end}}`

var (
	defaultTitle      = template.Must(domain.ParseMessageTemplate("title", DefaultTitleTemplate))
	defaultBody       = template.Must(domain.ParseMessageTemplate("body", DefaultBodyTemplate))
	defaultFieldsBody = template.Must(domain.ParseMessageTemplate("body", DefaultFieldsBodyTemplate))
)

// NewNotification prepares the delivery of e through c: its idempotency key, its link to the
// UI (uiURL "" for none) and its title and text from c's templates or the defaults.
func NewNotification(e domain.LogEvent, c domain.Configuration, uiURL string) (Notification, error) {
	return newNotification(e, c, uiURL, defaultBody)
}

// newNotification is NewNotification with the body template used when c has none.
func newNotification(e domain.LogEvent, c domain.Configuration, uiURL string, body *template.Template) (Notification, error) {
	n := newEventNotification(e, c, uiURL)
	data := templateData(e, c, n.EventURL)
	var err error
	if n.Title, err = render(c.Templates.Title, defaultTitle, "title", data); err != nil {
		return Notification{}, err
	}
	n.Title = strings.Join(strings.Fields(n.Title), " ") // one line: it becomes a subject
	if n.Text, err = render(c.Templates.Body, body, "body", data); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// newEventNotification is a notification without title and text, for an EventSender.
func newEventNotification(e domain.LogEvent, c domain.Configuration, uiURL string) Notification {
	n := Notification{Event: e, Configuration: c, IdempotencyKey: IdempotencyKey(e.ID, c.ID), UIURL: uiURL}
	if uiURL != "" {
		n.EventURL = strings.TrimRight(uiURL, "/") + "/events/" + e.ID
	}
	return n
}

// IdempotencyKey is the same for every attempt of one (event, configuration) pair.
func IdempotencyKey(eventID, configurationID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + configurationID))
	return hex.EncodeToString(sum[:16])
}

func templateData(e domain.LogEvent, c domain.Configuration, url string) domain.TemplateData {
	d := domain.TemplateData{ID: e.ID, Type: e.Type, Level: e.Level.String(), Message: e.Message, Timestamp: domain.FormatTimestamp(e.Timestamp), URL: url, Configuration: c.Name}
	d.Resource.AccountName, d.Resource.Type, d.Resource.ID = e.Resource.UserID, e.Resource.Type, e.Resource.ID
	d.Source.RequestID, d.Source.ServiceName, d.Source.HostID, d.Source.BaseURL = e.Source.RequestID, e.Source.ServiceName, e.Source.HostID, e.Source.BaseURL
	if len(e.Details) > 0 {
		_ = json.Unmarshal(e.Details, &d.Details) // validated when recorded; not an object: no details
	}
	if t, ok := domain.LookupEventType(e.Type); ok {
		d.Description = t.Description
	}
	return d
}

// parsed keeps the configurations' templates once parsed, by name and source.
var parsed struct {
	sync.Mutex
	templates map[[2]string]*template.Template
}

func parseTemplate(name, src string) (*template.Template, error) {
	key := [2]string{name, src}
	parsed.Lock()
	t, ok := parsed.templates[key]
	parsed.Unlock()
	if ok {
		return t, nil
	}
	t, err := domain.ParseMessageTemplate(name, src)
	if err != nil {
		return nil, err
	}
	parsed.Lock()
	defer parsed.Unlock()
	if parsed.templates == nil || len(parsed.templates) >= 1024 { // bound memory: start over
		parsed.templates = map[[2]string]*template.Template{}
	}
	parsed.templates[key] = t
	return t, nil
}

func render(src string, fallback *template.Template, name string, data domain.TemplateData) (string, error) {
	if src == "" { // herald's own: no budget to keep
		var out bytes.Buffer
		if err := fallback.Execute(&out, data); err != nil {
			return "", &SendError{Err: fmt.Errorf("the default %s template failed: %w", name, err)}
		}
		return out.String(), nil
	}
	t, err := parseTemplate(name, src)
	if err != nil {
		return "", &SendError{Err: fmt.Errorf("the configuration's %s template %w", name, err)}
	}
	out, err := domain.RenderMessageTemplate(t, data)
	if err != nil {
		return "", &SendError{Err: fmt.Errorf("the configuration's %s template failed: %w", name, err)}
	}
	return out, nil
}

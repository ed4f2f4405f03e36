// Package slack posts events to a Slack channel through an incoming webhook, as Block Kit
// messages.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"herald/domain"
	"herald/notify"
)

// Sender posts to the configuration's incoming-webhook URL.
type Sender struct {
	clients notify.HTTPClients
}

// New builds a sender.
func New(clients notify.HTTPClients) *Sender { return &Sender{clients: clients} }

type text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"` // plain_text: render :shortcodes:
}

type block struct {
	Type   string `json:"type"`
	Text   *text  `json:"text,omitempty"`
	Fields []text `json:"fields,omitempty"`
}

// Slack's limits, in characters.
const (
	maxHeader  = 150
	maxSection = 3000
)

// Message returns the Block Kit message for a notification: its title as the header, its text,
// the level, type, resource, account, source and time, and a link to the event in the UI.
func Message(n notify.Notification) []byte {
	e := n.Event
	title := n.Title
	if strings.TrimSpace(title) == "" { // Slack refuses an empty header
		title = fmt.Sprintf("[%s] %s", e.Level.Upper(), e.Type)
	}
	if n.Test {
		title = ":test_tube: Test — " + title
	}
	resource, source := e.Resource.ID, e.Source.ServiceName
	if e.Resource.Type != "" {
		resource = e.Resource.Type + " " + resource
	}
	if e.Source.HostID != "" {
		source += " on " + e.Source.HostID
	}
	blocks := []block{{Type: "header", Text: &text{Type: "plain_text", Text: domain.Truncate(title, maxHeader), Emoji: true}}}
	if strings.TrimSpace(n.Text) != "" { // and an empty section too
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: escapeTruncated(strings.TrimSpace(n.Text), maxSection)}})
	}
	blocks = append(blocks, block{Type: "section", Fields: []text{
		{Type: "mrkdwn", Text: "*Level*\n" + e.Level.Upper()},
		{Type: "mrkdwn", Text: "*Type*\n" + escape(e.Type)},
		{Type: "mrkdwn", Text: "*Resource*\n" + escapeTruncated(resource, 1900)},
		{Type: "mrkdwn", Text: "*Account*\n" + escape(e.Resource.UserID)},
		{Type: "mrkdwn", Text: "*Source*\n" + escape(source)},
		{Type: "mrkdwn", Text: "*Time*\n" + domain.FormatTimestamp(e.Timestamp)},
	}})
	if n.EventURL != "" {
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: "<" + n.EventURL + "|Open in the UI>"}})
	}
	body, _ := json.Marshal(map[string]any{"text": title, "blocks": blocks})
	return body
}

// ShowsEventFields marks the sender as a notify.FieldsSender: the message lists the event's
// level, type, resource, account, source and time itself.
func (s *Sender) ShowsEventFields() {}

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.SlackSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a slack configuration", n.Configuration.ID)}
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.WebhookURL.Reveal(), Message(n), nil)
}

// escape makes text safe in mrkdwn: &, < and > have meaning there.
func escape(s string) string { return mrkdwnEscaper.Replace(s) }

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeTruncated escapes s and keeps it within n characters, without cutting an entity.
func escapeTruncated(s string, n int) string {
	escaped := escape(s)
	out := domain.Truncate(escaped, n)
	if out == escaped {
		return out
	}
	out = strings.TrimSuffix(out, "…")
	if amp := strings.LastIndexByte(out, '&'); amp >= 0 && !strings.Contains(out[amp:], ";") {
		out = out[:amp]
	}
	return out + "…"
}

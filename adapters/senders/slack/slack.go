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
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type   string `json:"type"`
	Text   *text  `json:"text,omitempty"`
	Fields []text `json:"fields,omitempty"`
}

// Message returns the Block Kit message for an event: a header with level and type, the
// message, the resource, account, source and time, and a link to the UI when uiURL is set.
func Message(e domain.LogEvent, uiURL string) []byte {
	title := fmt.Sprintf("[%s] %s", e.Level.Upper(), e.Type)
	resource := e.Resource.ID
	if e.Resource.Type != "" {
		resource = e.Resource.Type + " " + resource
	}
	blocks := []block{
		{Type: "header", Text: &text{Type: "plain_text", Text: truncate(title, 150)}},
		{Type: "section", Text: &text{Type: "mrkdwn", Text: truncate(escape(e.Message), 3000)}},
		{Type: "section", Fields: []text{
			{Type: "mrkdwn", Text: "*Level*\n" + e.Level.Upper()},
			{Type: "mrkdwn", Text: "*Type*\n" + escape(e.Type)},
			{Type: "mrkdwn", Text: "*Resource*\n" + truncate(escape(resource), 1900)},
			{Type: "mrkdwn", Text: "*Account*\n" + escape(e.Resource.UserID)},
			{Type: "mrkdwn", Text: "*Source*\n" + escape(e.Source.ServiceName+" on "+e.Source.HostID)},
			{Type: "mrkdwn", Text: "*Time*\n" + domain.FormatTimestamp(e.Timestamp)},
		}},
	}
	if uiURL != "" {
		link := strings.TrimRight(uiURL, "/") + "/events/" + e.ID
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: "<" + link + "|Open in the UI>"}})
	}
	body, _ := json.Marshal(map[string]any{"text": title + ": " + e.Message, "blocks": blocks})
	return body
}

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.SlackSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a slack configuration", n.Configuration.ID)}
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.WebhookURL.Reveal(), Message(n.Event, n.UIURL), nil)
}

// escape makes text safe in mrkdwn: &, < and > have meaning there.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate keeps Slack's field limits, counted in characters.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Package teams posts events to a Microsoft Teams channel as Adaptive Cards, through a
// Workflows webhook (or a legacy Office 365 connector URL, which takes the same message).
package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"herald/domain"
	"herald/notify"
)

// Sender posts to the configuration's webhook URL.
type Sender struct {
	clients notify.HTTPClients
}

// New builds a sender.
func New(clients notify.HTTPClients) *Sender { return &Sender{clients: clients} }

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// maxText keeps the body well within the 28 KB Teams accepts for a whole message.
const maxText = 8000

// Message returns the message carrying the Adaptive Card for a notification: its title, its
// text, the level, type, resource, account, source, time and event id, and a link to the
// event in the UI. Workflows webhooks and legacy connector URLs take the same message.
func Message(n notify.Notification) []byte {
	e := n.Event
	color := "Good"
	if e.Level == domain.LevelError {
		color = "Attention"
	}
	title := n.Title
	if strings.TrimSpace(title) == "" {
		title = fmt.Sprintf("[%s] %s", e.Level.Upper(), e.Type)
	}
	if n.Test {
		title = "🧪 Test — " + title
	}
	resource, source := e.Resource.ID, e.Source.ServiceName
	if e.Resource.Type != "" {
		resource = e.Resource.Type + " " + resource
	}
	if e.Source.HostID != "" {
		source += " on " + e.Source.HostID
	}
	body := []any{map[string]any{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "color": color, "wrap": true, "text": title}}
	if text := paragraphs(n.Text); text != "" {
		body = append(body, map[string]any{"type": "TextBlock", "wrap": true, "text": domain.Truncate(text, maxText)})
	}
	body = append(body, map[string]any{"type": "FactSet", "facts": []fact{
		{"Level", e.Level.Upper()}, {"Type", e.Type},
		{"Resource", resource}, {"Account", e.Resource.UserID},
		{"Source", source}, {"Time", domain.FormatTimestamp(e.Timestamp)},
		{"Event id", e.ID},
	}})
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if n.EventURL != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open in the UI", "url": n.EventURL}}
	}
	msg, _ := json.Marshal(map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	})
	return msg
}

// ShowsEventFields marks the sender as a notify.FieldsSender: the message lists the event's
// level, type, resource, account, source and time itself.
func (s *Sender) ShowsEventFields() {}

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.TeamsSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a teams configuration", n.Configuration.ID)}
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.WebhookURL.Reveal(), Message(n), nil)
}

// paragraphs prepares plain text for a TextBlock, which reads it as Markdown: a single line
// break would be lost there, so every line becomes a paragraph.
func paragraphs(text string) string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line = strings.TrimRight(line, " \t\r"); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n\n")
}

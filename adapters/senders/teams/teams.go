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

// Message returns the message carrying the Adaptive Card for an event.
func Message(e domain.LogEvent, uiURL string) []byte {
	color := "Good"
	if e.Level == domain.LevelError {
		color = "Attention"
	}
	resource := e.Resource.ID
	if e.Resource.Type != "" {
		resource = e.Resource.Type + " " + resource
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []any{
			map[string]any{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "color": color, "wrap": true,
				"text": fmt.Sprintf("[%s] %s", e.Level.Upper(), e.Type)},
			map[string]any{"type": "TextBlock", "wrap": true, "text": e.Message},
			map[string]any{"type": "FactSet", "facts": []fact{
				{"Resource", resource}, {"Account", e.Resource.UserID},
				{"Source", e.Source.ServiceName + " on " + e.Source.HostID}, {"Time", domain.FormatTimestamp(e.Timestamp)},
				{"Event id", e.ID},
			}},
		},
	}
	if uiURL != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open in the UI", "url": strings.TrimRight(uiURL, "/") + "/events/" + e.ID}}
	}
	body, _ := json.Marshal(map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	})
	return body
}

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.TeamsSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a teams configuration", n.Configuration.ID)}
	}
	return notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), settings.WebhookURL.Reveal(), Message(n.Event, n.UIURL), nil)
}

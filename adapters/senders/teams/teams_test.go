package teams_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"herald/adapters/senders/sendertest"
	"herald/adapters/senders/teams"
	"herald/domain"
	"herald/notify"
)

func notification(t *testing.T, url string, templates domain.MessageTemplates) notify.Notification {
	t.Helper()
	e := domain.LogEvent{ID: "e1", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 0, time.UTC), Level: domain.LevelError,
		Type: "user.image.analysis.failed", Message: "Failed to analyze image",
		Resource: domain.Resource{ID: "sha256:abc", Type: "image_digest", UserID: "alice"}, Source: domain.Source{ServiceName: "analyzer", HostID: "h"}}
	c := domain.Configuration{ID: "c1", Name: "alerts", Kind: domain.KindTeams, VerifyTLS: true,
		Settings: domain.TeamsSettings{WebhookURL: domain.NewSecret(url)}, Templates: templates}
	n, err := notify.NewNotification(e, c, "https://ui.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// card is the Adaptive Card of a message, decoded.
type card struct {
	Type, Version string
	Body          []map[string]any
	Actions       []map[string]any
}

func decode(t *testing.T, message []byte) card {
	t.Helper()
	var m struct {
		Type        string
		Attachments []struct {
			ContentType string
			Content     card
		}
	}
	if err := json.Unmarshal(message, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("message %s", message)
	}
	return m.Attachments[0].Content
}

// A Workflows webhook accepts POST application/json of a message whose attachment is an
// Adaptive Card, and answers 202 Accepted.
func TestSend_postsAnAdaptiveCard(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		if got, err = io.ReadAll(r.Body); r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	receipt, err := teams.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, srv.URL+"/workflows/x", domain.MessageTemplates{}))
	if err != nil || receipt.Status != http.StatusAccepted {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	c := decode(t, got)
	if c.Type != "AdaptiveCard" || c.Version != "1.4" {
		t.Fatalf("card %+v", c)
	}
	if title := c.Body[0]; title["type"] != "TextBlock" || title["text"] != "[ERROR] user.image.analysis.failed on sha256:abc" || title["color"] != "Attention" {
		t.Fatalf("title %v", title)
	}
	text, _ := c.Body[1]["text"].(string)
	if c.Body[1]["wrap"] != true || !strings.HasPrefix(text, "Failed to analyze image\n\n") {
		t.Fatalf("body %v", c.Body[1])
	}
	// A TextBlock is Markdown: one line break would join the lines.
	for _, want := range []string{"\n\nLevel:    error\n\n", "\n\nType:     user.image.analysis.failed\n\n", "\n\nResource: image_digest sha256:abc\n\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("body %q lacks %q", text, want)
		}
	}
	facts, _ := json.Marshal(c.Body[2])
	for _, want := range []string{`"type":"FactSet"`, `{"title":"Level","value":"ERROR"}`, `{"title":"Resource","value":"image_digest sha256:abc"}`, `{"title":"Source","value":"analyzer on h"}`, `{"title":"Event id","value":"e1"}`} {
		if !strings.Contains(string(facts), want) {
			t.Errorf("facts %s lack %s", facts, want)
		}
	}
	if action := c.Actions[0]; action["type"] != "Action.OpenUrl" || action["url"] != "https://ui.example.com/events/e1" {
		t.Fatalf("action %v", action)
	}
}

// A configuration's templates replace the title and the body, and nothing else.
func TestMessage_templatesReplaceExactlyTheTitleAndBody(t *testing.T) {
	t.Parallel()
	plain := decode(t, teams.Message(notification(t, "https://example.webhook.office.com/x", domain.MessageTemplates{})))
	templated := decode(t, teams.Message(notification(t, "https://example.webhook.office.com/x", domain.MessageTemplates{
		Title: "{{.Configuration}}: {{.Type}}", Body: "**{{.Level}}** {{.Message}}\nsee {{.URL}}",
	})))
	if got := templated.Body[0]["text"]; got != "alerts: user.image.analysis.failed" {
		t.Errorf("title %q", got)
	}
	if got := templated.Body[1]["text"]; got != "**error** Failed to analyze image\n\nsee https://ui.example.com/events/e1" {
		t.Errorf("body %q", got)
	}
	if !reflect.DeepEqual(templated.Body[2:], plain.Body[2:]) || !reflect.DeepEqual(templated.Actions, plain.Actions) {
		t.Errorf("the templates changed more than the title and body:\n%v\n%v", templated.Body[2:], plain.Body[2:])
	}
	delete(templated.Body[0], "text")
	delete(plain.Body[0], "text")
	if !reflect.DeepEqual(templated.Body[0], plain.Body[0]) {
		t.Errorf("the title block changed beyond its text: %v, %v", templated.Body[0], plain.Body[0])
	}
}

func TestMessage_aTestNotificationSaysSo(t *testing.T) {
	t.Parallel()
	n := notification(t, "https://example.webhook.office.com/x", domain.MessageTemplates{})
	n.Test = true
	if got := decode(t, teams.Message(n)).Body[0]["text"]; got != "🧪 Test — [ERROR] user.image.analysis.failed on sha256:abc" {
		t.Fatalf("title %q", got)
	}
}

// A template that renders nothing leaves a readable card: the default title, no empty body.
func TestMessage_emptyTemplates(t *testing.T) {
	t.Parallel()
	c := decode(t, teams.Message(notification(t, "https://example.webhook.office.com/x", domain.MessageTemplates{
		Title: "{{with .Details.summary}}{{.}}{{end}}", Body: " {{with .Details.text}}{{.}}{{end}}\n",
	})))
	if c.Body[0]["text"] != "[ERROR] user.image.analysis.failed" || c.Body[1]["type"] != "FactSet" {
		t.Fatalf("card body %v", c.Body)
	}
}

// Legacy connector URLs answer 200 with "1"; that is a success too.
func TestSend_legacyConnectorAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "1") }))
	defer srv.Close()
	if r, err := teams.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, srv.URL, domain.MessageTemplates{})); err != nil || r.Body != "1" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestSender_contract(t *testing.T) {
	sendertest.TestSender(t, func(c notify.HTTPClients) notify.Sender { return teams.New(c) }, sendertest.Features{
		Notification: func(url, _ string) notify.Notification { return notification(t, url, domain.MessageTemplates{}) },
		WrongKind:    domain.SlackSettings{},
	})
}

package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"herald/adapters/senders/sendertest"
	"herald/adapters/senders/slack"
	"herald/domain"
	"herald/notify"
)

func event() domain.LogEvent {
	return domain.LogEvent{
		ID: "e1", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 0, time.UTC), Level: domain.LevelError,
		Type: "user.image.analysis.failed", Message: "Failed to analyze <image> & more",
		Resource: domain.Resource{ID: "sha256:abc", Type: "image_digest", UserID: "alice"},
		Source:   domain.Source{ServiceName: "analyzer", HostID: "host-1"},
	}
}

func configuration(url string, templates domain.MessageTemplates) domain.Configuration {
	return domain.Configuration{ID: "c1", Name: "alerts", Kind: domain.KindSlack, VerifyTLS: true,
		Settings: domain.SlackSettings{WebhookURL: domain.NewSecret(url)}, Templates: templates}
}

func notification(t *testing.T, url string, templates domain.MessageTemplates) notify.Notification {
	t.Helper()
	n, err := notify.NewNotification(event(), configuration(url, templates), "https://ui.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// message is the Block Kit message Message builds, decoded.
type message struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type, Text string
			Emoji      bool
		} `json:"text"`
		Fields []struct{ Type, Text string } `json:"fields"`
	} `json:"blocks"`
}

func decode(t *testing.T, body []byte) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The request Slack's incoming webhooks accept: POST application/json with text and blocks.
func TestSend_postsBlockKitToTheIncomingWebhook(t *testing.T) {
	var got []byte
	var path, contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, contentType = r.URL.Path, r.Header.Get("Content-Type")
		var err error
		if got, err = io.ReadAll(r.Body); r.Method != http.MethodPost || err != nil || !json.Valid(got) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "invalid_payload")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	receipt, err := slack.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, srv.URL+"/services/T0/B0/XYZ", domain.MessageTemplates{}))
	if err != nil || receipt.Status != 200 || receipt.Body != "ok" {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	if path != "/services/T0/B0/XYZ" || contentType != "application/json" {
		t.Fatalf("path %s content type %s", path, contentType)
	}
	m := decode(t, got)
	const title = "[ERROR] user.image.analysis.failed on sha256:abc"
	if m.Text != title {
		t.Fatalf("fallback text %q", m.Text)
	}
	if h := m.Blocks[0]; h.Type != "header" || h.Text.Type != "plain_text" || h.Text.Text != title {
		t.Fatalf("header block %+v", h)
	}
	body := m.Blocks[1].Text
	if body.Type != "mrkdwn" || !strings.HasPrefix(body.Text, "Failed to analyze &lt;image&gt; &amp; more\n") {
		t.Fatalf("the body does not start with the message escaped for mrkdwn: %q", body.Text)
	}
	for _, want := range []string{"Level:    error", "Type:     user.image.analysis.failed", "Resource: image_digest sha256:abc", "Open in the UI: https://ui.example.com/events/e1"} {
		if !strings.Contains(body.Text, want) {
			t.Errorf("body %q lacks %q", body.Text, want)
		}
	}
	fields, _ := json.Marshal(m.Blocks[2].Fields)
	for _, want := range []string{"*Level*\\nERROR", "*Type*\\nuser.image.analysis.failed", "*Resource*\\nimage_digest sha256:abc", "*Account*\\nalice", "*Source*\\nanalyzer on host-1", "2018-06-28T22:36:26.000000Z"} {
		if !strings.Contains(string(fields), want) {
			t.Errorf("fields %s lack %s", fields, want)
		}
	}
	if link := m.Blocks[3].Text.Text; link != "<https://ui.example.com/events/e1|Open in the UI>" {
		t.Fatalf("UI link %q", link)
	}
}

// A configuration's templates replace the header (and the fallback text) and the body, and
// nothing else.
func TestMessage_templatesReplaceExactlyTheHeaderAndBody(t *testing.T) {
	t.Parallel()
	plain := decode(t, slack.Message(notification(t, "https://hooks.slack.com/x", domain.MessageTemplates{})))
	templated := decode(t, slack.Message(notification(t, "https://hooks.slack.com/x", domain.MessageTemplates{
		Title: "{{.Configuration}}: {{.Type}}", Body: "*{{.Level}}* {{.Message}}\nsee {{.URL}}",
	})))
	if templated.Text != "alerts: user.image.analysis.failed" || templated.Blocks[0].Text.Text != templated.Text {
		t.Errorf("header %q, fallback text %q", templated.Blocks[0].Text.Text, templated.Text)
	}
	if got := templated.Blocks[1].Text.Text; got != "*error* Failed to analyze &lt;image&gt; &amp; more\nsee https://ui.example.com/events/e1" {
		t.Errorf("body %q", got)
	}
	if len(templated.Blocks) != len(plain.Blocks) || !reflect.DeepEqual(templated.Blocks[2:], plain.Blocks[2:]) {
		t.Errorf("the templates changed more than the header and body:\n%+v\n%+v", templated.Blocks[2:], plain.Blocks[2:])
	}
}

func TestMessage_aTestNotificationSaysSo(t *testing.T) {
	t.Parallel()
	n := notification(t, "https://hooks.slack.com/x", domain.MessageTemplates{})
	n.Test = true
	m := decode(t, slack.Message(n))
	const want = ":test_tube: Test — [ERROR] user.image.analysis.failed on sha256:abc"
	if h := m.Blocks[0].Text; h.Text != want || !h.Emoji || m.Text != want {
		t.Fatalf("header %+v, fallback text %q", h, m.Text)
	}
}

// Slack refuses a message with an empty header or section, or one over its limits.
func TestMessage_keepsWithinSlacksRules(t *testing.T) {
	t.Parallel()
	empty := decode(t, slack.Message(notification(t, "https://hooks.slack.com/x", domain.MessageTemplates{
		Title: "{{with .Details.summary}}{{.}}{{end}}", Body: "{{with .Details.text}}{{.}}{{end}}",
	})))
	if empty.Blocks[0].Text.Text != "[ERROR] user.image.analysis.failed" || empty.Blocks[1].Fields == nil {
		t.Errorf("an empty title or body: %+v", empty.Blocks[:2])
	}
	long := decode(t, slack.Message(notification(t, "https://hooks.slack.com/x", domain.MessageTemplates{
		Title: strings.Repeat("t", 200), Body: strings.Repeat("a", 2998) + "&&&",
	})))
	if h := long.Blocks[0].Text.Text; utf8.RuneCountInString(h) != 150 || !strings.HasSuffix(h, "…") {
		t.Errorf("header of %d characters", utf8.RuneCountInString(h))
	}
	if b := long.Blocks[1].Text.Text; utf8.RuneCountInString(b) > 3000 || !strings.HasSuffix(b, "a…") {
		t.Errorf("body of %d characters ending %q: an entity was cut", utf8.RuneCountInString(b), b[len(b)-10:])
	}
}

func TestSend_slackErrorsAreClassified(t *testing.T) {
	for status, retryable := range map[int]bool{400: false, 403: false, 404: false, 410: false, 429: true, 500: true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "invalid_token")
		}))
		_, err := slack.New(notify.NewHTTPClients(nil, 0)).Send(context.Background(), notification(t, srv.URL, domain.MessageTemplates{}))
		srv.Close()
		var se *notify.SendError
		if !errors.As(err, &se) || se.Retryable != retryable || se.Status != status {
			t.Errorf("status %d: %v", status, err)
		}
		if strings.Contains(err.Error(), srv.URL) {
			t.Errorf("the webhook URL (a credential) appears in the error: %v", err)
		}
	}
}

func TestSender_contract(t *testing.T) {
	sendertest.TestSender(t, func(c notify.HTTPClients) notify.Sender { return slack.New(c) }, sendertest.Features{
		Notification: func(url, _ string) notify.Notification { return notification(t, url, domain.MessageTemplates{}) },
		WrongKind:    domain.TeamsSettings{},
	})
}

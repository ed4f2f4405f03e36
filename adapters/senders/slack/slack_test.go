package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"herald/adapters/senders/sendertest"
	"herald/adapters/senders/slack"
	"herald/domain"
	"herald/notify"
)

func notification(url string) notify.Notification {
	return notify.Notification{
		Event: domain.LogEvent{
			ID: "e1", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 0, time.UTC), Level: domain.LevelError,
			Type: "user.image.analysis.failed", Message: "Failed to analyze <image> & more",
			Resource: domain.Resource{ID: "sha256:abc", Type: "image_digest", UserID: "alice"},
			Source:   domain.Source{ServiceName: "analyzer", HostID: "host-1"},
		},
		Configuration: domain.Configuration{ID: "c1", Kind: domain.KindSlack, VerifyTLS: true, Settings: domain.SlackSettings{WebhookURL: domain.NewSecret(url)}},
		UIURL:         "https://ui.example.com/",
	}
}

// The request Slack's incoming webhooks accept: POST application/json with text and blocks.
func TestSend_postsBlockKitToTheIncomingWebhook(t *testing.T) {
	var got map[string]any
	var path, contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, contentType = r.URL.Path, r.Header.Get("Content-Type")
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&got) != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "invalid_payload")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	receipt, err := slack.New(notify.NewHTTPClients(nil, 5*time.Second)).Send(context.Background(), notification(srv.URL+"/services/T0/B0/XYZ"))
	if err != nil || receipt.Status != 200 || receipt.Body != "ok" {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	if path != "/services/T0/B0/XYZ" || contentType != "application/json" {
		t.Fatalf("path %s content type %s", path, contentType)
	}
	if got["text"] != "[ERROR] user.image.analysis.failed: Failed to analyze <image> & more" {
		t.Fatalf("fallback text %q", got["text"])
	}
	blocks := got["blocks"].([]any)
	header := blocks[0].(map[string]any)
	if header["type"] != "header" || header["text"].(map[string]any)["text"] != "[ERROR] user.image.analysis.failed" {
		t.Fatalf("header block %v", header)
	}
	if msg := blocks[1].(map[string]any)["text"].(map[string]any)["text"]; msg != "Failed to analyze &lt;image&gt; &amp; more" {
		t.Fatalf("message not escaped for mrkdwn: %q", msg)
	}
	fields, _ := json.Marshal(blocks[2])
	for _, want := range []string{"*Resource*\\nimage_digest sha256:abc", "*Account*\\nalice", "*Source*\\nanalyzer on host-1", "2018-06-28T22:36:26.000000Z"} {
		if !strings.Contains(string(fields), want) {
			t.Fatalf("fields %s lack %s", fields, want)
		}
	}
	if link := blocks[3].(map[string]any)["text"].(map[string]any)["text"]; link != "<https://ui.example.com/events/e1|Open in the UI>" {
		t.Fatalf("UI link %q", link)
	}
}

func TestSend_slackErrorsAreClassified(t *testing.T) {
	for status, retryable := range map[int]bool{400: false, 403: false, 404: false, 410: false, 429: true, 500: true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "invalid_token")
		}))
		_, err := slack.New(notify.NewHTTPClients(nil, 5*time.Second)).Send(context.Background(), notification(srv.URL))
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
	sendertest.TestSender(t, slack.New(notify.NewHTTPClients(nil, 5*time.Second)), sendertest.Features{
		Notification: func(url, _ string) notify.Notification { return notification(url) },
		WrongKind:    domain.TeamsSettings{},
	})
}

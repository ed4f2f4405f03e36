package teams_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"herald/adapters/senders/sendertest"
	"herald/adapters/senders/teams"
	"herald/domain"
	"herald/notify"
)

// A Workflows webhook accepts POST application/json of a message whose attachment is an
// Adaptive Card, and answers 202 Accepted.
func TestSend_postsAnAdaptiveCard(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&got) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	n := notify.Notification{
		Event: domain.LogEvent{ID: "e1", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 0, time.UTC), Level: domain.LevelError,
			Type: "user.image.analysis.failed", Message: "Failed to analyze image",
			Resource: domain.Resource{ID: "sha256:abc", Type: "image_digest", UserID: "alice"}, Source: domain.Source{ServiceName: "analyzer", HostID: "h"}},
		Configuration: domain.Configuration{ID: "c1", Kind: domain.KindTeams, VerifyTLS: true, Settings: domain.TeamsSettings{WebhookURL: domain.NewSecret(srv.URL + "/workflows/x")}},
		UIURL:         "https://ui.example.com",
	}
	receipt, err := teams.New(notify.NewHTTPClients(nil, 5*time.Second)).Send(context.Background(), n)
	if err != nil || receipt.Status != http.StatusAccepted {
		t.Fatalf("send: %+v %v", receipt, err)
	}
	if got["type"] != "message" {
		t.Fatalf("message type %v", got["type"])
	}
	att := got["attachments"].([]any)[0].(map[string]any)
	card := att["content"].(map[string]any)
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" || card["type"] != "AdaptiveCard" || card["version"] != "1.4" {
		t.Fatalf("attachment %v", att)
	}
	title := card["body"].([]any)[0].(map[string]any)
	if title["text"] != "[ERROR] user.image.analysis.failed" || title["color"] != "Attention" {
		t.Fatalf("title %v", title)
	}
	action := card["actions"].([]any)[0].(map[string]any)
	if action["type"] != "Action.OpenUrl" || action["url"] != "https://ui.example.com/events/e1" {
		t.Fatalf("action %v", action)
	}
}

// Legacy connector URLs answer 200 with "1"; that is a success too.
func TestSend_legacyConnectorAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "1") }))
	defer srv.Close()
	n := notify.Notification{Event: domain.LogEvent{ID: "e", Level: domain.LevelInfo, Type: "a.b"},
		Configuration: domain.Configuration{Kind: domain.KindTeams, VerifyTLS: true, Settings: domain.TeamsSettings{WebhookURL: domain.NewSecret(srv.URL)}}}
	if r, err := teams.New(notify.NewHTTPClients(nil, 5*time.Second)).Send(context.Background(), n); err != nil || r.Body != "1" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestSender_contract(t *testing.T) {
	sendertest.TestSender(t, teams.New(notify.NewHTTPClients(nil, 5*time.Second)), sendertest.Features{
		Notification: func(url, _ string) notify.Notification {
			return notify.Notification{Event: domain.LogEvent{ID: "e", Level: domain.LevelInfo, Type: "a.b"},
				Configuration: domain.Configuration{Kind: domain.KindTeams, VerifyTLS: true, Settings: domain.TeamsSettings{WebhookURL: domain.NewSecret(url)}}}
		},
		WrongKind: domain.SlackSettings{},
	})
}

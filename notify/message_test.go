package notify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/domain"
)

type plainSender struct{}

func (plainSender) Send(context.Context, Notification) (Receipt, error) { return Receipt{}, nil }

type fieldsSender struct{ plainSender }

func (fieldsSender) ShowsEventFields() {}

type eventSender struct{ plainSender }

func (eventSender) SendsEvent() {}

type noConfigurations struct{}

func (noConfigurations) Configuration(context.Context, string) (domain.Configuration, bool, error) {
	return domain.Configuration{}, false, nil
}

type nilLedger struct{ noOutcomes }

func (nilLedger) Record(context.Context, domain.Delivery) (uint64, error) { return 0, nil }

// Each sender gets the text it needs: the full default for mail and issues, a short one for
// chats that list the event's fields themselves, none for webhooks (they post the event).
// A configuration's own template wins over either default.
func TestNotificationOf_defaultTextBySender(t *testing.T) {
	d, err := NewDeliverer(DelivererConfig{
		Senders:        map[domain.EndpointKind]Sender{domain.KindEmail: plainSender{}, domain.KindSlack: fieldsSender{}, domain.KindWebhook: eventSender{}},
		Configurations: noConfigurations{}, OpenSettings: func(s domain.Settings) (domain.Settings, error) { return s, nil },
		Ledger: nilLedger{}, Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := domain.LogEvent{ID: "e1", Type: "user.image.analysis.failed", Level: domain.LevelError, Message: "analysis failed",
		Resource: domain.Resource{ID: "docker.io/library/nginx:latest", Type: domain.ResourceImageTag, UserID: "alice"}, Timestamp: time.Now()}
	text := func(kind domain.EndpointKind, templates domain.MessageTemplates) string {
		n, err := d.notificationOf(e, domain.Configuration{ID: "c1", Kind: kind, Templates: templates})
		if err != nil {
			t.Fatal(err)
		}
		return n.Text
	}
	if got := text(domain.KindEmail, domain.MessageTemplates{}); !strings.Contains(got, "Resource: image_tag docker.io/library/nginx:latest") {
		t.Errorf("mail text lacks the event's fields:\n%s", got)
	}
	chat := text(domain.KindSlack, domain.MessageTemplates{})
	if !strings.HasPrefix(chat, "analysis failed") || strings.Contains(chat, "Resource:") {
		t.Errorf("chat text should be the message without the fields the chat shows:\n%s", chat)
	}
	if got := text(domain.KindWebhook, domain.MessageTemplates{}); got != "" {
		t.Errorf("webhook notification rendered text %q", got)
	}
	if got := text(domain.KindSlack, domain.MessageTemplates{Body: "{{.Type}} on {{.Resource.ID}}"}); got != "user.image.analysis.failed on docker.io/library/nginx:latest" {
		t.Errorf("the configuration's template gave %q", got)
	}
}

// A template that passed its check on the sample event can still run past the limits over a
// real event (a range over a long details list in a range over it): that notification fails
// for good, saying why, instead of holding a core.
func TestNewNotification_aTemplateTooCostlyForTheEventFails(t *testing.T) {
	long := make([]any, 500)
	for i := range long {
		long[i] = i
	}
	details, _ := json.Marshal(map[string]any{"list": long})
	e := domain.LogEvent{ID: "e1", Type: "t", Level: domain.LevelInfo, Details: details, Timestamp: time.Now()}
	c := domain.Configuration{ID: "c1", Kind: domain.KindEmail, Templates: domain.MessageTemplates{Body: `{{range .Details.list}}{{range $.Details.list}}{{end}}{{end}}`}}
	if err := c.Templates.Validate(); err != nil {
		t.Fatalf("the template fails on the sample event already: %v", err)
	}
	_, err := NewNotification(e, c, "")
	var final *SendError
	if !errors.As(err, &final) || !errors.Is(err, domain.ErrTemplateTooCostly) || !strings.Contains(err.Error(), "the configuration's body template failed") {
		t.Errorf("err = %v, want a final failure for a too costly template", err)
	}
}

// Once the retries are spent, the failure names the receiver's status once and the last
// failure's own words, not the retryable failure wrapped whole.
func TestGiveUp_saysTheLastFailureOnce(t *testing.T) {
	last := &SendError{Retryable: true, Status: 429, Err: errors.New("Too Many Requests: slow down")}
	policy := RetryPolicy{MaxAttempts: 6, MaxElapsed: time.Minute}
	_, final := policy.next(6, 20*time.Second, last)
	const want = "final failure: receiver answered 429: gave up after 6 attempts over 20s; the last failed with: Too Many Requests: slow down"
	if final == nil || final.Error() != want || IsRetryable(final) {
		t.Errorf("final = %v, want %q", final, want)
	}
}

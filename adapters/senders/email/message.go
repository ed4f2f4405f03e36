package email

import (
	"fmt"
	"html"
	netmail "net/mail"
	"strings"

	"github.com/wneessen/go-mail"

	"herald/domain"
	"herald/notify"
)

// Headers herald sets on every mail, besides From, To, Subject, Date and Message-ID.
const (
	HeaderEventID        = "X-Herald-Event-Id"
	HeaderIdempotencyKey = "X-Herald-Idempotency-Key"
)

// maxSubject bounds the subject, in characters: a title drawn from a long event message
// would otherwise make a header line past RFC 5322's 998 characters, which servers refuse
// or cut, and no mail client shows that much of a subject anyway.
const maxSubject = 250

// TestSubjectPrefix starts the subject of a test notification.
const TestSubjectPrefix = "[test] "

// message builds the mail for n: the title as subject, the text as the plain part and its
// HTML rendering as the alternative.
func message(n notify.Notification, settings domain.EmailSettings) (*mail.Msg, error) {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(settings.From); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if err := m.To(settings.To...); err != nil {
		return nil, fmt.Errorf("to addresses: %w", err)
	}
	subject := n.Title
	if n.Test {
		subject = TestSubjectPrefix + subject
	}
	m.Subject(domain.Truncate(subject, maxSubject))
	m.SetDate()
	// Every attempt of one (event, configuration) pair carries the same Message-ID, so a
	// mailbox that already holds the mail from an attempt whose answer was lost keeps one.
	if n.IdempotencyKey != "" {
		m.SetMessageIDWithValue(n.IdempotencyKey + "@" + domainOf(settings.From))
	} else {
		m.SetMessageID()
	}
	m.SetUserAgent("herald")
	// RFC 3834: no out-of-office answers to a robot.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader(HeaderEventID, n.Event.ID)
	m.SetGenHeader(HeaderIdempotencyKey, n.IdempotencyKey)
	m.SetBodyString(mail.TypeTextPlain, n.Text)
	m.AddAlternativeString(mail.TypeTextHTML, htmlBody(subject, n.Text, n.EventURL))
	return m, nil
}

// htmlBody renders the plain text as HTML: preformatted, because the default template aligns
// its fields in columns, but wrapped, and with a link to the event in the UI when there is one.
func htmlBody(title, text, eventURL string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title></head>\n<body>\n")
	b.WriteString(`<pre style="white-space: pre-wrap; font-family: ui-monospace, Menlo, Consolas, monospace;">`)
	b.WriteString(html.EscapeString(strings.TrimRight(text, "\n")))
	b.WriteString("</pre>\n")
	if eventURL != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\">Open the event in herald</a></p>\n", html.EscapeString(eventURL))
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// domainOf returns the domain of an address, for Message-IDs; "herald.invalid" when the
// address has none.
func domainOf(address string) string {
	if a, err := netmail.ParseAddress(address); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
			return a.Address[i+1:]
		}
	}
	return "herald.invalid"
}

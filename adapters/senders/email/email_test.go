package email_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"herald/adapters/senders/email"
	"herald/adapters/senders/email/smtptest"
	"herald/domain"
	"herald/notify"
)

const password = "s3cr3t-value"

func event() domain.LogEvent {
	return domain.LogEvent{
		ID: "67946415c113488b8fff8b335272a45b", Timestamp: time.Date(2018, 6, 28, 22, 36, 26, 512589000, time.UTC),
		Level: domain.LevelError, Type: "user.image.analysis.failed", Message: "Analysis of <nginx> failed: disk & cpu exhausted",
		Resource: domain.Resource{ID: "sha256:0123abcd", Type: "image_digest", UserID: "alice"},
		Source:   domain.Source{ServiceName: "analyzer", HostID: "host-1", BaseURL: "http://localhost:8084", RequestID: "req-1"},
	}
}

// settings point at srv with the given security, as alice, to two recipients.
func settings(srv *smtptest.Server, security domain.EmailSecurity) domain.EmailSettings {
	return domain.EmailSettings{
		Host: srv.Host, Port: srv.Port, Username: "alice", Password: domain.NewSecret(password), Security: security,
		From: "Herald <herald@example.com>", To: []string{"ops@example.com", "oncall@example.org"},
	}
}

func notification(t *testing.T, s domain.EmailSettings, verifyTLS bool) notify.Notification {
	t.Helper()
	c := domain.Configuration{ID: "cfg-1", Account: "alice", Kind: domain.KindEmail, Name: "ops mail", VerifyTLS: verifyTLS, Settings: s}
	n, err := notify.NewNotification(event(), c, "https://ui.example")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sender trusts srv's certificate.
func sender(srv *smtptest.Server) *email.Sender {
	return email.New(email.Options{Timeout: 5 * time.Second, RootCAs: srv.RootCAs(), HELO: "herald.test"})
}

func server(t *testing.T, cfg smtptest.Config) *smtptest.Server {
	if cfg.Username == "" {
		cfg.Username, cfg.Password = "alice", password
	}
	return smtptest.Start(t, cfg)
}

func TestSend_startTLSThenAuthThenTheMailWithBothParts(t *testing.T) {
	srv := server(t, smtptest.Config{})
	n := notification(t, settings(srv, domain.EmailStartTLS), true)

	receipt, err := sender(srv).Send(context.Background(), n)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if receipt.Status != 250 || !strings.Contains(receipt.Body, "queued") {
		t.Fatalf("receipt %+v", receipt)
	}

	commands := srv.Commands()
	if commands[0].Verb != "EHLO" || commands[0].Arg != "herald.test" {
		t.Fatalf("greeting %+v", commands[0])
	}
	startTLS := slices.IndexFunc(commands, func(c smtptest.Command) bool { return c.Verb == "STARTTLS" })
	if startTLS < 0 {
		t.Fatalf("no STARTTLS in %+v", commands)
	}
	for i, c := range commands {
		if (c.Verb == "AUTH" || c.Verb == "MAIL" || c.Verb == "RCPT" || c.Verb == "DATA") && (i < startTLS || !c.TLS) {
			t.Fatalf("%s sent before STARTTLS: %+v", c.Verb, commands)
		}
	}

	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.AuthUser != "alice" || m.AuthMech != "PLAIN" {
		t.Fatalf("tls %v, user %q, mechanism %q", m.TLS, m.AuthUser, m.AuthMech)
	}
	if m.From != "herald@example.com" || !slices.Equal(m.To, []string{"ops@example.com", "oncall@example.org"}) {
		t.Fatalf("envelope from %q to %q", m.From, m.To)
	}

	mail := parse(t, m.Data)
	h := mail.Header
	if got := decode(t, h.Get("Subject")); got != n.Title || got != "[ERROR] user.image.analysis.failed on sha256:0123abcd" {
		t.Fatalf("subject %q, title %q", got, n.Title)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "herald@example.com" || from[0].Name != "Herald" {
		t.Fatalf("From %q: %v", h.Get("From"), err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 2 || to[0].Address != "ops@example.com" || to[1].Address != "oncall@example.org" {
		t.Fatalf("To %q: %v", h.Get("To"), err)
	}
	if _, err := h.Date(); err != nil {
		t.Fatalf("Date %q: %v", h.Get("Date"), err)
	}
	if h.Get("Message-Id") != "<"+n.IdempotencyKey+"@example.com>" {
		t.Fatalf("Message-ID %q", h.Get("Message-Id"))
	}
	if h.Get(email.HeaderEventID) != "67946415c113488b8fff8b335272a45b" || h.Get(email.HeaderIdempotencyKey) != n.IdempotencyKey {
		t.Fatalf("herald headers %q %q", h.Get(email.HeaderEventID), h.Get(email.HeaderIdempotencyKey))
	}

	parts := bodyParts(t, mail)
	if got := strings.ReplaceAll(parts["text/plain"], "\r\n", "\n"); got != n.Text {
		t.Fatalf("text part:\n%s\nwant:\n%s", got, n.Text)
	}
	html := parts["text/html"]
	for _, want := range []string{
		"Analysis of &lt;nginx&gt; failed: disk &amp; cpu exhausted",
		"An image could not be analyzed",
		`<a href="https://ui.example/events/67946415c113488b8fff8b335272a45b">`,
		"white-space: pre-wrap",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<nginx>") {
		t.Errorf("html part does not escape the text:\n%s", html)
	}
}

// useTls TLS against a server that speaks plain SMTP first (STARTTLS) is final, and says
// which mode the server wants.
func TestSend_implicitTLSToAStartTLSServerSaysSo(t *testing.T) {
	srv := server(t, smtptest.Config{})
	_, err := sender(srv).Send(context.Background(), notification(t, settings(srv, domain.EmailTLS), true))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "(the server does not speak TLS from the first byte, as useTls TLS expects: for one that offers STARTTLS, usually on port 587 or 25, set useTls STARTTLS)") {
		t.Fatalf("got %v, want a final error naming useTls STARTTLS", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message was sent")
	}
}

func TestSend_implicitTLS(t *testing.T) {
	srv := server(t, smtptest.Config{ImplicitTLS: true})
	if _, err := sender(srv).Send(context.Background(), notification(t, settings(srv, domain.EmailTLS), true)); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].AuthUser != "alice" {
		t.Fatalf("messages %+v", msgs)
	}
	for _, c := range srv.Commands() {
		if c.Verb == "STARTTLS" || !c.TLS {
			t.Fatalf("command %+v on an implicit TLS connection", c)
		}
	}
}

func TestSend_authLoginWhenPlainIsNotOffered(t *testing.T) {
	srv := server(t, smtptest.Config{AuthMechanisms: []string{"LOGIN"}})
	if _, err := sender(srv).Send(context.Background(), notification(t, settings(srv, domain.EmailStartTLS), true)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].AuthUser != "alice" || msgs[0].AuthMech != "LOGIN" {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestSend_withoutUsernameDoesNotAuthenticate(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	s := settings(srv, domain.EmailStartTLS)
	s.Username, s.Password = "", domain.Secret{}
	if _, err := sender(srv).Send(context.Background(), notification(t, s, true)); err != nil {
		t.Fatalf("send: %v", err)
	}
	for _, c := range srv.Commands() {
		if c.Verb == "AUTH" {
			t.Fatal("AUTH without a username")
		}
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].AuthUser != "" || !msgs[0].TLS {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestSend_securityNoneSendsInClear(t *testing.T) {
	srv := server(t, smtptest.Config{}) // offers STARTTLS, which "none" does not take
	if _, err := sender(srv).Send(context.Background(), notification(t, settings(srv, domain.EmailNone), true)); err != nil {
		t.Fatalf("send: %v", err)
	}
	for _, c := range srv.Commands() {
		if c.Verb == "STARTTLS" || c.TLS {
			t.Fatalf("command %+v with security none", c)
		}
	}
	// go-mail sends credentials in clear to localhost only: the server is 127.0.0.1.
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].TLS || msgs[0].AuthUser != "alice" {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestSend_neverSendsThePasswordInClearToAnotherHost(t *testing.T) {
	srv := server(t, smtptest.Config{})
	toServer := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Addr())
	}
	s := settings(srv, domain.EmailNone)
	s.Host = "smtp.example.com" // not localhost, so no credentials without TLS
	_, err := email.New(email.Options{Timeout: 5 * time.Second, DialContext: toServer}).Send(context.Background(), notification(t, s, true))
	if err == nil || notify.IsRetryable(err) {
		t.Fatalf("got %v, want a final error", err)
	}
	for _, c := range srv.Commands() {
		if c.Verb == "AUTH" || c.Verb == "MAIL" {
			t.Fatalf("%s sent in clear to a remote host", c.Verb)
		}
	}
}

func TestSend_testNotificationSaysSoInTheSubject(t *testing.T) {
	srv := server(t, smtptest.Config{})
	n := notification(t, settings(srv, domain.EmailStartTLS), true)
	n.Test = true
	if _, err := sender(srv).Send(context.Background(), n); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := decode(t, parse(t, srv.Messages()[0].Data).Header.Get("Subject")); got != "[test] "+n.Title {
		t.Fatalf("subject %q", got)
	}
}

// A title drawn from a long event message is cut to 250 characters in the subject (with an
// ellipsis), so that no header line passes RFC 5322's 998.
func TestSend_aLongTitleIsCutInTheSubject(t *testing.T) {
	srv := server(t, smtptest.Config{})
	n := notification(t, settings(srv, domain.EmailStartTLS), true)
	n.Title = strings.Repeat("é", 2000)
	if _, err := sender(srv).Send(context.Background(), n); err != nil {
		t.Fatalf("send: %v", err)
	}
	data := srv.Messages()[0].Data
	got := decode(t, parse(t, data).Header.Get("Subject"))
	if want := domain.Truncate(n.Title, 250); got != want || utf8.RuneCountInString(got) != 250 {
		t.Fatalf("subject of %d characters %q, want %q", utf8.RuneCountInString(got), got, want)
	}
	for i, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line %d is %d bytes, over RFC 5322's 998", i+1, len(line))
		}
	}
}

func TestSend_everyAttemptCarriesTheSameMessageID(t *testing.T) {
	srv := server(t, smtptest.Config{})
	n := notification(t, settings(srv, domain.EmailStartTLS), true)
	for range 2 {
		if _, err := sender(srv).Send(context.Background(), n); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	msgs := srv.Messages()
	first, second := parse(t, msgs[0].Data).Header.Get("Message-Id"), parse(t, msgs[1].Data).Header.Get("Message-Id")
	if first == "" || first != second {
		t.Fatalf("Message-IDs %q and %q", first, second)
	}
}

func TestSend_classifiesServerReplies(t *testing.T) {
	cases := []struct {
		name      string
		cfg       smtptest.Config
		retryable bool
		status    int
	}{
		{"wrong password", smtptest.Config{Username: "alice", Password: "another"}, false, 535},
		{"mailbox busy", smtptest.Config{RcptReply: "451 4.3.0 try again later"}, true, 451},
		{"no such mailbox", smtptest.Config{RcptReply: "550 5.1.1 no such mailbox"}, false, 550},
		{"out of storage", smtptest.Config{DataReply: "452 4.3.1 insufficient system storage"}, true, 452},
		{"message refused", smtptest.Config{DataReply: "554 5.7.1 message refused"}, false, 554},
		{"the server quotes the password", smtptest.Config{RcptReply: "550 5.7.1 " + password + " is not welcome"}, false, 550},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := server(t, c.cfg)
			_, err := sender(srv).Send(context.Background(), notification(t, settings(srv, domain.EmailStartTLS), true))
			var se *notify.SendError
			if !errors.As(err, &se) || se.Retryable != c.retryable || se.Status != c.status {
				t.Fatalf("got %v, want retryable=%v status=%d", err, c.retryable, c.status)
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("the password appears in the error: %v", err)
			}
			if msgs := srv.Messages(); len(msgs) != 0 {
				t.Fatalf("the server took %d messages", len(msgs))
			}
		})
	}
}

func TestSend_startTLSRequiredButNotOfferedSendsNothing(t *testing.T) {
	srv := server(t, smtptest.Config{NoStartTLS: true})
	_, err := sender(srv).Send(context.Background(), notification(t, settings(srv, domain.EmailStartTLS), true))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable {
		t.Fatalf("got %v, want a final error", err)
	}
	if want := "the server does not offer STARTTLS, which useTls STARTTLS requires (herald does not fall back to sending in clear): for a server that speaks TLS from the first byte, usually on port 465, set useTls TLS"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	for _, c := range srv.Commands() {
		if c.Verb == "AUTH" || c.Verb == "MAIL" || c.Verb == "DATA" {
			t.Fatalf("%s sent in clear", c.Verb)
		}
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message was sent in clear")
	}
}

func TestSend_verifyTLS(t *testing.T) {
	for _, c := range []struct {
		security domain.EmailSecurity
		cfg      smtptest.Config
	}{
		{domain.EmailStartTLS, smtptest.Config{}},
		{domain.EmailTLS, smtptest.Config{ImplicitTLS: true}},
	} {
		t.Run(string(c.security), func(t *testing.T) {
			srv := server(t, c.cfg)
			untrusting := email.New(email.Options{Timeout: 5 * time.Second}) // the system's roots
			_, err := untrusting.Send(context.Background(), notification(t, settings(srv, c.security), true))
			var se *notify.SendError
			if !errors.As(err, &se) || se.Retryable {
				t.Fatalf("an untrusted certificate with verify_tls on: %v, want a final error", err)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("a message was sent to an untrusted server")
			}
			if _, err := untrusting.Send(context.Background(), notification(t, settings(srv, c.security), false)); err != nil {
				t.Fatalf("verify_tls off: %v", err)
			}
			if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS {
				t.Fatalf("messages %+v", msgs)
			}
		})
	}
}

func TestSend_unreachableServerIsRetryableAndKeepsThePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := domain.EmailSettings{Host: "127.0.0.1", Port: port, Username: "alice", Password: domain.NewSecret(password),
		Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
	_, err = email.New(email.Options{Timeout: 5 * time.Second}).Send(context.Background(), notification(t, s, true))
	if !notify.IsRetryable(err) {
		t.Fatalf("unreachable server: %v", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Fatalf("the password appears in the error: %v", err)
	}
}

func TestSend_dialsThroughTheGivenDialer(t *testing.T) {
	srv := server(t, smtptest.Config{})
	var dialled []string
	allow := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialled = append(dialled, network+" "+addr)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	s := email.New(email.Options{Timeout: 5 * time.Second, RootCAs: srv.RootCAs(), DialContext: allow})
	if _, err := s.Send(context.Background(), notification(t, settings(srv, domain.EmailStartTLS), true)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if !slices.Equal(dialled, []string{"tcp " + srv.Addr()}) {
		t.Fatalf("dialled %q", dialled)
	}

	errBlocked := errors.New("outbound policy: destination not allowed")
	deny := func(context.Context, string, string) (net.Conn, error) { return nil, errBlocked }
	_, err := email.New(email.Options{DialContext: deny}).Send(context.Background(), notification(t, settings(srv, domain.EmailStartTLS), true))
	if !errors.Is(err, errBlocked) || notify.IsRetryable(err) {
		t.Fatalf("denied by the policy: %v, want a final error", err)
	}
}

func TestSend_aDestinationTheOutboundPolicyRefusesIsFinal(t *testing.T) {
	srv := server(t, smtptest.Config{})
	policy := notify.OutboundPolicy{Deny: notify.DefaultDeny()} // loopback among them
	s := email.New(email.Options{Timeout: 5 * time.Second, DialContext: policy.DialContext(5 * time.Second)})
	_, err := s.Send(context.Background(), notification(t, settings(srv, domain.EmailStartTLS), true))
	if !errors.Is(err, notify.ErrDestinationRefused) || notify.IsRetryable(err) {
		t.Fatalf("refused by the policy: %v, want a final error", err)
	}
	if len(srv.Commands()) != 0 {
		t.Fatal("the refused server was reached")
	}
}

func TestSend_cancelledContextStops(t *testing.T) {
	srv := server(t, smtptest.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sender(srv).Send(ctx, notification(t, settings(srv, domain.EmailStartTLS), true)); err == nil {
		t.Fatal("a cancelled send succeeded")
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a cancelled send delivered")
	}
}

func TestSend_cancellingStopsASilentServer(t *testing.T) {
	host, port := silentServer(t)
	s := domain.EmailSettings{Host: host, Port: port, Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := email.New(email.Options{Timeout: time.Minute}).Send(ctx, notification(t, s, true))
	if !errors.Is(err, context.Canceled) || !notify.IsRetryable(err) {
		t.Fatalf("cancelled: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("the send returned %v after its context was cancelled", waited)
	}
}

func TestSend_timeoutBoundsTheDelivery(t *testing.T) {
	host, port := silentServer(t)
	s := domain.EmailSettings{Host: host, Port: port, Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
	start := time.Now()
	_, err := email.New(email.Options{Timeout: 200 * time.Millisecond}).Send(context.Background(), notification(t, s, true))
	if !notify.IsRetryable(err) {
		t.Fatalf("timed out: %v, want a retryable error", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("a 200ms timeout returned after %v", waited)
	}
}

func TestSend_refusesAnotherKind(t *testing.T) {
	n := notification(t, domain.EmailSettings{}, true)
	n.Configuration.Settings = domain.SlackSettings{WebhookURL: domain.NewSecret("https://hooks.example/x")}
	_, err := email.New(email.Options{}).Send(context.Background(), n)
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable {
		t.Fatalf("wrong kind: %v", err)
	}
}

// TestSend_aHostThatCannotBeReachedAsWrittenIsFinal: a host the DNS says does not exist, or an
// address that cannot be dialled as written, fails every attempt alike: final at once. A
// lookup that timed out or that the DNS server failed, a refused connection and a timeout
// may pass: retryable.
func TestSend_aHostThatCannotBeReachedAsWrittenIsFinal(t *testing.T) {
	dialFails := func(err error) func(context.Context, string, string) (net.Conn, error) {
		return func(context.Context, string, string) (net.Conn, error) { return nil, err }
	}
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	cases := []struct {
		name      string
		dial      func(context.Context, string, string) (net.Conn, error)
		retryable bool
	}{
		{"no such host", dialFails(opErr(&net.DNSError{Err: "no such host", Name: "smtp.example.invalid", IsNotFound: true})), false},
		{"too many colons", dialFails(opErr(&net.AddrError{Err: "too many colons in address", Addr: "smtp.x:25:25"})), false},
		{"invalid port", dialFails(opErr(&net.AddrError{Err: "invalid port", Addr: "99999"})), false},
		{"a lookup that timed out", dialFails(opErr(&net.DNSError{Err: "i/o timeout", Name: "smtp.example.com", IsTimeout: true})), true},
		{"a DNS server failure", dialFails(opErr(&net.DNSError{Err: "server misbehaving", Name: "smtp.example.com", IsTemporary: true})), true},
		{"connection refused", dialFails(opErr(syscall.ECONNREFUSED)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := domain.EmailSettings{Host: "smtp.example.com", Port: 587, Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
			_, err := email.New(email.Options{Timeout: 5 * time.Second, DialContext: c.dial}).Send(context.Background(), notification(t, s, true))
			var se *notify.SendError
			if !errors.As(err, &se) || se.Retryable != c.retryable {
				t.Fatalf("got %v, want retryable=%v", err, c.retryable)
			}
			if hint := "(check the host setting)"; strings.HasSuffix(err.Error(), hint) == c.retryable {
				t.Errorf("%v: the hint %s is for the final failures alone", err, hint)
			}
		})
	}

	// A server on port 465 that sends no greeting to a STARTTLS client waits for a TLS
	// handshake: the timeout says so.
	silent := func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		t.Cleanup(func() { server.Close() })
		return client, nil
	}
	s465 := domain.EmailSettings{Host: "smtp.example.com", Port: 465, Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
	_, err465 := email.New(email.Options{Timeout: 200 * time.Millisecond, DialContext: silent}).Send(context.Background(), notification(t, s465, true))
	if !notify.IsRetryable(err465) || !strings.Contains(err465.Error(), "port 465 usually speaks TLS from the first byte, which needs useTls TLS") {
		t.Errorf("STARTTLS to a silent port 465: %v, want a retryable error pointing at useTls TLS", err465)
	}
	// a connection that was never made (a firewall dropping the packets) is no matter of TLS
	unreachable := dialFails(opErr(os.ErrDeadlineExceeded)) // a net.Error that timed out, as a dial without answer reports it
	_, err465 = email.New(email.Options{Timeout: 200 * time.Millisecond, DialContext: unreachable}).Send(context.Background(), notification(t, s465, true))
	if !notify.IsRetryable(err465) || strings.Contains(err465.Error(), "useTls") {
		t.Errorf("port 465 not reached: %v, want a retryable error without the useTls hint", err465)
	}

	// What Go's own dialler says of a host with a port in it (stored before validation
	// refused one), before any lookup.
	s := domain.EmailSettings{Host: "smtp.example.com:25", Port: 587, Security: domain.EmailStartTLS, From: "herald@example.com", To: []string{"ops@example.com"}}
	_, err := email.New(email.Options{Timeout: 5 * time.Second}).Send(context.Background(), notification(t, s, true))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "too many colons") {
		t.Errorf("host with a port: %v, want a final error", err)
	}
}

// Package email sends each notification as a mail through the configuration's SMTP server,
// with a plain-text and an HTML part.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"herald/domain"
	"herald/notify"
)

// DefaultTimeout bounds one delivery when Options.Timeout is not set.
const DefaultTimeout = 30 * time.Second

// Options are what a sender needs beyond each configuration's settings.
type Options struct {
	// Timeout bounds one whole delivery: dialling, TLS, authentication and the transfer.
	Timeout time.Duration
	// DialContext opens the TCP connection to the SMTP server, which lets the caller apply
	// the outbound network policy; nil uses a plain net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs are the authorities that server certificates are verified against; nil uses
	// the system's.
	RootCAs *x509.CertPool
	// HELO is the name the sender greets the server with; "" uses the host name.
	HELO string
}

// Sender mails notifications through the configuration's SMTP server.
type Sender struct {
	opts Options
}

// New builds a sender.
func New(opts Options) *Sender {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DialContext == nil {
		opts.DialContext = (&net.Dialer{}).DialContext
	}
	return &Sender{opts: opts}
}

// Send implements notify.Sender. The server's acceptance of the message is the receipt:
// status 250 and the server's answer (usually its queue id).
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.EmailSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not an email configuration", n.Configuration.ID)}
	}
	msg, err := message(n, settings)
	if err != nil {
		return notify.Receipt{}, &notify.SendError{Err: err}
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	conn := &connection{}
	defer conn.close()
	client, err := mail.NewClient(settings.Host, s.clientOptions(ctx, n.Configuration.VerifyTLS, settings, conn)...)
	if err != nil {
		return notify.Receipt{}, classify(ctx, err, settings.Password)
	}
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return notify.Receipt{}, classify(ctx, fmt.Errorf("smtp %s: %w", client.ServerAddr(), explainDial(err, settings, errors.Is(ctx.Err(), context.DeadlineExceeded))), settings.Password)
	}
	err = client.SendWithSMTPClient(session, msg)
	// Once the server has taken the message, a failure to say goodbye (or to reset the
	// session after the transfer) must not make the router send it again.
	if msg.IsDelivered() {
		_ = client.CloseWithSMTPClient(session)
		return notify.Receipt{Status: 250, Body: truncate(msg.ServerResponse(), 200)}, nil
	}
	if err == nil { // go-mail reports every message it did not deliver; be safe anyway
		err = errors.New("the server did not take the message")
	}
	return notify.Receipt{}, classify(ctx, fmt.Errorf("smtp %s: %w", client.ServerAddr(), err), settings.Password)
}

// clientOptions configure go-mail for one delivery of settings.
func (s *Sender) clientOptions(ctx context.Context, verifyTLS bool, settings domain.EmailSettings, conn *connection) []mail.Option {
	tlsConfig := &tls.Config{
		ServerName:         settings.Host,
		MinVersion:         tls.VersionTLS12,
		RootCAs:            s.opts.RootCAs,
		InsecureSkipVerify: !verifyTLS, //nolint:gosec // the configuration asked for it
	}
	opts := []mail.Option{
		mail.WithPort(settings.Port),
		mail.WithTimeout(s.opts.Timeout),
		mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(s.dial(ctx, settings.Security == domain.EmailTLS, tlsConfig, conn)),
	}
	switch settings.Security {
	case domain.EmailTLS:
		opts = append(opts, mail.WithSSL())
	case domain.EmailNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default: // starttls, and anything unknown: never fall back to a clear connection
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.opts.HELO != "" {
		opts = append(opts, mail.WithHELO(s.opts.HELO))
	}
	if settings.Username != "" {
		// go-mail sends PLAIN and LOGIN credentials only over TLS or to localhost.
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(settings.Username), mail.WithPassword(settings.Password.Reveal()))
	}
	return opts
}

// dial opens the connection through Options.DialContext. go-mail only wraps its own dialer
// in TLS, so implicit TLS is done here.
func (s *Sender) dial(ctx context.Context, implicitTLS bool, tlsConfig *tls.Config, conn *connection) mail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		c, err := s.opts.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		if implicitTLS {
			tc := tls.Client(c, tlsConfig)
			if err := tc.HandshakeContext(dialCtx); err != nil {
				_ = c.Close()
				return nil, err
			}
			c = tc
		}
		conn.hold(ctx, c)
		return c, nil
	}
}

// connection is the connection of one delivery. go-mail watches the context only while
// dialling, and leaves the connection open when the greeting, STARTTLS or AUTH fails, so
// the sender closes it itself: when the context is done, and when the delivery ends.
type connection struct {
	conn net.Conn
	stop func() bool
}

func (c *connection) hold(ctx context.Context, conn net.Conn) {
	c.close() // go-mail dials at most once per delivery; be safe if it ever dials again
	c.conn = conn
	c.stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
}

func (c *connection) close() {
	if c.conn == nil {
		return
	}
	c.stop()
	_ = c.conn.Close()
	c.conn = nil
}

// truncate keeps the first n bytes of s, without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

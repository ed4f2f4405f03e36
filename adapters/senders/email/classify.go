package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"

	"github.com/wneessen/go-mail"

	"herald/domain"
	"herald/notify"
)

// classify turns a failed delivery into a notify.SendError, with the server's reply code as
// its status when the server answered:
//   - a 4xx reply is worth retrying, a 5xx reply (unknown mailbox, failed authentication,
//     refused message) is final;
//   - a delivery stopped by its context or timeout, a refused, reset or lost connection and
//     a DNS lookup that timed out or that the DNS server failed are worth retrying;
//   - a host the DNS says does not exist, an address that cannot be dialled as written ("too
//     many colons in address", "invalid port"), a destination the outbound policy refuses, a
//     certificate that fails verification, a server that does not speak TLS where it must, a
//     server that does not offer STARTTLS or the configured authentication, and anything else
//     the sender cannot change by trying again are final.
//
// The password never appears in the error, even if a server quotes it.
func classify(ctx context.Context, err error, password domain.Secret) *notify.SendError {
	if password.IsSet() && strings.Contains(err.Error(), password.Reveal()) {
		err = &redactedError{err: err, secret: password.Reveal()}
	}
	if code := replyCode(err); code != 0 {
		return &notify.SendError{Retryable: code/100 == 4, Status: code, Err: err}
	}
	if errors.Is(err, notify.ErrDestinationRefused) { // stays refused; the error says how to allow it
		return &notify.SendError{Err: err}
	}
	if ctx.Err() != nil { // the connection was closed under go-mail: say why
		return &notify.SendError{Retryable: true, Err: fmt.Errorf("%w: %w", ctx.Err(), err)}
	}
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) {
		// Without a reply code, go-mail's SendError is the connection failing mid-transaction,
		// unless the message itself could not be addressed or encoded.
		switch sendErr.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return &notify.SendError{Err: err}
		}
		return &notify.SendError{Retryable: true, Err: err}
	}
	if isTLSFailure(err) || notify.IsAddressFailure(err) {
		return &notify.SendError{Err: err}
	}
	if isConnectionFailure(err) {
		return &notify.SendError{Retryable: true, Err: err}
	}
	return &notify.SendError{Err: err}
}

// replyCode is the SMTP reply code of a server's refusal, 0 when there was none.
func replyCode(err error) int {
	// go-mail's SendError keeps the reply but does not unwrap to it.
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) && sendErr.ErrorCode() != 0 {
		return sendErr.ErrorCode()
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code
	}
	return 0
}

// isTLSFailure tells whether the TLS handshake failed for a reason on the server's side that
// persists: its certificate, or no TLS at all.
func isTLSFailure(err error) bool {
	var verification *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	return errors.As(err, &verification) || errors.As(err, &authority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &header)
}

// isConnectionFailure tells whether the network, rather than the server's answer, failed.
func isConnectionFailure(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// redactedError hides a credential that a server quoted back.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "[redacted]")
}

func (e *redactedError) Unwrap() error { return e.err }

// explainDial says which setting to change when connecting failed for a reason the settings
// explain: the TLS mode (useTls) does not match how the server speaks, or the host does not
// exist. go-mail's own words for a missing STARTTLS name its policy, not herald's setting.
// timedOut says the delivery's time ran out (which closes the connection under go-mail).
func explainDial(err error, s domain.EmailSettings, timedOut bool) error {
	var header tls.RecordHeaderError
	var netErr net.Error
	var opErr *net.OpError
	connected := !errors.As(err, &opErr) || opErr.Op != "dial" // the wait was for the server, not the network
	switch {
	case s.Security != domain.EmailNone && s.Security != domain.EmailTLS && strings.Contains(err.Error(), "does not support STARTTLS"):
		return errors.New("the server does not offer STARTTLS, which useTls STARTTLS requires (herald does not fall back to sending in clear): " +
			"for a server that speaks TLS from the first byte, usually on port 465, set useTls TLS; NONE sends the mail unencrypted")
	case s.Security == domain.EmailTLS && errors.As(err, &header):
		return fmt.Errorf("%w (the server does not speak TLS from the first byte, as useTls TLS expects: for one that offers STARTTLS, usually on port 587 or 25, set useTls STARTTLS)", err)
	case s.Security != domain.EmailTLS && s.Port == 465 && connected && (timedOut || errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Errorf("%w (no greeting from the server: port 465 usually speaks TLS from the first byte, which needs useTls TLS)", err)
	case notify.IsAddressFailure(err):
		return fmt.Errorf("%w (check the host setting)", err)
	}
	return err
}

package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security says how herald connects to the brokers: TLS, SASL, both or neither.
type Security struct {
	TLS  TLS
	SASL SASL
}

// TLS configures encrypted connections. Naming a CA or a client certificate enables it.
type TLS struct {
	Enabled            bool
	CAFile             string // PEM bundle of the CAs that sign the brokers' certificates; empty: the system's
	CertFile, KeyFile  string // PEM client certificate and key, for brokers that require one
	InsecureSkipVerify bool   // accept any broker certificate (testing only)
}

// SASL mechanisms.
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// SASL configures authentication. An empty Mechanism disables it.
type SASL struct {
	Mechanism          string // plain, scram-sha-256 or scram-sha-512
	Username, Password string
}

// Validate reports settings that cannot work, without reading any file.
func (s Security) Validate() error {
	var errs []error
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: a client certificate needs both its certificate and its key file"))
	}
	switch strings.ToLower(s.SASL.Mechanism) {
	case "":
		if s.SASL.Username != "" || s.SASL.Password != "" {
			errs = append(errs, errors.New("sasl: a username or password needs a mechanism (plain, scram-sha-256 or scram-sha-512)"))
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if s.SASL.Username == "" {
			errs = append(errs, fmt.Errorf("sasl %s: needs a username", s.SASL.Mechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("sasl mechanism %q: use plain, scram-sha-256 or scram-sha-512", s.SASL.Mechanism))
	}
	return errors.Join(errs...)
}

// tlsEnabled tells whether connections use TLS.
func (s Security) tlsEnabled() bool {
	return s.TLS.Enabled || s.TLS.CAFile != "" || s.TLS.CertFile != "" || s.TLS.InsecureSkipVerify
}

// TLSFile names one of the files of the TLS settings.
type TLSFile string

// The files of TLS.
const (
	TLSCAFile   TLSFile = "ca"   // TLS.CAFile
	TLSCertFile TLSFile = "cert" // TLS.CertFile
	TLSKeyFile  TLSFile = "key"  // TLS.KeyFile
)

// TLSFileError is a file of the TLS settings that cannot be used: missing, unreadable, or
// without what it should hold.
type TLSFileError struct {
	File TLSFile
	Path string
	Err  error
}

func (e *TLSFileError) Error() string { return fmt.Sprintf("tls %s %s: %v", e.File, e.Path, e.Err) }

func (e *TLSFileError) Unwrap() error { return e.Err }

// CheckFiles reads the TLS files and reports each one that cannot be used as a
// *TLSFileError (joined), so that a setting is found wrong before anything starts rather
// than at the first connection.
func (s Security) CheckFiles() error {
	_, err := s.tlsConfig()
	return err
}

// tlsConfig loads the TLS settings; nil when TLS is off. Every file at fault is reported.
func (s Security) tlsConfig() (*tls.Config, error) {
	if !s.tlsEnabled() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.TLS.InsecureSkipVerify} //nolint:gosec // opt-in, for testing
	var errs []error
	if s.TLS.CAFile != "" {
		pool, err := loadCAs(s.TLS.CAFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.RootCAs = pool
	}
	if s.TLS.CertFile != "" || s.TLS.KeyFile != "" {
		cert, err := loadClientCertificate(s.TLS.CertFile, s.TLS.KeyFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &TLSFileError{File: TLSCAFile, Path: path, Err: err}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, &TLSFileError{File: TLSCAFile, Path: path, Err: errors.New("no PEM certificate in it")}
	}
	return pool, nil
}

// loadClientCertificate reads a client certificate and its key, blaming the file at fault:
// tls.LoadX509KeyPair's errors do not say which of the two it is.
func loadClientCertificate(certPath, keyPath string) (tls.Certificate, error) {
	if certPath == "" || keyPath == "" {
		return tls.Certificate{}, errors.New("tls: a client certificate needs both its certificate and its key file")
	}
	var errs []error
	certPEM, err := os.ReadFile(certPath)
	if err == nil {
		if block := firstPEMBlock(certPEM, func(kind string) bool { return kind == "CERTIFICATE" }); block == nil {
			err = errors.New("no PEM certificate in it")
		} else {
			_, err = x509.ParseCertificate(block.Bytes)
		}
	}
	if err != nil {
		errs = append(errs, &TLSFileError{File: TLSCertFile, Path: certPath, Err: err})
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err == nil && firstPEMBlock(keyPEM, func(kind string) bool { return strings.HasSuffix(kind, "PRIVATE KEY") }) == nil {
		err = errors.New("no PEM private key in it")
	}
	if err != nil {
		errs = append(errs, &TLSFileError{File: TLSKeyFile, Path: keyPath, Err: err})
	}
	if err := errors.Join(errs...); err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil { // a key that does not parse, or the key of another certificate
		return tls.Certificate{}, &TLSFileError{File: TLSKeyFile, Path: keyPath, Err: fmt.Errorf("%w (certificate %s)", err, certPath)}
	}
	return cert, nil
}

// firstPEMBlock is the first PEM block of data of a kind that wants; nil if there is none.
func firstPEMBlock(data []byte, wants func(kind string) bool) *pem.Block {
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil || wants(block.Type) {
			return block
		}
	}
}

// mechanism builds the SASL mechanism; nil when SASL is off.
func (s Security) mechanism() (sasl.Mechanism, error) {
	switch strings.ToLower(s.SASL.Mechanism) {
	case "":
		return nil, nil
	case SASLPlain:
		return plain.Mechanism{Username: s.SASL.Username, Password: s.SASL.Password}, nil
	case SASLScramSHA256:
		m, err := scram.Mechanism(scram.SHA256, s.SASL.Username, s.SASL.Password)
		if err != nil {
			return nil, fmt.Errorf("sasl scram-sha-256: %w", err)
		}
		return m, nil
	case SASLScramSHA512:
		m, err := scram.Mechanism(scram.SHA512, s.SASL.Username, s.SASL.Password)
		if err != nil {
			return nil, fmt.Errorf("sasl scram-sha-512: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("sasl mechanism %q: use plain, scram-sha-256 or scram-sha-512", s.SASL.Mechanism)
}

// connectors are what kafka-go needs to reach the brokers: a Dialer for the Reader, a
// Transport for the Writer and the metadata Client.
type connectors struct {
	dialer    *kafkago.Dialer
	transport *kafkago.Transport
}

// dialTimeout bounds connecting to one broker.
const dialTimeout = 10 * time.Second

func (s Security) connectors(clientID string) (connectors, error) {
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		return connectors{}, err
	}
	mech, err := s.mechanism()
	if err != nil {
		return connectors{}, err
	}
	c := connectors{dialer: &kafkago.Dialer{ClientID: clientID, Timeout: dialTimeout, DualStack: true, TLS: tlsConfig, SASLMechanism: mech}}
	c.transport = c.newTransport()
	return c, nil
}

// newTransport returns a Transport of its own, with no connection and no cached metadata yet.
func (c connectors) newTransport() *kafkago.Transport {
	return &kafkago.Transport{ClientID: c.dialer.ClientID, DialTimeout: dialTimeout, TLS: c.dialer.TLS, SASL: c.dialer.SASLMechanism,
		IdleTimeout: time.Minute, MetadataTTL: 10 * time.Second}
}

// explain adds to a failed exchange with the brokers what usually causes it when TLS or SASL
// do not match their listener. Brokers end the connection without a word on a client that
// skips the TLS handshake or SASL (or whose credentials they refuse), which reaches herald as
// a bare "unexpected EOF"; a TLS handshake with a plaintext listener goes unanswered until it
// times out, the connection's own deadline or the caller's context's. Other errors are
// returned as they are.
func (s Security) explain(err error) error {
	if err == nil {
		return nil
	}
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var header tls.RecordHeaderError
	var hint string
	switch {
	case errors.As(err, &unknownCA):
		hint = "herald does not trust the brokers' certificate: it trusts " + s.trusted() +
			"; name the CA that signs the brokers' certificate with --kafka-tls-ca"
	case errors.As(err, &host):
		hint = "the brokers' certificate is not for the name herald connects to: give --kafka-brokers as a name the certificate lists, " +
			"or have the brokers' certificate list that name (an IP address only matches an IP entry of the certificate)"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		hint = "the brokers' certificate has expired, or is not valid yet: check it, and this machine's clock"
	case errors.As(err, &invalid):
		hint = "the brokers' certificate, or a CA certificate on its chain, cannot be used for a TLS server (see the reason above); check the brokers' certificate chain"
	case errors.As(err, &header):
		hint = "the listener does not speak TLS: connect without TLS, or to the brokers' TLS listener"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		hint = "the brokers closed the connection, as they do when TLS or SASL does not match their listener: " + s.describe()
	case s.tlsEnabled() && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)):
		hint = "no answer in time: the brokers may be down, or this listener does not use TLS (herald connects with TLS)"
	default:
		return err
	}
	return fmt.Errorf("%w (%s)", err, hint)
}

// trusted says which CAs herald trusts for the brokers' certificates.
func (s Security) trusted() string {
	if s.TLS.CAFile != "" {
		return "the CAs in " + s.TLS.CAFile
	}
	return "the system's CAs"
}

// describe says how herald connects, for an error that may come from connecting otherwise
// than the brokers expect.
func (s Security) describe() string {
	var parts []string
	if s.tlsEnabled() {
		parts = append(parts, "herald connects with TLS")
	} else {
		parts = append(parts, "herald connects without TLS (--kafka-tls turns it on)")
	}
	if m := strings.ToLower(s.SASL.Mechanism); m != "" {
		parts = append(parts, fmt.Sprintf("authenticates with SASL %s as %q (check the mechanism, username and password)", m, s.SASL.Username))
	} else {
		parts = append(parts, "without SASL (--kafka-sasl-mechanism turns it on)")
	}
	return strings.Join(parts, " and ")
}

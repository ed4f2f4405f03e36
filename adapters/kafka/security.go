package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
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

// tlsConfig loads the TLS settings; nil when TLS is off.
func (s Security) tlsConfig() (*tls.Config, error) {
	if !s.tlsEnabled() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.TLS.InsecureSkipVerify} //nolint:gosec // opt-in, for testing
	if s.TLS.CAFile != "" {
		pem, err := os.ReadFile(s.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca %s: no PEM certificate in it", s.TLS.CAFile)
		}
		c.RootCAs = pool
	}
	if s.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
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
	return connectors{
		dialer: &kafkago.Dialer{ClientID: clientID, Timeout: dialTimeout, DualStack: true, TLS: tlsConfig, SASLMechanism: mech},
		transport: &kafkago.Transport{ClientID: clientID, DialTimeout: dialTimeout, TLS: tlsConfig, SASL: mech,
			IdleTimeout: time.Minute, MetadataTTL: 10 * time.Second},
	}, nil
}

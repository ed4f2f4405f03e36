package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// The ingester and the producer authenticate with each SASL mechanism; a wrong password
// leaves the ingester unready.
func TestSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "plain", "scram-sha-256", "scram-sha-512"), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "alice", "alice-secret"),
		kfake.Superuser("SCRAM-SHA-256", "bob", "bob-secret"),
		kfake.Superuser("SCRAM-SHA-512", "carol", "carol-secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	for _, tc := range []struct{ mechanism, user string }{{SASLPlain, "alice"}, {SASLScramSHA256, "bob"}, {SASLScramSHA512, "carol"}} {
		t.Run(tc.mechanism, func(t *testing.T) {
			sec := Security{SASL: SASL{Mechanism: tc.mechanism, Username: tc.user, Password: tc.user + "-secret"}}
			want := newProduced()
			if err := want.send(addrs, tc.mechanism, 0, 100, "none", sec); err != nil {
				t.Fatal(err)
			}
			log := newTestLog(t)
			m := &totals{}
			cfg := testConfig(addrs, tc.mechanism)
			cfg.Security = sec
			r := start(t, cfg, log, m)
			waitUntil(t, 30*time.Second, "100 messages", func() bool { return m.get().Consumed >= 100 })
			r.stop(t)
			log.checkExactlyOnce(t, want.keys)
		})
	}
	for _, tc := range []struct {
		name string
		sec  Security
		hint string
	}{
		{"wrong password", Security{SASL: SASL{Mechanism: SASLScramSHA256, Username: "bob", Password: "guess"}},
			`(the brokers closed the connection, as they do when TLS or SASL does not match their listener: herald connects without TLS (--kafka-tls turns it on) and authenticates with SASL scram-sha-256 as "bob" (check the mechanism, username and password))`},
		{"no SASL", Security{},
			`(the brokers closed the connection, as they do when TLS or SASL does not match their listener: herald connects without TLS (--kafka-tls turns it on) and without SASL (--kafka-sasl-mechanism turns it on))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(addrs, SASLPlain)
			cfg.Security = tc.sec
			r := start(t, cfg, newTestLog(t), nil)
			waitForBrokerError(t, r, tc.hint)
			err := newProduced().send(addrs, SASLPlain, 0, 1, "none", tc.sec)
			if err == nil || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("producing: %v, want the hint %s", err, tc.hint)
			}
		})
	}
}

// The ingester reads from brokers that speak TLS only, trusting the CA it is given.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, serverCert := testCertificates(t, dir)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "events"), kfake.AllowAutoTopicCreation(),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	sec := Security{TLS: TLS{CAFile: caFile}}
	want := newProduced()
	if err := want.send(addrs, "events", 0, 100, "gzip", sec); err != nil {
		t.Fatal(err)
	}
	log := newTestLog(t)
	m := &totals{}
	cfg := testConfig(addrs, "events")
	cfg.Security = sec
	r := start(t, cfg, log, m)
	waitUntil(t, 30*time.Second, "100 messages", func() bool { return m.get().Consumed >= 100 })
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)

	t.Run("unknown CA", func(t *testing.T) {
		cfg := testConfig(addrs, "events")
		cfg.Security = Security{TLS: TLS{Enabled: true}} // the system's CAs do not know the test CA
		r := start(t, cfg, newTestLog(t), nil)
		waitForBrokerError(t, r, "certificate signed by unknown authority (herald does not trust the brokers' certificate: it trusts the system's CAs; name the CA that signs the brokers' certificate with --kafka-tls-ca)")
	})
	t.Run("no TLS", func(t *testing.T) {
		cfg := testConfig(addrs, "events")
		r := start(t, cfg, newTestLog(t), nil)
		waitForBrokerError(t, r, "herald connects without TLS (--kafka-tls turns it on) and without SASL")
	})
}

// Errors that do not come from TLS or SASL settings are left as they are; those that may
// come with the hint that fits the settings.
func TestSecurityExplain(t *testing.T) {
	withCA := Security{TLS: TLS{CAFile: "/etc/herald/kafka-ca.pem"}}
	for _, tc := range []struct {
		name string
		sec  Security
		err  error
		want string
	}{
		{"other errors", withCA, errors.New("[3] Unknown Topic Or Partition"), "[3] Unknown Topic Or Partition"},
		{"timeout without TLS", Security{}, os.ErrDeadlineExceeded, os.ErrDeadlineExceeded.Error()},
		{"timeout with TLS", withCA, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded},
			"read tcp: i/o timeout (no answer in time: the brokers may be down, or this listener does not use TLS (herald connects with TLS))"},
		{"the probe's context ends with TLS", withCA, fmt.Errorf("kafka.(*Client).Metadata: %w", context.DeadlineExceeded),
			"kafka.(*Client).Metadata: context deadline exceeded (no answer in time: the brokers may be down, or this listener does not use TLS (herald connects with TLS))"},
		{"unknown CA", withCA, x509.UnknownAuthorityError{},
			"x509: certificate signed by unknown authority (herald does not trust the brokers' certificate: it trusts the CAs in /etc/herald/kafka-ca.pem; name the CA that signs the brokers' certificate with --kafka-tls-ca)"},
		{"a name the certificate does not list", withCA, x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"kafka.internal"}}, Host: "10.0.0.7"},
			"x509: cannot validate certificate for 10.0.0.7 because it doesn't contain any IP SANs (the brokers' certificate is not for the name herald connects to: give --kafka-brokers as a name the certificate lists, or have the brokers' certificate list that name (an IP address only matches an IP entry of the certificate))"},
		{"expired", withCA, x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time 2026-11-23 is after 2026-01-01"},
			"x509: certificate has expired or is not yet valid: current time 2026-11-23 is after 2026-01-01 (the brokers' certificate has expired, or is not valid yet: check it, and this machine's clock)"},
		{"not for a server", withCA, x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign},
			"x509: certificate is not authorized to sign other certificates (the brokers' certificate, or a CA certificate on its chain, cannot be used for a TLS server (see the reason above); check the brokers' certificate chain)"},
		{"plaintext answer", withCA, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
			"tls: first record does not look like a TLS handshake (the listener does not speak TLS: connect without TLS, or to the brokers' TLS listener)"},
		{"closed with TLS and SASL", Security{TLS: TLS{Enabled: true}, SASL: SASL{Mechanism: "PLAIN", Username: "alice"}}, io.ErrUnexpectedEOF,
			`unexpected EOF (the brokers closed the connection, as they do when TLS or SASL does not match their listener: herald connects with TLS and authenticates with SASL plain as "alice" (check the mechanism, username and password))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.sec.explain(tc.err)
			if got.Error() != tc.want || !errors.Is(got, tc.err) {
				t.Errorf("explain(%v) = %q, want %q wrapping the error", tc.err, got, tc.want)
			}
		})
	}
	if (Security{}).explain(nil) != nil {
		t.Error("explain(nil) is not nil")
	}
}

// testCertificates makes a CA, writes it to dir, and returns it with a certificate for
// 127.0.0.1 that it signed.
func testCertificates(t *testing.T, dir string) (caFile string, server tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// CheckFiles reads the TLS files and blames each one at fault, by which of the three it is:
// a missing file, one without a PEM certificate or key, a key of another certificate.
func TestSecurityCheckFiles_namesTheFileAtFault(t *testing.T) {
	dir := t.TempDir()
	caFile, server := testCertificates(t, dir)
	certFile, keyFile := writeKeyPair(t, dir, "client", server)
	_, other := testCertificates(t, t.TempDir())
	_, otherKey := writeKeyPair(t, dir, "other", other)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	if err := (Security{TLS: TLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}}).CheckFiles(); err != nil {
		t.Fatalf("good files: %v", err)
	}
	for name, tc := range map[string]struct {
		tls   TLS
		file  TLSFile
		path  string
		cause string
	}{
		"missing CA":      {TLS{CAFile: missing}, TLSCAFile, missing, "no such file or directory"},
		"CA not PEM":      {TLS{CAFile: notPEM}, TLSCAFile, notPEM, "no PEM certificate in it"},
		"cert not PEM":    {TLS{CertFile: notPEM, KeyFile: keyFile}, TLSCertFile, notPEM, "no PEM certificate in it"},
		"key not PEM":     {TLS{CertFile: certFile, KeyFile: notPEM}, TLSKeyFile, notPEM, "no PEM private key in it"},
		"missing key":     {TLS{CertFile: certFile, KeyFile: missing}, TLSKeyFile, missing, "no such file or directory"},
		"another's key":   {TLS{CertFile: certFile, KeyFile: otherKey}, TLSKeyFile, otherKey, "private key does not match public key (certificate " + certFile + ")"},
		"key given as CA": {TLS{CAFile: keyFile}, TLSCAFile, keyFile, "no PEM certificate in it"},
		"CA given as key": {TLS{CertFile: certFile, KeyFile: caFile}, TLSKeyFile, caFile, "no PEM private key in it"},
	} {
		err := Security{TLS: tc.tls}.CheckFiles()
		var file *TLSFileError
		if !errors.As(err, &file) || file.File != tc.file || file.Path != tc.path || !strings.Contains(err.Error(), tc.cause) ||
			!strings.HasPrefix(err.Error(), "tls "+string(tc.file)+" "+tc.path+": ") {
			t.Errorf("%s: error %v, want the %s file %s blamed: %s", name, err, tc.file, tc.path, tc.cause)
		}
	}
	err := Security{TLS: TLS{CAFile: missing, CertFile: notPEM, KeyFile: missing}}.CheckFiles()
	for _, want := range []string{"tls ca " + missing, "tls cert " + notPEM, "tls key " + missing} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("three files at fault: error %v does not say %q", err, want)
		}
	}
}

// writeKeyPair writes cert's first certificate and its key to dir as PEM files.
func writeKeyPair(t *testing.T, dir, name string, cert tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

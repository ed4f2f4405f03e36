package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/internal/testtool"
)

// TestServe_dataDirInUseNamesTheOtherHerald: a second herald on a data directory another one
// runs on says the directory is in use, names its lock file and what to do.
func TestServe_dataDirInUseNamesTheOtherHerald(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir, freePort(t)) // another process: the store's lock is per process
	store, err := openEventStore(testServeConfig(dir, testSecretKey), debugLogger(&testtool.Buffer{}))
	if err == nil {
		store.Close()
		t.Fatal("opened the store another herald runs on")
	}
	for _, want := range []string{"--data-dir " + dir + " is in use", filepath.Join(dir, "LOCK"), "stop that one first"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestServe_refusesBadSettingsBeforeWritingAnything: a taken port, a bad --secret-key, a bad
// notification setting or a Kafka TLS file that cannot be used stops herald at once, naming
// the setting, before it creates the store, the admin account or a key.
func TestServe_refusesBadSettingsBeforeWritingAnything(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		listen    string
		port      int
		portGiven bool
		secretKey string
		notify    func(*notifyFlags)
		kafka     []string // --kafka-* flags
		origins   []string
		want      []string
	}{
		"unreadable origin pattern": {port: freePort(t), secretKey: testSecretKey, origins: []string{"*.example.com", "http://[bad"},
			want: []string{`--allowed-origins "http://[bad": not a valid pattern`}},
		"port in use":    {port: taken.Addr().(*net.TCPAddr).Port, secretKey: testSecretKey, want: []string{taken.Addr().String() + " is in use", "--port"}},
		"bad secret key": {port: freePort(t), secretKey: "not-a-key", want: []string{"--secret-key", "64 hex digits"}},
		"two ports":      {listen: "127.0.0.1:9", port: freePort(t), portGiven: true, secretKey: testSecretKey, want: []string{`--listen "127.0.0.1:9" names port 9 but --port is`}},
		"bad outbound network": {port: freePort(t), secretKey: testSecretKey, notify: func(n *notifyFlags) { n.OutboundDeny = "bogus" },
			want: []string{"--outbound-deny", "bogus"}},
		"negative concurrency": {port: freePort(t), secretKey: testSecretKey, notify: func(n *notifyFlags) { n.Concurrency = -1 },
			want: []string{"--notify-concurrency is -1"}},
		"kafka CA without a certificate": {port: freePort(t), secretKey: testSecretKey, kafka: []string{"--kafka-brokers", "127.0.0.1:1", "--kafka-tls-ca", notPEM},
			want: []string{"--kafka-tls-ca " + notPEM + ": no PEM certificate in it"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			cfg := testServeConfig(dataDir, c.secretKey)
			cfg.Listen, cfg.Port, cfg.portGiven = "127.0.0.1", c.port, c.portGiven
			if c.listen != "" {
				cfg.Listen = c.listen
			}
			if c.notify != nil {
				c.notify(&cfg.Notify)
			}
			if c.kafka != nil {
				cfg.Kafka = *parseKafkaFlags(t, c.kafka...)
			}
			cfg.Auth.AllowedOrigins = c.origins
			logs := &testtool.Buffer{}
			err := serve(context.Background(), cfg, debugLogger(logs))
			if err == nil {
				t.Fatal("herald started")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if entries, statErr := os.ReadDir(dataDir); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("the data directory was written before the error: %d entries (%v); logs:\n%s", len(entries), statErr, logs)
			}
		})
	}
}

// An --allowed-origins pattern that could never match (unreadable, with a path, without a
// host) is refused when herald starts, not when a browser first connects.
func TestCheckOriginPatterns(t *testing.T) {
	for _, ok := range []string{"dashboard.example.com", "*.example.com", "localhost:*", "https://dash.example.com:8443", "HTTPS://*.Example.com", "[a-c]?.example.com"} {
		if err := checkOriginPatterns([]string{ok}); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	if got := trimOriginPatterns([]string{"a.example.com", " b.example.com ", ""}); strings.Join(got, ",") != "a.example.com,b.example.com" {
		t.Errorf("trimmed patterns %q", got)
	}
	for bad, want := range map[string]string{
		"http://[bad":             "not a valid pattern",
		"dash\\":                  "not a valid pattern",
		"https://example.com/app": "an origin has no path",
		"example.com/":            "an origin has no path",
		"https://":                "give a host pattern",
		"":                        "give a host pattern",
		"://example.com":          "give a scheme before ://",
	} {
		if err := checkOriginPatterns([]string{"ok.example.com", bad}); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--allowed-origins") {
			t.Errorf("%q: %v, want refused saying %q", bad, err, want)
		}
	}
}

// TestListenAddress: --listen takes a host or a host:port, the way servers usually do; a port
// given twice differently, or a host that is no host, is refused with what to write.
func TestListenAddress(t *testing.T) {
	cases := []struct {
		listen    string
		port      int
		portGiven bool
		want      string // address, or the error's text
	}{
		{"", 8228, false, ":8228"},
		{"127.0.0.1", 9000, true, "127.0.0.1:9000"},
		{"127.0.0.1:9100", 8228, false, "127.0.0.1:9100"},
		{"127.0.0.1:9100", 9100, true, "127.0.0.1:9100"},
		{":9100", 8228, false, ":9100"},
		{"::1", 8228, false, "[::1]:8228"},
		{"[::1]", 8228, false, "[::1]:8228"},
		{"[::1]:9100", 8228, false, "[::1]:9100"},
		{"localhost", 8228, false, "localhost:8228"},
		{"127.0.0.1:9100", 9200, true, `--listen "127.0.0.1:9100" names port 9100 but --port is 9200: give the port in one of them`},
		{"127.0.0.1:http", 8228, false, `--listen "127.0.0.1:http": the port must be a number between 1 and 65535`},
		{"127.0.0.1:70000", 8228, false, `--listen "127.0.0.1:70000": the port must be a number between 1 and 65535`},
		{"127.0.0.1", 0, true, "--port 0: must lie between 1 and 65535"},
		{"http://127.0.0.1", 8228, false, `--listen "http://127.0.0.1": give a host name or an IP address, with a :port or without`},
	}
	for _, c := range cases {
		got, err := listenAddress(c.listen, c.port, c.portGiven)
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("listenAddress(%q, %d, %v) = %q, want %q", c.listen, c.port, c.portGiven, got, c.want)
		}
	}
}

// TestServe_badAdminUserIsNotCalledAnInvalidEvent: a refused first admin user says which
// setting is wrong, not "invalid event".
func TestServe_badAdminUserIsNotCalledAnInvalidEvent(t *testing.T) {
	cases := map[string]struct {
		user, password string
		want           string
	}{
		"short password": {user: "admin", password: "abc", want: `invalid input: password: password is 3 characters long`},
		"bad user name":  {user: "bad user!", password: testAdminPassword, want: `invalid input: user: "bad user!" is not a user name`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testServeConfig(t.TempDir(), testSecretKey)
			cfg.Auth.AdminUser, cfg.Auth.AdminPassword = c.user, c.password
			a, err := newApp(cfg, debugLogger(&testtool.Buffer{}))
			if err == nil {
				a.Close()
				t.Fatal("herald started")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--admin-user, --admin-password") || strings.Contains(err.Error(), "invalid event") {
				t.Errorf("error %q, want %q naming the flags", err, c.want)
			}
		})
	}
}

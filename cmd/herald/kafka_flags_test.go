package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func parseKafkaFlags(t *testing.T, args ...string) *kafkaFlags {
	t.Helper()
	var k kafkaFlags
	f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	k.add(f)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &k
}

func TestKafkaFlags(t *testing.T) {
	k := parseKafkaFlags(t, "--kafka-brokers", "a:9092,b:9093", "--kafka-topics", "x,y", "--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-username", "u", "--kafka-sasl-password", "p")
	cfg, err := k.config()
	if err != nil {
		t.Fatal(err)
	}
	if last, err := parseKafkaFlags(t, "--kafka-brokers", "a:1", "--kafka-start-offset", "Last").config(); err != nil || last.StartOffset != "last" {
		t.Errorf("--kafka-start-offset Last: %v, %q", err, last.StartOffset)
	}
	for args, want := range map[string]bool{"": false, "--kafka-tls": true, "--kafka-tls=true": true, "--kafka-tls=false": false} {
		tls, err := parseKafkaFlags(t, "--kafka-brokers", "a:1", args).config()
		if args == "" {
			tls, err = parseKafkaFlags(t, "--kafka-brokers", "a:1").config()
		}
		if err != nil || tls.Security.TLS.Enabled != want {
			t.Errorf("%q: TLS enabled %v, error %v; want %v", args, tls.Security.TLS.Enabled, err, want)
		}
	}
	if id, err := parseKafkaFlags(t, "--kafka-brokers", "a:1", "--kafka-client-id", " h1 ").config(); err != nil || id.ClientID != "h1" {
		t.Errorf("--kafka-client-id ' h1 ': %q, %v", id.ClientID, err)
	}
	if strings.Join(cfg.Brokers, " ") != "a:9092 b:9093" || strings.Join(cfg.Topics, " ") != "x y" || cfg.GroupID != "herald" ||
		cfg.BatchSize != 1000 || cfg.Security.SASL.Mechanism != "scram-sha-512" || cfg.StartOffset != "first" {
		t.Errorf("config = %+v", cfg)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kafka-brokers", "localhost"}, `--kafka-brokers "localhost": want host:port`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-topics", "bad topic"}, `--kafka-topics "bad topic"`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-dlq-topic", "herald.events"}, "--kafka-dlq-topic"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-start-offset", "newest"}, `--kafka-start-offset "newest": use first or last`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-batch-size", "0"}, "--kafka-batch-size 0"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-batch-wait", "0s"}, "--kafka-batch-wait 0s"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-tls-ca", "/nonexistent.pem"}, "--kafka-tls-ca /nonexistent.pem: open /nonexistent.pem: no such file or directory"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-topics", strings.Repeat("t", 246)}, `--kafka-topics "` + strings.Repeat("t", 246) + `": its dead-letter topic, <topic>.dlq, would be 250 characters, over Kafka's limit of 249; name one with --kafka-dlq-topic`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-tls-cert", "/etc/hostname"}, "--kafka-tls-cert and --kafka-tls-key go together"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-mechanism", "gssapi"}, `--kafka-sasl-mechanism "gssapi"`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-mechanism", "plain"}, "needs --kafka-sasl-username"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-mechanism", "scram-sha-256", "--kafka-sasl-username", "u"}, "--kafka-sasl-mechanism scram-sha-256 needs --kafka-sasl-password (or HERALD_KAFKA_SASL_PASSWORD)"},
		{[]string{"--kafka-brokers", "localhost:notaport"}, `--kafka-brokers "localhost:notaport": the port must be a number from 1 to 65535, such as 9092`},
		{[]string{"--kafka-brokers", "localhost:0"}, `--kafka-brokers "localhost:0": the port must be a number`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-username", "u"}, "need --kafka-sasl-mechanism"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-session-timeout", "10ms"}, "--kafka-session-timeout 10ms"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-topics", "a.b,a.b.dlq"}, `--kafka-topics names both "a.b" and its dead-letter topic "a.b.dlq": herald would read its own rejects`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-topics", "x,y,x,x"}, `--kafka-topics names "x" more than once`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-client-id", " "}, "--kafka-client-id: must not be empty"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-tls=false", "--kafka-tls-ca", "/etc/hostname", "--kafka-tls-insecure-skip-verify"},
			"--kafka-tls=false contradicts --kafka-tls-ca, --kafka-tls-insecure-skip-verify, which connect with TLS: leave --kafka-tls out, or drop --kafka-tls-ca, --kafka-tls-insecure-skip-verify"},
	} {
		_, err := parseKafkaFlags(t, tc.args...).config()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

// HERALD_KAFKA_* variables set the flags like the command line.
func TestKafkaFlagsFromEnvironment(t *testing.T) {
	t.Setenv("HERALD_KAFKA_BROKERS", "k1:9092,k2:9092")
	t.Setenv("HERALD_KAFKA_SASL_PASSWORD", "secret")
	cmd := newServeCommand()
	if err := bindEnv(cmd); err != nil {
		t.Fatal(err)
	}
	brokers, _ := cmd.Flags().GetStringSlice("kafka-brokers")
	password, _ := cmd.Flags().GetString("kafka-sasl-password")
	if strings.Join(brokers, " ") != "k1:9092 k2:9092" || password != "secret" {
		t.Errorf("brokers %v, password %q", brokers, password)
	}
}

// A topic of 245 characters has a dead-letter topic of 249, Kafka's limit; a longer one
// is taken with a dead-letter topic of one's choice.
func TestKafkaFlags_longTopicsWithADeadLetterTopicThatFits(t *testing.T) {
	for _, args := range [][]string{
		{"--kafka-brokers", "a:1", "--kafka-topics", strings.Repeat("t", 245)},
		{"--kafka-brokers", "a:1", "--kafka-topics", strings.Repeat("t", 249), "--kafka-dlq-topic", "rejects"},
	} {
		if _, err := parseKafkaFlags(t, args...).config(); err != nil {
			t.Errorf("%.60v: %v", args, err)
		}
	}
}

// The TLS files are read when the flags are checked, before anything is written or sent,
// and a file that cannot be used is named by its flag.
func TestKafkaFlags_tlsFilesAreReadAndNamedByTheirFlag(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--kafka-tls-ca", notPEM}, []string{"--kafka-tls-ca " + notPEM + ": no PEM certificate in it"}},
		{[]string{"--kafka-tls-cert", notPEM, "--kafka-tls-key", "/nonexistent-key.pem"}, []string{
			"--kafka-tls-cert " + notPEM + ": no PEM certificate in it",
			"--kafka-tls-key /nonexistent-key.pem: open /nonexistent-key.pem: no such file or directory",
		}},
	} {
		_, err := parseKafkaFlags(t, append([]string{"--kafka-brokers", "a:1"}, tc.args...)...).config()
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %v, want one containing %q", tc.args, err, want)
			}
		}
	}
}

// TestServe_kafkaSettingsWithoutBrokersAreRefused: --kafka-* settings of serve, from the
// command line, the environment or herald.yaml, are refused while --kafka-brokers is not set,
// naming each and where it came from: ingest does not run, and they would do nothing. An
// empty --kafka-brokers is refused too, rather than taken for no Kafka.
func TestServe_kafkaSettingsWithoutBrokersAreRefused(t *testing.T) {
	const suffix = "settings of Kafka ingestion, which runs only with --kafka-brokers, and --kafka-brokers is not set"
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		yaml string
		want string // "" for no error
	}{
		"none":                   {},
		"with brokers":           {args: []string{"--kafka-brokers", "k:9092", "--kafka-topics", "x"}},
		"brokers from the env":   {env: map[string]string{"HERALD_KAFKA_BROKERS": "k:9092"}, yaml: "kafka: {topics: x}\n"},
		"brokers from the file":  {args: []string{"--kafka-group", "g"}, yaml: "kafka: {brokers: \"k:9092\"}\n"},
		"command line":           {args: []string{"--kafka-topics", "x", "--kafka-tls-ca", "/ca.pem"}, want: "--kafka-tls-ca, --kafka-topics are " + suffix},
		"environment":            {env: map[string]string{"HERALD_KAFKA_GROUP": "g"}, want: "--kafka-group (HERALD_KAFKA_GROUP) is a setting of Kafka ingestion"},
		"config file":            {yaml: "log: {level: info}\nkafka:\n  dlq_topic: rejects\n", want: "--kafka-dlq-topic (config line 3: kafka.dlq_topic) is a setting of Kafka ingestion"},
		"empty brokers":          {env: map[string]string{"HERALD_KAFKA_BROKERS": "", "HERALD_KAFKA_SASL_USERNAME": "u"}, want: "--kafka-brokers (HERALD_KAFKA_BROKERS) is empty: give the brokers"},
		"empty brokers alone":    {args: []string{"--kafka-brokers", ""}, want: "--kafka-brokers is empty: give the brokers (host:port, comma-separated) to ingest from, or leave it out to run without Kafka"},
		"empty brokers in file":  {yaml: "kafka: {brokers: \"\"}\n", want: "--kafka-brokers (config line 1: kafka.brokers) is empty"},
		"a default given anyway": {args: []string{"--kafka-batch-size", "1000"}, want: "--kafka-batch-size is a setting"},
		"not kafka flags at all": {args: []string{"--log-level", "debug"}},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := tc.args
			if tc.yaml != "" {
				path := filepath.Join(t.TempDir(), "herald.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", path)
			}
			cmd := newServeCommand()
			if err := cmd.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			if err := bindEnv(cmd); err != nil {
				t.Fatal(err)
			}
			err := cmd.PreRunE(cmd, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestEventSend_kafkaFlagsNeedToKafka: event send's Kafka flags given without --to kafka are
// refused rather than ignored, but not when they come from the environment, which herald
// serve shares; with --to kafka, a bad compression or TLS file is named by its flag before
// anything is read or sent.
func TestEventSend_kafkaFlagsNeedToKafka(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--compression", "gzip"}, "--compression is a setting of --to kafka, and the events go to the server at --url: add --to kafka, or leave it out"},
		{[]string{"--to", "graphql", "--kafka-topic", "t", "--kafka-tls-ca", notPEM}, "--kafka-tls-ca, --kafka-topic are settings of --to kafka"},
		{[]string{"--to", "kafka", "--kafka-brokers", "127.0.0.1:1", "--compression", "brotli"}, `--compression "brotli": use one of none, gzip, snappy, lz4, zstd`},
		{[]string{"--to", "kafka", "--kafka-brokers", "127.0.0.1:1", "--kafka-tls-ca", notPEM}, "--kafka-tls-ca " + notPEM + ": no PEM certificate in it"},
	} {
		_, _, err := runCLI(t, "", append([]string{"event", "send"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}

	t.Setenv("HERALD_COMPRESSION", "gzip")
	t.Setenv("HERALD_KAFKA_BROKERS", "127.0.0.1:1")
	if _, _, err := runCLI(t, "", "event", "send"); err == nil || err.Error() != "no events in stdin" {
		t.Errorf("Kafka settings from the environment: error %v, want them let be (no events in stdin)", err)
	}
}

package main

import (
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
	k := parseKafkaFlags(t, "--kafka-brokers", "a:9092,b:9093", "--kafka-topics", "x,y", "--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-sasl-username", "u")
	cfg, err := k.config()
	if err != nil {
		t.Fatal(err)
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
		{[]string{"--kafka-brokers", "a:1", "--kafka-tls-ca", "/nonexistent.pem"}, `--kafka-tls-ca "/nonexistent.pem"`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-tls-cert", "/etc/hostname"}, "--kafka-tls-cert and --kafka-tls-key go together"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-mechanism", "gssapi"}, `--kafka-sasl-mechanism "gssapi"`},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-mechanism", "plain"}, "needs --kafka-sasl-username"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-sasl-username", "u"}, "need --kafka-sasl-mechanism"},
		{[]string{"--kafka-brokers", "a:1", "--kafka-session-timeout", "10ms"}, "--kafka-session-timeout 10ms"},
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

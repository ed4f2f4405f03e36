package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"herald/adapters/kafka"
	"herald/domain"
)

// kafkaFlags are `herald serve`'s --kafka-* flags. Ingest runs when --kafka-brokers is set.
type kafkaFlags struct {
	Brokers     []string
	Topics      []string
	Group       string
	ClientID    string
	StartOffset string
	BatchSize   int
	BatchWait   time.Duration
	DLQTopic    string
	Session     time.Duration
	Security    kafkaSecurityFlags
}

// kafkaSecurityFlags are the TLS and SASL flags, shared by `serve` and `event send`.
type kafkaSecurityFlags struct {
	TLS                                       switchFlag
	TLSCA, TLSCert, TLSKey                    string
	TLSInsecure                               bool
	SASLMechanism, SASLUsername, SASLPassword string
}

func (k *kafkaFlags) add(f *pflag.FlagSet) {
	f.StringSliceVar(&k.Brokers, "kafka-brokers", nil, "Kafka brokers (host:port, comma-separated); setting them enables ingest from Kafka")
	f.StringSliceVar(&k.Topics, "kafka-topics", []string{kafka.DefaultTopic}, "Kafka topics to ingest events from (comma-separated)")
	f.StringVar(&k.Group, "kafka-group", "herald", "Kafka consumer group; herald instances of one group split the partitions")
	f.StringVar(&k.ClientID, "kafka-client-id", "herald", "client id herald gives the Kafka brokers")
	f.StringVar(&k.StartOffset, "kafka-start-offset", "first", "where a new consumer group starts: first (the oldest message kept) or last (new messages only)")
	f.IntVar(&k.BatchSize, "kafka-batch-size", 1000, "Kafka messages recorded per batch (1 to 10000)")
	f.DurationVar(&k.BatchWait, "kafka-batch-wait", 5*time.Millisecond, "how long a batch waits to fill once its first message has arrived")
	f.StringVar(&k.DLQTopic, "kafka-dlq-topic", "", "dead-letter topic for messages that are no valid events (default <topic>.dlq)")
	f.DurationVar(&k.Session, "kafka-session-timeout", 30*time.Second, "how long the group waits for a herald that stopped without leaving it (killed) before handing its partitions to the others")
	k.Security.add(f)
}

func (s *kafkaSecurityFlags) add(f *pflag.FlagSet) {
	f.Var(&s.TLS, "kafka-tls", "connect to the Kafka brokers with TLS (implied by the other --kafka-tls-* flags)")
	f.Lookup("kafka-tls").NoOptDefVal = "true"
	f.StringVar(&s.TLSCA, "kafka-tls-ca", "", "PEM file of the CAs that sign the brokers' certificates (default: the system's)")
	f.StringVar(&s.TLSCert, "kafka-tls-cert", "", "PEM client certificate, for brokers that require one (with --kafka-tls-key)")
	f.StringVar(&s.TLSKey, "kafka-tls-key", "", "PEM key of --kafka-tls-cert")
	f.BoolVar(&s.TLSInsecure, "kafka-tls-insecure-skip-verify", false, "accept any broker certificate (for testing only)")
	f.StringVar(&s.SASLMechanism, "kafka-sasl-mechanism", "", "SASL authentication: plain, scram-sha-256 or scram-sha-512")
	f.StringVar(&s.SASLUsername, "kafka-sasl-username", "", "SASL username")
	f.StringVar(&s.SASLPassword, "kafka-sasl-password", "", "SASL password (better set through HERALD_KAFKA_SASL_PASSWORD)")
}

// enabled tells whether Kafka ingest is asked for.
func (k *kafkaFlags) enabled() bool { return len(k.Brokers) > 0 }

// config checks the flags and turns them into the ingester's configuration. Every error
// names its flag.
func (k *kafkaFlags) config() (kafka.Config, error) {
	var errs []error
	brokers, err := brokerList("--kafka-brokers", k.Brokers)
	if err != nil {
		errs = append(errs, err)
	}
	topics := make([]string, 0, len(k.Topics))
	for _, t := range k.Topics {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	if len(topics) == 0 {
		errs = append(errs, errors.New("--kafka-topics: name at least one topic"))
	}
	named := map[string]int{}
	for _, t := range topics {
		if !kafka.ValidTopic(t) {
			errs = append(errs, fmt.Errorf("--kafka-topics %q: %s", t, kafka.TopicRule))
		}
		if named[t]++; named[t] == 2 {
			errs = append(errs, fmt.Errorf("--kafka-topics names %q more than once", t))
		}
	}
	if k.DLQTopic == "" {
		for _, t := range topics {
			switch dlq := t + kafka.DeadLetterSuffix; {
			case kafka.ValidTopic(t) && !kafka.ValidTopic(dlq):
				errs = append(errs, fmt.Errorf("--kafka-topics %q: its dead-letter topic, <topic>%s, would be %d characters, over Kafka's limit of %d; name one with --kafka-dlq-topic",
					t, kafka.DeadLetterSuffix, len(t)+len(kafka.DeadLetterSuffix), kafka.MaxTopicLength))
			case slices.Contains(topics, dlq):
				errs = append(errs, fmt.Errorf("--kafka-topics names both %q and its dead-letter topic %q: herald would read its own rejects; leave %q out, or name another dead-letter topic with --kafka-dlq-topic",
					t, dlq, dlq))
			}
		}
	}
	if k.DLQTopic != "" && !kafka.ValidTopic(k.DLQTopic) {
		errs = append(errs, fmt.Errorf("--kafka-dlq-topic %q: %s", k.DLQTopic, kafka.TopicRule))
	}
	if slices.Contains(topics, k.DLQTopic) {
		errs = append(errs, fmt.Errorf("--kafka-dlq-topic %q is also in --kafka-topics: herald would read its own rejects", k.DLQTopic))
	}
	if strings.TrimSpace(k.Group) == "" {
		errs = append(errs, errors.New("--kafka-group: must not be empty"))
	}
	if strings.TrimSpace(k.ClientID) == "" {
		errs = append(errs, errors.New("--kafka-client-id: must not be empty (the brokers' logs and quotas tell clients apart by it)"))
	}
	start := strings.ToLower(strings.TrimSpace(k.StartOffset))
	if start != string(kafka.StartFirst) && start != string(kafka.StartLast) {
		errs = append(errs, fmt.Errorf("--kafka-start-offset %q: use first or last", k.StartOffset))
	}
	if k.BatchSize < 1 || k.BatchSize > domain.MaxEventsPerBatch {
		errs = append(errs, fmt.Errorf("--kafka-batch-size %d: must lie between 1 and %d", k.BatchSize, domain.MaxEventsPerBatch))
	}
	if k.BatchWait <= 0 {
		errs = append(errs, fmt.Errorf("--kafka-batch-wait %s: must be positive, such as 5ms", k.BatchWait))
	}
	if k.Session < time.Second || k.Session > 30*time.Minute {
		errs = append(errs, fmt.Errorf("--kafka-session-timeout %s: must lie between 1s and 30m (and within the brokers' group.min/max.session.timeout.ms)", k.Session))
	}
	sec, err := k.Security.security()
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return kafka.Config{}, err
	}
	cfg := kafka.Config{
		Brokers: brokers, Topics: topics, GroupID: k.Group, ClientID: strings.TrimSpace(k.ClientID),
		StartOffset: kafka.StartOffset(start), BatchSize: k.BatchSize, BatchWait: k.BatchWait,
		DeadLetterTopic: k.DLQTopic, Security: sec, SessionTimeout: k.Session,
	}
	return cfg, nil
}

// security checks the TLS and SASL flags, and reads the TLS files: a file that cannot be used
// is found before anything is written or sent, and named by its flag.
func (s *kafkaSecurityFlags) security() (kafka.Security, error) {
	var errs []error
	if s.TLS.set && !s.TLS.on {
		var implying []string
		for _, f := range []struct {
			name  string
			given bool
		}{{"--kafka-tls-ca", s.TLSCA != ""}, {"--kafka-tls-cert", s.TLSCert != ""}, {"--kafka-tls-key", s.TLSKey != ""}, {"--kafka-tls-insecure-skip-verify", s.TLSInsecure}} {
			if f.given {
				implying = append(implying, f.name)
			}
		}
		if len(implying) > 0 {
			errs = append(errs, fmt.Errorf("--kafka-tls=false contradicts %s, which connect with TLS: leave --kafka-tls out, or drop %s", strings.Join(implying, ", "), strings.Join(implying, ", ")))
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		errs = append(errs, errors.New("--kafka-tls-cert and --kafka-tls-key go together"))
	}
	mechanism := strings.ToLower(s.SASLMechanism)
	switch mechanism {
	case "":
		if s.SASLUsername != "" || s.SASLPassword != "" {
			errs = append(errs, errors.New("--kafka-sasl-username and --kafka-sasl-password need --kafka-sasl-mechanism (plain, scram-sha-256 or scram-sha-512)"))
		}
	case kafka.SASLPlain, kafka.SASLScramSHA256, kafka.SASLScramSHA512:
		if s.SASLUsername == "" {
			errs = append(errs, fmt.Errorf("--kafka-sasl-mechanism %s needs --kafka-sasl-username", mechanism))
		}
		if s.SASLPassword == "" {
			errs = append(errs, fmt.Errorf("--kafka-sasl-mechanism %s needs --kafka-sasl-password (or HERALD_KAFKA_SASL_PASSWORD)", mechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("--kafka-sasl-mechanism %q: use plain, scram-sha-256 or scram-sha-512", s.SASLMechanism))
	}
	sec := kafka.Security{
		TLS:  kafka.TLS{Enabled: s.TLS.on, CAFile: s.TLSCA, CertFile: s.TLSCert, KeyFile: s.TLSKey, InsecureSkipVerify: s.TLSInsecure},
		SASL: kafka.SASL{Mechanism: mechanism, Username: s.SASLUsername, Password: s.SASLPassword},
	}
	files := sec
	if (s.TLSCert == "") != (s.TLSKey == "") { // refused above; the CA is still read
		files.TLS.CertFile, files.TLS.KeyFile = "", ""
	}
	errs = append(errs, tlsFileFlagErrors(files.CheckFiles())...)
	if err := errors.Join(errs...); err != nil {
		return kafka.Security{}, err
	}
	return sec, nil
}

// tlsFileFlagErrors names the flag of each TLS file at fault:
// "--kafka-tls-ca /x: open /x: no such file or directory".
func tlsFileFlagErrors(err error) []error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range unjoin(err) {
		var file *kafka.TLSFileError
		if errors.As(e, &file) {
			e = fmt.Errorf("--kafka-tls-%s %s: %w", file.File, file.Path, file.Err)
		}
		out = append(out, e)
	}
	return out
}

// unjoin is the errors errors.Join joined into err, at any depth, or err alone.
func unjoin(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}

// refuseWithoutBrokers refuses the --kafka-* flags of serve set (on the command line, in the
// environment or in the config file) while --kafka-brokers is not: ingest does not run
// without brokers, and they would be ignored without a word.
func (k *kafkaFlags) refuseWithoutBrokers(flags *pflag.FlagSet) error {
	if k.enabled() {
		return nil
	}
	// An empty value would otherwise turn ingest off without a word, as if it were not given.
	if f := flags.Lookup("kafka-brokers"); f != nil && f.Changed {
		return fmt.Errorf("%s is empty: give the brokers (host:port, comma-separated) to ingest from, or leave it out to run without Kafka", flagWithSource(f))
	}
	var given []string
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed && strings.HasPrefix(f.Name, "kafka-") && f.Name != "kafka-brokers" {
			given = append(given, flagWithSource(f))
		}
	})
	if len(given) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s of Kafka ingestion, which runs only with --kafka-brokers, and --kafka-brokers is not set: give the brokers (host:port) to ingest from, or leave the %s out",
		strings.Join(given, ", "), inNumber(len(given), "is a setting", "are settings"), inNumber(len(given), "setting", "settings"))
}

// brokerList checks a list of host:port addresses.
func brokerList(flag string, list []string) ([]string, error) {
	var out []string
	for _, b := range list {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return nil, fmt.Errorf("%s %q: want host:port, such as localhost:9092", flag, b)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s %q: the port must be a number from 1 to 65535, such as 9092", flag, b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: name at least one broker, such as localhost:9092", flag)
	}
	return out, nil
}

// switchFlag is a boolean flag that remembers whether it was given (on the command line, in
// the environment or in the config file), so that an explicit false can be told from the
// default.
type switchFlag struct{ on, set bool }

func (b *switchFlag) String() string { return strconv.FormatBool(b.on) }

func (b *switchFlag) Set(v string) error {
	on, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	b.on, b.set = on, true
	return nil
}

func (b *switchFlag) Type() string { return "bool" }

// IsBoolFlag lets the flag stand alone: --kafka-tls means --kafka-tls=true.
func (b *switchFlag) IsBoolFlag() bool { return true }

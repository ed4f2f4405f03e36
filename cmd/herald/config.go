package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	yaml "go.yaml.in/yaml/v3"
)

// fileConfig is herald.yaml. The notifications section keeps the meaning it has in the
// product herald replaces; the other sections are herald's own. Every key maps to a flag of
// `herald serve` (the flag tag), so that a value can come from the command line, the
// environment (HERALD_<FLAG>) or this file, in that order of precedence.
type fileConfig struct {
	Notifications struct {
		Enabled          *bool  `yaml:"enabled" flag:"notifications-enabled"`
		RequireAuth      *bool  `yaml:"require_auth" flag:"require-auth"`
		EndpointHostname string `yaml:"endpoint_hostname" flag:"endpoint-hostname"`
		Listen           string `yaml:"listen" flag:"listen"`
		Port             int    `yaml:"port" flag:"port"`
		CycleTimers      struct {
			Notifications int `yaml:"notifications" flag:"notifications-cycle"`
		} `yaml:"cycle_timers"`
		UIURL string `yaml:"ui_url" flag:"ui-url"`
	} `yaml:"notifications"`
	Store struct {
		DataDir string `yaml:"data_dir" flag:"data-dir"`
		// KurrentDB instead of the embedded store.
		EventStoreURL      string `yaml:"eventstore_url" flag:"eventstore-url"`
		EventStoreUsername string `yaml:"eventstore_username" flag:"eventstore-username"`
		EventStorePassword string `yaml:"eventstore_password" flag:"eventstore-password"`
		EventStoreTLSCA    string `yaml:"eventstore_tls_ca" flag:"eventstore-tls-ca"`
	} `yaml:"store"`
	Log struct {
		Format string `yaml:"format" flag:"log-format"`
		Level  string `yaml:"level" flag:"log-level"`
	} `yaml:"log"`
	Retention string `yaml:"retention" flag:"retention"`
	Kafka     struct {
		Brokers        string `yaml:"brokers" flag:"kafka-brokers"`
		Topics         string `yaml:"topics" flag:"kafka-topics"`
		Group          string `yaml:"group" flag:"kafka-group"`
		ClientID       string `yaml:"client_id" flag:"kafka-client-id"`
		StartOffset    string `yaml:"start_offset" flag:"kafka-start-offset"`
		BatchSize      int    `yaml:"batch_size" flag:"kafka-batch-size"`
		BatchWait      string `yaml:"batch_wait" flag:"kafka-batch-wait"`
		DLQTopic       string `yaml:"dlq_topic" flag:"kafka-dlq-topic"`
		SessionTimeout string `yaml:"session_timeout" flag:"kafka-session-timeout"`
		TLS            *bool  `yaml:"tls" flag:"kafka-tls"`
		TLSCA          string `yaml:"tls_ca" flag:"kafka-tls-ca"`
		TLSCert        string `yaml:"tls_cert" flag:"kafka-tls-cert"`
		TLSKey         string `yaml:"tls_key" flag:"kafka-tls-key"`
		TLSInsecure    *bool  `yaml:"tls_insecure_skip_verify" flag:"kafka-tls-insecure-skip-verify"`
		SASLMechanism  string `yaml:"sasl_mechanism" flag:"kafka-sasl-mechanism"`
		SASLUsername   string `yaml:"sasl_username" flag:"kafka-sasl-username"`
		SASLPassword   string `yaml:"sasl_password" flag:"kafka-sasl-password"`
	} `yaml:"kafka"`
	Redis struct {
		URL         string `yaml:"url" flag:"redis-url"`
		Username    string `yaml:"username" flag:"redis-username"`
		Password    string `yaml:"password" flag:"redis-password"`
		Prefix      string `yaml:"prefix" flag:"redis-prefix"`
		TLSCA       string `yaml:"tls_ca" flag:"redis-tls-ca"`
		TLSInsecure *bool  `yaml:"tls_insecure_skip_verify" flag:"redis-tls-insecure-skip-verify"`
		LeaseTTL    string `yaml:"lease_ttl" flag:"redis-lease-ttl"`
	} `yaml:"redis"`
	Webhooks struct {
		WebhookUser string `yaml:"webhook_user" flag:"webhook-user"`
		WebhookPass string `yaml:"webhook_pass" flag:"webhook-pass"`
		SSLVerify   *bool  `yaml:"ssl_verify" flag:"webhook-ssl-verify"`
		General     struct {
			URL string `yaml:"url" flag:"webhook-general-url"`
		} `yaml:"general"`
		EventUpdate struct {
			URL string `yaml:"url" flag:"webhook-event-update-url"`
		} `yaml:"event_update"`
	} `yaml:"webhooks"`
	EventLog struct {
		Notification struct {
			Enabled *bool  `yaml:"enabled" flag:"event-log-notifications"`
			Level   string `yaml:"level" flag:"event-log-levels"`
		} `yaml:"notification"`
	} `yaml:"event_log"`
	Outbound struct {
		Allow string `yaml:"allow" flag:"outbound-allow"`
		Deny  string `yaml:"deny" flag:"outbound-deny"`
	} `yaml:"outbound"`
	Delivery struct {
		MaxAttempts   int    `yaml:"max_attempts" flag:"notify-max-attempts"`
		MaxRetryTime  string `yaml:"max_retry_time" flag:"notify-max-retry-time"`
		RetryInterval string `yaml:"retry_interval" flag:"notify-retry-interval"`
		SendTimeout   string `yaml:"send_timeout" flag:"notify-send-timeout"`
		RateLimits    string `yaml:"rate_limits" flag:"notify-rate-limits"`
		Window        int    `yaml:"window" flag:"notify-window"`
		MaxInFlight   int    `yaml:"max_in_flight" flag:"notify-max-in-flight"`
		Concurrency   int    `yaml:"concurrency" flag:"notify-concurrency"`
		Shards        int    `yaml:"shards" flag:"notify-shards"`
	} `yaml:"delivery"`
	Auth struct {
		AdminUser     string `yaml:"admin_user" flag:"admin-user"`
		AdminPassword string `yaml:"admin_password" flag:"admin-password"`
		SecretKey     string `yaml:"secret_key" flag:"secret-key"`
		// comma-separated, like the flag
		AllowedOrigins string `yaml:"allowed_origins" flag:"allowed-origins"`
	} `yaml:"auth"`
}

// loadConfigFile reads herald.yaml strictly: an unknown key is an error naming its path and
// line, so that a typo never silently falls back to a default.
func loadConfigFile(path string) (map[string]configValue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, errEmptyYAML) || err.Error() == "EOF" {
			return map[string]configValue{}, nil
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(root.Content) == 0 {
		return map[string]configValue{}, nil
	}
	values := map[string]configValue{}
	if err := walkConfig(root.Content[0], reflect.TypeOf(fileConfig{}), "", values); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return values, nil
}

var errEmptyYAML = errors.New("empty")

// configValue is one value of the config file, with where it came from.
type configValue struct {
	Value string
	Path  string // notifications.port
	Line  int
}

// walkConfig checks node against the struct type t and collects flag values.
func walkConfig(node *yaml.Node, t reflect.Type, path string, values map[string]configValue) error {
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s must be a mapping of keys to values", node.Line, nameOr(path, "the document"))
	}
	seen := map[string]int{} // key -> its line: yaml.v3 takes a key given twice, the last one winning
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i], node.Content[i+1]
		keyPath := key.Value
		if path != "" {
			keyPath = path + "." + key.Value
		}
		if line, twice := seen[key.Value]; twice {
			return fmt.Errorf("line %d: %s is given twice (first on line %d): keep one", key.Line, keyPath, line)
		}
		seen[key.Value] = key.Line
		field, ok := fieldByYAML(t, key.Value)
		if !ok {
			return fmt.Errorf("line %d: unknown key %s (known keys here: %s)", key.Line, keyPath, strings.Join(yamlKeys(t), ", "))
		}
		ft := field.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			if err := walkConfig(val, ft, keyPath, values); err != nil {
				return err
			}
			continue
		}
		if val.Kind == yaml.SequenceNode && ft.Kind() == reflect.String { // a list: level: [error]
			var items []string
			for _, item := range val.Content {
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: %s must be a list of single values", item.Line, keyPath)
				}
				items = append(items, item.Value)
			}
			values[field.Tag.Get("flag")] = configValue{Value: strings.Join(items, ","), Path: keyPath, Line: val.Line}
			continue
		}
		if val.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s must be a single value", val.Line, keyPath)
		}
		if err := checkScalar(ft.Kind(), val, keyPath); err != nil {
			return err
		}
		values[field.Tag.Get("flag")] = configValue{Value: val.Value, Path: keyPath, Line: val.Line}
	}
	return nil
}

func checkScalar(kind reflect.Kind, val *yaml.Node, path string) error {
	switch kind {
	case reflect.Int:
		if _, err := strconv.Atoi(val.Value); err != nil {
			return fmt.Errorf("line %d: %s must be a whole number, not %q", val.Line, path, val.Value)
		}
	case reflect.Bool:
		if _, err := strconv.ParseBool(val.Value); err != nil {
			return fmt.Errorf("line %d: %s must be true or false, not %q", val.Line, path, val.Value)
		}
	}
	return nil
}

func fieldByYAML(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("yaml") == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKeys(t reflect.Type) []string {
	keys := make([]string, t.NumField())
	for i := range t.NumField() {
		keys[i] = t.Field(i).Tag.Get("yaml")
	}
	return keys
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// applySettings gives each flag not set on the command line its value from the environment
// (HERALD_<FLAG>) or, failing that, from the config file.
func applySettings(cmd *cobra.Command, file map[string]configValue) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "help" {
			return
		}
		v, fromEnv := os.LookupEnv(envName(f.Name))
		source := envName(f.Name)
		if !fromEnv {
			c, ok := file[f.Name]
			if !ok {
				return
			}
			v, source = c.Value, fmt.Sprintf("config line %d: %s", c.Line, c.Path)
		}
		if e := setFrom(cmd.Flags(), f, v, source); e != nil {
			err = fmt.Errorf("%s=%q (--%s): %w", source, v, f.Name, e)
		}
	})
	return err
}

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"herald/domain"
	"herald/notify"
)

// notifyFlags configure delivery: retries, rate limits, the outbound network policy and the
// engine's event-log webhook.
type notifyFlags struct {
	MaxAttempts   int
	MaxRetryTime  time.Duration
	RetryInterval time.Duration
	SendTimeout   time.Duration
	RateLimits    string
	Window        int
	MaxInFlight   int
	Concurrency   int
	Shards        int
	OutboundAllow string
	OutboundDeny  string

	EventLogEnabled bool
	EventLogLevels  string
	WebhookUser     string
	WebhookPass     string
	WebhookVerify   bool
	GeneralURL      string
	EventUpdateURL  string

	// checkpointCopyEvery is how often the dispatcher copies its checkpoint into the log
	// (notify's default, 5 minutes, when zero); no flag, tests shorten it.
	checkpointCopyEvery time.Duration
}

// defaultRateLimits follow what the receivers document: Slack accepts about one message a
// second per webhook, GitHub's secondary limits allow about one issue a second.
const defaultRateLimits = "slack=1,teams=4,github=1,jira=5,email=10,webhook=0"

func (n *notifyFlags) add(f *pflag.FlagSet) {
	f.IntVar(&n.MaxAttempts, "notify-max-attempts", 10, "sends of one notification before it fails for good (the first included)")
	f.DurationVar(&n.MaxRetryTime, "notify-max-retry-time", 10*time.Minute, "how long one notification is retried before it fails for good")
	f.DurationVar(&n.RetryInterval, "notify-retry-interval", time.Second, "wait after the first failed send; it doubles at each retry (a receiver's Retry-After wins)")
	f.DurationVar(&n.SendTimeout, "notify-send-timeout", 30*time.Second, "how long one send may take")
	f.StringVar(&n.RateLimits, "notify-rate-limits", defaultRateLimits, "notifications per second per configuration, by kind (0: no limit)")
	f.IntVar(&n.Window, "notify-window", 1000, "notifications in flight per configuration; beyond, a configuration catches up from the log on its own")
	f.IntVar(&n.MaxInFlight, "notify-max-in-flight", 10_000, "notifications in flight over all configurations; beyond, configurations catch up from the log on their own")
	f.IntVar(&n.Concurrency, "notify-concurrency", notify.DefaultConcurrency, "sends under way at once (connections to receivers), over all configurations")
	f.IntVar(&n.Shards, "notify-shards", 16, "Redis Streams per kind, by configuration (with --redis-url)")
	f.StringVar(&n.OutboundAllow, "outbound-allow", "", "networks notifications may reach even when denied (CIDRs, IPs, or loopback, link-local, metadata, private)")
	f.StringVar(&n.OutboundDeny, "outbound-deny", "loopback,link-local,metadata", "networks notifications may not reach (CIDRs, IPs, or loopback, link-local, metadata, private)")
	f.BoolVar(&n.EventLogEnabled, "event-log-notifications", false, "send every event (of --event-log-levels) to the event_update webhook, or the general one")
	f.StringVar(&n.EventLogLevels, "event-log-levels", "", "levels the event-log webhook sends (info, error); empty for all")
	f.StringVar(&n.WebhookUser, "webhook-user", "", "basic-auth user of the event-log webhooks")
	f.StringVar(&n.WebhookPass, "webhook-pass", "", "basic-auth password of the event-log webhooks")
	f.BoolVar(&n.WebhookVerify, "webhook-ssl-verify", true, "verify the TLS certificate of the event-log webhooks")
	f.StringVar(&n.GeneralURL, "webhook-general-url", "", "the general webhook (<notification_type> and <userId> are filled in)")
	f.StringVar(&n.EventUpdateURL, "webhook-event-update-url", "", "the event_update webhook; the general one when empty")
}

// checkSizes refuses a negative window, limit, concurrency or shard count (0 keeps the
// default).
func (n notifyFlags) checkSizes() error {
	for _, f := range []struct {
		flag  string
		value int
	}{{"--notify-window", n.Window}, {"--notify-max-in-flight", n.MaxInFlight}, {"--notify-concurrency", n.Concurrency}, {"--notify-shards", n.Shards}} {
		if f.value < 0 {
			return fmt.Errorf("%s is %d: it must be at least 1 (or 0 for the default)", f.flag, f.value)
		}
	}
	return nil
}

// retry is the retry policy the flags describe.
func (n notifyFlags) retry() (notify.RetryPolicy, error) {
	p := notify.DefaultRetryPolicy() // for what is left zero (in-process tests)
	if n.MaxAttempts != 0 {
		p.MaxAttempts = n.MaxAttempts
	}
	if n.MaxRetryTime != 0 {
		p.MaxElapsed = n.MaxRetryTime
	}
	if n.RetryInterval != 0 {
		p.InitialInterval = n.RetryInterval
	}
	p.MaxInterval = max(p.MaxInterval, p.InitialInterval)
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("--notify-*: %w", err)
	}
	return p, nil
}

// rateLimits reads --notify-rate-limits.
func (n notifyFlags) rateLimits() (map[domain.EndpointKind]float64, error) {
	out := map[domain.EndpointKind]float64{}
	for item := range strings.SplitSeq(n.RateLimits, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kind, value, ok := strings.Cut(item, "=")
		k, err := domain.ParseEndpointKind(strings.TrimSpace(kind))
		if !ok || err != nil {
			return nil, fmt.Errorf("--notify-rate-limits: %q: use kind=per-second, with kind one of email, github, jira, slack, teams, webhook", item)
		}
		per, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || per < 0 {
			return nil, fmt.Errorf("--notify-rate-limits: %q: the rate must be a number of notifications per second, 0 for no limit", item)
		}
		out[k] = per
	}
	return out, nil
}

// outbound is the outbound network policy the flags describe.
func (n notifyFlags) outbound() (notify.OutboundPolicy, error) {
	allow, err := notify.ParseNetworks(splitList(n.OutboundAllow))
	if err != nil {
		return notify.OutboundPolicy{}, fmt.Errorf("--outbound-allow: %w", err)
	}
	deny, err := notify.ParseNetworks(splitList(n.OutboundDeny))
	if err != nil {
		return notify.OutboundPolicy{}, fmt.Errorf("--outbound-deny: %w", err)
	}
	return notify.OutboundPolicy{Allow: allow, Deny: deny}, nil
}

// systemConfigurations are the engine's event-log webhook, when enabled: events (of the
// chosen levels) go to the event_update webhook, or to the general one.
func (n notifyFlags) systemConfigurations() ([]domain.Configuration, error) {
	if !n.EventLogEnabled {
		return nil, nil
	}
	url := n.EventUpdateURL
	if url == "" {
		url = n.GeneralURL
	}
	if url == "" {
		return nil, fmt.Errorf("--event-log-notifications needs a webhook: set --webhook-event-update-url or --webhook-general-url (webhooks.event_update.url or webhooks.general.url in herald.yaml)")
	}
	settings := domain.WebhookSettings{URL: url, Username: n.WebhookUser, Password: domain.NewSecret(n.WebhookPass)}
	check := settings
	check.URL = notify.EventLogURL(url, domain.AdminAccount)
	if err := check.Validate(); err != nil {
		return nil, fmt.Errorf("event-log webhook: %w", err)
	}
	levels := splitList(n.EventLogLevels)
	if len(levels) == 0 {
		levels = []string{domain.MatchAny}
	}
	var selectors []domain.Selector
	for _, l := range levels {
		s, err := domain.NewSelector(domain.ScopeGlobal, l, domain.MatchAny, domain.MatchAny, true)
		if err != nil {
			return nil, fmt.Errorf("--event-log-levels %q: %w", l, err)
		}
		selectors = append(selectors, s)
	}
	return []domain.Configuration{{
		ID: notify.SystemConfigurationPrefix + "event-log", Account: domain.AdminAccount, Kind: domain.KindWebhook,
		Name: "event_log notifications (herald.yaml)", VerifyTLS: n.WebhookVerify, Settings: settings, Selectors: selectors,
	}}, nil
}

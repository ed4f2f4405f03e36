package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"herald/domain"
)

// BenchmarkDispatch measures what the dispatcher spends per recorded event (matching,
// admitting the jobs, settling their outcomes as the ledger facts come back) with 10 and with
// 10,000 configurations. Every event matches the same few configurations in both cases; the
// 9,990 others are what a large installation holds that does not match it: other accounts'
// configurations (all events, regex, globs), and in the event's own account exact types and
// globs of other event families, plus global selectors for other types. The target wants the
// cost not to grow with them: "cost-ratio" is ns/event with 10,000 over ns/event with 10.
func BenchmarkDispatch(b *testing.B) {
	const events = 100_000
	small, large := dispatchConfigs(b, 0), dispatchConfigs(b, 9_990)
	var best [2]time.Duration
	for range b.N {
		for i, configs := range [2][]domain.Configuration{small, large} {
			d := runDispatch(b, configs, events)
			if best[i] == 0 || d < best[i] {
				best[i] = d
			}
		}
	}
	perSmall := float64(best[0].Nanoseconds()) / events
	perLarge := float64(best[1].Nanoseconds()) / events
	b.ReportMetric(perSmall, "ns/event@10")
	b.ReportMetric(perLarge, "ns/event@10000")
	b.ReportMetric(perLarge/perSmall, "cost-ratio")
}

var dispatchAccounts = []string{"account0", "account1", "account2", "account3", "account4", "account5", "account6", "account7"}

// dispatchConfigs returns the 10 configurations that match the benchmark's events (one "all"
// per account, one global failure selector for the admin, one global error selector) and
// extra ones that match none of them.
func dispatchConfigs(b *testing.B, extra int) []domain.Configuration {
	sel := func(scope domain.Scope, level, typ, resource string) domain.Selector {
		s, err := domain.NewSelector(scope, level, typ, resource, scope == domain.ScopeGlobal)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	var out []domain.Configuration
	add := func(account string, selectors ...domain.Selector) {
		out = append(out, domain.Configuration{ID: fmt.Sprintf("c%05d", len(out)), Account: account, Kind: domain.KindWebhook, Selectors: selectors})
	}
	for _, a := range dispatchAccounts {
		add(a, sel(domain.ScopeAccount, "*", "*", "*"))
	}
	add("admin", sel(domain.ScopeGlobal, "error", "*.failed", "*"))
	add("admin", sel(domain.ScopeGlobal, "*", "system.*", "*"))
	for i := range extra {
		own := dispatchAccounts[i%len(dispatchAccounts)]
		other := fmt.Sprintf("tenant%04d", i)
		switch i % 6 {
		case 0:
			add(other, sel(domain.ScopeAccount, "*", "*", "*"))
		case 1:
			add(other, sel(domain.ScopeAccount, "*", fmt.Sprintf("regex:^user\\.image\\.scan%d\\..*$", i), "*"))
		case 2:
			add(other, sel(domain.ScopeAccount, "error", "user.image.*", "image_digest"))
		case 3:
			add(own, sel(domain.ScopeAccount, "*", fmt.Sprintf("user.custom%d.event", i), "*"))
		case 4:
			add(own, sel(domain.ScopeAccount, "*", fmt.Sprintf("user.custom%d.*", i), "*"))
		default:
			add("admin", sel(domain.ScopeGlobal, "*", fmt.Sprintf("system.custom%d.*", i), "*"))
		}
	}
	return out
}

// runDispatch feeds the dispatcher events in batches of 100, as the runner does, each batch
// followed by the ledger facts of the jobs it published; it returns the time the dispatcher
// took (writing those facts is the benchmark's own work, not counted).
func runDispatch(b *testing.B, configs []domain.Configuration, events int) time.Duration {
	b.Helper()
	pub := &collectingPublisher{}
	d, err := NewDispatcher(DispatcherConfig{
		Log: emptyLog{}, Configurations: staticConfigurations(configs), WaitConfigurations: func(context.Context, uint64) error { return nil },
		Ledger: noOutcomes{}, Publisher: pub, Checkpoints: &memoryCheckpoint{}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	records := dispatchRecords(events)
	ctx := context.Background()
	const batch = 100
	var position uint64 = uint64(events)
	jobs := 0
	var elapsed time.Duration
	var outcomes []domain.Record
	for i := 0; i < len(records); i += batch {
		start := time.Now()
		if err := d.Apply(ctx, append(outcomes, records[i:min(i+batch, len(records))]...)); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		outcomes = outcomes[:0]
		for _, j := range pub.jobs {
			fact, err := domain.Delivery{EventID: j.EventID, ConfigurationID: j.ConfigurationID, Kind: j.Kind, Status: domain.DeliveryDelivered, Attempts: 1, Trigger: j.Trigger, At: j.RecordedAt}.Encode()
			if err != nil {
				b.Fatal(err)
			}
			position++
			outcomes = append(outcomes, domain.Record{Stream: domain.DeliveryStream(j.EventID, j.ConfigurationID), Position: position, Type: fact.Type, Data: fact.Data})
		}
		jobs += len(pub.jobs)
		pub.jobs = pub.jobs[:0]
	}
	if jobs < events {
		b.Fatalf("%d events made only %d notifications: the benchmark's events should each match at least one configuration", events, jobs)
	}
	return elapsed
}

// dispatchRecords are EventRecorded records of the catalog's types over the benchmark's
// accounts. Positions leave room after them for the ledger facts.
func dispatchRecords(n int) []domain.Record {
	r := rand.New(rand.NewPCG(3, 4))
	types := domain.Catalog()
	out := make([]domain.Record, n)
	now := time.Now()
	for i := range out {
		t := types[r.IntN(len(types))]
		e := domain.LogEvent{
			ID: fmt.Sprintf("%032x", i), Timestamp: now, Level: t.Level, Type: t.Name, Message: "benchmark",
			Resource: domain.Resource{ID: "docker.io/library/nginx:latest", Type: t.ResourceType, UserID: dispatchAccounts[r.IntN(len(dispatchAccounts))]},
			Source:   domain.Source{ServiceName: "analyzer", HostID: "host-1"},
		}
		fact := domain.EventRecorded{Event: e}.Encode()
		out[i] = domain.Record{Stream: "event-" + e.ID, Position: uint64(i + 1), Type: fact.Type, Data: fact.Data, Time: now}
	}
	return out
}

type collectingPublisher struct{ jobs []Job }

func (p *collectingPublisher) Publish(_ context.Context, jobs ...Job) error {
	p.jobs = append(p.jobs, jobs...)
	return nil
}

type staticConfigurations []domain.Configuration

func (s staticConfigurations) Configurations(context.Context, string, domain.EndpointKind) ([]domain.Configuration, error) {
	return s, nil
}

func (staticConfigurations) DisabledEndpoints(context.Context) (map[domain.EndpointKind]bool, error) {
	return nil, nil
}

type noOutcomes struct{}

func (noOutcomes) Outcome(context.Context, string, string) (domain.Delivery, bool, error) {
	return domain.Delivery{}, false, nil
}

type emptyLog struct{}

func (emptyLog) SubscribeAll(context.Context, uint64, func(context.Context, []domain.Record) error) error {
	return nil
}

func (emptyLog) LastPosition(context.Context) (uint64, error) { return 0, nil }

func (emptyLog) ReadStream(context.Context, string) ([]domain.Record, error) {
	return nil, domain.ErrStreamNotFound
}

type memoryCheckpoint struct{ position uint64 }

func (m *memoryCheckpoint) Load(context.Context) (uint64, error) { return m.position, nil }

func (m *memoryCheckpoint) Save(_ context.Context, p uint64) error {
	m.position = p
	return nil
}

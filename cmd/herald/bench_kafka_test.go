package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"herald/adapters/kafka"
	"herald/domain"
	"herald/internal/testtool"
)

// BenchmarkIngestKafka measures durable ingest from Kafka: 200,000 events on a 4-partition
// topic of an in-process broker, consumed by `herald serve`'s wiring (embedded store, memory
// views) until the view holds them all. In the same run and from the same broker it measures
// how fast kafka-go alone consumes the same messages (a consumer group reader that only
// counts them), and reports the ratio of the two. Both run with the GOMAXPROCS `herald serve`
// chooses (asServe).
//
// It also reports where the ratio's limit lies on this machine, from the process's CPU time
// in each phase: herald-cpu-us/event is what herald's own work costs per event (the ingest
// phase's CPU time less the raw phase's, which is the broker's and kafka-go's part), and
// budget-cpu-us/event what it could cost for a ratio of 0.5 were every core busy all along:
// the CPU time of twice the raw phase's duration on all cores, less the broker's and
// kafka-go's part.
func BenchmarkIngestKafka(b *testing.B) {
	defer asServe(serveConfig{})()
	const total = 200_000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "herald.events"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	produceBenchEvents(b, brokers, total)

	var ingest, raw phase
	b.ResetTimer()
	for i := range b.N {
		raw.add(consumeRaw(b, brokers, fmt.Sprintf("raw-%d", i), total))
		ingest.add(ingestKafka(b, brokers, fmt.Sprintf("herald-%d", i), total))
	}
	n := float64(total * b.N)
	rate := n / ingest.took.Seconds()
	rawRate := n / raw.took.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(rawRate, "raw-events/s")
	b.ReportMetric(rate/rawRate, "ratio")
	kafkaCPU := float64(raw.cpu.Microseconds()) / n
	budget := 2*float64(raw.took.Microseconds())/n*float64(runtime.NumCPU()) - kafkaCPU
	b.ReportMetric(float64(ingest.cpu.Microseconds())/n-kafkaCPU, "herald-cpu-us/event")
	b.ReportMetric(budget, "budget-cpu-us/event")
}

// phase adds up the wall-clock and CPU time of one phase of BenchmarkIngestKafka's runs.
type phase struct{ took, cpu time.Duration }

func (p *phase) add(q phase) { p.took += q.took; p.cpu += q.cpu }

// produceBenchEvents writes total events in the producer form, without ids, as most
// producers send them.
func produceBenchEvents(b *testing.B, brokers []string, total int) {
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: brokers, Topic: "herald.events"})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	r := rand.New(rand.NewPCG(5, 6))
	base := time.Now().Add(-3 * time.Hour)
	msgs := make([]kafka.Message, 0, 10_000)
	for i := range total {
		e := benchEvent(r, i, base)
		value, _ := json.Marshal(map[string]any{
			"timestamp": domain.FormatTimestamp(e.Timestamp), "level": e.Level.String(), "type": e.Type,
			"message": e.Message, "resource": e.Resource, "source": e.Source, "details": e.Details,
		})
		msgs = append(msgs, kafka.Message{Value: value})
		if len(msgs) == cap(msgs) || i == total-1 {
			if err := p.Send(context.Background(), msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}

// consumeRaw reads total messages with a kafka-go consumer-group reader configured as the
// ingester's is, and returns how long it took and the process's CPU time meanwhile.
func consumeRaw(b *testing.B, brokers []string, group string, total int) phase {
	b.StopTimer()
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers: brokers, GroupID: group, GroupTopics: []string{"herald.events"}, StartOffset: kafkago.FirstOffset,
		QueueCapacity: 1000, MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 500 * time.Millisecond, ReadLagInterval: -1,
	})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.StartTimer()
	start, cpu := time.Now(), testtool.ProcessCPU(b)
	var last kafkago.Message
	for range total {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		last = m
	}
	if err := r.CommitMessages(ctx, last); err != nil {
		b.Fatal(err)
	}
	took := phase{time.Since(start), testtool.ProcessCPU(b) - cpu}
	b.StopTimer()
	return took
}

// ingestKafka runs herald's wiring with Kafka ingest until the view holds total events, and
// returns how long it took and the process's CPU time meanwhile.
func ingestKafka(b *testing.B, brokers []string, group string, total int) phase {
	b.StopTimer()
	cfg := serveConfig{DataDir: b.TempDir()}
	cfg.Kafka = kafkaFlags{Brokers: brokers, Topics: []string{"herald.events"}, Group: group, ClientID: "herald",
		StartOffset: "first", BatchSize: 1000, BatchWait: 5 * time.Millisecond, Session: 30 * time.Second}
	a, err := newApp(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer wcancel()
	// The log already holds the facts that set the store up (the admin account's); the
	// events come after them.
	setup, err := a.store.LastPosition(wctx)
	if err != nil {
		b.Fatal(err)
	}
	want := setup + uint64(total)
	b.StartTimer()
	start, cpu := time.Now(), testtool.ProcessCPU(b)
	go func() { _ = a.Run(ctx); close(done) }()
	for {
		head, err := a.store.LastPosition(wctx)
		if err != nil {
			b.Fatal(err)
		}
		if head >= want {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := a.runners[0].WaitFor(wctx, want); err != nil {
		b.Fatal(err)
	}
	took := phase{time.Since(start), testtool.ProcessCPU(b) - cpu}
	b.StopTimer()
	cancel()
	<-done
	return took
}

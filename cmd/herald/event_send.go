package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"herald/adapters/kafka"
	"herald/domain"
)

const recordJSONMutation = `mutation($events: String!) { recordEventsJSON(events: $events) { recorded duplicates refused results { status reason } } }`

// sendOptions are the flags of `event send`.
type sendOptions struct {
	to          string
	batchSize   int
	brokers     []string
	topic       string
	compression string
	security    kafkaSecurityFlags
}

func newEventSendCommand(url *clientConfig) *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send [FILE|-]",
		Short: "Send events from a file or stdin to herald, or to Kafka",
		Long: `Send events in the producer form (the JSON Kafka messages carry), one object per line
(NDJSON), as a JSON array, or as one JSON object (pretty-printed or not), from FILE or
standard input, for testing a setup.

--to graphql (the default) records them through the server's recordEventsJSON mutation in
batches of --batch-size; --to kafka produces one message per event to --kafka-topic, keyed
by the event's id when it has one, for a herald that ingests from Kafka.

Each event is checked first: a line that is no valid event is reported with its number and
skipped, and the command then exits with status 1. So does an event the server refuses (an
id another account's event has), reported with its line as well.`,
		Example: `  herald event send events.ndjson
  cat events.json | herald event send --url http://herald:8228
  herald event send --to kafka --kafka-brokers localhost:9092 --compression zstd events.ndjson`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkFlags(cmd.Flags()); err != nil {
				return err
			}
			in, name, err := openInput(cmd, args)
			if err != nil {
				return err
			}
			defer in.Close()
			sink, err := o.sink(url)
			if err != nil {
				return err
			}
			defer sink.Close()
			return sendEvents(cmd.Context(), in, name, sink, o.batchSize, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "graphql", "where to send the events: graphql (the server at --url) or kafka")
	f.IntVar(&o.batchSize, "batch-size", 1000, "events per request or produce call (1 to 10000)")
	f.StringSliceVar(&o.brokers, "kafka-brokers", nil, "with --to kafka: Kafka brokers (host:port, comma-separated)")
	f.StringVar(&o.topic, "kafka-topic", kafka.DefaultTopic, "with --to kafka: the topic to produce to")
	f.StringVar(&o.compression, "compression", "none", "with --to kafka: "+strings.Join(kafka.Compressions, ", "))
	o.security.add(f)
	return cmd
}

// openInput opens FILE, or standard input for "-" or no argument.
func openInput(cmd *cobra.Command, args []string) (io.ReadCloser, string, error) {
	if len(args) == 0 || args[0] == "-" {
		return io.NopCloser(cmd.InOrStdin()), "stdin", nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, "", err
	}
	return f, args[0], nil
}

// eventSink is where `event send` puts batches.
type eventSink interface {
	// Send delivers one batch.
	Send(ctx context.Context, events []inputEvent) (sendResult, error)
	Summary(sent int, total sendResult) string
	Close() error
}

// sendResult is what became of the events sent, as far as the sink can tell.
type sendResult struct {
	recorded, duplicates, refused int
	reasons                       map[int]string // why, by index in the batch, each refused event was
}

// checkFlags refuses the Kafka flags given on the command line without --to kafka, which
// would be ignored, and a compression Kafka does not have. Those set in the environment are
// not refused: HERALD_KAFKA_BROKERS and the TLS and SASL variables are herald serve's too.
func (o *sendOptions) checkFlags(flags *pflag.FlagSet) error {
	if o.to == "kafka" {
		if !kafka.ValidCompression(o.compression) {
			return fmt.Errorf("--compression %q: use one of %s", o.compression, strings.Join(kafka.Compressions, ", "))
		}
		return nil
	}
	var given []string
	flags.Visit(func(f *pflag.Flag) {
		if (strings.HasPrefix(f.Name, "kafka-") || f.Name == "compression") && givenOnCommandLine(f) {
			given = append(given, "--"+f.Name)
		}
	})
	if len(given) == 0 || o.to != "graphql" { // a --to of neither is refused by sink
		return nil
	}
	verb, them := "is a setting", "it"
	if len(given) > 1 {
		verb, them = "are settings", "them"
	}
	return fmt.Errorf("%s %s of --to kafka, and the events go to the server at --url: add --to kafka, or leave %s out", strings.Join(given, ", "), verb, them)
}

func (o *sendOptions) sink(url *clientConfig) (eventSink, error) {
	if o.batchSize < 1 || o.batchSize > domain.MaxEventsPerBatch {
		return nil, fmt.Errorf("--batch-size %d: must lie between 1 and %d", o.batchSize, domain.MaxEventsPerBatch)
	}
	switch o.to {
	case "graphql":
		return graphqlSink{c: newClient(url)}, nil
	case "kafka":
		brokers, err := brokerList("--kafka-brokers", o.brokers)
		if err != nil {
			return nil, err
		}
		if !kafka.ValidTopic(o.topic) {
			return nil, fmt.Errorf("--kafka-topic %q: a topic name is 1 to 249 letters, digits, '.', '_' and '-'", o.topic)
		}
		sec, err := o.security.security()
		if err != nil {
			return nil, err
		}
		p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: brokers, Topic: o.topic, Compression: o.compression, Security: sec})
		if err != nil {
			return nil, err // it names the setting at fault: compression, TLS or SASL
		}
		return kafkaSink{p: p, topic: o.topic}, nil
	}
	return nil, fmt.Errorf("--to %q: use graphql or kafka", o.to)
}

type graphqlSink struct{ c *client }

func (s graphqlSink) Send(ctx context.Context, events []inputEvent) (sendResult, error) {
	var lines strings.Builder
	for _, e := range events {
		lines.Write(e.raw)
		lines.WriteByte('\n')
	}
	var data struct {
		RecordEventsJSON struct {
			Recorded   int `json:"recorded"`
			Duplicates int `json:"duplicates"`
			Refused    int `json:"refused"`
			Results    []struct {
				Status string  `json:"status"`
				Reason *string `json:"reason"`
			} `json:"results"`
		} `json:"recordEventsJSON"`
	}
	if err := s.c.do(ctx, recordJSONMutation, map[string]any{"events": lines.String()}, &data); err != nil {
		return sendResult{}, err
	}
	r := data.RecordEventsJSON
	res := sendResult{recorded: r.Recorded, duplicates: r.Duplicates, refused: r.Refused}
	for i, o := range r.Results {
		if o.Reason != nil {
			if res.reasons == nil {
				res.reasons = map[int]string{}
			}
			res.reasons[i] = *o.Reason
		}
	}
	return res, nil
}

func (graphqlSink) Summary(sent int, total sendResult) string {
	out := fmt.Sprintf("Sent %s: %d recorded, %s", counted(sent, "event"), total.recorded, counted(total.duplicates, "duplicate"))
	if total.refused > 0 {
		out += fmt.Sprintf(", %d refused", total.refused)
	}
	return out
}

func (graphqlSink) Close() error { return nil }

type kafkaSink struct {
	p     *kafka.Producer
	topic string
}

func (s kafkaSink) Send(ctx context.Context, events []inputEvent) (sendResult, error) {
	msgs := make([]kafka.Message, len(events))
	for i, e := range events {
		msgs[i].Value = e.raw
		if e.id != "" {
			msgs[i].Key = []byte(e.id)
		}
	}
	return sendResult{}, s.p.Send(ctx, msgs) // what herald makes of them, Kafka does not say
}

func (s kafkaSink) Summary(sent int, _ sendResult) string {
	return fmt.Sprintf("Sent %s to %s", counted(sent, "event"), s.topic)
}

func (s kafkaSink) Close() error { return s.p.Close() }

// progressEvery is how often a long send reports progress on stderr.
const progressEvery = 2 * time.Second

// sendEvents reads events from in, checks each, and sends the valid ones in batches.
func sendEvents(ctx context.Context, in io.Reader, name string, sink eventSink, batchSize int, stdout, stderr io.Writer) error {
	var sent, bad int
	var total sendResult
	started, lastProgress := time.Now(), time.Now()
	batch := make([]inputEvent, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		r, err := sink.Send(ctx, batch)
		if err != nil {
			return fmt.Errorf("send events from line %d on (%d sent before): %w", batch[0].line, sent, err)
		}
		sent += len(batch)
		total.recorded += r.recorded
		total.duplicates += r.duplicates
		total.refused += r.refused
		for i := range batch {
			if reason, ok := r.reasons[i]; ok {
				fmt.Fprintf(stderr, "%s:%d: refused: %s\n", name, batch[i].line, reason)
			}
		}
		batch = batch[:0]
		if time.Since(lastProgress) >= progressEvery {
			lastProgress = time.Now()
			fmt.Fprintf(stderr, "sent %d events (%.0f/s)\n", sent, float64(sent)/time.Since(started).Seconds())
		}
		return nil
	}
	now := time.Now().UTC()
	err := readInputEvents(in, func(e inputEvent) error {
		id, err := checkEvent(e.raw, now)
		if err != nil {
			bad++
			fmt.Fprintf(stderr, "%s:%d: %v\n", name, e.line, err)
			return nil
		}
		e.id = id
		if batch = append(batch, e); len(batch) == batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if sent > 0 || err == nil {
		fmt.Fprintln(stdout, sink.Summary(sent, total))
	}
	switch {
	case err != nil:
		return err
	case bad > 0:
		if bad == 1 {
			return fmt.Errorf("1 event of %s is not valid and was not sent", name)
		}
		return fmt.Errorf("%d events of %s are not valid and were not sent", bad, name)
	case total.refused > 0:
		if total.refused == 1 {
			return fmt.Errorf("1 event of %s was refused and not recorded", name)
		}
		return fmt.Errorf("%d events of %s were refused and not recorded", total.refused, name)
	case sent == 0:
		return errors.New("no events in " + name)
	}
	return nil
}

// checkEvent validates an event as herald would record it and returns its id, if it has one.
func checkEvent(raw []byte, now time.Time) (id string, err error) {
	e, err := domain.DecodeLogEvent(raw)
	if err != nil {
		return "", err
	}
	return e.ID, e.WithDefaults(now, func() string { return "id" }).Validate(now)
}

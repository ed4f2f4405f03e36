package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"herald/adapters/kafka"
	"herald/domain"
	"herald/graph"
)

const recordJSONMutation = `mutation($events: String!) { recordEventsJSON(events: $events) { recorded duplicates refused results { status reason } } }`

// sendOptions are the flags of `event send`.
type sendOptions struct {
	to          string
	batchSize   int
	batchWait   time.Duration
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
		Long: fmt.Sprintf(`Send events in the producer form (the JSON Kafka messages carry), one object per line
(NDJSON), as a JSON array, or as one JSON object (pretty-printed or not), from FILE or
standard input, for testing a setup.

--to graphql (the default) records them through the server's recordEventsJSON mutation in
batches of --batch-size events, cut sooner when a batch would pass %d MiB of request (the
server takes at most %d MiB); --to kafka produces one message per event to --kafka-topic,
keyed by the event's id when it has one, for a herald that ingests from Kafka.

A batch that is not full is sent anyway once its first event has waited --batch-wait, so
that an input that comes slowly (tail -f, a script that writes an event now and then) is
sent as it comes rather than when a batch fills.

Each event is checked first: a line that is no valid event is reported with its number and
skipped, and the command then exits with status 1. So does an event the server refuses (an
id another account's event has; an event of another account, or a "kafka:" id, sent by an
account other than admin), reported with its line as well; the others are recorded. So does
an event whose id the log holds for an event that differs from it (most likely two events
were given one id: this one is not stored); a copy sent again is a plain duplicate. Sent to
Kafka, an id starting with "kafka:" is refused before sending: herald would dead-letter it.

An interrupt (Ctrl-C) stops the sending after the batch in flight, whose answer is awaited,
and the summary counts what was recorded; a second one gives up on that batch. Events with
an id may be sent again (herald counts them as duplicates); events without one would be
recorded again, so resume from the line the interrupt names.`, maxBatchBytes>>20, graph.MaxBodyBytes>>20),
		Example: `  herald event send events.ndjson
  cat events.json | herald event send --url http://herald:8228
  herald event send --to kafka --kafka-brokers localhost:9092 --compression zstd events.ndjson`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.checkFlags(cmd.Flags()); err != nil {
				return err
			}
			sink, limit, err := o.sink(url)
			if err != nil {
				return err
			}
			defer sink.Close()
			in, name, err := openInput(cmd, args)
			if err != nil {
				return err
			}
			defer in.Close()
			abort, stopWatching := secondInterrupt()
			defer stopWatching()
			s := eventSender{sink: sink, limit: limit, wait: o.batchWait, toKafka: o.to == "kafka", stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), abort: abort}
			return s.send(cmd.Context(), in, name)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "graphql", "where to send the events: graphql (the server at --url) or kafka")
	f.IntVar(&o.batchSize, "batch-size", 1000, "events per request or produce call (1 to 10000)")
	f.DurationVar(&o.batchWait, "batch-wait", 200*time.Millisecond, "send a batch that is not full once its first event has waited this long (1ms to 1m)")
	f.StringSliceVar(&o.brokers, "kafka-brokers", nil, "with --to kafka: Kafka brokers (host:port, comma-separated)")
	f.StringVar(&o.topic, "kafka-topic", kafka.DefaultTopic, "with --to kafka: the topic to produce to")
	f.StringVar(&o.compression, "compression", "none", "with --to kafka: "+strings.Join(kafka.Compressions, ", "))
	o.security.add(f)
	return cmd
}

// stdinHint is said when events are read from a terminal, which would otherwise wait
// silently for them.
const stdinHint = "reading events from stdin (NDJSON); end with Ctrl-D"

// openInput opens FILE, or standard input for "-" or no argument.
func openInput(cmd *cobra.Command, args []string) (io.ReadCloser, string, error) {
	if len(args) == 0 || args[0] == "-" {
		if isTerminal(cmd.InOrStdin()) {
			fmt.Fprintln(cmd.ErrOrStderr(), stdinHint)
		}
		return io.NopCloser(cmd.InOrStdin()), "stdin", nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, "", err
	}
	return f, args[0], nil
}

// secondInterrupt returns a channel closed by the second interrupt (or SIGTERM) of the
// command, and a function that stops watching for it. The first ends the command's context
// (main's signal.NotifyContext), which lets the batch in flight finish so that the summary
// is exact; whoever interrupts again will not wait for it.
func secondInterrupt() (<-chan struct{}, func()) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	abort, done := make(chan struct{}), make(chan struct{})
	go func() {
		for seen := 0; ; {
			select {
			case <-signals:
				if seen++; seen == 2 {
					close(abort)
					return
				}
			case <-done:
				return
			}
		}
	}()
	return abort, func() {
		signal.Stop(signals)
		close(done)
	}
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
	// reused says, by index in the batch, in what a duplicate differs from the event recorded
	// under its id.
	reused map[int]string
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
	return fmt.Errorf("%s %s of --to kafka, and the events go to the server at --url: add --to kafka, or leave %s out",
		strings.Join(given, ", "), inNumber(len(given), "is a setting", "are settings"), inNumber(len(given), "it", "them"))
}

func (o *sendOptions) sink(url *clientConfig) (eventSink, batchLimit, error) {
	if o.batchSize < 1 || o.batchSize > domain.MaxEventsPerBatch {
		return nil, batchLimit{}, fmt.Errorf("--batch-size %d: must lie between 1 and %d", o.batchSize, domain.MaxEventsPerBatch)
	}
	if o.batchWait < time.Millisecond || o.batchWait > time.Minute {
		return nil, batchLimit{}, fmt.Errorf("--batch-wait %s: must lie between 1ms and 1m", o.batchWait)
	}
	switch o.to {
	case "graphql":
		c := newClient(url)
		if c.invalid != nil { // said now, not once the input is read
			return nil, batchLimit{}, c.invalid
		}
		return graphqlSink{c: c}, batchLimit{events: o.batchSize, bytes: maxBatchBytes, size: requestSize}, nil
	case "kafka":
		brokers, err := brokerList("--kafka-brokers", o.brokers)
		if err != nil {
			return nil, batchLimit{}, err
		}
		if !kafka.ValidTopic(o.topic) {
			return nil, batchLimit{}, fmt.Errorf("--kafka-topic %q: %s", o.topic, kafka.TopicRule)
		}
		sec, err := o.security.security()
		if err != nil {
			return nil, batchLimit{}, err
		}
		p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: brokers, Topic: o.topic, Compression: o.compression, Security: sec})
		if err != nil {
			return nil, batchLimit{}, err // it names the setting at fault: compression, TLS or SASL
		}
		// No bound on bytes: the producer splits a call into requests the brokers take.
		return kafkaSink{p: p, topic: o.topic}, batchLimit{events: o.batchSize}, nil
	}
	return nil, batchLimit{}, fmt.Errorf("--to %q: use graphql or kafka", o.to)
}

// maxBatchBytes bounds the events of one recordEventsJSON request, as written into it: a
// quarter of the server's limit on a request body. That is well clear of the limit (the
// query and a batch's last event come on top), and still so large that the cost of a request
// does not count (make bench reaches its 130,000 events/s with bodies of 700 KB), while the
// server, which holds a body and the events decoded from it at once, answers such a batch
// in seconds. Only large events reach it: 1,000 events of 16 KiB.
const maxBatchBytes = graph.MaxBodyBytes / 4

// requestSize is what an event takes in a recordEventsJSON request: its JSON, escaped into
// the string of the events variable as json.Marshal escapes it, and the newline after it.
func requestSize(raw []byte) int { return quotedLen(raw) + len(`\n`) }

// quotedLen is the length of b written inside a JSON string by json.Marshal: ", \ and the
// control bytes \b \f \n \r \t take two bytes, other control bytes and <, >, & (escaped for
// HTML) six, U+2028 and U+2029 six, and each byte of invalid UTF-8 six (\ufffd).
func quotedLen(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += len(`\u0000`)
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			n += len(`\ufffd`)
		} else {
			n += size
		}
		i += size
	}
	return n
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
		return sendResult{}, refusedEvents(err, len(events))
	}
	r := data.RecordEventsJSON
	res := sendResult{recorded: r.Recorded, duplicates: r.Duplicates, refused: r.Refused, reasons: map[int]string{}, reused: map[int]string{}}
	for i, o := range r.Results {
		switch {
		case o.Reason == nil:
		case o.Status == "DUPLICATE":
			res.reused[i] = *o.Reason
		default:
			res.reasons[i] = *o.Reason
		}
	}
	return res, nil
}

// eventsRefusedError is a batch the server refused for some of its events, which the checks
// of `event send` cannot see: rules that depend on who sends (an account records its own
// events only; ids starting with "kafka:" are the admin's). The others may be sent again.
type eventsRefusedError struct {
	err     error
	reasons map[int]string // why, by index in the batch, each event at fault was refused
}

func (e *eventsRefusedError) Error() string { return e.err.Error() }
func (e *eventsRefusedError) Unwrap() error { return e.err }

// eventField is a field of the events of a batch, as the server names it: events[3].id.
var eventField = regexp.MustCompile(`^events\[(\d+)\](?:\.(.+))?$`)

// refusedEvents is err as an eventsRefusedError when it is the server's refusal of a batch of
// n events for faults of some of them, and err otherwise.
func refusedEvents(err error, n int) error {
	var se *serverError
	if !errors.As(err, &se) || len(se.errs) != 1 || se.Code() != graph.CodeBadUserInput {
		return err
	}
	reasons := map[int]string{}
	for _, f := range se.errs[0].refusedFields() {
		message := f.message
		m := eventField.FindStringSubmatch(f.field)
		if m == nil {
			return err
		}
		i, convErr := strconv.Atoi(m[1])
		if convErr != nil || i >= n {
			return err
		}
		if m[2] != "" {
			message = m[2] + ": " + message
		}
		if reasons[i] != "" {
			message = reasons[i] + "; " + message
		}
		reasons[i] = message
	}
	if len(reasons) == 0 {
		return err
	}
	return &eventsRefusedError{err: err, reasons: reasons}
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

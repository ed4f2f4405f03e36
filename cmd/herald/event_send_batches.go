package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"herald/domain"
	"herald/graph"
)

// eventSender sends the events of one input in batches, and reports what became of them.
type eventSender struct {
	sink           eventSink
	limit          batchLimit
	wait           time.Duration // the longest an event waits for its batch to fill (--batch-wait)
	toKafka        bool          // the events go to Kafka, where a "kafka:" id is no event's
	stdout, stderr io.Writer
	// abort gives up on the batch in flight (a second interrupt). The first interrupt, which
	// ends the context of send, only keeps further batches from being sent, so that the
	// summary counts what the server recorded.
	abort <-chan struct{}
}

// batchLimit bounds the batches: at most events events (--batch-size) and, when bytes is not
// 0, at most bytes as size counts them. An event larger than bytes goes alone.
type batchLimit struct {
	events int
	bytes  int
	size   func(raw []byte) int
}

// sendProgress is what a send of the events of name has done so far.
type sendProgress struct {
	name       string
	sent, bad  int
	total      sendResult
	lastLine   int // of the last event the sink took
	withoutID  int // events the sink took that have no id
	reused     int // duplicates that differ from the event recorded under their id: not stored
	started    time.Time
	lastReport time.Time
}

// progressEvery is how often a long send reports progress on stderr.
const progressEvery = 2 * time.Second

// send reads events from in, checks each, and sends the valid ones in batches.
func (s eventSender) send(ctx context.Context, in io.Reader, name string) error {
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-s.abort:
			cancel()
		case <-sendCtx.Done():
		}
	}()
	events, readErr := readAhead(in, sendCtx.Done())
	p := &sendProgress{name: name, started: time.Now(), lastReport: time.Now()}
	err := s.sendAll(ctx, sendCtx, events, readErr, p)
	if p.sent > 0 || p.bad > 0 {
		fmt.Fprintln(s.stdout, s.sink.Summary(p.sent, p.total))
	}
	if err != nil {
		return err
	}
	return p.outcome()
}

// sendAll checks the events as they come and sends them in batches, until the input ends or
// an interrupt (the end of ctx) comes. A batch goes when it is full, or once its first event
// has waited s.wait. Batches are sent under sendCtx.
func (s eventSender) sendAll(ctx, sendCtx context.Context, events <-chan inputEvent, readErr <-chan error, p *sendProgress) error {
	var batch pendingBatch
	waited := time.NewTimer(time.Hour)
	waited.Stop()
	defer waited.Stop()
	send := func() error {
		waited.Stop()
		err := s.flush(ctx, sendCtx, p, batch.events)
		batch.reset()
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return p.interrupted(nil)
		case <-waited.C:
			if err := send(); err != nil {
				return err
			}
		case e, ok := <-events:
			if !ok {
				if err := <-readErr; err != nil {
					if in := (*inputError)(nil); errors.As(err, &in) {
						return fmt.Errorf("%s:%d: %w", p.name, in.line, in.err) // as a bad event's line is named
					}
					return err
				}
				return send()
			}
			id, err := checkEvent(e.raw, time.Now().UTC(), s.toKafka) // an input may come for hours
			if err != nil {
				p.bad++
				fmt.Fprintf(s.stderr, "%s:%d: %v\n", p.name, e.line, err)
				continue
			}
			e.id = id
			size := s.limit.sizeOf(e.raw)
			if !batch.fits(size, s.limit) {
				if err := send(); err != nil {
					return err
				}
			}
			if len(batch.events) == 0 {
				waited.Reset(s.wait)
			}
			if batch.add(e, size); len(batch.events) == s.limit.events {
				if err := send(); err != nil {
					return err
				}
			}
		}
	}
}

// sizeOf is what an event takes against the bound in bytes.
func (l batchLimit) sizeOf(raw []byte) int {
	if l.bytes == 0 {
		return 0
	}
	return l.size(raw)
}

// pendingBatch is the batch being gathered, and what its events take in a request.
type pendingBatch struct {
	events []inputEvent
	bytes  int
}

// fits tells whether an event of size may join the batch within limit's bytes.
func (b *pendingBatch) fits(size int, limit batchLimit) bool {
	return len(b.events) == 0 || limit.bytes == 0 || b.bytes+size <= limit.bytes
}

func (b *pendingBatch) add(e inputEvent, size int) {
	b.events = append(b.events, e)
	b.bytes += size
}

// reset empties the batch once sent; the sink keeps none of it.
func (b *pendingBatch) reset() { b.events, b.bytes = b.events[:0], 0 }

// outcome is the end of a send that went through: an error if some events were not
// recorded, or there were none.
func (p *sendProgress) outcome() error {
	switch {
	case p.bad == 1:
		return fmt.Errorf("1 event of %s is not valid and was not sent", p.name)
	case p.bad > 1:
		return fmt.Errorf("%d events of %s are not valid and were not sent", p.bad, p.name)
	case p.total.refused == 1:
		return fmt.Errorf("1 event of %s was refused and not recorded", p.name)
	case p.total.refused > 1:
		return fmt.Errorf("%d events of %s were refused and not recorded", p.total.refused, p.name)
	case p.reused > 0:
		// Most likely two events were given one id: one of them is not in the log.
		return fmt.Errorf("%s of %s reused ids already in the log for other events and %s not stored", counted(p.reused, "event"), p.name, inNumber(p.reused, "was", "were"))
	case p.sent == 0:
		return errors.New("no events in " + p.name)
	}
	return nil
}

// flush sends a batch, unless an interrupt (the end of ctx) came first, and reports on it.
func (s eventSender) flush(ctx, sendCtx context.Context, p *sendProgress, batch []inputEvent) error {
	if len(batch) == 0 {
		return nil
	}
	if ctx.Err() != nil {
		return p.interrupted(nil)
	}
	r, err := s.sendKeeping(ctx, sendCtx, batch)
	if err != nil {
		if sendCtx.Err() != nil {
			return p.interrupted(batch)
		}
		if unanswered := (*unansweredError)(nil); errors.As(err, &unanswered) { // the batch may be recorded
			return &interruptedError{name: p.name, lastLine: p.lastLine, withoutID: p.withoutID, inFlight: batch, cause: err}
		}
		return fmt.Errorf("send events from line %d on (%d sent before): %w", batch[0].line, p.sent, advise(err, batch))
	}
	p.sent += len(batch)
	p.lastLine = batch[len(batch)-1].line
	p.withoutID += withoutID(batch)
	p.total.recorded += r.recorded
	p.total.duplicates += r.duplicates
	p.total.refused += r.refused
	for i := range batch {
		if reason, ok := r.reasons[i]; ok {
			fmt.Fprintf(s.stderr, "%s:%d: refused: %s\n", p.name, batch[i].line, reason)
		}
		if note, ok := r.reused[i]; ok {
			p.reused++
			fmt.Fprintf(s.stderr, "%s:%d: duplicate: %s\n", p.name, batch[i].line, note)
		}
	}
	if time.Since(p.lastReport) >= progressEvery {
		p.lastReport = time.Now()
		fmt.Fprintf(s.stderr, "sent %d events (%.0f/s)\n", p.sent, float64(p.sent)/time.Since(p.started).Seconds())
	}
	return nil
}

// sendBatch sends one batch under sendCtx. An interrupt meanwhile (the end of ctx) is
// acknowledged at once, since the answer may take a while.
func (s eventSender) sendBatch(ctx, sendCtx context.Context, batch []inputEvent) (sendResult, error) {
	answered, noted := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(noted)
		select {
		case <-ctx.Done():
			fmt.Fprintf(s.stderr, "interrupted: waiting for the answer to the batch in flight (%s); interrupt again to give up on it\n", lineSpan(batch))
		case <-answered:
		}
	}()
	r, err := s.sink.Send(sendCtx, batch)
	close(answered)
	<-noted
	return r, err
}

// sendKeeping sends a batch; when the server refuses it for some of its events (rules that
// depend on who sends, which checkEvent cannot see), it sends the others again, and counts
// those as refused with their reasons, by index in batch.
func (s eventSender) sendKeeping(ctx, sendCtx context.Context, batch []inputEvent) (sendResult, error) {
	send, index := batch, make([]int, len(batch)) // index: the place in batch of each event of send
	for i := range index {
		index[i] = i
	}
	refused := map[int]string{}
	for {
		r, err := s.sendBatch(ctx, sendCtx, send)
		var some *eventsRefusedError
		if errors.As(err, &some) && sendCtx.Err() == nil {
			var next []inputEvent
			var nextIndex []int
			for i, e := range send {
				if reason, ok := some.reasons[i]; ok {
					refused[index[i]] = reason
				} else {
					next, nextIndex = append(next, e), append(nextIndex, index[i])
				}
			}
			if len(next) > 0 {
				send, index = next, nextIndex
				continue
			}
			r, err = sendResult{}, nil
		}
		if err != nil {
			return sendResult{}, err
		}
		for i, reason := range r.reasons {
			refused[index[i]] = reason
		}
		r.refused += len(refused) - len(r.reasons) // those refused with a whole batch, on top of the answer's
		r.reasons = refused
		reused := map[int]string{}
		for i, note := range r.reused {
			reused[index[i]] = note
		}
		r.reused = reused
		return r, nil
	}
}

// advise adds to err what can be done about it: a batch too large for the server is cut
// with --batch-size.
func advise(err error, batch []inputEvent) error {
	var tooLarge *requestTooLargeError
	switch {
	case !errors.As(err, &tooLarge):
		return err
	case len(batch) == 1:
		return fmt.Errorf("%w; the event of line %d alone is too large for it (herald takes %d MiB: a proxy in front of it may take less)", err, batch[0].line, graph.MaxBodyBytes>>20)
	}
	return fmt.Errorf("%w; give a smaller --batch-size than this batch's %d events, such as --batch-size %d", err, len(batch), len(batch)/2)
}

// interrupted is the end of a send cut short by an interrupt; inFlight is the batch a second
// interrupt gave up on.
func (p *sendProgress) interrupted(inFlight []inputEvent) error {
	return &interruptedError{name: p.name, lastLine: p.lastLine, withoutID: p.withoutID, inFlight: inFlight}
}

// interruptedError says where an interrupted send stopped and whether the input may be
// sent again. herald knows a duplicate by its id only: an event sent without one gets a new
// id each time (the server makes one, or derives one from the Kafka offset), so it would be
// recorded twice.
type interruptedError struct {
	name      string
	lastLine  int          // of the last event sent, 0 if none was
	withoutID int          // events sent that have no id
	inFlight  []inputEvent // the batch given up on: recorded or not, nobody can tell
	cause     error        // what ended the send when no interrupt did: a connection broken under the batch
}

func (e *interruptedError) Unwrap() error { return e.cause }

func (e *interruptedError) Error() string {
	var b strings.Builder
	lead := "interrupted"
	if e.cause != nil {
		lead = e.cause.Error()
	}
	switch {
	case e.lastLine == 0 && e.inFlight == nil:
		return fmt.Sprintf("interrupted before any event of %s was sent", e.name)
	case e.inFlight == nil:
		fmt.Fprintf(&b, "%s: the events of %s up to line %d were sent, as counted above, and none after it", lead, e.name, e.lastLine)
	case e.lastLine == 0:
		fmt.Fprintf(&b, "%s: the events of %s of %s were in flight, and may or may not have been recorded; none after them was sent", lead, lineSpan(e.inFlight), e.name)
	default:
		fmt.Fprintf(&b, "%s: the events of %s up to line %d were sent, as counted above; those of %s were in flight, and may or may not have been recorded; none after them was sent", lead, e.name, e.lastLine, lineSpan(e.inFlight))
	}
	sent, unsure := e.withoutID, withoutID(e.inFlight)
	switch {
	case sent+unsure == 0:
		b.WriteString(". Sending the input again is safe: every event sent has an id, and herald counts those it has as duplicates")
	case unsure == 0:
		fmt.Fprintf(&b, ". Send the rest from line %d on, not the whole input: %s sent %s no id, and herald, which knows duplicates by their id only, would record %s again",
			e.lastLine+1, counted(sent, "event"), inNumber(sent, "has", "have"), inNumber(sent, "it", "them"))
	default:
		fmt.Fprintf(&b, ". Do not send the whole input again: %s sent or in flight %s no id, and herald, which knows duplicates by their id only, would record %s again. "+
			"Send from line %d on, and the %s of %s may be recorded twice, or from line %d on, and %s may be missing",
			counted(sent+unsure, "event"), inNumber(sent+unsure, "has", "have"), inNumber(sent+unsure, "it", "them"),
			e.lastLine+1, counted(unsure, "event")+" without id", lineSpan(e.inFlight), e.inFlight[len(e.inFlight)-1].line+1, inNumber(unsure, "it", "them"))
	}
	return b.String()
}

// lineSpan names the lines of a batch: "line 7" or "lines 7-12".
func lineSpan(batch []inputEvent) string {
	first, last := batch[0].line, batch[len(batch)-1].line
	if first == last {
		return fmt.Sprintf("line %d", first)
	}
	return fmt.Sprintf("lines %d-%d", first, last)
}

// withoutID counts the events of batch that have no id.
func withoutID(batch []inputEvent) int {
	n := 0
	for _, e := range batch {
		if e.id == "" {
			n++
		}
	}
	return n
}

// errReadStopped ends a read whose events are no longer wanted.
var errReadStopped = errors.New("read stopped")

// readAhead reads in's events on a goroutine of its own, so that an interrupt is taken at
// once even while a read waits on a terminal or a pipe. The goroutine ends with the input,
// or at the next event once done is closed (a read that waits keeps it until the process
// ends).
func readAhead(in io.Reader, done <-chan struct{}) (<-chan inputEvent, <-chan error) {
	events, errs := make(chan inputEvent), make(chan error, 1)
	go func() {
		defer close(events)
		errs <- readInputEvents(in, func(e inputEvent) error {
			select {
			case events <- e:
				return nil
			case <-done:
				return errReadStopped
			}
		})
	}()
	return events, errs
}

// checkEvent validates an event as herald would record it and returns its id, if it has one.
// Sent to Kafka, an event may not have an id starting with "kafka:": herald gives those to
// messages without an id, by the offset each lands at, which a producer cannot know, and
// dead-letters a message whose "kafka:" id is not its own.
func checkEvent(raw []byte, now time.Time, toKafka bool) (id string, err error) {
	e, err := domain.DecodeLogEvent(raw)
	if err != nil {
		return "", err
	}
	if toKafka && strings.HasPrefix(e.ID, domain.KafkaIDPrefix) {
		return "", &domain.ValidationError{Subject: domain.EventSubject, Fields: []domain.FieldError{{Field: "id",
			Message: fmt.Sprintf("%s: ids starting with %q are the ones herald gives Kafka messages without an id, by the offset each lands at, and herald would dead-letter this message; leave the id out, or choose one of your own",
				domain.Quote(e.ID), domain.KafkaIDPrefix)}}}
	}
	return e.ID, e.WithDefaults(now, func() string { return "id" }).Validate(now)
}

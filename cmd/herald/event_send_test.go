package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/graph"
	"herald/internal/testtool"
)

// fakeRecorder stands in for herald's recordEventsJSON: it takes request bodies up to limit
// bytes, answering a larger one 413 as herald does, and records every event of the others.
// hold, when set, runs before a request is answered, with the number of the request (from 1).
type fakeRecorder struct {
	*httptest.Server
	mu      sync.Mutex
	batches []int // events per request answered
	bodies  []int // bytes per request answered
}

func startFakeRecorder(t *testing.T, limit int64, hold func(request int)) *fakeRecorder {
	t.Helper()
	f := &fakeRecorder{}
	var requests int
	f.Server = httptest.NewServer(http.MaxBytesHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprintf(w, `{"errors":[{"message":"the request body is larger than the limit of %d bytes; send the events in smaller batches","extensions":{"code":"BAD_USER_INPUT"}}]}`, tooLarge.Limit)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Each event ends in a newline, escaped in the body; the test events hold no backslash.
		n := bytes.Count(raw, []byte(`\n`))
		f.mu.Lock()
		requests++
		request := requests
		f.mu.Unlock()
		if hold != nil {
			hold(request)
		}
		f.mu.Lock()
		f.batches = append(f.batches, n)
		f.bodies = append(f.bodies, len(raw))
		f.mu.Unlock()
		fmt.Fprintf(w, `{"data":{"recordEventsJSON":{"recorded":%d,"duplicates":0,"refused":0,"results":[]}}}`, n)
	}), limit))
	t.Cleanup(f.Close)
	return f
}

// answered returns the events and the bytes of each request answered so far.
func (f *fakeRecorder) answered() (batches, bodies []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...), append([]int(nil), f.bodies...)
}

// largeEvents is n events of about 61 KB each, most of it details as an image scanner
// reports them: many short strings, whose quotes take twice their size in a request.
func largeEvents(prefix string, n int) string {
	files := make([]map[string]string, 1290)
	for i := range files {
		files[i] = map[string]string{"path": fmt.Sprintf("/usr/lib/lib%d.so", i), "sha": fmt.Sprintf("%08x", i)}
	}
	details, _ := json.Marshal(map[string]any{"files": files})
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"%s-%d","level":"info","type":"system.analysis.completed","message":"image analysed",`+
			`"resource":{"id":"docker.io/library/nginx:latest","type":"image_tag","user_id":"admin"},"source":{"servicename":"analyzer","hostid":"h"},`+
			`"details":%s}`+"\n", prefix, i, details)
	}
	return b.String()
}

// TestEventSend_cutsBatchesThatWouldPassTheServersBodyLimit: 1,500 events of 61 KB make a
// batch of 1,000 larger than herald takes in a request; they are sent in batches cut by size,
// each well under the limit, and all recorded.
func TestEventSend_cutsBatchesThatWouldPassTheServersBodyLimit(t *testing.T) {
	input := largeEvents("large", 1500)
	if size := len(input) / 1500; size < 60_000 || size > 62_000 {
		t.Fatalf("events of %d bytes, want about 61 KB", size)
	}
	event, _, _ := strings.Cut(input, "\n")
	quoted, _ := json.Marshal(event + "\n")
	if size := 1000 * (len(quoted) - 2); size <= graph.MaxBodyBytes {
		t.Fatalf("a batch of 1,000 events takes %d bytes of request, within the server's limit: the test proves nothing", size)
	}
	srv := startFakeRecorder(t, graph.MaxBodyBytes, nil)
	out, errOut, err := runCLI(t, input, "event", "send", "--url", srv.URL)
	if err != nil || out != "Sent 1500 events: 1500 recorded, 0 duplicates\n" {
		t.Fatalf("event send: %v\nstdout: %s\nstderr: %.1000s", err, out, errOut)
	}
	batches, bodies := srv.answered()
	for i, n := range bodies {
		if n > graph.MaxBodyBytes/2 {
			t.Errorf("request %d of %d events is %d bytes, more than half the limit", i, batches[i], n)
		}
	}
}

// TestEventSend_requestSizeIsWhatJSONMarshalWrites: the size that cuts batches is what an
// event takes in the request, escapes included, so that a batch of events full of quotes,
// markup or broken UTF-8 is cut as soon as one of plain text.
func TestEventSend_requestSizeIsWhatJSONMarshalWrites(t *testing.T) {
	for _, raw := range []string{
		`{"message":"plain"}`,
		`{"message":"say \"hi\" \\ back"}`,
		"{\"message\":\"<b>a & b</b>\",\t\"x\":1}\r",
		"{\"message\":\"\u2028\u2029 é 日本 😀\"}",
		"{\"message\":\"\xff\xfe broken \xe2\x82\"}",
		"\x00\x01\b\f\x1f\x7f",
	} {
		quoted, _ := json.Marshal(raw + "\n")
		if got, want := requestSize([]byte(raw)), len(quoted)-len(`""`); got != want {
			t.Errorf("requestSize(%q) = %d, json.Marshal writes %d", raw, got, want)
		}
	}
}

// TestEventSend_tooLargeForTheServerNamesBatchSize: a batch the server, or a proxy in front of
// it, refuses for its size is reported with --batch-size and a smaller value to give, and an
// event too large on its own is named by its line.
func TestEventSend_tooLargeForTheServerNamesBatchSize(t *testing.T) {
	herald := startFakeRecorder(t, 4<<10, nil) // answers as herald does, in GraphQL
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		fmt.Fprint(w, "<html><body><h1>413 Request Entity Too Large</h1></body></html>")
	}))
	defer proxy.Close()
	for name, url := range map[string]string{"herald": herald.URL, "proxy": proxy.URL} {
		_, _, err := runCLI(t, kafkaEvents("big", 40), "event", "send", "--url", url, "--batch-size", "40")
		if err == nil || !strings.Contains(err.Error(), "as too large") || !strings.Contains(err.Error(), "give a smaller --batch-size than this batch's 40 events, such as --batch-size 20") {
			t.Errorf("%s: error = %v, want the batch named too large and a smaller --batch-size suggested", name, err)
		}
	}
	_, _, err := runCLI(t, kafkaEvents("one", 1), "event", "send", "--url", proxy.URL)
	if err == nil || !strings.Contains(err.Error(), "the event of line 1 alone is too large") {
		t.Errorf("one event: error = %v, want it named too large on its own", err)
	}
}

// blockingSink answers batches at once, but holds the answer to batch number hold (from 1)
// until release is closed; in flight is closed once that batch has been sent. It takes the
// end of the send context for the sender giving up.
type blockingSink struct {
	recordingSink
	hold     int
	inFlight chan struct{}
	release  chan struct{}
}

func newBlockingSink(hold int) *blockingSink {
	return &blockingSink{hold: hold, inFlight: make(chan struct{}), release: make(chan struct{})}
}

func (s *blockingSink) Send(ctx context.Context, events []inputEvent) (sendResult, error) {
	if len(s.batches)+1 == s.hold {
		close(s.inFlight)
		select {
		case <-s.release:
		case <-ctx.Done():
			return sendResult{}, ctx.Err()
		}
	}
	return s.recordingSink.Send(ctx, events)
}

// TestEventSend_interruptLetsTheBatchInFlightFinish: an interrupt stops the sending after the
// batch in flight, whose answer is awaited and counted; the error says which lines were
// sent and, since some of them have no id, that the input must not be sent again whole.
func TestEventSend_interruptLetsTheBatchInFlightFinish(t *testing.T) {
	sink := newBlockingSink(2)
	ctx, interrupt := context.WithCancel(context.Background())
	var out, errOut testtool.Buffer
	done := make(chan error)
	go func() {
		done <- sender(sink, 2, &out, &errOut).send(ctx, strings.NewReader(kafkaEvents("int", 6)), "stdin")
	}()
	<-sink.inFlight
	interrupt()
	waitFor(t, "the interrupt acknowledged", 5*time.Second, func() bool {
		return strings.Contains(errOut.String(), "interrupted: waiting for the answer to the batch in flight (lines 3-4); interrupt again to give up on it")
	})
	close(sink.release)
	err := <-done
	if got := out.String(); got != "Sent 4 events: 4 recorded, 0 duplicates\n" {
		t.Errorf("stdout = %q, want both batches answered counted", got)
	}
	const want = "interrupted: the events of stdin up to line 4 were sent, as counted above, and none after it. " +
		"Send the rest from line 5 on, not the whole input: 2 events sent have no id, and herald, which knows duplicates by their id only, would record them again"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant      %s", err, want)
	}
	if len(sink.batches) != 2 {
		t.Errorf("%d batches sent after the interrupt, want 2", len(sink.batches))
	}
}

// TestEventSend_secondInterruptGivesUpOnTheBatchInFlight: the batch given up on is not
// counted, and named as perhaps recorded.
func TestEventSend_secondInterruptGivesUpOnTheBatchInFlight(t *testing.T) {
	sink := newBlockingSink(2)
	ctx, interrupt := context.WithCancel(context.Background())
	abort := make(chan struct{})
	var out, errOut testtool.Buffer
	done := make(chan error)
	go func() {
		s := sender(sink, 2, &out, &errOut)
		s.abort = abort
		done <- s.send(ctx, strings.NewReader(kafkaEvents("abort", 6)), "events.ndjson")
	}()
	<-sink.inFlight
	interrupt()
	close(abort)
	err := <-done
	if got := out.String(); got != "Sent 2 events: 2 recorded, 0 duplicates\n" {
		t.Errorf("stdout = %q, want the batch answered counted", got)
	}
	const want = "interrupted: the events of events.ndjson up to line 2 were sent, as counted above; those of lines 3-4 were in flight, and may or may not have been recorded; none after them was sent. " +
		"Do not send the whole input again: 2 events sent or in flight have no id, and herald, which knows duplicates by their id only, would record them again. " +
		"Send from line 3 on, and the 1 event without id of lines 3-4 may be recorded twice, or from line 5 on, and it may be missing"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant      %s", err, want)
	}
}

// TestEventSend_interruptSaysWhenSendingAgainIsSafe: when every event sent has an id, the
// input may be sent again whole; an interrupt before anything was sent says so.
func TestEventSend_interruptSaysWhenSendingAgainIsSafe(t *testing.T) {
	var input strings.Builder
	for i := range 6 {
		fmt.Fprintf(&input, `{"id":"safe-%d","level":"info","type":"a.b","message":"m"}`+"\n", i)
	}
	sink := newBlockingSink(2)
	ctx, interrupt := context.WithCancel(context.Background())
	var out, errOut testtool.Buffer
	done := make(chan error)
	go func() {
		done <- sender(sink, 2, &out, &errOut).send(ctx, strings.NewReader(input.String()), "stdin")
	}()
	<-sink.inFlight
	interrupt()
	close(sink.release)
	const want = "interrupted: the events of stdin up to line 4 were sent, as counted above, and none after it. " +
		"Sending the input again is safe: every event sent has an id, and herald counts those it has as duplicates"
	if err := <-done; err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant      %s", err, want)
	}

	ctx, interrupt = context.WithCancel(context.Background())
	interrupt()
	err := sender(&recordingSink{}, 2, &out, &errOut).send(ctx, strings.NewReader(input.String()), "stdin")
	if err == nil || err.Error() != "interrupted before any event of stdin was sent" {
		t.Errorf("interrupted at once: %v", err)
	}
}

// TestEventSend_interruptEndsAReadThatWaits: an interrupt while stdin waits for more (a
// terminal, a producer that went quiet) ends the command at once.
func TestEventSend_interruptEndsAReadThatWaits(t *testing.T) {
	stdin, producer := io.Pipe()
	defer producer.Close()
	go func() { _, _ = io.WriteString(producer, kafkaEvents("quiet", 1)) }()
	ctx, interrupt := context.WithCancel(context.Background())
	var out, errOut testtool.Buffer
	done := make(chan error)
	go func() { done <- sender(&recordingSink{}, 10, &out, &errOut).send(ctx, stdin, "stdin") }()
	time.Sleep(50 * time.Millisecond)
	interrupt()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "interrupted before any event of stdin was sent") {
			t.Errorf("error = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("event send still waits for stdin after an interrupt")
	}
}

// TestEventSend_sendsASlowInputAsItComes: events that come now and then (tail -f) are sent
// once the first of a batch has waited --batch-wait, not when the batch fills or the input
// ends; a burst still goes as one batch.
func TestEventSend_sendsASlowInputAsItComes(t *testing.T) {
	stdin, producer := io.Pipe()
	defer producer.Close()
	sink := &signallingSink{batches: make(chan []inputEvent, 10)}
	s := eventSender{sink: sink, limit: batchLimit{events: 100}, wait: 50 * time.Millisecond, stdout: io.Discard, stderr: io.Discard}
	done := make(chan error, 1)
	go func() { done <- s.send(context.Background(), stdin, "stdin") }()
	receive := func(what string) []inputEvent {
		t.Helper()
		select {
		case b := <-sink.batches:
			return b
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no batch sent while the input stays open", what)
			return nil
		}
	}
	if _, err := io.WriteString(producer, kafkaEvents("slow", 1)); err != nil {
		t.Fatal(err)
	}
	if b := receive("one event"); len(b) != 1 || b[0].line != 1 {
		t.Errorf("first batch = %+v, want the event of line 1", b)
	}
	if _, err := io.WriteString(producer, kafkaEvents("burst", 3)); err != nil { // one write: one read
		t.Fatal(err)
	}
	if b := receive("a burst"); len(b) != 3 || b[0].line != 2 || b[2].line != 4 {
		t.Errorf("second batch = %+v, want the events of lines 2-4", b)
	}
	producer.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-sink.batches:
		t.Errorf("a batch after the input ended: %+v", b)
	default:
	}
}

// signallingSink hands each batch it is sent to a channel.
type signallingSink struct{ batches chan []inputEvent }

func (s *signallingSink) Send(_ context.Context, events []inputEvent) (sendResult, error) {
	s.batches <- append([]inputEvent(nil), events...)
	return sendResult{recorded: len(events)}, nil
}
func (s *signallingSink) Summary(sent int, total sendResult) string {
	return graphqlSink{}.Summary(sent, total)
}
func (s *signallingSink) Close() error { return nil }

// TestEventSend_emptyInput: an input without events is an error, and no summary of nothing.
func TestEventSend_emptyInput(t *testing.T) {
	for name, input := range map[string]string{"empty": "", "blank lines": "\n  \n\n"} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := sender(&recordingSink{}, 10, &out, &errOut).send(context.Background(), strings.NewReader(input), "stdin")
			if err == nil || err.Error() != "no events in stdin" || out.Len() != 0 {
				t.Errorf("error %v, stdout %q; want \"no events in stdin\" and nothing on stdout", err, out.String())
			}
		})
	}
}

// TestEventSend_refusesABatchWaitOutOfRange names the flag and its bounds.
func TestEventSend_refusesABatchWaitOutOfRange(t *testing.T) {
	for _, wait := range []string{"0s", "500us", "2m"} {
		root := newRootCommand()
		root.SetArgs([]string{"event", "send", "--url", "http://127.0.0.1:1", "--batch-wait", wait})
		root.SetIn(strings.NewReader(kafkaEvents("wait", 1)))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), "--batch-wait") || !strings.Contains(err.Error(), "between 1ms and 1m") {
			t.Errorf("--batch-wait %s: %v", wait, err)
		}
	}
}

// TestEventSend_interruptSignal: the command, interrupted (SIGINT) while a batch is in
// flight, waits for its answer and counts it; interrupted twice, it gives up on it.
func TestEventSend_interruptSignal(t *testing.T) {
	bin := heraldBinary(t)
	for name, tc := range map[string]struct {
		signals      int
		stdout, says string
	}{
		"once":  {1, "Sent 4 events: 4 recorded, 0 duplicates\n", "interrupted: the events of stdin up to line 4 were sent, as counted above, and none after it"},
		"twice": {2, "Sent 2 events: 2 recorded, 0 duplicates\n", "those of lines 3-4 were in flight, and may or may not have been recorded"},
	} {
		t.Run(name, func(t *testing.T) {
			inFlight, release := make(chan struct{}), make(chan struct{})
			var releaseOnce sync.Once
			srv := startFakeRecorder(t, 1<<20, func(request int) {
				if request == 2 {
					close(inFlight)
					<-release
				}
			})
			t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the server closes
			cmd := exec.Command(bin, "event", "send", "--url", srv.URL, "--batch-size", "2")
			cmd.Stdin = strings.NewReader(kafkaEvents("signal", 6))
			var out bytes.Buffer
			errOut := &testtool.Buffer{}
			cmd.Stdout, cmd.Stderr = &out, errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-inFlight:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("the second batch never came; stderr: %s", errOut.String())
			}
			for range tc.signals {
				if err := cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the interrupt acknowledged", 5*time.Second, func() bool {
					return strings.Contains(errOut.String(), "interrupt again to give up on it")
				})
			}
			if tc.signals == 1 {
				releaseOnce.Do(func() { close(release) })
			} // else the answer never comes: the second interrupt must not wait for it
			err := cmd.Wait()
			if cmd.ProcessState.ExitCode() != 130 || out.String() != tc.stdout || !strings.Contains(errOut.String(), tc.says) {
				t.Errorf("exit %v, want status 130 (128 + SIGINT)\nstdout %q, want %q\nstderr %s", err, out.String(), tc.stdout, errOut.String())
			}
		})
	}
}

// TestEventSend_eventsTheServerRefusesForWhoSends: a batch the server refuses for some of its
// events, by rules that depend on who sends (an account records its own events only; "kafka:"
// ids are the admin's), has those events reported with their lines and the others recorded.
func TestEventSend_eventsTheServerRefusesForWhoSends(t *testing.T) {
	app := startTestApp(t, t.TempDir(), "")
	ts := setUpTenants(t, app)
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(kafkaEvents("bob", 5), `"user_id":"admin"`, `"user_id":"bob"`)), "\n")
	lines[1] = strings.Replace(lines[1], `{`, `{"id":"kafka:herald.events:0:7",`, 1)
	lines[2] = strings.Replace(lines[2], `"user_id":"bob"`, `"user_id":"alice"`, 1)
	out, errOut, err := runCLI(t, strings.Join(lines, "\n")+"\n", "event", "send", "--url", app.url, "--token", strings.TrimPrefix(ts.bobRW, "Bearer "), "--batch-size", "4")
	if err == nil || err.Error() != "2 events of stdin were refused and not recorded" ||
		out != "Sent 5 events: 3 recorded, 0 duplicates, 2 refused\n" ||
		!strings.Contains(errOut, `stdin:2: refused: id: "kafka:herald.events:0:7": ids starting with "kafka:" are kept for the events herald reads from Kafka`) ||
		!strings.Contains(errOut, `stdin:3: refused: resource.user_id: "alice": account bob may only record its own events`) {
		t.Fatalf("error %v\nstdout %q\nstderr %s", err, out, errOut)
	}
	data := app.mustGQL(ts.admin, `query { events(filter: {account: "bob"}) { totalCount } }`, nil)
	if n := data["events"].(map[string]any)["totalCount"]; n != float64(2+3) { // bob's two of setUpTenants
		t.Errorf("bob has %v events, want 5", n)
	}
}

// TestEventSend_aReusedIDIsNamedWithItsLine: a duplicate that differs from the event recorded
// under its id is reported with its line, also in a batch sent again without a refused event
// (the lines must still match); a copy sent again is not.
func TestEventSend_aReusedIDIsNamedWithItsLine(t *testing.T) {
	app := startTestApp(t, t.TempDir(), "")
	ts := setUpTenants(t, app)
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(kafkaEvents("bob", 4), `"user_id":"admin"`, `"user_id":"bob"`)), "\n") // line 1 has the id bob-0
	lines[1] = strings.Replace(lines[1], `{`, `{"id":"kafka:herald.events:0:7",`, 1)                                                   // refused: the batch is sent again without it
	lines[2] = strings.Replace(lines[2], `{`, `{"id":"bob-0",`, 1)                                                                     // another event under line 1's id
	lines = append(lines, lines[0])                                                                                                    // line 1 again, as it was
	out, errOut, err := runCLI(t, strings.Join(lines, "\n")+"\n", "event", "send", "--url", app.url, "--token", strings.TrimPrefix(ts.bobRW, "Bearer "), "--batch-size", "10")
	if err == nil || out != "Sent 5 events: 2 recorded, 2 duplicates, 1 refused\n" ||
		!strings.Contains(errOut, `stdin:3: duplicate: event id "bob-0" is already in the log for an event that differs from this one in its message; this one was not stored`) ||
		strings.Contains(errOut, "stdin:5: duplicate") || !strings.Contains(errOut, "stdin:2: refused") {
		t.Fatalf("error %v\nstdout %q\nstderr %s", err, out, errOut)
	}
	// Alone, such a duplicate fails the command too (a script must notice that an event was
	// not stored); copies sent again do not.
	out, errOut, err = runCLI(t, lines[2]+"\n"+lines[0]+"\n", "event", "send", "--url", app.url, "--token", strings.TrimPrefix(ts.bobRW, "Bearer "))
	if err == nil || err.Error() != "1 event of stdin reused ids already in the log for other events and was not stored" ||
		out != "Sent 2 events: 0 recorded, 2 duplicates\n" || !strings.Contains(errOut, "stdin:1: duplicate: ") {
		t.Fatalf("error %v\nstdout %q\nstderr %s", err, out, errOut)
	}
	if _, _, err := runCLI(t, lines[0]+"\n", "event", "send", "--url", app.url, "--token", strings.TrimPrefix(ts.bobRW, "Bearer ")); err != nil {
		t.Fatalf("a copy sent again failed the command: %v", err)
	}
}

// TestEventSend_toKafkaRefusesAKafkaID: a "kafka:" id sent to Kafka would be dead-lettered
// (it names the message at one offset, which a producer cannot know): the line is reported.
func TestEventSend_toKafkaRefusesAKafkaID(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(kafkaEvents("k", 2)), "\n")
	lines[1] = strings.Replace(lines[1], `{`, `{"id":"kafka:herald.events:0:1",`, 1)
	sink := &recordingSink{}
	var out, errOut bytes.Buffer
	s := sender(sink, 10, &out, &errOut)
	s.toKafka = true
	err := s.send(context.Background(), strings.NewReader(strings.Join(lines, "\n")), "in.ndjson")
	if err == nil || len(sink.batches) != 1 || len(sink.batches[0]) != 1 ||
		!strings.Contains(errOut.String(), `in.ndjson:2: invalid event: id: "kafka:herald.events:0:1": ids starting with "kafka:" are the ones herald gives Kafka messages without an id`) {
		t.Fatalf("error %v, batches %+v, stderr %s", err, sink.batches, errOut.String())
	}
}

// TestEventSend_aBrokenInputIsNamedAsItsLinesAre: an array that is not closed refuses the
// whole input, named by the input and line as a bad event is.
func TestEventSend_aBrokenInputIsNamedAsItsLinesAre(t *testing.T) {
	sink := &recordingSink{}
	var out, errOut bytes.Buffer
	err := sender(sink, 10, &out, &errOut).send(context.Background(), strings.NewReader("[\n"+strings.ReplaceAll(strings.TrimSpace(kafkaEvents("k", 2)), "\n", ",\n")+"\n"), "in.json")
	if err == nil || err.Error() != "in.json:4: the JSON array is not closed: ] is missing" || len(sink.batches) != 0 {
		t.Fatalf("error %v, batches %+v", err, sink.batches)
	}
}

// TestEventSend_aConnectionBrokenUnderABatchLeavesItUnsure: a server that drops the
// connection under a batch (it was killed) may have recorded it: the error says the batch's
// lines were in flight, as an interrupt's does, not "cannot reach", and not to send again
// from its first line, which recorded its events without id twice.
func TestEventSend_aConnectionBrokenUnderABatchLeavesItUnsure(t *testing.T) {
	herald := startFakeRecorder(t, 1<<20, func(request int) {
		if request == 2 {
			panic(http.ErrAbortHandler) // the connection closes without an answer
		}
	})
	_, _, err := runCLI(t, kafkaEvents("cut", 30), "event", "send", "--url", herald.URL, "--batch-size", "10")
	if err == nil || !strings.Contains(err.Error(), "broke before it answered") ||
		!strings.Contains(err.Error(), "the events of stdin up to line 10 were sent, as counted above; those of lines 11-20 were in flight, and may or may not have been recorded") ||
		strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("error %v", err)
	}
}

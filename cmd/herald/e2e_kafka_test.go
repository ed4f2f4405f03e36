package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"herald/internal/testtool"
)

// The Kafka end-to-end tests run an in-process Kafka-protocol broker (kfake), the real herald
// binary consuming from it, and kcat (librdkafka, an independent client) or `herald event
// send` as producers.

func newKafkaCluster(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "herald.events"), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// kafkaEvents returns n events in the producer form, one per line; every third has an id.
func kafkaEvents(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		e := map[string]any{
			"level": []string{"info", "error"}[i%2], "type": "system.feeds.sync.completed",
			"message":  fmt.Sprintf("%s %d", prefix, i),
			"resource": map[string]any{"id": "vulnerabilities", "type": "feeds", "user_id": "admin"},
			"source":   map[string]any{"servicename": "policy_engine", "hostid": "dockerhostid-localhost"},
		}
		if i%3 == 0 {
			e["id"] = fmt.Sprintf("%s-%d", prefix, i)
		}
		line, _ := json.Marshal(e)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// waitForCount polls the server until the log holds want events.
func (s *server) waitForCount(want int, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	got := -1
	for time.Now().Before(deadline) {
		if got = s.count(nil); got == want {
			return
		}
		if got > want {
			s.t.Fatalf("the log holds %d events, want %d", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the log holds %d events after %s, want %d; logs:\n%s", got, timeout, want, tail(s.logs.String(), 4000))
}

func (s *server) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Events that kcat produces become queryable through GraphQL; a message that is no event
// goes to the dead-letter topic with its reason; /readyz and /metrics tell about the ingester.
func TestE2E_kafkaIngestFromKcat(t *testing.T) {
	kcat := testtool.Need(t, "kcat", "")
	broker := newKafkaCluster(t)
	s := startServer(t, t.TempDir(), freePort(t), "--kafka-brokers", broker, "--kafka-group", "e2e")

	input := kafkaEvents("kcat", 500) + "{\"level\": \"info\", \"type\": \"not json\n" + kafkaEvents("kcat-gzip", 100)
	produce := exec.Command(kcat, "-P", "-b", broker, "-t", "herald.events", "-z", "gzip")
	produce.Stdin = strings.NewReader(input)
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	s.waitForCount(600, 30*time.Second)
	if n := s.count(map[string]any{"type": "system.feeds.sync.completed", "level": "ERROR"}); n != 300 {
		t.Errorf("%d error events, want 300", n)
	}

	status, ready := s.get("/readyz")
	if status != http.StatusOK || !strings.Contains(ready, `"state":"consuming"`) || !regexp.MustCompile(`"partitions":[1-9]`).MatchString(ready) {
		t.Errorf("/readyz = %d %s", status, ready)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, metrics := s.get("/metrics")
		if strings.Contains(metrics, `herald_kafka_messages_consumed_total{topic="herald.events"} 601`) && strings.Contains(metrics, `herald_kafka_messages_dead_lettered_total{topic="herald.events"} 1`) &&
			strings.Contains(metrics, `herald_kafka_consumer_lag{partition="0",topic="herald.events"} 0`) &&
			strings.Contains(metrics, `herald_kafka_state{state="consuming"} 1`) && strings.Contains(metrics, `herald_kafka_state{state="brokers-unavailable"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics do not show 601 messages consumed, 1 dead-lettered, no lag, state consuming:\n%s", grepLines(metrics, "herald_kafka"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	consume := exec.Command(kcat, "-C", "-b", broker, "-t", "herald.events.dlq", "-o", "beginning", "-e", "-q", "-f", "%h\n%s\n")
	out, err := consume.CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	for _, want := range []string{"herald.error=invalid event: $: malformed JSON", "herald.original.topic=herald.events", "herald.original.offset=", `{"level": "info", "type": "not json`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dead letter %q lacks %q", out, want)
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// herald is killed with SIGKILL while it ingests from Kafka, again and again, and started
// again: every message ends up in the log exactly once. `herald event send --to kafka`
// produces them beforehand.
func TestE2E_kafkaKill9DuringIngest(t *testing.T) {
	const n = 60_000
	broker := newKafkaCluster(t)
	dir, port := t.TempDir(), freePort(t)
	// A killed herald stays in the group until its session times out: keep that short.
	flags := []string{"--kafka-brokers", broker, "--kafka-batch-size", "200", "--kafka-session-timeout", "6s", "--log-level", "info"}
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(kafkaEvents("kill", n)), 0o600); err != nil {
		t.Fatal(err)
	}
	send := exec.Command(heraldBinary(t), "event", "send", "--to", "kafka", "--kafka-brokers", broker, "--compression", "lz4", file)
	if out, err := send.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != fmt.Sprintf("Sent %d events to herald.events", n) {
		t.Fatalf("event send --to kafka: %v\n%s", err, out)
	}

	kills := 0
	for ; kills < 2; kills++ {
		s := launchServer(t, dir, port, flags...)
		// Kill it once it consumes: not while it joins the group (kfake keeps a member that
		// dies waiting to join for good, where Kafka would let its session expire).
		s.waitForMetric("herald_kafka_messages_consumed_total", 30*time.Second)
		got := s.count(nil)
		if got == n {
			break // ingest finished before the kill
		}
		s.kill()
		t.Logf("killed herald with %d of %d events in the log", got, n)
	}
	if kills == 0 {
		t.Fatal("ingest finished before herald could be killed once")
	}
	s := startServer(t, dir, port, flags...)
	s.waitForCount(n, 60*time.Second)
}

// launchServer starts `herald serve` without waiting for it.
func launchServer(t *testing.T, dataDir string, port int, flags ...string) *server {
	t.Helper()
	s := &server{t: t, dataDir: dataDir, port: port, url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}}
	s.cmd = exec.Command(heraldBinary(t), append([]string{"serve", "--listen", "127.0.0.1", "--port", fmt.Sprint(port), "--data-dir", dataDir, "--require-auth=false"}, flags...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	return s
}

// waitForMetric waits until the server reports a positive value of the metric.
func (s *server) waitForMetric(name string, timeout time.Duration) {
	s.t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if v, err := metricValue(s.url, name); err == nil && v > 0 {
			return
		}
	}
	s.t.Fatalf("%s still 0 after %s; logs:\n%s", name, timeout, tail(s.logs.String(), 4000))
}

// `herald event send` records NDJSON and JSON arrays through GraphQL, reports bad lines with
// their number, counts duplicates, and reports events refused for an id another account's
// event has.
func TestE2E_eventSend(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t))
	lines := strings.Split(strings.TrimSpace(kafkaEvents("send", 2500)), "\n")
	lines = append(lines[:6], append([]string{`{"level":"warn","type":"a.b","message":"m"}`}, lines[6:]...)...)
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := s.cli("", "event", "send", file)
	if err == nil || strings.TrimSpace(out) != "Sent 2500 events: 2500 recorded, 0 duplicates" ||
		!strings.Contains(errOut, file+`:7: invalid event: level: "warn" is not a level`) {
		t.Fatalf("event send with a bad line: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	if got := s.count(nil); got != 2500 {
		t.Fatalf("log holds %d events, want 2500", got)
	}

	// The same events again, as a JSON array on stdin: those with an id are duplicates.
	array := "[\n" + strings.Join(append(lines[:6:6], lines[7:]...), ",\n") + "\n]\n"
	out, errOut, err = s.cli(array, "event", "send", "-")
	if err != nil || strings.TrimSpace(out) != "Sent 2500 events: 1666 recorded, 834 duplicates" {
		t.Fatalf("event send of an array: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}

	// bob's events with ids of the admin's events: refused, with their lines; bob's others recorded
	bobs := strings.ReplaceAll(kafkaEvents("send", 4), `"user_id":"admin"`, `"user_id":"bob"`)
	bobs = strings.ReplaceAll(bobs, `"id":"send-0"`, `"id":"bob-0"`)
	out, errOut, err = s.cli(bobs, "event", "send")
	if err == nil || !strings.Contains(err.Error()+errOut, "1 event of stdin was refused and not recorded") ||
		strings.TrimSpace(out) != "Sent 4 events: 3 recorded, 0 duplicates, 1 refused" ||
		!strings.Contains(errOut, `stdin:4: refused: event id "send-3" is taken by an event of another account`) {
		t.Fatalf("event send of ids another account has: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	data, errs := s.graphql(`query { event(id: "send-3") { message resource { userId } } }`, nil)
	if e, _ := data["event"].(map[string]any); len(errs) > 0 || e == nil || e["resource"].(map[string]any)["userId"] != "admin" {
		t.Errorf("event send-3 after bob's refused copy: %v %v, want the admin's unchanged", data, errs)
	}

	_, errOut, err = s.cli("[\n{\"level\":\"info\"},\n{\"level\":\"info\",\"type\":\"a.b\",\"message\":\"m\"}\n]", "event", "send")
	if err == nil || !strings.Contains(errOut, "stdin:2: invalid event: type: is required") {
		t.Errorf("array with a bad event: %v, stderr %s", err, errOut)
	}
}

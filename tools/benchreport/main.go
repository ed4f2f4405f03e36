// Command benchreport runs herald's benchmarks (`make bench`), takes the median of several
// runs of each figure, prints a table against herald's performance targets and records it in
// BENCHMARKS.md with the machine, the date and how to rerun.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// target is one figure the design or an issue sets a goal for; a goal of 0 is a figure shown
// for comparison.
type target struct {
	pkg, bench string // package and benchmark name (sub-benchmarks included)
	unit       string // metric unit reported with b.ReportMetric
	what       string
	goal       float64
	atLeast    bool // true: the figure must reach goal; false: stay under it
	benchtime  string
}

var targets = []target{
	{"./cmd/herald", "BenchmarkIngestGraphQL", "events/s", "durable ingest, embedded, GraphQL batches of 1,000", 100_000, true, "1x"},
	{"./cmd/herald", "BenchmarkIngestKafka", "events/s", "durable ingest from Kafka (4 partitions) to the log and the view, embedded", 100_000, true, "1x"},
	{"./cmd/herald", "BenchmarkIngestKafka", "ratio", "Kafka ingest rate / kafka-go's raw consume rate, same broker, same run", 0.5, true, "1x"},
	{"./cmd/herald", "BenchmarkIngestKafka", "raw-events/s", "kafka-go's raw consume rate, consumer group, same broker (for comparison)", 0, true, "1x"},
	{"./cmd/herald", "BenchmarkIngestKafka", "herald-cpu-us/event", "herald's own CPU time per Kafka event: the ingest's CPU time less kafka-go's and the broker's (the raw consume's)", 0, false, "1x"},
	{"./cmd/herald", "BenchmarkIngestKafka", "budget-cpu-us/event", "what herald's own work could cost per event for a ratio of 0.5 on this machine, every core busy all along", 0, true, "1x"},
	{"./cmd/herald", "BenchmarkIngestKurrentDB", "events/s", "durable ingest, GraphQL batches of 1,000, log in KurrentDB: the in-process stand-in, NOT a real server (adapter + client + stand-in on the same cores)", 0, true, "1x"},
	{"./adapters/eventstore/embedded", "BenchmarkAppendMany", "events/s", "embedded store alone, AppendMany of 1,000 (for comparison)", 100_000, true, "3x"},
	{"./adapters/eventstore/embedded", "BenchmarkAppendMany", "cpu-us/event", "embedded store alone, CPU time per event, its flushes and compactions included (for comparison)", 0, false, "3x"},
	{"./cmd/herald", "BenchmarkRebuild", "events/s", "rebuild views from the log, 1M events", 250_000, true, "1x"},
	{"./cmd/herald", "BenchmarkRebuild", "rss-bytes/event", "resident memory, embedded, 1M events", 300, false, "1x"},
	{"./adapters/views/memory", "BenchmarkPage", "p50-ms", "`events` query p50, page of 100, 1M events (memory)", 5, false, "1x"},
	{"./adapters/views/memory", "BenchmarkPage", "p99-ms", "`events` query p99, page of 100, 1M events (memory)", 5, false, "1x"},
	{"./adapters/views/memory", "BenchmarkMemory", "bytes/entry", "event-log view heap per event, 1M events (memory)", 300, false, "1x"},
	{"./adapters/views/redis", "BenchmarkApply", "entries/s", "apply into the Redis view, catch-up batches of 1,000", 30_000, true, "1x"},
	{"./adapters/views/redis", "BenchmarkRebuild", "events/s", "rebuild of the Redis view, 1M events (Reset + apply)", 30_000, true, "1x"},
	{"./adapters/views/redis", "BenchmarkPage", "p50-ms", "`events` query p50, page of 100, 1M events (Redis)", 15, false, "1x"},
	{"./adapters/views/redis", "BenchmarkPage", "p99-ms", "`events` query p99, page of 100, 1M events (Redis)", 15, false, "1x"},
	{"./cmd/herald", "BenchmarkDelivery", "p50-ms", "event sent to GraphQL -> webhook received, p50 at 1,000 events/s (bounds recorded -> received)", 5, false, "1x"},
	{"./cmd/herald", "BenchmarkDelivery", "p99-ms", "event sent to GraphQL -> webhook received, p99 at 1,000 events/s (bounds recorded -> received)", 25, false, "1x"},
	{"./cmd/herald", "BenchmarkDelivery", "notifications/s", "fan-out to a local webhook sink: 100 configurations x 1,000 events, embedded", 20_000, true, "1x"},
	{"./cmd/herald", "BenchmarkDelivery", "apart-notifications/s", "the same fan-out, the sink in a process of its own (for comparison)", 0, true, "1x"},
	{"./cmd/herald", "BenchmarkDelivery", "herald-cpu-us/notification", "herald's own CPU time per notification in that run, the sink's left out (20,000/s on 2 cores needs at most 100)", 0, false, "1x"},
	{"./notify", "BenchmarkDispatch", "cost-ratio", "dispatch cost per event with 10,000 configurations / with 10", 2, false, "1x"},
	{"./notify", "BenchmarkDispatch", "ns/event@10", "dispatch cost per event, 10 configurations (for comparison)", 0, true, "1x"},
	{"./notify", "BenchmarkDispatch", "ns/event@10000", "dispatch cost per event, 10,000 configurations (for comparison)", 0, true, "1x"},
}

func main() {
	count := flag.Int("count", 3, "runs of each benchmark; the table shows the median")
	out := flag.String("out", "BENCHMARKS.md", "file to record the table in")
	flag.Parse()

	results := map[string][]float64{} // "pkg|Benchmark/sub|unit" -> values
	ran := map[string]bool{}
	for _, t := range targets {
		key := t.pkg + "|" + t.bench
		if ran[key] {
			continue
		}
		ran[key] = true
		fmt.Fprintf(os.Stderr, "running %s %s (%d runs)...\n", t.pkg, t.bench, *count)
		if err := run(t, *count, results); err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %s %s: %v\n", t.pkg, t.bench, err)
			os.Exit(1)
		}
	}
	table := render(results)
	fmt.Print(table)
	if err := os.WriteFile(*out, []byte(document(table, *count)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func run(t target, count int, results map[string][]float64) error {
	args := []string{"test", "-run", "^$", "-bench", "^" + t.bench + "$", "-benchtime", t.benchtime,
		"-count", strconv.Itoa(count), "-timeout", "60m", t.pkg}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgoEnabled())
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			key := t.pkg + "|" + m[1] + "|" + fields[i+1]
			results[key] = append(results[key], v)
		}
	}
	return sc.Err()
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func render(results map[string][]float64) string {
	var b strings.Builder
	fmt.Fprintln(&b, "| what | benchmark | target | measured (median) | runs | met |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|")
	for _, t := range targets {
		prefix := t.pkg + "|" + t.bench
		var keys []string
		for k := range results {
			if (strings.HasPrefix(k, prefix+"|") || strings.HasPrefix(k, prefix+"/")) && strings.HasSuffix(k, "|"+t.unit) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := strings.Split(k, "|")[1]
			m := median(results[k])
			met := m >= t.goal
			if !t.atLeast {
				met = m <= t.goal
			}
			cmp := "≤"
			if t.atLeast {
				cmp = "≥"
			}
			goal, verdict := fmt.Sprintf("%s %s %s", cmp, format(t.goal), t.unit), yesNo(met)
			if t.goal == 0 { // a figure shown for comparison, with no target of its own
				goal, verdict = "—", "—"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s %s | %d | %s |\n", t.what, name, goal, format(m), t.unit, len(results[k]), verdict)
		}
		if len(keys) == 0 {
			verdict := "no"
			if t.goal == 0 {
				verdict = "—"
			}
			fmt.Fprintf(&b, "| %s | `%s` | | not reported | 0 | %s |\n", t.what, t.bench, verdict)
		}
	}
	return b.String()
}

func format(v float64) string {
	switch {
	case v >= 1000:
		return addCommas(strconv.FormatFloat(v, 'f', 0, 64))
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func addCommas(s string) string {
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

// cgoEnabled is the CGO_ENABLED the benchmarks are built with: herald as shipped (the
// Dockerfile) is built without cgo, unless the caller's environment says otherwise. It
// matters for memory: with cgo, Pebble takes its block cache and memtables from C's malloc,
// which keeps what Pebble frees, so the resident memory of a process climbs from run to run
// and its first run reads ~100 bytes/event more than the same run without cgo.
func cgoEnabled() string {
	if v, ok := os.LookupEnv("CGO_ENABLED"); ok {
		return v
	}
	return "0"
}

func document(table string, count int) string {
	return fmt.Sprintf(`# Benchmarks

Recorded by `+"`make bench`"+` on %s.

Machine: %s, %d cores (GOMAXPROCS %d), %s memory, %s, %s/%s. The benchmarks of
`+"`herald serve`"+`'s wiring (in cmd/herald) run with the GOMAXPROCS it chooses: with the embedded
store, one more (README, "Configuration"). They are built with CGO_ENABLED=%s; the Dockerfile
and `+"`make build`"+` build herald with 0. Without cgo Pebble's memory is Go's, and the
resident-memory figure does not depend on what C's malloc kept from earlier runs.

Each figure is the median of %d runs. Rerun with `+"`make bench`"+` (or `+"`make bench BENCHCOUNT=5`"+`);
the raw benchmarks are ordinary Go benchmarks, e.g.
`+"`go test -run '^$' -bench BenchmarkPage ./adapters/views/memory`"+`.

%s
See the README's "Performance" section for what limits each figure.
`, time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH, cgoEnabled(), count, table)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return fmt.Sprintf("%.0f GiB", kb/1024/1024)
		}
	}
	return "unknown"
}

package embedded_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/domain"
	"herald/internal/testtool"
)

// BenchmarkAppendMany measures durable ingest: each op appends 100,000 one-fact streams
// (logevent-<id>, NoStream, ~500-byte fact) in AppendMany batches of 1,000, from one caller
// and from several concurrent callers. It also reports the process's CPU time per event, the
// flushes and compactions that ran meanwhile included.
func BenchmarkAppendMany(b *testing.B) {
	const perOp, batchSize = 100_000, 1000
	for _, callers := range []int{1, 4} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s, err := embedded.Open(b.TempDir(), embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			var elapsed, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				batches := make([][]domain.StreamAppend, perOp/batchSize)
				for i := range batches {
					batches[i] = make([]domain.StreamAppend, batchSize)
					for j := range batches[i] {
						id := randomID()
						batches[i][j] = domain.StreamAppend{Stream: "logevent-" + id, Expected: domain.NoStream(), Facts: []domain.Fact{{Type: "EventRecorded", Data: eventData(id)}}}
					}
				}
				next := make(chan []domain.StreamAppend, len(batches))
				for _, batch := range batches {
					next <- batch
				}
				close(next)
				b.StartTimer()
				start, cpu0 := time.Now(), testtool.ProcessCPU(b)
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for batch := range next {
							out, err := s.AppendMany(ctx, batch)
							if err != nil {
								b.Error(err)
								return
							}
							for _, o := range out {
								if o.Err != nil {
									b.Error(o.Err)
									return
								}
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				cpu += testtool.ProcessCPU(b) - cpu0
			}
			b.ReportMetric(float64(b.N*perOp)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*perOp), "cpu-us/event")
		})
	}
}

// eventData returns an EventRecorded payload of about 500 bytes, shaped like a real one so
// that it compresses like one.
func eventData(id string) []byte {
	return fmt.Appendf(nil, `{"v":1,"event":{"id":%q,"timestamp":%q,"level":"error","type":"system.repository.list_tags_fail",`+
		`"message":"Failed to list tags in repository","resource":{"id":"docker.io/library/nginx-%s","type":"repository","user_id":"admin"},`+
		`"source":{"servicename":"catalog","hostid":"dockerhostid-localhost","base_url":"http://localhost:8082","request_id":%q},`+
		`"details":{"msg":"GET https://registry-1.docker.io/v2/library/nginx/tags/list returned 503 after 3 attempts"}},"account":"admin"}`,
		id, time.Now().UTC().Format(time.RFC3339Nano), id[:8], randomID())
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

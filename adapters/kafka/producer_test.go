package kafka

import (
	"context"
	"strings"
	"testing"
)

// The producer of `herald event send --to kafka` keeps its record batches under the brokers'
// default message.max.bytes: 1,000 events of 1.2 kB to a topic of one partition (as a broker
// with default settings creates it) are 1.2 MB together, and the brokers check a record
// batch whole.
func TestProducer_batchesFitTheBrokersLimit(t *testing.T) {
	c := newCluster(t)
	p, err := NewProducer(ProducerConfig{Brokers: c.ListenAddrs(), Topic: "events"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]Message, 1000)
	for i := range msgs {
		msgs[i].Value = []byte(`{"level":"info","type":"a.b.c","message":"` + strings.Repeat("m", 1100) + `"}`)
	}
	if err := p.Send(context.Background(), msgs); err != nil {
		t.Fatalf("send 1,000 events of 1.2 kB: %v", err)
	}
	if got := len(readTopic(t, c.ListenAddrs(), "events")); got != len(msgs) {
		t.Fatalf("the topic holds %d messages, want %d", got, len(msgs))
	}
}

package kafka

import (
	"testing"
	"time"
)

// Messages written with each of Kafka's five compression codecs are read and recorded; one
// ingester reads the five topics at once.
func TestIngestReadsEveryCompressionCodec(t *testing.T) {
	c := newCluster(t, Compressions...)
	addrs := c.ListenAddrs()
	want := newProduced()
	for _, codec := range Compressions {
		want.produce(t, addrs, codec, 0, 2000, codec)
	}
	log := newTestLog(t)
	cfg := testConfig(addrs, Compressions...)
	r := start(t, cfg, log, nil)
	waitCommitted(t, 30*time.Second, addrs, cfg.GroupID, Compressions...)
	r.stop(t)
	log.checkExactlyOnce(t, want.keys)
}

package notify

import (
	"reflect"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"herald/domain"
)

// TestJob_messageRoundTrip: a job read back from its message is the job, and the message's
// metadata stays within eight entries once the router adds the correlation id and the
// attempt, so that the map holding it does not grow.
func TestJob_messageRoundTrip(t *testing.T) {
	j := Job{EventID: "e1", ConfigurationID: "c1", Account: "alice", Kind: domain.KindSlack, Position: 42,
		RecordedAt: time.Unix(0, 1_763_800_000_123_456_789), Trigger: domain.TriggerDispatch, Fact: []byte(`{"id":"e1"}`)}
	msg := j.Message()
	middleware.SetCorrelationID(j.EventID, msg)
	msg.Metadata.Set(metaAttempt, "1")
	if n := len(msg.Metadata); n > 8 {
		t.Errorf("a dispatched job's message has %d metadata entries: %v; want at most 8", n, msg.Metadata)
	}
	back, err := JobOf(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !back.RecordedAt.Equal(j.RecordedAt) {
		t.Errorf("recorded at %v, want %v", back.RecordedAt, j.RecordedAt)
	}
	back.RecordedAt = j.RecordedAt
	if !reflect.DeepEqual(back, j) {
		t.Errorf("read back %+v, want %+v", back, j)
	}
}

// TestJobOf_messageOfAnEarlierVersion: a message published by an earlier herald, with the
// position and the time recorded under two keys, still reads.
func TestJobOf_messageOfAnEarlierVersion(t *testing.T) {
	msg := message.NewMessage("k", []byte(`{}`))
	for k, v := range map[string]string{metaEvent: "e1", metaConfiguration: "c1", metaKind: "webhook", metaPosition: "7", metaRecordedAt: "1763800000000000000"} {
		msg.Metadata.Set(k, v)
	}
	j, err := JobOf(msg)
	if err != nil {
		t.Fatal(err)
	}
	if j.Position != 7 || !j.RecordedAt.Equal(time.Unix(0, 1_763_800_000_000_000_000)) || j.Trigger != domain.TriggerDispatch {
		t.Errorf("read %+v, want position 7, recorded at 1763800000 s, trigger dispatch", j)
	}
	msg.Metadata.Set(metaPosition, "x@1")
	if _, err := JobOf(msg); err == nil {
		t.Error("a position x@1 was read without an error")
	}
}

package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/commands"
	"herald/domain"
	"herald/internal/testtool"
)

// TestKafkaRecorder_warnsOfIDsGivenToTwoEvents: a Kafka message whose id is already in the log
// for another event is counted a duplicate, as a redelivery is, and logged, since it is most
// likely a producer giving two events one id; a redelivery is not logged.
func TestKafkaRecorder_warnsOfIDsGivenToTwoEvents(t *testing.T) {
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h, err := commands.NewRecordEventsHandler(store, time.Now, commands.NewEventID)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testtool.Buffer{}
	r := kafkaRecorder{record: h, log: slog.New(slog.NewTextHandler(logs, nil))}
	event := func(id, message string) domain.LogEvent {
		return domain.LogEvent{ID: id, Timestamp: time.Now(), Level: domain.LevelInfo, Type: "a.b", Message: message, Resource: domain.Resource{UserID: "admin"}}
	}
	ctx := context.Background()
	first := event("k-1", "one")
	if _, err := r.Record(ctx, []domain.LogEvent{first}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := r.Record(ctx, []domain.LogEvent{first}, nil)
	if err != nil || !res.Duplicate[0] || logs.String() != "" {
		t.Fatalf("redelivery: %+v, %v; logged %q", res, err, logs.String())
	}
	// produced again without a timestamp of its own: it carries its new message's
	again := first
	again.Timestamp = first.Timestamp.Add(time.Minute)
	res, err = r.Record(ctx, []domain.LogEvent{again}, []bool{true})
	if err != nil || !res.Duplicate[0] || logs.String() != "" {
		t.Fatalf("produced again, stamped with its message's timestamp: %+v, %v; logged %q", res, err, logs.String())
	}
	res, err = r.Record(ctx, []domain.LogEvent{event("k-1", "two"), event("k-2", "new")}, nil)
	if err != nil || len(res.Duplicate) != 2 || !res.Duplicate[0] || res.Duplicate[1] || len(res.Refused) != 0 {
		t.Fatalf("reused id: %+v, %v", res, err)
	}
	if log := logs.String(); !strings.Contains(log, "kafka events not stored: their ids are already in the log for other events") ||
		!strings.Contains(log, "count=1") || !strings.Contains(log, `event id \"k-1\" is already in the log for an event that differs from this one in its timestamp and message`) {
		t.Errorf("log: %s", log)
	}
}

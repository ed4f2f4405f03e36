package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"herald/adapters/eventstore/embedded"
	"herald/adapters/kafka"
)

// sickStore is an embedded store that reports it cannot write.
type sickStore struct{ *embedded.Store }

func (sickStore) Health() error { return errors.New("the disk is full or failing") }

// fixedIngester is a Kafka ingester that stays in one state.
type fixedIngester struct{ status kafka.Status }

func (f fixedIngester) Run(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (f fixedIngester) Status() kafka.Status          { return f.status }

// /readyz's top-level status tells a Kafka outage from a start, and a store that cannot write
// from both; the Kafka part keeps the last error with when it happened, also once recovered.
func TestReady_saysWhatHoldsItBack(t *testing.T) {
	store, err := embedded.Open(t.TempDir(), embedded.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	failedAt := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	in := func(state kafka.State) kafkaIngester {
		s := kafka.Status{State: state, Since: failedAt, Partitions: 4}
		if state != kafka.StateStarting && state != kafka.StateJoining {
			s.LastError, s.LastErrorAt = "kafka: dial tcp 10.0.0.7:9092: connection refused", failedAt
		}
		return fixedIngester{s}
	}
	for _, tc := range []struct {
		name     string
		store    eventStore
		ingester kafkaIngester
		code     int
		status   string
	}{
		{"store only", store, nil, http.StatusOK, "ready"},
		{"store cannot write", sickStore{store}, nil, http.StatusServiceUnavailable, "unavailable"},
		{"store cannot write, Kafka fine", sickStore{store}, in(kafka.StateConsuming), http.StatusServiceUnavailable, "unavailable"},
		{"consuming", store, in(kafka.StateConsuming), http.StatusOK, "ready"},
		{"connecting", store, in(kafka.StateStarting), http.StatusServiceUnavailable, "starting"},
		{"joining", store, in(kafka.StateJoining), http.StatusServiceUnavailable, "starting"},
		{"brokers down", store, in(kafka.StateBrokersUnavailable), http.StatusServiceUnavailable, "degraded"},
		{"topics missing", store, in(kafka.StateTopicsMissing), http.StatusServiceUnavailable, "degraded"},
		{"store refuses batches", store, in(kafka.StateRetryingStore), http.StatusServiceUnavailable, "degraded"},
		{"dead-letter topic refuses", store, in(kafka.StateRetryingDeadLetter), http.StatusServiceUnavailable, "degraded"},
		{"ingester stopped", store, in(kafka.StateStopped), http.StatusServiceUnavailable, "degraded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{store: tc.store, ingester: tc.ingester}
			rec := httptest.NewRecorder()
			a.ready(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var body struct {
				Status string
				Store  struct{ Error string }
				Kafka  *struct {
					State       string
					LastError   string `json:"last_error"`
					LastErrorAt string `json:"last_error_at"`
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("/readyz is not JSON: %v\n%s", err, rec.Body)
			}
			if rec.Code != tc.code || body.Status != tc.status {
				t.Errorf("/readyz = %d %q, want %d %q\n%s", rec.Code, body.Status, tc.code, tc.status, rec.Body)
			}
			if _, sick := tc.store.(sickStore); sick != (body.Store.Error == "the disk is full or failing") {
				t.Errorf("store error = %q\n%s", body.Store.Error, rec.Body)
			}
			if tc.ingester == nil {
				if body.Kafka != nil {
					t.Errorf("kafka shown without an ingester: %s", rec.Body)
				}
				return
			}
			want := tc.ingester.Status()
			if body.Kafka == nil || body.Kafka.State != string(want.State) || body.Kafka.LastError != want.LastError {
				t.Fatalf("kafka = %+v, want state %s, last error %q", body.Kafka, want.State, want.LastError)
			}
			if wantAt := "2026-11-23T09:30:00Z"; want.LastError != "" && body.Kafka.LastErrorAt != wantAt {
				t.Errorf("last_error_at = %q, want %s", body.Kafka.LastErrorAt, wantAt)
			}
		})
	}
}

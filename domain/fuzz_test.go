package domain_test

import (
	"encoding/json"
	"errors"
	"testing"

	"herald/domain"
)

// FuzzDecodeLogEvent checks that the decoder never panics, that it rejects input only with a
// ValidationError, and that every event it accepts survives the fact encoding unchanged.
func FuzzDecodeLogEvent(f *testing.F) {
	f.Add([]byte(seedEvent))
	f.Add([]byte(`{"level":"info","type":"system.feeds.sync.completed","message":"done","details":"text"}`))
	f.Add([]byte(`{"level":"INFO","type":"a","message":"m","resource":{"account_name":"x"},"source":{"service_name":"s","host_id":"h"}}`))
	f.Add([]byte(`{"timestamp":"2018-06-28T22:36:26","level":"error","type":"x.y","message":"m","details":null}`))
	f.Add([]byte(`{"details":{"nested":{"a":[1,2,{"b":null}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := domain.DecodeLogEvent(data)
		if err != nil {
			var v *domain.ValidationError
			if !errors.As(err, &v) || len(v.Fields) == 0 {
				t.Fatalf("rejected without field errors: %v", err)
			}
			return
		}
		e = e.WithDefaults(now, fixedID)
		if e.Validate(now) != nil {
			return
		}
		if len(e.Details) > 0 && !json.Valid(e.Details) {
			t.Fatalf("accepted invalid details %q", e.Details)
		}
		back, err := domain.DecodeEventRecorded(domain.EventRecorded{Event: e}.Encode().Data)
		if err != nil {
			t.Fatalf("encoded fact does not decode: %v", err)
		}
		got := back.Event
		if got.ID != e.ID || !got.Timestamp.Equal(e.Timestamp) || got.Level != e.Level || got.Type != e.Type ||
			got.Message != e.Message || got.Resource != e.Resource || got.Source != e.Source {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", e, got)
		}
	})
}

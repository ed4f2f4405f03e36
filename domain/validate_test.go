package domain_test

import (
	"strings"
	"testing"
	"time"

	"herald/domain"
)

// TestValidationError_namesWhatWasInvalid: what is wrong with events says "invalid event",
// which producers and the Kafka dead-letter header herald.error rely on; what is wrong with
// anything else (a password, an account name, a filter) does not claim to be about an event.
func TestValidationError_namesWhatWasInvalid(t *testing.T) {
	now := time.Now()
	_, decodeErr := domain.DecodeLogEvent([]byte(`{"levle":"info"}`))
	_, batchErr := domain.DecodeLogEvents([]byte(`[{"level":"warn"}]`))
	_, linesErr := domain.DecodeLogEvents([]byte("{}\n{\"type\":"))
	_, kindErr := domain.ParseEndpointKind("pager")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"an event", domain.LogEvent{}.Validate(now), "invalid event: id: is required"},
		{"an event under its index", domain.LogEvent{}.Validate(now).(*domain.ValidationError).Prefixed("events[2]"), "invalid event: events[2].id: is required"},
		{"a decoded event", decodeErr, "invalid event: levle: is not a field of an event"},
		{"a batch of events", batchErr, `invalid event: events[0].level: "warn" is not a level`},
		{"a batch of event lines", linesErr, "invalid event: events[1]: malformed JSON on line 2"},
		{"an endpoint kind", kindErr, `invalid input: kind: "pager" is not an endpoint kind`},
		{"an event filter", domain.EventFilter{Type: "Not A Type"}.Validate(), `invalid input: type: "Not A Type" is neither`},
		{"no subject", &domain.ValidationError{Fields: []domain.FieldError{{Field: "password", Message: "is too short"}}}, "invalid input: password: is too short"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.HasPrefix(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s...", c.name, c.err, c.want)
		}
	}
}

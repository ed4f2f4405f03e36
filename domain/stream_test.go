package domain_test

import (
	"strings"
	"testing"

	"herald/domain"
)

// Every stream herald names starts with exactly one of StreamPrefixes, which a shared store
// (KurrentDB) follows.
func TestStreamPrefixes_coverEveryStreamName(t *testing.T) {
	names := []string{
		domain.AccountStream("alice"), domain.ConfigurationStream("c1"), domain.DeliveryStream("e1", "c1"),
		domain.EndpointStream(domain.KindSlack), domain.LogEventStream("e1"), domain.EventLogStream("alice"),
		domain.UserNameStreamPrefix + "ann", domain.HeraldStreamPrefix + "secretkey",
	}
	for _, name := range names {
		matched := 0
		for _, p := range domain.StreamPrefixes() {
			if strings.HasPrefix(name, p) {
				matched++
			}
		}
		if matched != 1 {
			t.Errorf("stream %q has %d of StreamPrefixes, want exactly 1", name, matched)
		}
	}
}

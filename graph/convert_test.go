package graph

import (
	"testing"

	"herald/graph/model"
)

// Types are recorded in lower case, so a filter's type is taken in any case: a dashboard that
// asks for "System.Feeds.*" gets the events it means, not a refusal.
func TestFilterOf_takesTypesInAnyCase(t *testing.T) {
	typ := "System.Feeds.*"
	f := filterOf(&model.EventFilter{Type: &typ})
	if f.Type != "system.feeds.*" {
		t.Errorf("filter type %q, want system.feeds.*", f.Type)
	}
	if err := f.Validate(); err != nil {
		t.Errorf("the filter is refused: %v", err)
	}
}

package standin

import (
	"fmt"
	"regexp"
	"strings"

	api "github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/streams"
)

// defaultReadBatchSize is the real server's page size, and its search window when a filter
// names none.
const defaultReadBatchSize = 32

// eventFilter is a server-side filter on $all: on the stream name or on the event type, by
// any of some prefixes or by a regular expression. A nil filter passes everything $all shows.
type eventFilter struct {
	onEventType bool
	prefixes    []string
	re          *regexp.Regexp
}

// visibleInAll is the real server's default $all filter, applied to every $all read and
// subscription, filtered or not: it hides the epoch records and the checkpoints and parked
// messages of persistent subscriptions to $all.
func visibleInAll(r *record) bool {
	switch {
	case !strings.HasPrefix(r.stream, "$"):
		return true
	case r.stream == streamEpoch:
		return false
	case strings.HasPrefix(r.stream, "$persistentsubscription-$all::"):
		return !strings.HasSuffix(r.stream, "-checkpoint") && !strings.HasSuffix(r.stream, "-parked")
	}
	return true
}

func (f *eventFilter) matches(r *record) bool {
	if !visibleInAll(r) {
		return false
	}
	if f == nil {
		return true
	}
	subject := r.stream
	if f.onEventType {
		subject = r.eventType
	}
	if f.re != nil {
		return f.re.MatchString(subject)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

// filterOptions are a request's filter with its search window and checkpoint interval.
type filterOptions struct {
	filter             *eventFilter
	window             int // records a catch-up page considers
	checkpointInterval int // considered records between checkpoints
}

// parseFilter reads the filter of a read or subscription; nil when there is none. As on the
// real server a regex wins over prefixes, and the checkpoint interval is the multiplier times
// the search window.
func parseFilter(opts *api.ReadReq_Options) (*filterOptions, error) {
	fo := opts.GetFilter()
	if fo == nil {
		return nil, nil
	}
	f := &eventFilter{}
	var expr *api.ReadReq_Options_FilterOptions_Expression
	switch {
	case fo.GetStreamIdentifier() != nil:
		expr = fo.GetStreamIdentifier()
	case fo.GetEventType() != nil:
		expr, f.onEventType = fo.GetEventType(), true
	default:
		return nil, fmt.Errorf("the filter names neither a stream identifier nor an event type expression")
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, fmt.Errorf("the filter's regex %q does not compile: %w", expr.GetRegex(), err)
		}
		f.re = re
	} else {
		f.prefixes = expr.GetPrefix()
	}
	window := defaultReadBatchSize
	if m, ok := fo.GetWindow().(*api.ReadReq_Options_FilterOptions_Max); ok && m.Max > 0 {
		window = int(m.Max)
	}
	if fo.GetCheckpointIntervalMultiplier() == 0 {
		return nil, fmt.Errorf("the filter's checkpoint interval multiplier must not be zero")
	}
	return &filterOptions{filter: f, window: window, checkpointInterval: window * int(fo.GetCheckpointIntervalMultiplier())}, nil
}

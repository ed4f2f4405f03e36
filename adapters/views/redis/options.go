package redis

import (
	"errors"
	"fmt"
	"strings"
)

// Options tune an EventLog; Configurations and Accounts use Prefix alone. The zero value is
// usable: setDefaults fills the gaps.
type Options struct {
	// Prefix starts every key of the view, so that several views (or tests) share a server.
	// Default "herald:".
	Prefix string
	// ChangesPerScript caps how many recordings and deletions one Lua script applies. An
	// Apply sends its scripts in one pipeline; smaller scripts block Redis for less time
	// each, larger ones cost fewer round trips inside Redis. Default 256.
	ChangesPerScript int
	// BytesPerScript caps the size of one script's arguments (a larger entry goes alone).
	// Default 512 KiB.
	BytesPerScript int
	// QueryBudget is how many index members one query script examines before it hands
	// control back (and the client calls again), bounding how long one query blocks Redis.
	// Default 10,000 (a few milliseconds).
	QueryBudget int
	// ClearBudget is the same bound for the scripts that apply a clear, where removing an
	// entry costs about eight units. Default 4,096.
	ClearBudget int
}

func (o *Options) setDefaults() {
	if o.Prefix == "" {
		o.Prefix = "herald:"
	}
	if o.ChangesPerScript <= 0 {
		o.ChangesPerScript = 256
	}
	if o.BytesPerScript <= 0 {
		o.BytesPerScript = 512 << 10
	}
	if o.QueryBudget <= 0 {
		o.QueryBudget = 10_000
	}
	if o.ClearBudget <= 0 {
		o.ClearBudget = 4096
	}
}

var errBadOptions = errors.New("invalid options")

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	// A brace would move the hash tag that keeps the view's keys in one cluster slot.
	if strings.ContainsAny(o.Prefix, "{}") {
		return fmt.Errorf("prefix %q holds a brace: %w", o.Prefix, errBadOptions)
	}
	// A script passes a change's values to one Redis call (unpack), which Lua caps at a few
	// thousand.
	if o.ChangesPerScript > 1000 {
		return fmt.Errorf("changes per script %d exceed 1000: %w", o.ChangesPerScript, errBadOptions)
	}
	// Tiny budgets would turn every query into a stream of round trips.
	if o.QueryBudget < 100 || o.ClearBudget < 100 {
		return fmt.Errorf("query budget %d and clear budget %d must be at least 100: %w", o.QueryBudget, o.ClearBudget, errBadOptions)
	}
	return nil
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// storedVersion is the version of the JSON values the configurations and accounts views
// store; a reader refuses other versions rather than guess, and a rebuild rewrites them.
const storedVersion = 1

// errUnknownVersion means a stored value was written by another version of herald.
var errUnknownVersion = errors.New("unknown stored version")

// formatTime writes an instant for a stored value, to the nanosecond; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime reads what formatTime wrote.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("read time %q: %w", s, err)
	}
	return t, nil
}

// readCheckpoint reads a view's checkpoint: 0 when none is stored.
func readCheckpoint(ctx context.Context, client goredis.UniversalClient, key string) (uint64, error) {
	s, err := client.Get(ctx, key).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	cp, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %q: %w", s, err)
	}
	return cp, nil
}

// fencedScript returns a writing script of the configurations or accounts view: src with the
// fencing and checkpoint functions in front of it.
func fencedScript(src string) *goredis.Script { return goredis.NewScript(luaFence + "\n" + src) }

// claimFence runs the claim script against a view's fence key.
func claimFence(ctx context.Context, client goredis.UniversalClient, claim *goredis.Script, fenceKey string, fence uint64) error {
	if err := scriptError(claim.Run(ctx, client, []string{fenceKey}, fence).Err()); err != nil {
		return fmt.Errorf("claim view with fence %d: %w", fence, err)
	}
	return nil
}

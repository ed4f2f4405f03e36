// Package redis keeps the event-log view (projections.EventLogView) in Redis, so that several
// herald instances share it: one applies the log (holding a Lease), all answer queries.
//
// Each entry is stored once; every filterable field has, per value, a sorted set of the
// entries with that value, ordered by (timestamp, position) through lexicographic members
// (layout.go, encoding.go). A query walks the index of the filter that holds the fewest
// entries in its time window, newest first, probing the other fields' indexes for each
// member (an intersection, smallest index first), so that no query scans the log. Writes run as Lua scripts, so a fact and its indexes change together, and
// the scripts of one Apply are chained so the checkpoint never passes data that is missing.
//
// The configurations view (Configurations) and the accounts view (Accounts) live here too:
// small, read often, one JSON value per item, each batch written by one script. All three
// views follow the same key conventions (a hash tag per view) and fencing.
package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"herald/projections"
)

var _ projections.EventLogView = (*EventLog)(nil)

// EventLog is the event-log view in Redis. It is safe for concurrent use by readers and one
// writer: Apply, Reset and ClaimFence must not run concurrently with each other.
type EventLog struct {
	client  goredis.UniversalClient
	opts    Options
	keys    layout
	scripts scripts
	fence   uint64 // written with every write; 0 when no lease guards the view
}

// NewEventLog returns the view stored under opts.Prefix in the Redis that client reaches.
func NewEventLog(client goredis.UniversalClient, opts Options) (*EventLog, error) {
	if client == nil {
		return nil, fmt.Errorf("new redis event log: nil client")
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new redis event log: %w", err)
	}
	return &EventLog{client: client, opts: opts, keys: newLayout(opts.Prefix), scripts: newScripts()}, nil
}

// Fenced returns the same view for a writer holding a lease with fence (Lease.Acquire). Its
// writes are refused with ErrFenced once a writer with a newer fence has written, and each
// of them stores its fence as the newest, which fences out older holders. A view that is not
// fenced writes with fence 0, the oldest.
func (v *EventLog) Fenced(fence uint64) *EventLog {
	w := *v
	w.fence = fence
	return &w
}

// ClaimFence stores the view's fence as the newest without writing anything else, so that a
// new lease holder fences out the former one at once rather than at its first Apply. It
// fails with ErrFenced when a newer fence holds the view.
func (v *EventLog) ClaimFence(ctx context.Context) error {
	return claimFence(ctx, v.client, v.scripts.claim, v.keys.fence, v.fence)
}

// Checkpoint implements projections.EventLogView.
func (v *EventLog) Checkpoint(ctx context.Context) (uint64, error) {
	return readCheckpoint(ctx, v.client, v.keys.checkpoint)
}

// Entry implements projections.EventLogView.
func (v *EventLog) Entry(ctx context.Context, id string) (projections.EventEntry, bool, error) {
	s, err := v.scripts.entry.Run(ctx, v.client, []string{v.keys.ids, v.keys.entries}, id).Text()
	if errors.Is(err, goredis.Nil) {
		return projections.EventEntry{}, false, nil
	}
	if err != nil {
		return projections.EventEntry{}, false, fmt.Errorf("read entry %s: %w", id, err)
	}
	e, err := decodeEntry([]byte(s))
	if err != nil {
		return projections.EventEntry{}, false, fmt.Errorf("read entry %s: %w", id, err)
	}
	return e, true, nil
}

// Types implements projections.EventLogView.
func (v *EventLog) Types(ctx context.Context) ([]string, error) {
	types, err := v.client.SMembers(ctx, v.keys.types).Result()
	if err != nil {
		return nil, fmt.Errorf("read types: %w", err)
	}
	slices.Sort(types)
	return types, nil
}

// resetBatch is how many keys one Reset script unlinks.
const resetBatch = 512

// Reset implements projections.EventLogView: it unlinks every key of the view (Redis frees
// large ones in the background) except the fence, which must outlive a rebuild so that a
// former lease holder stays fenced out.
func (v *EventLog) Reset(ctx context.Context) error {
	var keys []string
	err := v.scanKeys(ctx, func(batch []string) {
		for _, k := range batch {
			if k != v.keys.fence {
				keys = append(keys, k)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("reset: list keys: %w", err)
	}
	for start := 0; start < len(keys) || start == 0; start += resetBatch {
		batch := append([]string{v.keys.fence}, keys[start:min(len(keys), start+resetBatch)]...)
		if err := scriptError(v.scripts.reset.Run(ctx, v.client, batch, v.fence).Err()); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	return nil
}

// scanKeys lists the view's keys with SCAN, on every master of a cluster.
func (v *EventLog) scanKeys(ctx context.Context, found func([]string)) error {
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, v.keys.pattern(), 1000).Result()
			if err != nil {
				return err
			}
			found(keys)
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cluster, ok := v.client.(*goredis.ClusterClient); ok {
		// The hash tag puts every key in one slot, so one master answers; found is not
		// called concurrently by more than that one.
		return cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return scan(ctx, c) })
	}
	return scan(ctx, v.client)
}

// runPipeline runs scripts in one round trip and returns the first error. When the server
// has lost its script cache (a restart), it loads the scripts and runs the whole pipeline
// again, which is safe because every change is idempotent and an Apply's chain restarts at
// step 0.
func (v *EventLog) runPipeline(ctx context.Context, calls []scriptCall) ([]*goredis.Cmd, error) {
	for attempt := 0; ; attempt++ {
		pipe := v.client.Pipeline()
		cmds := make([]*goredis.Cmd, len(calls))
		for i, c := range calls {
			cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, _ = pipe.Exec(ctx)
		var first error
		missing := false
		for _, cmd := range cmds {
			if err := cmd.Err(); err != nil {
				missing = missing || isNoScript(err)
				if first == nil {
					first = scriptError(err)
				}
			}
		}
		if !missing || attempt > 0 {
			return cmds, first
		}
		loaded := map[*goredis.Script]bool{}
		for _, c := range calls {
			if !loaded[c.script] {
				loaded[c.script] = true
				if err := c.script.Load(ctx, v.client).Err(); err != nil {
					return cmds, fmt.Errorf("load script: %w", err)
				}
			}
		}
	}
}

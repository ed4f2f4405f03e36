package redis

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"

	"herald/projections"
)

// Apply implements projections.EventLogView. Recordings and deletions go to Redis in Lua
// scripts of up to ChangesPerScript changes, all sent in one pipeline; a clear runs as
// bounded scripts of its own, in its place in the order. The scripts of one Apply form a
// chain (lua/common.lua) and the last one raises the checkpoint, so the checkpoint never
// passes a change that is not applied. A failed Apply may leave a prefix of its changes
// applied, which the port allows: every change is idempotent and the runner replays from
// the checkpoint.
func (v *EventLog) Apply(ctx context.Context, changes []projections.Change, checkpoint uint64) error {
	a := applier{v: v, token: rand.Text(), checkpoint: strconv.FormatUint(checkpoint, 10)}
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Recorded != nil:
			blob, err := encodeEntry(nil, c.Recorded)
			if err != nil {
				return fmt.Errorf("apply change at %d: %w", c.At, err)
			}
			a.add("R", c.Recorded.ID, blob)
		case c.Deleted != "":
			a.add("D", c.Deleted, nil)
		case c.Cleared != nil:
			// The clear must see every change before it, and none after it.
			if err := a.flush(ctx, false); err != nil {
				return err
			}
			if err := a.clear(ctx, c); err != nil {
				return err
			}
		}
	}
	return a.flush(ctx, true)
}

// applier builds the chain of scripts of one Apply.
type applier struct {
	v          *EventLog
	token      string // names this Apply's chain
	checkpoint string
	step       int
	queued     []scriptCall // full scripts not sent yet
	args       []any        // the script being filled: header, then op, id, entry per change
	changes    int
	bytes      int
}

// headerArgs is how many arguments precede the changes of an apply script.
const headerArgs = 5

func (a *applier) header(checkpoint string) []any {
	step := a.step
	a.step++
	return []any{a.v.keys.base, a.v.fence, a.token, step, checkpoint}
}

// add appends a change: op "R" with the id and stored entry, or "D" with the id.
func (a *applier) add(op, id string, blob []byte) {
	size := len(id) + len(blob)
	if a.changes > 0 && (a.changes >= a.v.opts.ChangesPerScript || a.bytes+size > a.v.opts.BytesPerScript) {
		a.seal("")
	}
	if a.args == nil {
		a.args = make([]any, headerArgs, headerArgs+3*a.v.opts.ChangesPerScript)
	}
	a.args = append(a.args, op, id, blob)
	a.changes++
	a.bytes += size
}

// seal closes the script being filled, with the checkpoint to set ("" for none).
func (a *applier) seal(checkpoint string) {
	args := a.args
	if args == nil {
		args = make([]any, headerArgs)
	}
	copy(args, a.header(checkpoint))
	a.queued = append(a.queued, scriptCall{script: a.v.scripts.apply, keys: a.v.keys.writeKeys(), args: args})
	a.args, a.changes, a.bytes = nil, 0, 0
}

// flush sends the queued scripts in one pipeline; final seals the last one with the
// checkpoint (even when it holds no change).
func (a *applier) flush(ctx context.Context, final bool) error {
	if final {
		a.seal(a.checkpoint)
	} else if a.changes > 0 {
		a.seal("")
	}
	if len(a.queued) == 0 {
		return nil
	}
	calls := a.queued
	a.queued = nil
	if _, err := a.v.runPipeline(ctx, calls); err != nil {
		return fmt.Errorf("apply changes up to checkpoint %s: %w", a.checkpoint, err)
	}
	return nil
}

// clear removes what a clear selects, in scripts that each do a bounded amount of work and
// resume where the previous one stopped.
func (a *applier) clear(ctx context.Context, c *projections.Change) error {
	q, ok := newQuery(c.Cleared.Criteria, nil)
	if !ok {
		return nil // an empty window
	}
	at := string(positionKey(c.Cleared.Below(c.At)))
	for {
		args := append(a.header("")[:4], at, a.v.opts.ClearBudget) // no checkpoint: see clear.lua
		args = append(args, q.args()...)
		vals, err := a.v.scripts.clear.Run(ctx, a.v.client, a.v.keys.writeKeys(), args...).Slice()
		if err != nil {
			return fmt.Errorf("apply clear at %d: %w", c.At, scriptError(err))
		}
		done, resume, err := progress(vals)
		if err != nil {
			return fmt.Errorf("apply clear at %d: %w", c.At, err)
		}
		if done {
			return nil
		}
		q.resumeBelow(resume)
	}
}

package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"herald/domain"
	"herald/projections"
)

var _ projections.DeliveryView = (*Deliveries)(nil)

// deliveryKeys names the keys of the deliveries view. Every key starts with base: the
// configured prefix and the hash tag {deliveries.2}, so that on a Redis Cluster the view lives
// in one slot and its scripts may touch any of its keys. (The 2 is the layout: the status
// index came with it; a view of the first layout is left behind and this one rebuilt from
// the log.)
//
//	<base>cp                  string   checkpoint (decimal)
//	<base>fence               string   newest lease fence that wrote (kept by Reset)
//	<base>d                   hash     position (8 bytes, big-endian) -> stored delivery (deliveries_codec.go)
//	<base>all                 zset     every delivery
//	<base>a:<account>         zset     deliveries of an account
//	<base>c:<configuration>   zset     ... to a configuration
//	<base>e:<event>           zset     ... of an event
//	<base>s:<status>          zset     ... with an outcome (delivered, failed): failures are few
//
// Index members are positions (8 bytes, big-endian) and scores are all zero, so that the
// byte-wise order of members (ZRANGE BYLEX) is the order of positions, exactly: a float
// score loses positions beyond 2^53. An empty value is not indexed.
type deliveryKeys struct {
	base, checkpoint, fence, deliveries, all string
}

// DeliveriesLayout names the layout of the deliveries view; its lease is named after it.
const DeliveriesLayout = "deliveries.2"

func newDeliveryKeys(prefix string) deliveryKeys {
	base := prefix + "{" + DeliveriesLayout + "}:"
	return deliveryKeys{base: base, checkpoint: base + "cp", fence: base + "fence", deliveries: base + "d", all: base + "all"}
}

func (k deliveryKeys) account(name string) string     { return k.base + "a:" + name }
func (k deliveryKeys) configuration(id string) string { return k.base + "c:" + id }
func (k deliveryKeys) event(id string) string         { return k.base + "e:" + id }
func (k deliveryKeys) status(s domain.DeliveryStatus) string {
	return k.base + "s:" + string(s)
}

// writeKeys are the keys the apply script declares.
func (k deliveryKeys) writeKeys() []string {
	return []string{k.checkpoint, k.fence, k.deliveries, k.all}
}

// pattern matches every key of the view, for SCAN, escaped as the event log's are.
func (k deliveryKeys) pattern() string { return layout{base: k.base}.pattern() }

// deliveryMember is the index member, and the field in the hash, of a position.
func deliveryMember(position uint64) string { return string(positionKey(position)) }

// Deliveries is the delivery history in Redis, shared by several herald instances: one
// applies the log, holding a Lease, and every one reads. Each delivery is one JSON value in a
// hash, indexed by account, configuration and event in sorted sets of positions; a batch,
// its indexes and the checkpoint are written by one Lua script, atomically. A page walks the
// filter's smallest index newest first, probing the others, and checks status and time on
// the deliveries it reads, in scripts of bounded work (Options.QueryBudget).
//
// It is safe for concurrent use by readers and one writer: Apply, Reset and ClaimFence must
// not run concurrently with each other.
type Deliveries struct {
	client  goredis.UniversalClient
	opts    Options
	keys    deliveryKeys
	scripts deliveryScripts
	fence   uint64 // written with every write; 0 when no lease guards the view
}

// NewDeliveries returns the view stored under opts.Prefix in the Redis that client reaches.
// Of the options, Prefix and QueryBudget apply to it.
func NewDeliveries(client goredis.UniversalClient, opts Options) (*Deliveries, error) {
	if client == nil {
		return nil, fmt.Errorf("new redis deliveries: nil client")
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new redis deliveries: %w", err)
	}
	return &Deliveries{client: client, opts: opts, keys: newDeliveryKeys(opts.Prefix), scripts: newDeliveryScripts()}, nil
}

// Fenced returns the same view for a writer holding a lease with fence, as EventLog.Fenced:
// its writes are refused with ErrFenced once a writer with a newer fence has written.
func (v *Deliveries) Fenced(fence uint64) *Deliveries {
	w := *v
	w.fence = fence
	return &w
}

// ClaimFence stores the view's fence as the newest without writing anything else, as
// EventLog.ClaimFence.
func (v *Deliveries) ClaimFence(ctx context.Context) error {
	return claimFence(ctx, v.client, v.scripts.claim, v.keys.fence, v.fence)
}

// Apply implements projections.DeliveryView: the deliveries, their indexes and the
// checkpoint are written by one script, so a reader sees all of a batch or none of it.
func (v *Deliveries) Apply(ctx context.Context, deliveries []domain.Delivery, checkpoint uint64) error {
	args := make([]any, 0, 3+6*len(deliveries))
	args = append(args, v.keys.base, v.fence, strconv.FormatUint(checkpoint, 10))
	for i := range deliveries {
		d := &deliveries[i]
		blob, err := encodeDelivery(d)
		if err != nil {
			return fmt.Errorf("apply deliveries up to %d: %w", checkpoint, err)
		}
		args = append(args, deliveryMember(d.Position), blob, d.Account, d.ConfigurationID, d.EventID, string(d.Status))
	}
	if err := scriptError(v.scripts.apply.Run(ctx, v.client, v.keys.writeKeys(), args...).Err()); err != nil {
		return fmt.Errorf("apply deliveries up to %d: %w", checkpoint, err)
	}
	return nil
}

// Checkpoint implements projections.DeliveryView.
func (v *Deliveries) Checkpoint(ctx context.Context) (uint64, error) {
	return readCheckpoint(ctx, v.client, v.keys.checkpoint)
}

// Deliveries implements projections.DeliveryView. One script usually answers a page; a walk
// that examines more than QueryBudget members continues in further calls, below the last
// member examined. Deliveries are only ever added above the newest (the log's order), so
// the calls of one page, and the pages of one walk, see the same deliveries below the
// cursor however many are applied meanwhile.
func (v *Deliveries) Deliveries(ctx context.Context, f projections.DeliveryFilter, after uint64, limit int) (projections.DeliveryPage, error) {
	if limit < 1 {
		return projections.DeliveryPage{}, fmt.Errorf("deliveries: limit %d is below 1", limit)
	}
	keys, filter := v.query(f)
	upper := "+"
	if after != 0 {
		upper = "(" + deliveryMember(after)
	}
	need := limit + 1 // one more tells whether there is a next page
	var out []domain.Delivery
	for {
		args := append([]any{upper, need - len(out), v.opts.QueryBudget}, filter...)
		vals, err := v.scripts.query.Run(ctx, v.client, keys, args...).Slice()
		if err != nil {
			return projections.DeliveryPage{}, fmt.Errorf("deliveries: %w", err)
		}
		done, resume, err := progress(vals)
		if err != nil {
			return projections.DeliveryPage{}, fmt.Errorf("deliveries: %w", err)
		}
		for _, x := range vals[2:] {
			s, ok := x.(string)
			if !ok {
				return projections.DeliveryPage{}, fmt.Errorf("deliveries: script answered %T", x)
			}
			d, err := decodeDelivery([]byte(s))
			if err != nil {
				return projections.DeliveryPage{}, fmt.Errorf("deliveries: %w", err)
			}
			out = append(out, d)
		}
		if done || len(out) >= need {
			break
		}
		upper = "(" + resume
	}
	if len(out) > limit {
		return projections.DeliveryPage{Deliveries: out[:limit], Next: out[limit-1].Position}, nil
	}
	return projections.DeliveryPage{Deliveries: out}, nil
}

// CountDeliveries implements projections.DeliveryView. A filter of one index (an account, a
// configuration, an event or a status, or none) without a time window is the index's size;
// others walk the smallest index they name, as Deliveries does, reading deliveries only to
// check a time window.
func (v *Deliveries) CountDeliveries(ctx context.Context, f projections.DeliveryFilter) (int, error) {
	keys, filter := v.query(f)
	filter[0] = "" // the status: its index, among the keys, holds it
	upper, total := "+", 0
	for {
		args := append([]any{upper, 0, v.opts.QueryBudget}, filter...)
		vals, err := v.scripts.query.Run(ctx, v.client, keys, args...).Slice()
		if err != nil {
			return 0, fmt.Errorf("count deliveries: %w", err)
		}
		done, resume, n, err := counted(vals)
		if err != nil {
			return 0, fmt.Errorf("count deliveries: %w", err)
		}
		total += n
		if done {
			return total, nil
		}
		upper = "(" + resume
	}
}

// query translates a filter for the query script: the keys (the deliveries, then the
// indexes of the filter's account, configuration and event, or the index of all) and the
// arguments that check the rest (status, time window).
func (v *Deliveries) query(f projections.DeliveryFilter) (keys []string, args []any) {
	keys = []string{v.keys.deliveries}
	if f.Account != "" {
		keys = append(keys, v.keys.account(f.Account))
	}
	if f.ConfigurationID != "" {
		keys = append(keys, v.keys.configuration(f.ConfigurationID))
	}
	if f.EventID != "" {
		keys = append(keys, v.keys.event(f.EventID))
	}
	if f.Status != "" {
		keys = append(keys, v.keys.status(f.Status))
	}
	if len(keys) == 1 {
		keys = append(keys, v.keys.all)
	}
	status := ""
	if f.Status != "" {
		// As the stored deliveries hold it, for the script to find there.
		data, _ := json.Marshal(string(f.Status)) // a string always encodes
		status = string(data)
	}
	sinceS, sinceNs := timeArgs(f.Since)
	beforeS, beforeNs := timeArgs(f.Before)
	return keys, []any{status, sinceS, sinceNs, beforeS, beforeNs}
}

// timeArgs passes a bound of a time window to the query script: unix seconds and
// nanoseconds, or nothing for the zero time.
func timeArgs(t time.Time) (string, string) {
	if t.IsZero() {
		return "", ""
	}
	return strconv.FormatInt(t.Unix(), 10), strconv.Itoa(t.Nanosecond())
}

// Reset implements projections.DeliveryView: it unlinks every key of the view except the
// fence, which must outlive a rebuild so that a former lease holder stays fenced out. The
// checkpoint and the deliveries go first, in one script, so that a Reset that fails midway
// leaves an empty view to rebuild (the query script skips index members without their
// delivery) rather than a checkpoint over missing data.
func (v *Deliveries) Reset(ctx context.Context) error {
	if err := v.unlink(ctx, []string{v.keys.checkpoint, v.keys.deliveries, v.keys.all}); err != nil {
		return err
	}
	var indexes []string
	err := scanKeys(ctx, v.client, v.keys.pattern(), func(batch []string) {
		for _, k := range batch {
			if k != v.keys.fence {
				indexes = append(indexes, k)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("reset deliveries: list keys: %w", err)
	}
	for start := 0; start < len(indexes); start += resetBatch {
		if err := v.unlink(ctx, indexes[start:min(len(indexes), start+resetBatch)]); err != nil {
			return err
		}
	}
	return nil
}

// unlink unlinks keys of the view, unless a newer fence holds it.
func (v *Deliveries) unlink(ctx context.Context, keys []string) error {
	if err := scriptError(v.scripts.reset.Run(ctx, v.client, append([]string{v.keys.fence}, keys...), v.fence).Err()); err != nil {
		return fmt.Errorf("reset deliveries: %w", err)
	}
	return nil
}

// scanKeys lists the keys that match pattern with SCAN, on every master of a cluster; as
// EventLog.scanKeys, for any view.
func scanKeys(ctx context.Context, client goredis.UniversalClient, pattern string, found func([]string)) error {
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, 1000).Result()
			if err != nil {
				return err
			}
			found(keys)
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	if cluster, ok := client.(*goredis.ClusterClient); ok {
		// The hash tag puts every key of a view in one slot, so one master answers; found is
		// not called concurrently by more than that one.
		return cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return scan(ctx, c) })
	}
	return scan(ctx, client)
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// DispatchCheckpoint keeps the notification dispatcher's checkpoint in Redis, shared by every
// instance; the instance holding the dispatcher's lease writes it, and a write carrying an
// older fencing token than the last claimed one is refused.
type DispatchCheckpoint struct {
	client goredis.UniversalClient
	key    string // {dispatcher}:checkpoint
	fence  string // {dispatcher}:fence
	token  atomic.Uint64
}

// NewDispatchCheckpoint builds the checkpoint store under opts.Prefix.
func NewDispatchCheckpoint(client goredis.UniversalClient, opts Options) (*DispatchCheckpoint, error) {
	if client == nil {
		return nil, fmt.Errorf("new dispatch checkpoint: nil client")
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	base := opts.Prefix + "{dispatcher}:"
	return &DispatchCheckpoint{client: client, key: base + "checkpoint", fence: base + "fence"}, nil
}

// Load returns the checkpoint, 0 when none was saved.
func (c *DispatchCheckpoint) Load(ctx context.Context) (uint64, error) {
	v, err := c.client.Get(ctx, c.key).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the dispatcher's checkpoint: %w", err)
	}
	p, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the dispatcher's checkpoint %s holds %q, not a position", c.key, v)
	}
	return p, nil
}

var saveDispatchCheckpoint = goredis.NewScript(`
local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) < fence then return redis.error_reply('FENCED a newer instance holds the dispatcher') end
redis.call('SET', KEYS[1], ARGV[1])
return 1`)

var claimDispatchFence = goredis.NewScript(`
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < fence then return redis.error_reply('FENCED a newer instance holds the dispatcher') end
redis.call('SET', KEYS[1], ARGV[1])
return 1`)

// Save writes the checkpoint under the claimed fencing token.
func (c *DispatchCheckpoint) Save(ctx context.Context, position uint64) error {
	err := saveDispatchCheckpoint.Run(ctx, c.client, []string{c.key, c.fence}, position, c.token.Load()).Err()
	if err != nil {
		return fmt.Errorf("save the dispatcher's checkpoint: %w", err)
	}
	return nil
}

// Claim takes the fencing token of a newly acquired lease (projections.FenceClaimer).
func (c *DispatchCheckpoint) Claim(ctx context.Context, fence uint64) error {
	if err := claimDispatchFence.Run(ctx, c.client, []string{c.fence}, fence).Err(); err != nil {
		return fmt.Errorf("claim the dispatcher's fence: %w", err)
	}
	c.token.Store(fence)
	return nil
}

// Package retryqueue keeps notifications to retry in Redis until their time, then adds them
// back to their Redis Stream, so that a notification waiting for its next attempt holds
// nothing: with Redis Streams each subscription hands out one message at a time, and a
// retry slept through in the handler would hold every other notification of its stream
// (its kind and shard) for up to --notify-max-retry-time.
//
// A retry is a hash with the stream message's fields (as watermill-redisstream's default
// marshaller writes them) and an entry in a sorted set scored by its due time. Every
// instance polls the set; one Lua script moves each due retry to its stream and removes it,
// atomically, so a retry is neither lost when an instance dies nor added twice.
package retryqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	goredis "github.com/redis/go-redis/v9"
)

// Queue is the retry queue of one herald deployment (its Redis key prefix).
type Queue struct {
	client goredis.UniversalClient
	prefix string // of herald's keys and streams
	logger *slog.Logger
	// Poll is how often due retries are looked for; Batch how many are moved at once.
	Poll  time.Duration
	Batch int
}

// New returns the queue under prefix; topics are published to the streams prefix+topic.
func New(client goredis.UniversalClient, prefix string, logger *slog.Logger) (*Queue, error) {
	if client == nil || logger == nil {
		return nil, errors.New("retry queue: nil dependency")
	}
	return &Queue{client: client, prefix: prefix, logger: logger.With("component", "retryqueue"), Poll: 200 * time.Millisecond, Batch: 100}, nil
}

func (q *Queue) dueKey() string           { return q.prefix + "notifications:retries" }
func (q *Queue) itemPrefix() string       { return q.prefix + "notifications:retry:" }
func (q *Queue) itemKey(id string) string { return q.itemPrefix() + id }

// Schedule keeps msg until at, then adds it to topic's stream. A retry is identified by the
// message and its attempt (the metadata key attemptKey), so scheduling it again (after a
// timeout that hid a success, or a redelivery) keeps one copy.
func (q *Queue) Schedule(ctx context.Context, topic string, msg *message.Message, at time.Time) error {
	fields, err := redisstream.DefaultMarshallerUnmarshaller{}.Marshal(topic, msg)
	if err != nil {
		return fmt.Errorf("schedule a retry of %s: %w", msg.UUID, err)
	}
	id := msg.UUID + ":" + msg.Metadata.Get(attemptKey)
	err = schedule.Run(ctx, q.client, []string{q.dueKey(), q.itemKey(id)}, id, at.UnixMilli(),
		q.prefix+topic, fields[redisstream.UUIDHeaderKey], fields["metadata"], fields["payload"]).Err()
	if err != nil {
		return fmt.Errorf("schedule a retry of %s: %w", msg.UUID, err)
	}
	return nil
}

// attemptKey is the metadata key that counts a notification's sends (notify's).
const attemptKey = "herald_attempt"

// schedule files one retry unless it is filed already.
var schedule = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'stream', ARGV[3], 'uuid', ARGV[4], 'metadata', ARGV[5], 'payload', ARGV[6])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`)

// moveDue adds due retries to their streams and forgets them, atomically.
var moveDue = goredis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  local key = ARGV[3] .. id
  local v = redis.call('HMGET', key, 'stream', 'uuid', 'metadata', 'payload')
  if v[1] then
    local fields = {'_watermill_message_uuid', v[2], 'payload', v[4] or ''}
    if v[3] and v[3] ~= '' then
      table.insert(fields, 'metadata')
      table.insert(fields, v[3])
    end
    redis.call('XADD', v[1], '*', unpack(fields))
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], id)
end
return #due
`)

// MoveDue adds the retries due by now to their streams; it returns how many it moved.
func (q *Queue) MoveDue(ctx context.Context, now time.Time) (int, error) {
	n, err := moveDue.Run(ctx, q.client, []string{q.dueKey()}, now.UnixMilli(), q.Batch, q.itemPrefix()).Int()
	if err != nil {
		return 0, fmt.Errorf("move due retries: %w", err)
	}
	return n, nil
}

// Waiting counts the retries not yet due.
func (q *Queue) Waiting(ctx context.Context) (int64, error) {
	return q.client.ZCard(ctx, q.dueKey()).Result()
}

// Run moves due retries to their streams until ctx is done.
func (q *Queue) Run(ctx context.Context) {
	for {
		n, err := q.MoveDue(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			q.logger.Error("retries could not be moved to their streams; trying again", "error", err)
		}
		if n == q.Batch {
			continue // more are due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(q.Poll):
		}
	}
}

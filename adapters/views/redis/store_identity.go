package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// StoreIdentity records which event store the views under a prefix were built from. Views
// follow one log: two instances with embedded stores of their own on one Redis would each
// apply their own log to the same views, and the writes of the one not holding a view's lease
// would never show.
//
// Key: <prefix>store holds the identity of the store the views follow.
type StoreIdentity struct {
	client goredis.UniversalClient
	key    string
	prefix string
}

// ErrOtherStore means the views under the prefix were built from another event store.
var ErrOtherStore = errors.New("the views in Redis were built from another event store")

// NewStoreIdentity returns the record of the views under opts.Prefix.
func NewStoreIdentity(client goredis.UniversalClient, opts Options) (*StoreIdentity, error) {
	if client == nil {
		return nil, fmt.Errorf("new store identity: nil client")
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &StoreIdentity{client: client, key: opts.Prefix + "store", prefix: opts.Prefix}, nil
}

// Prefix starts the keys of the views whose store this records.
func (s *StoreIdentity) Prefix() string { return s.prefix }

// claimStore sets the identity unless one is there, and returns the one that is (SET NX GET
// needs Redis 7).
var claimStore = goredis.NewScript(`
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`)

// Claim records identity as the views' store when none is recorded (new views, or Redis lost
// its data), and fails with ErrOtherStore when another one is.
func (s *StoreIdentity) Claim(ctx context.Context, identity string) error {
	held, err := claimStore.Run(ctx, s.client, []string{s.key}, identity).Text()
	switch {
	case err != nil:
		return fmt.Errorf("read which event store the views in Redis follow (%s): %w", s.key, err)
	case held != identity:
		return fmt.Errorf("%w: %s holds %s; this instance's store is %s", ErrOtherStore, s.key, held, identity)
	}
	return nil
}

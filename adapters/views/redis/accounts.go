package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"herald/domain"
	"herald/projections"
)

var _ projections.AccountView = (*Accounts)(nil)

//go:embed lua/accounts_apply.lua
var luaAccountsApply string

// accountKeys names the keys of the accounts view, all under the hash tag {accounts} (see
// configurationKeys).
//
//	<base>cp       string   checkpoint (decimal)
//	<base>fence    string   newest lease fence that wrote (kept by Reset)
//	<base>acct     hash     account name -> stored account (account_codec.go)
//	<base>users    hash     user name -> account, while the user is active there
//	<base>tokens   hash     token id -> stored owner: JSON [account, user]
type accountKeys struct {
	checkpoint, fence, accounts, users, tokens string
}

func newAccountKeys(prefix string) accountKeys {
	base := prefix + "{accounts}:"
	return accountKeys{checkpoint: base + "cp", fence: base + "fence", accounts: base + "acct", users: base + "users", tokens: base + "tokens"}
}

type accountScripts struct {
	apply, reset, claim *goredis.Script
}

// Accounts is the accounts view (accounts, users, tokens; credentials hashed) in Redis,
// shared by several herald instances: one applies the log, holding a Lease, and every one
// reads, authentication on every request. Each account is one JSON value in a hash; the
// lookups by user name and token id are hashes kept by the same script that stores the
// accounts and the checkpoint, atomically. Every account read is decoded afresh, so callers
// own what they get.
//
// It is safe for concurrent use by readers and one writer.
type Accounts struct {
	client  goredis.UniversalClient
	keys    accountKeys
	scripts accountScripts
	fence   uint64 // written with every write; 0 when no lease guards the view
}

// NewAccounts returns the view stored under opts.Prefix in the Redis that client reaches.
// Of the options, only Prefix applies to it.
func NewAccounts(client goredis.UniversalClient, opts Options) (*Accounts, error) {
	if client == nil {
		return nil, fmt.Errorf("new redis accounts: nil client")
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new redis accounts: %w", err)
	}
	return &Accounts{
		client: client, keys: newAccountKeys(opts.Prefix),
		scripts: accountScripts{apply: fencedScript(luaAccountsApply), reset: fencedScript(luaReset), claim: fencedScript(luaClaim)},
	}, nil
}

// Fenced returns the same view for a writer holding a lease with fence, as EventLog.Fenced:
// its writes are refused with ErrFenced once a writer with a newer fence has written.
func (v *Accounts) Fenced(fence uint64) *Accounts {
	w := *v
	w.fence = fence
	return &w
}

// ClaimFence stores the view's fence as the newest without writing anything else, as
// EventLog.ClaimFence.
func (v *Accounts) ClaimFence(ctx context.Context) error {
	return claimFence(ctx, v.client, v.scripts.claim, v.keys.fence, v.fence)
}

// Apply implements projections.AccountView. Each account is stored whole; each of its
// active users points the user lookup at it, each removed one drops the lookup if it still
// points at it (the name may have moved to another account since), each token points the
// token lookup at its user.
func (v *Accounts) Apply(ctx context.Context, accounts []domain.Account, checkpoint uint64) error {
	args := []any{v.fence, strconv.FormatUint(checkpoint, 10)}
	for i := range accounts {
		a := &accounts[i]
		blob, err := encodeAccount(a)
		if err != nil {
			return fmt.Errorf("apply accounts up to %d: %w", checkpoint, err)
		}
		args = append(args, "A", a.Name, blob)
		for _, name := range slices.Sorted(maps.Keys(a.Users)) {
			u := a.Users[name]
			if u == nil {
				continue
			}
			op := "U"
			if u.Removed {
				op = "R"
			}
			args = append(args, op, name, a.Name)
			for id := range u.Tokens {
				args = append(args, "T", id, encodeOwner(a.Name, name))
			}
		}
	}
	keys := []string{v.keys.checkpoint, v.keys.fence, v.keys.accounts, v.keys.users, v.keys.tokens}
	if err := scriptError(v.scripts.apply.Run(ctx, v.client, keys, args...).Err()); err != nil {
		return fmt.Errorf("apply accounts up to %d: %w", checkpoint, err)
	}
	return nil
}

// Checkpoint implements projections.AccountView.
func (v *Accounts) Checkpoint(ctx context.Context) (uint64, error) {
	return readCheckpoint(ctx, v.client, v.keys.checkpoint)
}

// Account implements projections.AccountView.
func (v *Accounts) Account(ctx context.Context, name string) (domain.Account, bool, error) {
	s, err := v.client.HGet(ctx, v.keys.accounts, name).Result()
	if errors.Is(err, goredis.Nil) {
		return domain.Account{}, false, nil
	}
	if err != nil {
		return domain.Account{}, false, fmt.Errorf("read account %s: %w", name, err)
	}
	a, err := decodeAccount([]byte(s))
	if err != nil {
		return domain.Account{}, false, fmt.Errorf("read account %s: %w", name, err)
	}
	return a, true, nil
}

// Accounts implements projections.AccountView.
func (v *Accounts) Accounts(ctx context.Context) ([]domain.Account, error) {
	stored, err := v.client.HVals(ctx, v.keys.accounts).Result()
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]domain.Account, 0, len(stored))
	for _, s := range stored {
		a, err := decodeAccount([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		if !a.Deleted {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b domain.Account) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// UserAccount implements projections.AccountView.
func (v *Accounts) UserAccount(ctx context.Context, user string) (string, bool, error) {
	account, err := v.client.HGet(ctx, v.keys.users, user).Result()
	if errors.Is(err, goredis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read account of user %s: %w", user, err)
	}
	return account, true, nil
}

// TokenOwner implements projections.AccountView.
func (v *Accounts) TokenOwner(ctx context.Context, tokenID string) (string, string, bool, error) {
	s, err := v.client.HGet(ctx, v.keys.tokens, tokenID).Result()
	if errors.Is(err, goredis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("read owner of token %s: %w", tokenID, err)
	}
	account, user, err := decodeOwner([]byte(s))
	if err != nil {
		return "", "", false, fmt.Errorf("read owner of token %s: %w", tokenID, err)
	}
	return account, user, true, nil
}

// Reset implements projections.AccountView: one script drops every key of the view but the
// fence, which must outlive a rebuild so that a former lease holder stays fenced out.
func (v *Accounts) Reset(ctx context.Context) error {
	keys := []string{v.keys.fence, v.keys.checkpoint, v.keys.accounts, v.keys.users, v.keys.tokens}
	if err := scriptError(v.scripts.reset.Run(ctx, v.client, keys, v.fence).Err()); err != nil {
		return fmt.Errorf("reset accounts: %w", err)
	}
	return nil
}

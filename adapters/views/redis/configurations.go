package redis

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"herald/domain"
	"herald/projections"
)

var _ projections.ConfigurationView = (*Configurations)(nil)

// The Lua sources of the configurations view, each run with fence.lua in front of it.
var (
	//go:embed lua/configurations_apply.lua
	luaConfigurationsApply string
	//go:embed lua/configurations_list.lua
	luaConfigurationsList string
	//go:embed lua/configurations_reset.lua
	luaConfigurationsReset string
)

// configurationKeys names the keys of the configurations view. Every key starts with base:
// the configured prefix and the hash tag {configurations}, so that on a Redis Cluster the
// view lives in one slot and its scripts may touch any of its keys.
//
//	<base>cp              string   checkpoint (decimal)
//	<base>fence           string   newest lease fence that wrote (kept by Reset)
//	<base>c               hash     id -> stored configuration (configuration_codec.go)
//	<base>owner           hash     id -> account, to move an id between account sets
//	<base>a:<account>     set      ids of the account's configurations
//	<base>disabled        set      endpoint kinds disabled system-wide
type configurationKeys struct {
	base, checkpoint, fence, configurations, owners, disabled string
}

func newConfigurationKeys(prefix string) configurationKeys {
	base := prefix + "{configurations}:"
	return configurationKeys{
		base: base, checkpoint: base + "cp", fence: base + "fence",
		configurations: base + "c", owners: base + "owner", disabled: base + "disabled",
	}
}

func (k configurationKeys) account(name string) string { return k.base + "a:" + name }

type configurationScripts struct {
	apply, list, reset, claim *goredis.Script
}

// Configurations is the configurations view (endpoint configurations and endpoint status)
// in Redis, shared by several herald instances: one applies the log, holding a Lease, and
// every one reads. The data is small and read often, so each configuration is one JSON
// value in a hash, with a set of ids per account; a batch and its checkpoint are applied in
// one Lua script, atomically.
//
// It is safe for concurrent use by readers and one writer.
type Configurations struct {
	client  goredis.UniversalClient
	keys    configurationKeys
	scripts configurationScripts
	decoded *decodedConfigurations
	fence   uint64 // written with every write; 0 when no lease guards the view
}

// NewConfigurations returns the view stored under opts.Prefix in the Redis that client
// reaches. Of the options, only Prefix applies to it.
func NewConfigurations(client goredis.UniversalClient, opts Options) (*Configurations, error) {
	if client == nil {
		return nil, fmt.Errorf("new redis configurations: nil client")
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new redis configurations: %w", err)
	}
	return &Configurations{
		client: client, keys: newConfigurationKeys(opts.Prefix), decoded: newDecodedConfigurations(),
		scripts: configurationScripts{
			apply: fencedScript(luaConfigurationsApply), list: goredis.NewScript(luaConfigurationsList),
			reset: fencedScript(luaConfigurationsReset), claim: fencedScript(luaClaim),
		},
	}, nil
}

// Fenced returns the same view for a writer holding a lease with fence, as EventLog.Fenced:
// its writes are refused with ErrFenced once a writer with a newer fence has written.
func (v *Configurations) Fenced(fence uint64) *Configurations {
	w := *v
	w.fence = fence
	return &w
}

// ClaimFence stores the view's fence as the newest without writing anything else, as
// EventLog.ClaimFence.
func (v *Configurations) ClaimFence(ctx context.Context) error {
	return claimFence(ctx, v.client, v.scripts.claim, v.keys.fence, v.fence)
}

// Apply implements projections.ConfigurationView: the changes and the checkpoint are
// written by one script, so a reader sees all of a batch or none of it.
func (v *Configurations) Apply(ctx context.Context, changes []projections.ConfigurationChange, checkpoint uint64) error {
	args := make([]any, 0, 3+4*len(changes))
	args = append(args, v.keys.base, v.fence, strconv.FormatUint(checkpoint, 10))
	for _, c := range changes {
		switch {
		case c.Upsert != nil:
			blob, err := encodeConfiguration(c.Upsert)
			if err != nil {
				return fmt.Errorf("apply configurations up to %d: %w", checkpoint, err)
			}
			args = append(args, "U", c.Upsert.ID, c.Upsert.Account, blob)
		case c.Delete != "":
			args = append(args, "D", c.Delete, "", "")
		case c.Status != nil && c.Status.Enabled:
			args = append(args, "E", string(c.Status.Kind), "", "")
		case c.Status != nil:
			args = append(args, "X", string(c.Status.Kind), "", "")
		}
	}
	keys := []string{v.keys.checkpoint, v.keys.fence, v.keys.configurations, v.keys.owners, v.keys.disabled}
	if err := scriptError(v.scripts.apply.Run(ctx, v.client, keys, args...).Err()); err != nil {
		return fmt.Errorf("apply configurations up to %d: %w", checkpoint, err)
	}
	return nil
}

// Checkpoint implements projections.ConfigurationView.
func (v *Configurations) Checkpoint(ctx context.Context) (uint64, error) {
	return readCheckpoint(ctx, v.client, v.keys.checkpoint)
}

// Configuration implements projections.ConfigurationView.
func (v *Configurations) Configuration(ctx context.Context, id string) (domain.Configuration, bool, error) {
	s, err := v.client.HGet(ctx, v.keys.configurations, id).Result()
	if errors.Is(err, goredis.Nil) {
		return domain.Configuration{}, false, nil
	}
	if err != nil {
		return domain.Configuration{}, false, fmt.Errorf("read configuration %s: %w", id, err)
	}
	c, err := v.decoded.decode(id, s)
	if err != nil {
		return domain.Configuration{}, false, fmt.Errorf("read configuration %s: %w", id, err)
	}
	return c, true, nil
}

// Configurations implements projections.ConfigurationView. An account's configurations are
// read through its set of ids, in one script; the kind is filtered after decoding, as an
// account holds few configurations. Configurations whose stored value has not changed since
// the last read are not decoded again (decodedConfigurations).
func (v *Configurations) Configurations(ctx context.Context, account string, kind domain.EndpointKind) ([]domain.Configuration, error) {
	stored, err := v.stored(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("list configurations of %q: %w", account, err)
	}
	out := make([]domain.Configuration, 0, len(stored))
	for id, s := range stored {
		c, err := v.decoded.decode(id, s)
		if err != nil {
			return nil, fmt.Errorf("list configurations of %q: %w", account, err)
		}
		if kind == "" || c.Kind == kind {
			out = append(out, c)
		}
	}
	if account == "" {
		v.decoded.keepOnly(stored)
	}
	slices.SortFunc(out, compareConfigurations)
	return out, nil
}

// stored reads the stored configurations of an account ("" for every account) by id.
func (v *Configurations) stored(ctx context.Context, account string) (map[string]string, error) {
	if account == "" {
		return v.client.HGetAll(ctx, v.keys.configurations).Result()
	}
	pairs, err := v.scripts.list.Run(ctx, v.client, []string{v.keys.configurations, v.keys.account(account)}).StringSlice()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out[pairs[i]] = pairs[i+1]
	}
	return out, nil
}

// compareConfigurations orders configurations by name, then id.
func compareConfigurations(a, b domain.Configuration) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// DisabledEndpoints implements projections.ConfigurationView.
func (v *Configurations) DisabledEndpoints(ctx context.Context) (map[domain.EndpointKind]bool, error) {
	kinds, err := v.client.SMembers(ctx, v.keys.disabled).Result()
	if err != nil {
		return nil, fmt.Errorf("read endpoint status: %w", err)
	}
	out := make(map[domain.EndpointKind]bool, len(kinds))
	for _, k := range kinds {
		out[domain.EndpointKind(k)] = true
	}
	return out, nil
}

// Reset implements projections.ConfigurationView: one script drops every key of the view
// but the fence, which must outlive a rebuild so that a former lease holder stays fenced out.
func (v *Configurations) Reset(ctx context.Context) error {
	keys := []string{v.keys.fence, v.keys.checkpoint, v.keys.configurations, v.keys.owners, v.keys.disabled}
	if err := scriptError(v.scripts.reset.Run(ctx, v.client, keys, v.fence, v.keys.base).Err()); err != nil {
		return fmt.Errorf("reset configurations: %w", err)
	}
	return nil
}

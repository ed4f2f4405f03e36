package redis

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua sources of the event-log view, each run with fence.lua and common.lua in front of
// it.
var (
	//go:embed lua/fence.lua
	luaFence string
	//go:embed lua/common.lua
	luaCommon string
	//go:embed lua/apply.lua
	luaApply string
	//go:embed lua/clear.lua
	luaClear string
	//go:embed lua/query.lua
	luaQuery string
	//go:embed lua/entry.lua
	luaEntry string
	//go:embed lua/reset.lua
	luaReset string
	//go:embed lua/claim.lua
	luaClaim string
)

// scripts are the view's Lua scripts. They run with EVALSHA; go-redis falls back to EVAL
// (which caches the script again) on NOSCRIPT, as after a server restart, and pipelines
// load them and retry (runPipeline).
type scripts struct {
	apply, clear, query, entry, reset, claim *goredis.Script
}

func newScripts() scripts {
	with := func(src string) *goredis.Script { return goredis.NewScript(luaFence + "\n" + luaCommon + "\n" + src) }
	return scripts{
		apply: with(luaApply), clear: with(luaClear), query: with(luaQuery),
		entry: with(luaEntry), reset: with(luaReset), claim: with(luaClaim),
	}
}

// ErrFenced means a write was refused because a newer lease holder has written to the view:
// this instance lost its lease and must stop applying.
var ErrFenced = errors.New("fenced: a newer lease holder writes the view")

// errChainBroken means a script of an Apply found that an earlier one of the same Apply did
// not complete; the Apply failed and is retried from the checkpoint.
var errChainBroken = errors.New("an earlier script of the batch did not complete")

// scriptError translates the errors the scripts raise into the package's sentinels.
func scriptError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "HERALD_FENCED"):
		return fmt.Errorf("%w (%s)", ErrFenced, strings.TrimPrefix(msg, "HERALD_FENCED "))
	case strings.HasPrefix(msg, "HERALD_CHAIN"):
		return errChainBroken
	}
	return err
}

// scriptCall is one script to run in a pipeline.
type scriptCall struct {
	script *goredis.Script
	keys   []string
	args   []any
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT"))
}

package redis

import "strings"

// layout names the keys of one view. Every key starts with base: the configured prefix and
// the hash tag {eventlog}, so that on a Redis Cluster every key of the view lives in one
// slot and the Lua scripts may touch them together.
//
//	<base>cp              string   checkpoint (decimal)
//	<base>fence           string   newest lease fence that wrote (kept by Reset)
//	<base>chain           string   progress of the Apply under way ("<token>:<step>")
//	<base>e               hash     position (8 bytes, big-endian) -> stored entry (encoding.go)
//	<base>id              hash     event id -> position
//	<base>types           set      every type ever recorded
//	<base>i:all           zset     every entry
//	<base>i:a:<account>   zset     entries of an account
//	<base>i:l:<level>     zset     ... of a level (1 info, 2 error)
//	<base>i:t:<type>      zset     ... of an exact type (prefix patterns merge these)
//	<base>i:s:<service>   zset     ... of a source service
//	<base>i:h:<host>      zset     ... of a source host
//	<base>i:rt:<type>     zset     ... of a resource type
//	<base>i:r:<id>        zset     ... of a resource id
//
// Index members are sort keys (encoding.go), scores are all zero. An index that empties is
// removed by Redis; an empty value is not indexed.
type layout struct {
	base                                               string
	checkpoint, fence, chain, entries, ids, types, all string
}

func newLayout(prefix string) layout {
	base := prefix + "{eventlog}:"
	return layout{
		base: base, checkpoint: base + "cp", fence: base + "fence", chain: base + "chain",
		entries: base + "e", ids: base + "id", types: base + "types", all: base + "i:all",
	}
}

// writeKeys are the keys the writing scripts declare.
func (l layout) writeKeys() []string {
	return []string{l.checkpoint, l.fence, l.chain, l.entries, l.ids, l.types}
}

// pattern matches every key of the view, for SCAN: the base with glob characters escaped.
func (l layout) pattern() string {
	var b strings.Builder
	for _, r := range l.base {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

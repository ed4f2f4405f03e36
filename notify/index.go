package notify

import (
	"herald/domain"
)

// index finds the configurations whose selectors match an event without looking at the ones
// that cannot: selectors are filed by account (global ones apart), then by exact type or by
// the literal prefix of their glob; only regex selectors are tried for every event of their
// account. Level and resource type are checked on the few candidates.
// An index is used by one goroutine at a time (match marks what it has seen).
type index struct {
	accounts map[string]*bucket // by the configuration's account; "" holds global selectors
	size     int
	seen     []uint64 // by configuration ordinal: the match call that last added it
	call     uint64
}

type bucket struct {
	exact     map[string][]entry
	prefix    map[string][]entry
	maxPrefix int
	other     []entry
}

type entry struct {
	config   *domain.Configuration
	ordinal  int
	selector *domain.Selector
}

// newIndex files every selector of configs.
func newIndex(configs []*domain.Configuration) *index {
	ix := &index{accounts: map[string]*bucket{}, size: len(configs), seen: make([]uint64, len(configs))}
	for ordinal, c := range configs {
		for i := range c.Selectors {
			s := &c.Selectors[i]
			owner := c.Account
			if s.Scope == domain.ScopeGlobal {
				owner = ""
			}
			b := ix.accounts[owner]
			if b == nil {
				b = &bucket{exact: map[string][]entry{}, prefix: map[string][]entry{}}
				ix.accounts[owner] = b
			}
			e := entry{config: c, ordinal: ordinal, selector: s}
			switch key, prefix, indexed := s.TypeKey(); {
			case !indexed:
				b.other = append(b.other, e)
			case prefix:
				b.prefix[key] = append(b.prefix[key], e)
				b.maxPrefix = max(b.maxPrefix, len(key))
			default:
				b.exact[key] = append(b.exact[key], e)
			}
		}
	}
	return ix
}

// match appends to out every configuration with a selector matching e, once each.
func (ix *index) match(e domain.LogEvent, out []*domain.Configuration) []*domain.Configuration {
	ix.call++
	add := func(entries []entry) {
		for _, en := range entries {
			if ix.seen[en.ordinal] == ix.call || !en.selector.Matches(e, en.config.Account) {
				continue
			}
			ix.seen[en.ordinal] = ix.call
			out = append(out, en.config)
		}
	}
	for _, owner := range [2]string{e.Resource.UserID, ""} {
		b := ix.accounts[owner]
		if b == nil {
			continue
		}
		add(b.exact[e.Type])
		for n := 0; n <= min(len(e.Type), b.maxPrefix); n++ {
			if entries, ok := b.prefix[e.Type[:n]]; ok {
				add(entries)
			}
		}
		add(b.other)
		if owner == "" {
			break
		}
	}
	return out
}

package domain

// stringArena gives the strings of one event a single allocation instead of one each. On the
// rebuild path the allocations, not the parsing, were the larger cost: a dozen small strings
// per event kept the garbage collector busy. The strings share one backing array, which
// lives as long as any of them; they all belong to one event, so little is kept needlessly.
//
// Each string has a numbered slot. Setting a slot again replaces its string, so a repeated
// key wins over an earlier one; an unset slot holds "".
//
// The bytes gather in an array inside the arena, which lives on the caller's stack; a slice
// of it kept in the arena would make the compiler move it to the heap.
type stringArena struct {
	n        int
	local    [512]byte
	overflow []byte // all bytes so far, once they outgrow local
	spans    [arenaSlots]struct{ start, end int }
}

// arenaSlots is the most strings one event has: the producer's id, timestamp, level, type
// and message, four resource and six source members.
const arenaSlots = 5 + 4 + 6

// set makes b, which is copied now, the string of slot.
func (a *stringArena) set(slot int, b []byte) {
	start := a.n
	switch {
	case a.overflow != nil:
		a.overflow = append(a.overflow, b...)
	case start+len(b) <= len(a.local):
		copy(a.local[start:], b)
	default:
		a.overflow = append(append(make([]byte, 0, 2*(start+len(b))), a.local[:start]...), b...)
	}
	a.n += len(b)
	a.spans[slot].start, a.spans[slot].end = start, a.n
}

// all returns the strings' one allocation, which get cuts up.
func (a *stringArena) all() string {
	if a.overflow != nil {
		return string(a.overflow)
	}
	return string(a.local[:a.n])
}

// get returns slot's string; all is what all returned.
func (a *stringArena) get(all string, slot int) string {
	return all[a.spans[slot].start:a.spans[slot].end]
}

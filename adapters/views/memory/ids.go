package memory

import "hash/maphash"

// idTable maps ids to slots. Each cell holds a 32-bit fingerprint of the id's hash beside
// slot+1 (0 is an empty cell); the fingerprint also picks the home cell, so growing the table
// never hashes an id again, and a probe compares ids only when fingerprints agree. Linear
// probing, deletion by backward shift.
type idTable struct {
	seed  maphash.Seed
	cells []uint64
	n     int
}

func newIDTable() idTable {
	return idTable{seed: maphash.MakeSeed(), cells: make([]uint64, 1024)}
}

func (t *idTable) fingerprint(id string) uint32 { return uint32(maphash.String(t.seed, id) >> 32) }

func (t *idTable) home(fp uint32) int { return int(uint64(fp) * uint64(len(t.cells)) >> 32) }

func cellFingerprint(c uint64) uint32 { return uint32(c >> 32) }
func cellSlot(c uint64) uint32        { return uint32(c) - 1 }

// reserve makes room for one more id, so that a cell found empty stays where it is.
func (t *idTable) reserve() {
	if (t.n+1)*4 <= len(t.cells)*3 {
		return
	}
	size := len(t.cells) * 2
	if len(t.cells) >= 1<<16 {
		size = len(t.cells) / 2 * 3
	}
	old := t.cells
	t.cells = make([]uint64, size)
	for _, c := range old {
		if c != 0 {
			i := t.home(cellFingerprint(c))
			for t.cells[i] != 0 {
				if i++; i == len(t.cells) {
					i = 0
				}
			}
			t.cells[i] = c
		}
	}
}

func (t *idTable) set(cell int, fp, slot uint32) {
	t.cells[cell] = uint64(fp)<<32 | uint64(slot+1)
	t.n++
}

// cellOf returns the cell that holds slot, whose id has fingerprint fp.
func (t *idTable) cellOf(fp, slot uint32) int {
	want := uint64(fp)<<32 | uint64(slot+1)
	i := t.home(fp)
	for t.cells[i] != want {
		if i++; i == len(t.cells) {
			i = 0
		}
	}
	return i
}

// clear empties cell i, moving later cells of its probe run back so that lookups still find them.
func (t *idTable) clear(i int) {
	t.n--
	size := len(t.cells)
	for j := i; ; {
		if j++; j == size {
			j = 0
		}
		c := t.cells[j]
		if c == 0 {
			t.cells[i] = 0
			return
		}
		h := t.home(cellFingerprint(c))
		// The cell at j may move to i unless its home lies cyclically in (i, j].
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			t.cells[i] = c
			i = j
		}
	}
}

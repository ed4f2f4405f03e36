package memory

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
)

// Event ids are as many as entries, so they are not Go strings (16 bytes of header each and
// one object for the garbage collector to track) but bytes in an arena, found through an
// open-addressing table of slots (idTable).

const (
	blockBits = 20 // an arena block holds 1 MiB; a reference is block<<blockBits | offset
	blockSize = 1 << blockBits
	maxBlocks = 1 << (32 - blockBits)
)

// errArenaFull means the ids of the entries held exceed what 32-bit references address (4 GiB).
var errArenaFull = errors.New("event id arena is full")

// arena stores ids one after another, each behind a header byte h:
//
//	h < 0x80   the id, h bytes long
//	h == 0x80  the id's length as a uvarint, then the id
//	h > 0x80   h&0x7f bytes that are the id in lower-case hex
//
// Ids in lower-case hex (most are: 32 hex digits, a UUID's 16 bytes) are stored packed, at
// half their length. Packing is canonical: an id is packed if and only if it is lower-case
// hex of even length, so an id and its stored form compare without ambiguity.
// Deleted ids leave holes, counted in dead, until compaction copies the live ones into a
// new arena.
type arena struct {
	blocks     [][]byte
	live, dead int // bytes
}

const hexDigits = "0123456789abcdef"

// packable tells whether id is lower-case hex of even length. It has no branches in its
// loop: whether a character is a digit or a letter is random, and mispredicted branches
// cost more than the arithmetic.
func packable(id string) bool {
	if len(id) < 2 || len(id)%2 != 0 || len(id)/2 > 0x7f {
		return false
	}
	bad := 0 // negative once a character is neither 0-9 nor a-f
	for i := range len(id) {
		c := int(id[i])
		bad |= ((c - '0') | ('9' - c)) & ((c - 'a') | ('f' - c))
	}
	return bad >= 0
}

// unhex returns the value of a lower-case hex digit: '0'-'9' are 0x30-0x39, 'a'-'f' 0x61-0x66.
func unhex(c byte) byte { return c&0xf + 9*(c>>6) }

// room returns the block with room for need more bytes, and the reference of its end.
func (a *arena) room(need int) (int, uint32, error) {
	last := len(a.blocks) - 1
	if last < 0 || cap(a.blocks[last])-len(a.blocks[last]) < need {
		if len(a.blocks) == maxBlocks {
			return 0, 0, errArenaFull
		}
		a.blocks = append(a.blocks, make([]byte, 0, max(blockSize, need)))
		last++
	}
	return last, uint32(last)<<blockBits | uint32(len(a.blocks[last])), nil
}

func (a *arena) add(id string) (uint32, error) {
	last, ref, err := a.room(1 + binary.MaxVarintLen64 + len(id))
	if err != nil {
		return 0, err
	}
	b := a.blocks[last]
	before := len(b)
	switch {
	case packable(id):
		b = b[:before+1+len(id)/2]
		body := b[before+1:]
		b[before] = 0x80 | byte(len(body))
		for i := range body {
			body[i] = unhex(id[2*i])<<4 | unhex(id[2*i+1])
		}
	case len(id) < 0x80:
		b = append(b, byte(len(id)))
		b = append(b, id...)
	default:
		b = append(b, 0x80)
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	a.blocks[last] = b
	a.live += len(b) - before
	return ref, nil
}

// addEncoded adds an id in its stored form, as encoded returns it.
func (a *arena) addEncoded(enc []byte) (uint32, error) {
	last, ref, err := a.room(len(enc))
	if err != nil {
		return 0, err
	}
	a.blocks[last] = append(a.blocks[last], enc...)
	a.live += len(enc)
	return ref, nil
}

// encoded returns the stored form of the id at ref: header and body.
func (a *arena) encoded(ref uint32) []byte {
	b := a.blocks[ref>>blockBits][ref&(blockSize-1):]
	switch h := b[0]; {
	case h < 0x80:
		return b[:1+int(h)]
	case h == 0x80:
		n, k := binary.Uvarint(b[1:])
		return b[:1+k+int(n)]
	default:
		return b[:1+int(h&0x7f)]
	}
}

// equal tells whether the id at ref is id.
func (a *arena) equal(ref uint32, id string) bool {
	enc := a.encoded(ref)
	switch h := enc[0]; {
	case h < 0x80:
		return string(enc[1:]) == id
	case h == 0x80:
		_, k := binary.Uvarint(enc[1:])
		return string(enc[1+k:]) == id
	}
	body := enc[1:]
	if len(id) != 2*len(body) {
		return false
	}
	for i, c := range body {
		if id[2*i] != hexDigits[c>>4] || id[2*i+1] != hexDigits[c&0xf] {
			return false
		}
	}
	return true
}

// appendText appends the id at ref to dst.
func (a *arena) appendText(dst []byte, ref uint32) []byte {
	enc := a.encoded(ref)
	switch h := enc[0]; {
	case h < 0x80:
		return append(dst, enc[1:]...)
	case h == 0x80:
		_, k := binary.Uvarint(enc[1:])
		return append(dst, enc[1+k:]...)
	}
	return hex.AppendEncode(dst, enc[1:])
}

// text returns the id at ref.
func (a *arena) text(ref uint32) string {
	enc := a.encoded(ref)
	if enc[0] <= 0x80 {
		return string(a.appendText(nil, ref))
	}
	var b strings.Builder
	b.Grow(2 * (len(enc) - 1))
	for _, c := range enc[1:] {
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

func (a *arena) release(ref uint32) {
	size := len(a.encoded(ref))
	a.live -= size
	a.dead += size
}

// wasteful tells whether compaction would free more than it keeps.
func (a *arena) wasteful() bool { return a.dead > a.live && a.dead > 4*blockSize }

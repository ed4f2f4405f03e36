package domain

import (
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// Strings are most of an event's bytes, so the reader's string scanning is where its time
// goes; it looks at eight bytes at a time for the few that need attention.

// plainStringByte marks the bytes a string may hold as they are: printable ASCII other than
// the quote and the backslash. Anything else needs a closer look.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// The SWAR ("SIMD within a register") scans below test eight bytes at once. A mask has the
// high bit set in each byte that matched; the borrow in the subtraction may also mark bytes
// after a true match, never before, so the lowest mark is always right.
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// load64 reads s[i:i+8] as a little-endian word; the compiler makes it one load.
func load64[T string | []byte](s T, i int) uint64 {
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// equalBytes marks the bytes of x equal to c.
func equalBytes(x uint64, c byte) uint64 {
	v := x ^ (swarOnes * uint64(c))
	return (v - swarOnes) &^ v
}

// controlBytes marks the bytes of x below 0x20.
func controlBytes(x uint64) uint64 { return (x - swarOnes*0x20) &^ x }

// plainRun returns the index of the first byte from data[i] on that plainStringByte does
// not accept: ", \, a control byte or one from 0x80 up.
func plainRun(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		x := load64(data, i)
		if m := (equalBytes(x, '"') | equalBytes(x, '\\') | controlBytes(x) | x) & swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(data) && plainStringByte[data[i]] {
		i++
	}
	return i
}

// skipRun is plainRun letting bytes from 0x80 up pass, for strings stepped over unread.
func skipRun(data []byte, i int) int {
	for ; i+8 <= len(data); i += 8 {
		x := load64(data, i)
		if m := (equalBytes(x, '"') | equalBytes(x, '\\') | controlBytes(x)) & swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(data) && (plainStringByte[data[i]] || data[i] >= utf8.RuneSelf) {
		i++
	}
	return i
}

// readString reads a string value.
func (r *jsonReader) readString() (string, error) {
	b, err := r.stringBytes()
	return string(b), err
}

// stringBytes reads the string at the current position, where the caller found its quote,
// and returns its contents unescaped, with invalid UTF-8 replaced by U+FFFD as encoding/json
// does. Plain strings come back as a slice of the input, others in r.scratch; either is
// valid only until the next read.
func (r *jsonReader) stringBytes() ([]byte, error) {
	data := r.data
	if r.pos >= len(data) || data[r.pos] != '"' {
		return nil, r.fail("looking for beginning of value")
	}
	start := r.pos + 1
	i := plainRun(data, start)
	if i < len(data) && data[i] == '"' {
		r.pos = i + 1
		return data[start:i], nil
	}
	return r.stringSlow(start, i)
}

// stringSlow finishes a string that holds escapes, control bytes or non-ASCII text; i is the
// first byte the fast loop did not accept.
func (r *jsonReader) stringSlow(start, i int) ([]byte, error) {
	data := r.data
	out := r.scratch[:0]
	copied := false // whether out holds the string so far; else it is data[start:mark]
	mark := start
	for {
		if i >= len(data) {
			return nil, r.failAt(i, "")
		}
		c := data[i]
		switch {
		case c == '"':
			r.pos = i + 1
			if !copied {
				return data[start:i], nil
			}
			out = append(out, data[mark:i]...)
			r.scratch = out
			return out, nil
		case c == '\\':
			out = append(out, data[mark:i]...)
			copied = true
			var n int
			var err error
			if out, n, err = r.unescape(out, i); err != nil {
				return nil, err
			}
			i += n
			mark = i
		case c < 0x20:
			return nil, r.failAt(i, "in string literal")
		case c < utf8.RuneSelf:
			i = plainRun(data, i)
		default:
			rn, size := utf8.DecodeRune(data[i:])
			if rn == utf8.RuneError && size == 1 {
				out = append(out, data[mark:i]...)
				out = utf8.AppendRune(out, utf8.RuneError)
				copied = true
				mark = i + 1
			}
			i += size
		}
	}
}

// unescape decodes the escape sequence at data[i] (a backslash) onto out and returns how many
// input bytes it took. Surrogates pair up as in encoding/json; a lone one becomes U+FFFD.
func (r *jsonReader) unescape(out []byte, i int) ([]byte, int, error) {
	data := r.data
	if i+1 >= len(data) {
		return nil, 0, r.failAt(i+1, "")
	}
	switch c := data[i+1]; c {
	case '"', '\\', '/':
		return append(out, c), 2, nil
	case 'b':
		return append(out, '\b'), 2, nil
	case 'f':
		return append(out, '\f'), 2, nil
	case 'n':
		return append(out, '\n'), 2, nil
	case 'r':
		return append(out, '\r'), 2, nil
	case 't':
		return append(out, '\t'), 2, nil
	case 'u':
		rn, err := r.hex4(i + 2)
		if err != nil {
			return nil, 0, err
		}
		if utf16.IsSurrogate(rn) {
			if lo, ok := r.lowSurrogate(i + 6); ok {
				if pair := utf16.DecodeRune(rn, lo); pair != utf8.RuneError {
					return utf8.AppendRune(out, pair), 12, nil
				}
			}
			rn = utf8.RuneError
		}
		return utf8.AppendRune(out, rn), 6, nil
	}
	return nil, 0, r.failAt(i+1, "in string escape code")
}

// hex4 reads the four hex digits of a \u escape starting at data[i].
func (r *jsonReader) hex4(i int) (rune, error) {
	var rn rune
	for j := i; j < i+4; j++ {
		if j >= len(r.data) {
			return 0, r.failAt(j, "")
		}
		c := r.data[j]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, r.failAt(j, `in \u hexadecimal character escape`)
		}
		rn = rn<<4 | rune(c)
	}
	return rn, nil
}

// lowSurrogate reads a \uXXXX escape at data[i] if there is a well-formed one.
func (r *jsonReader) lowSurrogate(i int) (rune, bool) {
	if i+1 >= len(r.data) || r.data[i] != '\\' || r.data[i+1] != 'u' {
		return 0, false
	}
	rn, err := r.hex4(i + 2)
	return rn, err == nil
}

// skipString checks and steps over a string without decoding it. Invalid UTF-8 needs no
// check here: encoding/json accepts it.
func (r *jsonReader) skipString() error {
	data := r.data
	i := r.pos + 1
	for {
		i = skipRun(data, i)
		if i >= len(data) {
			return r.failAt(i, "")
		}
		switch c := data[i]; {
		case c == '"':
			r.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(data) {
				return r.failAt(i+1, "")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, err := r.hex4(i + 2); err != nil {
					return err
				}
				i += 6
			default:
				return r.failAt(i+1, "in string escape code")
			}
		default:
			return r.failAt(i, "in string literal")
		}
	}
}

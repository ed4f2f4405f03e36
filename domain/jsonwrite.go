package domain

import (
	"math/bits"
	"time"
	"unicode/utf8"
)

// The writing half of the hand-written JSON codec. Facts already in the log were written by
// json.Marshal; these functions write byte for byte what it wrote, escaping included, so that
// facts from before and after the codec cannot be told apart.

const hexDigits = "0123456789abcdef"

// htmlSafeByte marks the ASCII bytes json.Marshal writes unescaped by default: printable
// ASCII other than the quote, the backslash and <, >, & (escaped for HTML safety).
var htmlSafeByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// htmlRun returns the index of the first byte from s[i] on that appendString cannot copy
// as it is: ", \, <, >, &, a control byte or one from 0x80 up.
func htmlRun[T string | []byte](s T, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		m := equalBytes(x, '"') | equalBytes(x, '\\') | equalBytes(x, '<') | equalBytes(x, '>') |
			equalBytes(x, '&') | controlBytes(x) | x
		if m &= swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf && htmlSafeByte[s[i]] {
		i++
	}
	return i
}

// appendString appends s as a JSON string the way json.Marshal does: control bytes, <, > and
// & as \u00XX (\b \f \n \r \t as themselves), U+2028 and U+2029 escaped, and each byte of
// invalid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = htmlRun(s, i); i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendRawJSON appends raw, a valid JSON value, as json.Marshal writes a json.RawMessage:
// compacted, with <, >, & and U+2028, U+2029 escaped. Those can only occur inside strings.
func appendRawJSON(dst, raw []byte) []byte { return appendCompact(dst, raw, true) }

// compactJSON returns a compacted copy of raw, a valid JSON value, as json.Compact writes it:
// white space outside strings dropped, everything else as it is.
func compactJSON(raw []byte) []byte { return appendCompact(make([]byte, 0, len(raw)), raw, false) }

// appendCompact appends raw, a valid JSON value, without the white space outside strings
// and, if escapeHTML, with the escapes of appendRawJSON. Compact input without anything to
// escape, the usual case, is copied in one go.
func appendCompact(dst, raw []byte, escapeHTML bool) []byte {
	start := 0
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '"':
			var end int
			dst, end, start = appendCompactString(dst, raw, i+1, start, escapeHTML)
			i = end
		case isJSONSpace(c):
			dst = append(dst, raw[start:i]...)
			i++
			start = i
		default:
			i++
		}
	}
	return append(dst, raw[start:]...)
}

// appendCompactString scans the string whose contents start at raw[i] and returns the index
// after its closing quote. Bytes from raw[start] on that need no change are left for the
// caller to copy; the new start says from where.
func appendCompactString(dst, raw []byte, i, start int, escapeHTML bool) ([]byte, int, int) {
	for i < len(raw) {
		if escapeHTML {
			i = htmlRun(raw, i)
		} else {
			i = skipRun(raw, i)
		}
		if i >= len(raw) {
			break
		}
		switch c := raw[i]; {
		case c == '"':
			return dst, i + 1, start
		case c == '\\':
			i += 2 // the escaped byte is never one to change, nor the closing quote
		case c == '<' || c == '>' || c == '&':
			dst = append(dst, raw[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			i++
			start = i
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xA8:
			dst = append(dst, raw[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[raw[i+2]&0xF])
			i += 3
			start = i
		default: // other text from 0x80 up, or a control byte, which valid JSON does not hold
			i++
		}
	}
	return dst, i, start
}

// AppendJSONString appends s as a JSON string, as json.Marshal writes one (appendString), for
// adapters that write JSON of their own by hand.
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }

// AppendJSONRaw appends raw, a valid JSON value, as json.Marshal writes a json.RawMessage
// (appendRawJSON).
func AppendJSONRaw(dst, raw []byte) []byte { return appendRawJSON(dst, raw) }

// AppendTimestamp appends t as FormatTimestamp writes it.
func AppendTimestamp(dst []byte, t time.Time) []byte { return appendTimestamp(dst, t) }

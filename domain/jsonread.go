package domain

import (
	"bytes"
	"errors"
	"strconv"
)

// jsonReader walks JSON text in place. It exists because encoding/json's reflection and
// buffering dominated herald's ingest and rebuild profiles; events have a fixed, small shape,
// so a reader that the decoders drive key by key does the same work several times faster.
//
// It is strict: it accepts exactly the JSON that encoding/json accepts (invalid UTF-8 inside
// strings is tolerated and read as U+FFFD, nesting is limited to maxJSONDepth), and its
// errors are worded as encoding/json's, so messages producers already see do not change.
type jsonReader struct {
	data    []byte
	pos     int
	depth   int
	scratch []byte // reused for strings that need unescaping

	// sawSpace tells that white space was skipped since it was last cleared, so that a
	// value read without it needs no compacting.
	sawSpace bool
}

// maxJSONDepth is encoding/json's nesting limit; deeper input is refused rather than walked.
const maxJSONDepth = 10000

// jsonSyntaxError is malformed JSON. Offset counts the bytes read up to and including the
// offending one, as encoding/json's SyntaxError.Offset does.
type jsonSyntaxError struct {
	Offset int
	msg    string
}

func (e *jsonSyntaxError) Error() string { return e.msg }

// asSyntaxError returns err, which the reader returned, as the syntax error it is.
func asSyntaxError(err error) *jsonSyntaxError {
	var syntax *jsonSyntaxError
	if errors.As(err, &syntax) {
		return syntax
	}
	return &jsonSyntaxError{msg: err.Error()}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (r *jsonReader) skipSpace() { r.peek() }

// peek skips white space and returns the next byte, or 0 at the end of the input. It is
// small enough to be inlined, which matters: it runs before every token.
func (r *jsonReader) peek() byte {
	i := r.pos
	for ; i < len(r.data); i++ {
		if c := r.data[i]; c > ' ' || !isJSONSpace(c) {
			break
		}
		r.sawSpace = true
	}
	r.pos = i
	if i < len(r.data) {
		return r.data[i]
	}
	return 0
}

func (r *jsonReader) atEnd() bool { return r.pos >= len(r.data) }

// failAt reports the byte at i as unexpected; context says what was expected there.
func (r *jsonReader) failAt(i int, context string) error {
	if i >= len(r.data) {
		return &jsonSyntaxError{Offset: len(r.data), msg: "unexpected end of JSON input"}
	}
	return &jsonSyntaxError{Offset: i + 1, msg: "invalid character " + quoteChar(r.data[i]) + " " + context}
}

func (r *jsonReader) fail(context string) error { return r.failAt(r.pos, context) }

// quoteChar formats c as encoding/json's scanner does in its messages.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// kindName names the kind of the value starting with c, in the words of encoding/json's type
// errors ("must be a JSON string, not number").
func kindName(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// enter consumes the { or [ at the current position, refusing nesting beyond maxJSONDepth.
func (r *jsonReader) enter() error {
	r.depth++
	if r.depth > maxJSONDepth {
		return r.fail("exceeded max depth")
	}
	r.pos++
	return nil
}

// openObject consumes '{' and reports whether a member follows; if so the reader stands at
// its key, else the empty object is consumed.
func (r *jsonReader) openObject() (bool, error) {
	if err := r.enter(); err != nil {
		return false, err
	}
	switch r.peek() {
	case '}':
		r.pos++
		r.depth--
		return false, nil
	case '"':
		return true, nil
	}
	return false, r.fail("looking for beginning of object key string")
}

// nextMember is called after a member's value and reports whether another member follows;
// if not, the closing brace is consumed.
func (r *jsonReader) nextMember() (bool, error) {
	switch r.peek() {
	case ',':
		r.pos++
		if r.peek() != '"' {
			return false, r.fail("looking for beginning of object key string")
		}
		return true, nil
	case '}':
		r.pos++
		r.depth--
		return false, nil
	}
	return false, r.fail("after object key:value pair")
}

// key reads a member's key and the colon after it. The key is valid until the next call.
func (r *jsonReader) key() ([]byte, error) {
	k, err := r.stringBytes()
	if err != nil {
		return nil, err
	}
	if r.peek() != ':' {
		return nil, r.fail("after object key")
	}
	r.pos++
	return k, nil
}

// skipKey is key for a member stepped over unread.
func (r *jsonReader) skipKey() error {
	if err := r.skipString(); err != nil {
		return err
	}
	if r.peek() != ':' {
		return r.fail("after object key")
	}
	r.pos++
	return nil
}

// keyIndex returns the index in names of the name key stands for, matched as encoding/json
// matches struct fields: exactly, else case-insensitively with Unicode simple folding ("ID",
// "meſſage"); -1 for an unknown key.
func keyIndex(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for i, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return i
		}
	}
	return -1
}

// matchKey is keyIndex returning the name, or "" for an unknown key.
func matchKey(key []byte, names []string) string {
	if i := keyIndex(key, names); i >= 0 {
		return names[i]
	}
	return ""
}

// openArray consumes '[' and reports whether an element follows; if not, the empty array
// is consumed.
func (r *jsonReader) openArray() (bool, error) {
	if err := r.enter(); err != nil {
		return false, err
	}
	if r.peek() == ']' {
		r.pos++
		r.depth--
		return false, nil
	}
	return true, nil
}

// nextElement is called after an element and reports whether another follows; if not, the
// closing bracket is consumed.
func (r *jsonReader) nextElement() (bool, error) {
	switch r.peek() {
	case ',':
		r.pos++
		return true, nil
	case ']':
		r.pos++
		r.depth--
		return false, nil
	}
	return false, r.fail("after array element")
}

// skipValue checks and steps over one value of any kind.
func (r *jsonReader) skipValue() error {
	switch c := r.peek(); c {
	case '{':
		more, err := r.openObject()
		for more && err == nil {
			if err = r.skipKey(); err == nil {
				if err = r.skipValue(); err == nil {
					more, err = r.nextMember()
				}
			}
		}
		return err
	case '[':
		more, err := r.openArray()
		for more && err == nil {
			if err = r.skipValue(); err == nil {
				more, err = r.nextElement()
			}
		}
		return err
	case '"':
		return r.skipString()
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	}
	_, err := r.number()
	return err
}

// rawValue checks and steps over one value and returns its text, a slice of the input, and
// whether that is compact, without white space outside strings.
func (r *jsonReader) rawValue() (raw []byte, compact bool, err error) {
	r.skipSpace()
	start := r.pos
	r.sawSpace = false
	if err := r.skipValue(); err != nil {
		return nil, false, err
	}
	return r.data[start:r.pos], !r.sawSpace, nil
}

// literal checks and steps over true, false or null, whose first byte has been seen.
func (r *jsonReader) literal(word string) error {
	for j := 1; j < len(word); j++ {
		i := r.pos + j
		if i >= len(r.data) || r.data[i] != word[j] {
			return r.failAt(i, "in literal "+word+" (expecting "+quoteChar(word[j])+")")
		}
	}
	r.pos += len(word)
	return nil
}

// number checks and steps over a number and returns its text. What may follow it is for the
// caller to check, as in encoding/json ("1x" fails after the value, not in it).
func (r *jsonReader) number() ([]byte, error) {
	data := r.data
	start := r.pos
	i := start
	if i < len(data) && data[i] == '-' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return nil, r.failAt(i, "in numeric literal")
		}
	}
	switch {
	case i >= len(data):
		return nil, r.failAt(i, "looking for beginning of value")
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		return nil, r.failAt(i, "looking for beginning of value")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return nil, r.failAt(i, "after decimal point in numeric literal")
		}
		i = skipDigits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return nil, r.failAt(i, "in exponent of numeric literal")
		}
		i = skipDigits(data, i)
	}
	r.pos = i
	return data[start:i], nil
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

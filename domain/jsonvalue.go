package domain

import (
	"encoding/json"
	"fmt"
)

// DecodeJSONObject reads data, one JSON object with nothing after it but white space, and
// calls member for each of its members in document order. Values come as encoding/json
// decodes them into an `any` with UseNumber: map[string]any, []any, string, json.Number,
// bool or nil. It accepts exactly what encoding/json accepts (invalid UTF-8 in strings reads
// as U+FFFD) on the reader the event decoders use, which reads a long string several times
// faster: the GraphQL transport decodes request bodies with it, where a batch of events in
// one string variable spent a third of the ingest CPU in encoding/json.
//
// A malformed document is reported with the byte offset, as "malformed JSON at byte N: ...";
// an error from member is returned as it is.
func DecodeJSONObject(data []byte, member func(key string, value any) error) error {
	r := jsonReader{data: data}
	if c := r.peek(); c != '{' {
		// As in encoding/json: null leaves everything unset; another value is refused, once it
		// is known to be well formed.
		if err := r.skipValue(); err != nil {
			return malformed(err)
		}
		if r.skipSpace(); !r.atEnd() { // not peek() != 0: a NUL byte is not the end
			return malformed(r.fail("after top-level value"))
		}
		if c == 'n' {
			return nil
		}
		kind := kindName(c)
		if kind == "array" || kind == "object" {
			kind = "an " + kind
		} else {
			kind = "a " + kind
		}
		return fmt.Errorf("the JSON document is %s, not an object", kind)
	}
	var memberErr error
	err := r.members(func(key string, v any) bool {
		memberErr = member(key, v)
		return memberErr == nil
	})
	if memberErr != nil {
		return memberErr
	}
	if r.skipSpace(); err == nil && !r.atEnd() {
		err = r.fail("after top-level value")
	}
	if err != nil {
		return malformed(err)
	}
	return nil
}

// members reads the object at the current position, handing each member to member in
// document order until it returns false.
func (r *jsonReader) members(member func(key string, v any) bool) error {
	more, err := r.openObject()
	for more && err == nil {
		var key []byte
		if key, err = r.key(); err != nil {
			return err
		}
		name := string(key)
		var v any
		if v, err = r.anyValue(); err != nil {
			return err
		}
		if !member(name, v) {
			return nil
		}
		more, err = r.nextMember()
	}
	return err
}

func malformed(err error) error {
	syntax := asSyntaxError(err)
	return fmt.Errorf("malformed JSON at byte %d: %s", syntax.Offset, syntax.msg)
}

// anyValue reads one value of any kind as encoding/json decodes it into an `any` with
// UseNumber.
func (r *jsonReader) anyValue() (any, error) {
	switch c := r.peek(); c {
	case '{':
		m := map[string]any{}
		err := r.members(func(key string, v any) bool {
			m[key] = v
			return true
		})
		if err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		s := []any{}
		more, err := r.openArray()
		for more && err == nil {
			var v any
			if v, err = r.anyValue(); err != nil {
				return nil, err
			}
			s = append(s, v)
			more, err = r.nextElement()
		}
		return s, err
	case '"':
		return r.readString()
	case 't':
		return true, r.literal("true")
	case 'f':
		return false, r.literal("false")
	case 'n':
		return nil, r.literal("null")
	}
	n, err := r.number()
	return json.Number(n), err
}

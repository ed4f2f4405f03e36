package domain

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The general reader of EventRecorded facts, for any layout other than the one Encode writes
// (keys a later herald added, white space, other key order) and for telling what is wrong
// with a malformed fact.

// eventRecordedKeys are the fact's keys, for matching keys as encoding/json did.
var (
	eventRecordedKeys = []string{"v", "id", "timestamp", "level", "type", "message", "resource", "source", "details"}
	resourceKeys      = []string{"id", "type", "user_id"}
	sourceKeys        = []string{"servicename", "hostid", "base_url", "request_id"}
)

// factReader reads one EventRecorded fact, its strings sharing one allocation.
type factReader struct {
	r    jsonReader
	strs stringArena
}

// The fact's strings, by their slot in factReader.strs. Resource and source members follow
// the order of resourceKeys and sourceKeys.
const (
	factID = iota
	factType
	factMessage
	factResource
	factSource = factResource + 3
)

// readAnyLayout reads the fact into e as json.Unmarshal read it into a struct: keys in any
// order and matched case-insensitively, unknown keys and nulls ignored, the last of repeated
// keys winning, a value of the wrong type an error. The strings stay in f.strs.
func (f *factReader) readAnyLayout(e *LogEvent, full bool) error {
	version := 0
	var ts factTimestamp
	err := f.topObject(func(key []byte) (err error) {
		switch matchKey(key, eventRecordedKeys) {
		case "v":
			err = f.int("v", &version)
		case "id":
			err = f.string("id", factID)
		case "timestamp":
			err = f.timestamp(&ts)
		case "level":
			err = f.level(&e.Level)
		case "type":
			err = f.string("type", factType)
		case "message":
			if full {
				err = f.string("message", factMessage)
			} else {
				err = f.r.skipValue()
			}
		case "resource":
			err = f.object("resource", resourceKeys, factResource)
		case "source":
			err = f.object("source", sourceKeys, factSource)
		case "details":
			if !full {
				err = f.r.skipValue()
				break
			}
			var raw []byte
			if raw, _, err = f.r.rawValue(); err == nil {
				e.Details = bytes.Clone(raw) // the caller may reuse data
			}
		default:
			err = f.r.skipValue()
		}
		return err
	})
	if err != nil {
		return factError(err)
	}
	if version != factVersion {
		return fmt.Errorf("decode %s v%d: %w", EventRecordedType, version, ErrUnknownFactVersion)
	}
	if !ts.set {
		_, ts.err = ParseTimestamp("")
	}
	if ts.err != nil {
		return fmt.Errorf("decode %s: timestamp: %w", EventRecordedType, ts.err)
	}
	e.Timestamp = ts.t
	return nil
}

// factTypeError is a fact value of the wrong JSON type; json.Unmarshal failed on those as on
// malformed JSON, and so does the codec.
type factTypeError struct {
	field, want, got string
}

func (e *factTypeError) Error() string {
	if e.field == "" {
		return fmt.Sprintf("must be a JSON %s, not %s", e.want, e.got)
	}
	return fmt.Sprintf("%s: must be a JSON %s, not %s", e.field, e.want, e.got)
}

func factError(err error) error { return decodeError(EventRecordedType, err) }

// decodeError says which fact could not be read, and where the JSON is malformed.
func decodeError(typ string, err error) error {
	var syntax *jsonSyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("decode %s: malformed JSON at byte %d: %w", typ, syntax.Offset, err)
	}
	return fmt.Errorf("decode %s: %w", typ, err)
}

// topObject reads a fact's top-level value as json.Unmarshal read one into a struct: an
// object, each member handed to member after its key, or null; any other value is an error,
// and so is anything after the value.
func (f *factReader) topObject(member func(key []byte) error) error {
	switch c := f.r.peek(); c {
	case 'n':
		if err := f.r.literal("null"); err != nil {
			return err
		}
	case '{':
		more, err := f.r.openObject()
		for more && err == nil {
			var key []byte
			if key, err = f.r.key(); err != nil {
				break
			}
			if err = member(key); err == nil {
				more, err = f.r.nextMember()
			}
		}
		if err != nil {
			return err
		}
	default:
		if err := f.r.skipValue(); err != nil {
			return err
		}
		return &factTypeError{want: "object", got: kindName(c)}
	}
	if f.r.skipSpace(); !f.r.atEnd() {
		return f.r.fail("after top-level value")
	}
	return nil
}

// string reads a string into slot; null leaves the slot as it is.
func (f *factReader) string(field string, slot int) error {
	switch c := f.r.peek(); c {
	case '"':
		b, err := f.r.stringBytes()
		if err == nil {
			f.strs.set(slot, b)
		}
		return err
	case 'n':
		return f.r.literal("null")
	default:
		return f.wrongType(field, "string", c)
	}
}

func (f *factReader) wrongType(field, want string, c byte) error {
	if err := f.r.skipValue(); err != nil {
		return err
	}
	return &factTypeError{field: field, want: want, got: kindName(c)}
}

// level reads the level without copying it; a level it does not know reads as none.
func (f *factReader) level(dst *Level) error {
	switch c := f.r.peek(); c {
	case '"':
		b, err := f.r.stringBytes()
		if err == nil {
			*dst, _ = ParseLevel(string(b))
		}
		return err
	case 'n':
		return f.r.literal("null")
	default:
		return f.wrongType("level", "string", c)
	}
}

// factTimestamp is the timestamp as read so far. It is parsed at once, its bytes being valid
// only until the next read; a parse error waits, since a later timestamp key may replace it
// and a wrong version is reported first.
type factTimestamp struct {
	t   time.Time
	err error
	set bool
}

// timestamp reads the timestamp into ts; null leaves ts as it is.
func (f *factReader) timestamp(ts *factTimestamp) error {
	switch c := f.r.peek(); c {
	case '"':
	case 'n':
		return f.r.literal("null")
	default:
		return f.wrongType("timestamp", "string", c)
	}
	b, err := f.r.stringBytes()
	if err != nil {
		return err
	}
	ts.set = true
	if t, ok := parseTimestampLayout(b); ok {
		ts.t, ts.err = t, nil
		return nil
	}
	ts.t, ts.err = ParseTimestamp(string(b))
	return nil
}

// int reads an integer as json.Unmarshal read one into an int; null leaves *dst as it is.
func (f *factReader) int(field string, dst *int) error {
	n := int64(*dst)
	err := f.integer(field, &n, strconv.IntSize)
	*dst = int(n)
	return err
}

// int64 reads a 64-bit integer as int reads an int.
func (f *factReader) int64(field string, dst *int64) error { return f.integer(field, dst, 64) }

// integer reads an integer that fits in bits; null leaves dst as it is.
func (f *factReader) integer(field string, dst *int64, bits int) error {
	switch c := f.r.peek(); {
	case c == 'n':
		return f.r.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		num, err := f.r.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(num), 10, bits)
		if err != nil {
			return &factTypeError{field: field, want: "integer", got: "number " + string(num)}
		}
		*dst = n
		return nil
	default:
		return f.wrongType(field, "number", c)
	}
}

// object reads an object of string members, keys[i] into slot first+i; other keys are
// stepped over and null leaves everything as it is.
func (f *factReader) object(field string, keys []string, first int) error {
	switch c := f.r.peek(); c {
	case '{':
	case 'n':
		return f.r.literal("null")
	default:
		return f.wrongType(field, "object", c)
	}
	more, err := f.r.openObject()
	for more && err == nil {
		var key []byte
		if key, err = f.r.key(); err != nil {
			return err
		}
		if i := keyIndex(key, keys); i >= 0 {
			err = f.string(keys[i], first+i)
		} else {
			err = f.r.skipValue()
		}
		if err != nil {
			var typeErr *factTypeError
			if errors.As(err, &typeErr) {
				typeErr.field = field + "." + typeErr.field
			}
			return err
		}
		more, err = f.r.nextMember()
	}
	return err
}

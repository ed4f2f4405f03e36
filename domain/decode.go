package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultAccount owns events that name no account (resource.user_id), which in practice are
// system events such as feed syncs. It is the admin account.
const DefaultAccount = "admin"

// maxFieldErrors caps the field errors one input reports, so that hostile input cannot make
// the error larger than the work it took to find it.
const maxFieldErrors = 100

// The keys producers may send. Some fields have a second spelling, which follows them:
// account_name (the webhook payload's name for user_id), service_name and host_id.
var (
	eventKeys        = []string{"id", "timestamp", "level", "type", "message", "resource", "source", "details"}
	wireResourceKeys = []string{"id", "type", "user_id", "account_name"}
	wireSourceKeys   = []string{"servicename", "service_name", "hostid", "host_id", "base_url", "request_id"}
)

// wireEvent holds the members of one event as they arrive. The rules are encoding/json's,
// which producers have relied on: a repeated key overwrites, a repeated resource or source
// object merges into the earlier one, null at the top level unsets a member and null inside
// resource or source changes nothing.
type wireEvent struct {
	strs     stringArena // the string members, in the slots below
	hasLevel bool        // level was sent, so "" is an error rather than absent
	details  []byte      // the raw value, a slice of the input

	detailsCompact bool // details hold no white space outside strings
}

// The slots of wireEvent.strs: the first five members of eventKeys in their order, then
// resource's and source's members in the order of wireResourceKeys and wireSourceKeys.
const (
	wireID = iota
	wireTimestamp
	wireLevel
	wireType
	wireMessage
	wireResource
	wireSource = wireResource + 4
)

// DecodeLogEvent reads one event as producers send it (the README's "Events"). Unknown
// fields, wrong types and malformed JSON are field-level errors. The result still needs
// defaults (WithDefaults) and validation (Validate); DecodeLogEvent only checks the shape.
func DecodeLogEvent(data []byte) (LogEvent, error) { return decodeLogEventFrom(data, 0) }

// DecodeLogEventSkippingBOM is DecodeLogEvent for a message that may open with a UTF-8
// byte-order mark, as some editors and Windows tools write: JSON may not hold one, but RFC
// 8259 lets a reader skip it. Error offsets count it, so that they point into the message as
// it was sent.
func DecodeLogEventSkippingBOM(data []byte) (LogEvent, error) {
	if len(data) >= 3 && string(data[:3]) == "\xEF\xBB\xBF" {
		return decodeLogEventFrom(data, 3)
	}
	return decodeLogEventFrom(data, 0)
}

func decodeLogEventFrom(data []byte, start int) (LogEvent, error) {
	e, v, syntax := decodeOne(data, start)
	switch {
	case syntax != nil:
		return LogEvent{}, fieldError("$", "malformed JSON at byte %d: %s", syntax.Offset, syntax.msg)
	case v != nil:
		return e, v
	}
	return e, nil
}

// decodeOne reads a document holding one event, from the byte at start on. Its field errors
// are nil if there are none. Malformed JSON is returned apart from them, which it makes
// meaningless.
func decodeOne(data []byte, start int) (LogEvent, *ValidationError, *jsonSyntaxError) {
	d := eventDecoder{r: jsonReader{data: data, pos: start}}
	if d.r.skipSpace(); d.r.atEnd() {
		d.add("$", "empty input; want a JSON object")
		return LogEvent{}, d.errs, nil
	}
	e, err := d.event()
	if err != nil {
		return LogEvent{}, nil, asSyntaxError(err)
	}
	if d.r.skipSpace(); !d.r.atEnd() {
		d.add("$", "unexpected data after the JSON object")
	}
	return e, d.errs, nil
}

// fieldError is one thing wrong with the event or batch of events being read.
func fieldError(field, format string, args ...any) *ValidationError {
	return &ValidationError{Subject: EventSubject, Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// eventDecoder reads events with r, collecting what is wrong with them in errs. Its methods
// return only syntax errors; field errors are recorded and reading goes on.
type eventDecoder struct {
	r    jsonReader
	errs *ValidationError // nil until there is an error: most events have none
}

// add records a field error unless maxFieldErrors are recorded already.
func (d *eventDecoder) add(field, format string, args ...any) {
	if d.errs == nil {
		d.errs = &ValidationError{Subject: EventSubject}
	}
	switch n := len(d.errs.Fields); {
	case n < maxFieldErrors:
		d.errs.add(field, format, args...)
	case n == maxFieldErrors:
		d.errs.add("$", "has too many errors; only the first %d are listed", maxFieldErrors)
	}
}

// event reads one event value: an object, or null, which encoding/json read as an empty event.
func (d *eventDecoder) event() (LogEvent, error) {
	switch c := d.r.peek(); c {
	case 'n':
		return LogEvent{}, d.r.literal("null")
	case '{':
	default:
		err := d.r.skipValue()
		d.add("$", "must be a JSON object, not %s", kindName(c))
		return LogEvent{}, err
	}
	var w wireEvent
	more, err := d.r.openObject()
	for more && err == nil {
		var key []byte
		if key, err = d.r.key(); err != nil {
			break
		}
		switch i := keyIndex(key, eventKeys); {
		case i < 0:
			d.add(keyName(key), "is not a field of an event")
			err = d.r.skipValue()
		case i <= wireMessage:
			var ok bool
			ok, err = d.stringMember(&w, "", eventKeys[i], i)
			if i == wireLevel {
				w.hasLevel = ok
			}
		case eventKeys[i] == "resource":
			err = d.objectMember(&w, "resource", wireResourceKeys, wireResource)
		case eventKeys[i] == "source":
			err = d.objectMember(&w, "source", wireSourceKeys, wireSource)
		default:
			w.details, w.detailsCompact, err = d.r.rawValue()
		}
		if err == nil {
			more, err = d.r.nextMember()
		}
	}
	if err != nil {
		return LogEvent{}, err
	}
	return d.logEvent(&w), nil
}

// stringMember reads a member that must be a string or null into slot of w.strs. null
// empties a top-level member (parent "") and leaves one of resource or source as it is. ok is
// false for null and for another type, which is recorded as an error of parent.name.
func (d *eventDecoder) stringMember(w *wireEvent, parent, name string, slot int) (ok bool, err error) {
	switch c := d.r.peek(); c {
	case '"':
		var b []byte
		if b, err = d.r.stringBytes(); err == nil {
			w.strs.set(slot, b)
		}
		return err == nil, err
	case 'n':
		if parent == "" {
			w.strs.set(slot, nil)
		}
		return false, d.r.literal("null")
	default:
		err = d.r.skipValue()
		d.add(memberPath(parent, name), "must be a JSON string, not %s", kindName(c))
		return false, err
	}
}

// objectMember reads resource or source, its members keys[i] into slot first+i of w.strs.
// null empties them all.
func (d *eventDecoder) objectMember(w *wireEvent, name string, keys []string, first int) error {
	switch c := d.r.peek(); c {
	case '{':
	case 'n':
		for i := range keys {
			w.strs.set(first+i, nil)
		}
		return d.r.literal("null")
	default:
		err := d.r.skipValue()
		d.add(name, "must be a JSON object, not %s", kindName(c))
		return err
	}
	more, err := d.r.openObject()
	for more && err == nil {
		var key []byte
		if key, err = d.r.key(); err != nil {
			return err
		}
		if i := keyIndex(key, keys); i >= 0 {
			_, err = d.stringMember(w, name, keys[i], first+i)
		} else {
			d.add(name+"."+keyName(key), "is not a field of %s", name)
			err = d.r.skipValue()
		}
		if err == nil {
			more, err = d.r.nextMember()
		}
	}
	return err
}

// memberPath names a member in field errors, by the canonical name of an alias.
func memberPath(parent, name string) string {
	switch name {
	case "account_name":
		name = "user_id"
	case "service_name":
		name = "servicename"
	case "host_id":
		name = "hostid"
	}
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// keyName quotes an unknown key for an error message as encoding/json did, cut short: it is
// the producer's text and may be anything.
func keyName(key []byte) string {
	const limit = 64
	if len(key) > limit {
		n := limit
		for n > 0 && !utf8.RuneStart(key[n]) {
			n--
		}
		key = key[:n]
	}
	q := strconv.Quote(string(key))
	return q[1 : len(q)-1]
}

// logEvent turns the members read into an event, checking the values whose shape alone does
// not tell whether they are right.
func (d *eventDecoder) logEvent(w *wireEvent) LogEvent {
	all := w.strs.all()
	str := func(slot int) string { return w.strs.get(all, slot) }
	e := LogEvent{
		ID: str(wireID), Type: str(wireType), Message: str(wireMessage),
		Resource: Resource{ID: str(wireResource), Type: str(wireResource + 1), UserID: firstNonEmpty(str(wireResource+2), str(wireResource+3))},
		Source: Source{
			ServiceName: firstNonEmpty(str(wireSource), str(wireSource+1)),
			HostID:      firstNonEmpty(str(wireSource+2), str(wireSource+3)),
			BaseURL:     str(wireSource + 4),
			RequestID:   str(wireSource + 5),
		},
	}
	if ts := str(wireTimestamp); ts != "" {
		t, err := ParseTimestamp(ts)
		if err != nil {
			d.add("timestamp", "%s is not an RFC 3339 timestamp such as 2018-06-28T22:36:26.512589Z", Quote(ts))
		} else if err := CheckEarliest(t); err != nil {
			d.add("timestamp", "%s", err.Error()) // the zero time would read as "not given", and become now
		}
		e.Timestamp = t
	}
	if w.hasLevel {
		l, ok := ParseLevel(str(wireLevel))
		if !ok {
			d.add("level", "%s is not a level; use info or error", Quote(str(wireLevel)))
		}
		e.Level = l
	}
	details, err := detailsOf(w.details, w.detailsCompact)
	if err != nil {
		d.add("details", "%s", err.Error())
	}
	e.Details = details
	return e
}

// detailsOf normalises details that are known to be one valid JSON value, or absent. compact
// says raw needs no compacting, which spares a second look at every byte.
func detailsOf(raw []byte, compact bool) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case '{':
		out := compactJSON
		if compact {
			out = bytes.Clone // the caller may reuse the input
		}
		if details := out(raw); len(details) > 2 { // else {}
			return details, nil
		}
		return nil, nil
	case '"':
		r := jsonReader{data: raw}
		s, err := r.readString()
		if err != nil {
			return nil, fmt.Errorf("is not a valid JSON string: %v", err)
		}
		wrapped := append(make([]byte, 0, len(raw)+9), `{"msg":`...)
		wrapped = appendString(wrapped, s)
		return append(wrapped, '}'), nil
	}
	return nil, errors.New("must be a JSON object or a string")
}

// NormalizeDetails accepts details as a JSON object (kept as sent, compacted), a string
// (wrapped as {"msg": ...}) or null/absent (no details). Anything else is an error.
func NormalizeDetails(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	switch raw[0] {
	case '{', '"':
		r := jsonReader{data: raw}
		_, compact, err := r.rawValue()
		if r.skipSpace(); err == nil && !r.atEnd() {
			err = r.fail("after top-level value")
		}
		if err != nil && raw[0] == '{' {
			return nil, fmt.Errorf("is not valid JSON: %v", err)
		}
		if err != nil {
			return nil, fmt.Errorf("is not a valid JSON string: %v", err)
		}
		return detailsOf(raw, compact)
	}
	return nil, errors.New("must be a JSON object or a string")
}

// WithDefaults fills what a producer may leave out: the id (from newID), the timestamp (now),
// and the account (DefaultAccount). Type and level are normalised to lower case.
func (e LogEvent) WithDefaults(now time.Time, newID func() string) LogEvent {
	if e.ID == "" {
		e.ID = newID()
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = now.UTC()
	}
	e.Timestamp = e.Timestamp.UTC().Truncate(time.Microsecond)
	if e.Resource.UserID == "" {
		e.Resource.UserID = DefaultAccount
	}
	e.Type = strings.ToLower(strings.TrimSpace(e.Type))
	return e
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

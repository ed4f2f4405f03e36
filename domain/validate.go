package domain

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what one event may carry. They keep a single producer from filling the log
// with one message and keep index entries small.
const (
	MaxIDLength          = 128
	MaxTypeLength        = 255
	MaxMessageLength     = 8 * 1024
	MaxResourceIDLength  = 1024
	MaxNameLength        = 255 // user_id, servicename, hostid, request_id
	MaxURLLength         = 2048
	MaxDetailsBytes      = 64 * 1024
	MaxEventsPerBatch    = 10_000
	maxFutureClockSkewed = 24 * time.Hour
)

// FieldError names one field of the input and what is wrong with it.
type FieldError struct {
	Field   string // JSON path such as "resource.type" or "events[3].level"
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError lists every problem found in one input, so a producer fixes them all at
// once. Nothing is stored when an input has a ValidationError.
type ValidationError struct {
	// Subject names what was invalid in the message: "invalid event: ..." for EventSubject,
	// "invalid input: ..." when empty.
	Subject string
	Fields  []FieldError
}

// EventSubject is the Subject of what is wrong with events. Producers, the Kafka dead-letter
// header herald.error and the README read "invalid event: level: ...".
const EventSubject = "event"

func (e *ValidationError) Error() string {
	return "invalid " + cmp.Or(e.Subject, "input") + ": " + e.Problems()
}

// Problems lists what is wrong, field by field: "level: is required; type: is required".
func (e *ValidationError) Problems() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return strings.Join(parts, "; ")
}

func (e *ValidationError) add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Prefixed returns the same error with every field path under prefix ("events[3]"). The
// whole input, "$", becomes prefix itself.
func (e *ValidationError) Prefixed(prefix string) *ValidationError {
	out := &ValidationError{Subject: e.Subject, Fields: make([]FieldError, len(e.Fields))}
	for i, f := range e.Fields {
		field := prefix
		if f.Field != "$" {
			field += "." + f.Field
		}
		out.Fields[i] = FieldError{Field: field, Message: f.Message}
	}
	return out
}

func (e *ValidationError) errOrNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// idPattern tells whether s matches ^[A-Za-z0-9][A-Za-z0-9._:-]*$. (A loop, not a regexp:
// it runs for every event recorded.)
func idPattern(s string) bool {
	for i := range len(s) {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != ':' && c != '-') {
			return false
		}
	}
	return s != ""
}

// typePattern tells whether s matches ^[a-z0-9_-]+(\.[a-z0-9_-]+)*$.
func typePattern(s string) bool {
	segment := 0
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
			segment++
		case c == '.' && segment > 0:
			segment = 0
		default:
			return false
		}
	}
	return segment > 0
}

// KafkaIDPrefix starts the ids herald derives for Kafka messages that carry none
// (kafka:<topic>:<partition>:<offset>). Only herald itself and the admin account may record
// events with such ids: ids are unique across accounts, and an account that recorded the id
// of a message still to come would have that message dropped as a duplicate.
const KafkaIDPrefix = "kafka:"

// ValidEventID tells whether s may be used as an event id.
func ValidEventID(s string) bool {
	return s != "" && len(s) <= MaxIDLength && idPattern(s)
}

// ValidEventType tells whether s is a well-formed event type: dot-separated lower-case
// segments ("user.checks.tag.vulnerabilities.update"), or a legacy flat name ("list_tags_fail").
func ValidEventType(s string) bool {
	return s != "" && len(s) <= MaxTypeLength && typePattern(s)
}

// Validate checks an event whose defaults (id, timestamp) have been filled. now bounds how far
// in the future a timestamp may lie, which catches producers sending milliseconds as seconds.
func (e LogEvent) Validate(now time.Time) error {
	v := &ValidationError{Subject: EventSubject}
	switch {
	case e.ID == "":
		v.add("id", "is required")
	case len(e.ID) > MaxIDLength:
		v.add("id", "is %d characters long, the limit is %d", len(e.ID), MaxIDLength)
	case !idPattern(e.ID):
		v.add("id", "%s may only hold letters, digits and . _ : - and must start with a letter or digit", Quote(e.ID))
	}
	if e.Timestamp.IsZero() {
		v.add("timestamp", "is required")
	} else if err := CheckEarliest(e.Timestamp); err != nil {
		v.add("timestamp", "%s", err.Error())
	} else if e.Timestamp.After(now.Add(maxFutureClockSkewed)) {
		v.add("timestamp", "%s is more than 24 hours in the future", FormatTimestamp(e.Timestamp))
	}
	if e.Level != LevelInfo && e.Level != LevelError {
		v.add("level", "is required and must be info or error")
	}
	switch {
	case e.Type == "":
		v.add("type", "is required")
	case len(e.Type) > MaxTypeLength:
		v.add("type", "is %d characters long, the limit is %d", len(e.Type), MaxTypeLength)
	case !typePattern(e.Type):
		v.add("type", "%s (in lower case, as herald stores types) is not of the form category.subcategory.event: letters, digits, _ and -, separated by dots", Quote(e.Type))
	}
	if checkText(v, "message", e.Message, MaxMessageLength, true, eventText) && isBlank(e.Message) {
		v.add("message", "is blank; say what happened")
	}
	checkText(v, "resource.id", e.Resource.ID, MaxResourceIDLength, false, oneLine)
	if e.Resource.Type != "" && !IsResourceType(e.Resource.Type) {
		v.add("resource.type", "%s is not a resource type; use one of %s", Quote(e.Resource.Type), strings.Join(ResourceTypes(), ", "))
	}
	// Producers name accounts as their platform does, which may allow more than herald's own
	// account names: any one line is taken, and only the admin sees an event of no account.
	checkText(v, "resource.user_id", e.Resource.UserID, MaxNameLength, true, oneLine)
	checkText(v, "source.servicename", e.Source.ServiceName, MaxNameLength, false, oneLine)
	checkText(v, "source.hostid", e.Source.HostID, MaxNameLength, false, oneLine)
	checkText(v, "source.base_url", e.Source.BaseURL, MaxURLLength, false, oneLine)
	checkText(v, "source.request_id", e.Source.RequestID, MaxNameLength, false, oneLine)
	if len(e.Details) > MaxDetailsBytes {
		v.add("details", "is %d bytes, the limit is %d (64 KiB)", len(e.Details), MaxDetailsBytes)
	} else if len(e.Details) > 0 && !bytes.HasPrefix(e.Details, []byte("{")) {
		v.add("details", "must be a JSON object")
	}
	return v.errOrNil()
}

// checkText checks one of an event's texts and tells whether it passed. A message keeps
// what its producer's tools print (eventText); the names and ids around it are one line.
func checkText(v *ValidationError, field, s string, limit int, required bool, form textForm) bool {
	switch {
	case s == "" && required:
		v.add(field, "is required")
	case len(s) > limit:
		v.add(field, "is %d bytes long, the limit is %d", len(s), limit)
	case !utf8.ValidString(s):
		v.add(field, "is not valid UTF-8")
	default:
		return !checkCharacters(v, field, s, form)
	}
	return false
}

// isBlank tells whether s holds only white space; it stops at the first other character.
func isBlank(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) }) < 0
}

// textForm says which control characters a text field may hold.
type textForm int

const (
	// eventText is what events carry: anything but NUL, since messages keep their line breaks
	// and producers send what their tools print.
	eventText textForm = iota
	// oneLine is a name, a label, a host: no control character at all.
	oneLine
	// multiLine is a description: line feeds and tabs, no other control character.
	multiLine
	// nameLine is a name that tells a thing from its likes (a configuration's): oneLine,
	// and no invisible character, by which it would look like another name.
	nameLine
)

// checkCharacters refuses the first control character s may not hold in its form, naming it
// rather than quoting s, and tells whether it refused one.
func checkCharacters(v *ValidationError, field, s string, form textForm) bool {
	var i int
	switch form {
	case eventText: // every text of every event recorded: one byte search
		i = strings.IndexByte(s, 0)
	case multiLine:
		i = strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
	case nameLine:
		i = strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || IsBidiOverride(r) || isInvisible(r) })
	default:
		i = strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || IsBidiOverride(r) }) // C0, DEL and C1
	}
	if i < 0 {
		return false
	}
	switch r, _ := utf8.DecodeRuneInString(s[i:]); {
	case r == 0:
		v.add(field, "contains a NUL character; remove it")
	case form != multiLine && (r == '\n' || r == '\r'):
		v.add(field, "contains a line break; it must be a single line")
	case form == multiLine && r == '\r':
		v.add(field, "contains a carriage return (U+000D); end lines with a line feed (\\n) alone")
	case form == multiLine:
		v.add(field, "contains the control character %U; remove it (only line breaks and tabs may be used)", r)
	case IsBidiOverride(r):
		v.add(field, "contains the bidirectional control character %U, which makes text show in another order than it reads; remove it", r)
	case isInvisible(r):
		v.add(field, "contains the invisible character %U, which makes the name look like another; remove it", r)
	default:
		v.add(field, "contains the control character %U; remove it", r)
	}
	return true
}

// IsBidiOverride tells whether r is one of the Unicode controls that embed, override or
// isolate the direction of the text after it (U+202A to U+202E, U+2066 to U+2069). A name
// holding one can show in a table as another name ("Trojan Source"); the marks U+200E and
// U+200F, which right-to-left text needs, are not among them.
func IsBidiOverride(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// isInvisible tells whether r shows as nothing, or as a blank, in a one-line name: Unicode's
// default ignorable characters (a zero width space, a soft hyphen, a byte order mark, the
// Hangul fillers, tag characters ...), the Braille blank and the line and paragraph
// separators. A name holding one looks like the name without it. Left out are what text
// needs: the zero width joiner and non-joiner (emoji, Persian, Indic scripts), variation
// selectors (emoji), the left-to-right and right-to-left marks and the Arabic letter mark,
// and the visible format characters (Arabic number signs and the like).
func isInvisible(r rune) bool {
	switch {
	case r == 0x200C || r == 0x200D || r == 0x200E || r == 0x200F || r == 0x061C || unicode.Is(unicode.Variation_Selector, r):
		return false
	case r == 0x2800 || r == 0x2028 || r == 0x2029:
		return true
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return true
	case unicode.Is(unicode.Cf, r):
		return !unicode.Is(unicode.Prepended_Concatenation_Mark, r) && !(r >= 0xFFF9 && r <= 0xFFFB) && !(r >= 0x13430 && r <= 0x1343F)
	}
	return false
}

// MaxQuoted bounds how many characters of a refused value an error message quotes: enough to
// recognise it, while a megabyte sent by mistake does not come back whole in the error.
const MaxQuoted = 64

// Quote quotes a refused value for an error message, as %q does, cut to MaxQuoted characters
// with an ellipsis. Never use it on a credential: those are not quoted at all.
func Quote(s string) string { return strconv.Quote(Truncate(s, MaxQuoted)) }

// Package domain holds herald's pure types and rules: the log event producers send, its
// validation, the event-type catalog, the filters people query with, and the facts the
// event store keeps. Nothing here does I/O.
package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Level says whether the activity behind an event was informational or a failure.
type Level uint8

// Levels. The zero value is not a valid level, so a forgotten field is caught by validation.
const (
	LevelInfo Level = iota + 1
	LevelError
)

// ParseLevel reads a level case-insensitively ("info", "INFO", "error", "ERROR").
func ParseLevel(s string) (Level, bool) {
	switch s { // the stored forms, spared the case folding on the rebuild path
	case "info":
		return LevelInfo, true
	case "error":
		return LevelError, true
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "info":
		return LevelInfo, true
	case "error":
		return LevelError, true
	}
	return 0, false
}

// String is the lower-case wire form.
func (l Level) String() string {
	switch l {
	case LevelInfo:
		return "info"
	case LevelError:
		return "error"
	}
	return ""
}

// Upper is the form the CLI prints (INFO, ERROR), as the engine's event list did.
func (l Level) Upper() string { return strings.ToUpper(l.String()) }

// Resource is what an event is about. UserID names the account the event belongs to.
type Resource struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	UserID string `json:"user_id"`
}

// Source is the service instance that emitted an event.
type Source struct {
	ServiceName string `json:"servicename"`
	HostID      string `json:"hostid"`
	BaseURL     string `json:"base_url,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
}

// LogEvent is one event as producers send it and as the log keeps it.
type LogEvent struct {
	ID        string          `json:"id"`
	Timestamp time.Time       `json:"timestamp"`
	Level     Level           `json:"-"`
	Type      string          `json:"type"`
	Message   string          `json:"message"`
	Resource  Resource        `json:"resource"`
	Source    Source          `json:"source"`
	Details   json.RawMessage `json:"details,omitempty"`
}

// Account is the account the event belongs to.
func (e LogEvent) Account() string { return e.Resource.UserID }

// ShortType is the last segment of the type ("list_tags_fail" for
// "system.repository.list_tags_fail"), which is what the CLI's Event column shows.
func (e LogEvent) ShortType() string {
	if i := strings.LastIndexByte(e.Type, '.'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

// TimestampLayout is how timestamps are written: RFC 3339 in UTC with microseconds, the
// engine's format (2018-06-28T22:36:26.512589Z).
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// FormatTimestamp writes t in TimestampLayout.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// appendTimestamp appends t as FormatTimestamp writes it. Every fact carries a timestamp, and
// time.Format's general layout interpreter is a tenth of the cost of encoding a fact.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimestampLayout)
	}
	hour, minute, sec := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1000, 6)
	return append(dst, 'Z')
}

// appendDigits appends n, which is not negative, zero-padded to width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var buf [8]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, buf[:width]...)
}

// parseTimestampLayout reads a timestamp in exactly TimestampLayout, the form every fact
// holds, without time.Parse's general machinery. ok is false for anything else, including
// out-of-range fields, which the caller then leaves to ParseTimestamp.
func parseTimestampLayout[T string | []byte](s T) (t time.Time, ok bool) {
	if len(s) != len(TimestampLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, micro := num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || micro < 0 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int(m-1)%7%2
}

// EarliestTimestamp is the earliest time herald takes, in an event or a filter: no platform
// event is older, and inside herald the zero time (0001-01-01) means "not given".
var EarliestTimestamp = time.Unix(0, 0).UTC()

// CheckEarliest reports a time before EarliestTimestamp.
func CheckEarliest(t time.Time) error {
	if t.Before(EarliestTimestamp) {
		return fmt.Errorf("%s is before %s, the earliest time herald takes", t.UTC().Format(time.RFC3339Nano), EarliestTimestamp.Format(time.RFC3339))
	}
	return nil
}

// ParseTimestamp reads an RFC 3339 timestamp (any offset, any fraction) and returns it in UTC.
// A bare date-time without offset ("2018-06-28T22:36:26") is read as UTC, as the engine did.
func ParseTimestamp(s string) (time.Time, error) {
	if t, ok := parseTimestampLayout(s); ok {
		return t, nil
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &time.ParseError{Layout: time.RFC3339, Value: s, Message: ": want an RFC 3339 timestamp such as 2018-06-28T22:36:26.512589Z"}
}

// Differences names the fields in which other differs from e, in the order of the event's
// JSON form; the timestamp counts only when withTime (an event sent without one is stamped
// when it arrives, so a resent copy differs in it). Details are compared as the log stores
// them (compacted, &, < and > escaped), their keys in the order sent.
func (e LogEvent) Differences(other LogEvent, withTime bool) []string {
	var out []string
	add := func(differ bool, field string) {
		if differ {
			out = append(out, field)
		}
	}
	add(withTime && FormatTimestamp(e.Timestamp) != FormatTimestamp(other.Timestamp), "timestamp")
	add(e.Level != other.Level, "level")
	add(e.Type != other.Type, "type")
	add(e.Message != other.Message, "message")
	add(e.Resource != other.Resource, "resource")
	add(e.Source != other.Source, "source")
	add(!bytes.Equal(appendRawJSON(nil, e.Details), appendRawJSON(nil, other.Details)), "details")
	return out
}

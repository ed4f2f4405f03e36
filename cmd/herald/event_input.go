package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// inputEvent is one event of `event send`'s input: the line it starts on, its JSON on one
// line, and its id if it has one (set once it is checked).
type inputEvent struct {
	line int
	raw  []byte
	id   string
}

// readInputEvents calls each for every event of in: a JSON array of events, one event per
// line (NDJSON, blank lines skipped), or one JSON object over several lines (pretty-printed).
// NDJSON is streamed, so inputs of any length work; the other forms are read whole. A UTF-8
// byte-order mark ahead of the input, as some Windows editors write, is skipped. Each event's
// raw is its own, never reused: each may keep it, or hand it to another goroutine.
func readInputEvents(in io.Reader, each func(inputEvent) error) error {
	r := bufio.NewReaderSize(in, 1<<20)
	if bom, _ := r.Peek(len(utf8BOM)); bytes.Equal(bom, utf8BOM) {
		_, _ = r.Discard(len(utf8BOM))
	}
	line := 1 // of the first byte not read yet
	for {
		b, err := r.Peek(1)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch b[0] {
		case '[':
			return readEventArray(r, line, each)
		case '\n':
			line++
		case ' ', '\t', '\r':
		default:
			if firstLineIsJSON(r) {
				return readEventLines(r, line, each)
			}
			return readEventDocument(r, line, each)
		}
		_, _ = r.ReadByte()
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// inputError is a fault of the input as a whole (an array or a document that is not closed
// or not JSON), found at one line of it.
type inputError struct {
	line int
	err  error
}

func atLine(line int, format string, args ...any) error {
	return &inputError{line: line, err: fmt.Errorf(format, args...)}
}

func (e *inputError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *inputError) Unwrap() error { return e.err }

// firstLineIsJSON tells whether the line ahead of r is a JSON value on its own, as every line
// of NDJSON is, and a line that opens a pretty-printed object is not. It waits for that line
// only, so that NDJSON from a pipe still streams; a line longer than r's buffer is taken for
// NDJSON.
func firstLineIsJSON(r *bufio.Reader) bool {
	for {
		ahead, _ := r.Peek(r.Buffered())
		if first, _, found := bytes.Cut(ahead, []byte{'\n'}); found {
			return json.Valid(first)
		}
		if len(ahead) == r.Size() {
			return true
		}
		if _, err := r.Peek(len(ahead) + 1); err != nil { // the input ends without a newline
			ahead, _ = r.Peek(r.Buffered())
			return json.Valid(ahead)
		}
	}
}

func readEventLines(r io.Reader, line int, each func(inputEvent) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	for ; ; line++ {
		text, err := br.ReadBytes('\n')
		if trimmed := bytes.TrimSpace(text); len(trimmed) > 0 {
			if cbErr := each(inputEvent{line: line, raw: trimmed}); cbErr != nil {
				return cbErr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readEventDocument reads an input whose first line is no JSON value on its own: one event
// pretty-printed over several lines (or several, one after the other, as jq prints them), or
// NDJSON whose first line is broken, which is read line by line as usual so that every bad
// line is reported and the good ones are sent.
func readEventDocument(r io.Reader, firstLine int, each func(inputEvent) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	lineAt := lineFinder(data, firstLine)
	var events []inputEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		e, err := decodeEvent(dec, data, lineAt)
		if err == io.EOF {
			break
		}
		if err != nil {
			if ndjson(data) {
				return readEventLines(bytes.NewReader(data), firstLine, each)
			}
			return atLine(lineAt(errorOffset(err, data)), "malformed JSON: %w; give one event per line (NDJSON), a JSON array of events, or one JSON object", err)
		}
		events = append(events, e)
	}
	for _, e := range events {
		if err := each(e); err != nil {
			return err
		}
	}
	return nil
}

// ndjson tells whether data, whose first line is broken, looks like one object per line: every
// later line that is not blank opens an object, which the inner lines of a pretty-printed
// object do not.
func ndjson(data []byte) bool {
	_, rest, _ := bytes.Cut(data, []byte{'\n'})
	for text := range bytes.Lines(rest) {
		if t := bytes.TrimSpace(text); len(t) > 0 && t[0] != '{' {
			return false
		}
	}
	return true
}

func readEventArray(r io.Reader, firstLine int, each func(inputEvent) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	lineAt := lineFinder(data, firstLine)
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // [
		return atLine(firstLine, "%w", err)
	}
	broken := func(err error, at int64) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return atLine(lineAt(int64(len(data))), "the JSON array is not closed: ] is missing")
		}
		return atLine(lineAt(at), "malformed JSON array: %w", err)
	}
	// The whole array is read before any event goes: a broken end refuses all of it.
	var events []inputEvent
	for dec.More() {
		e, err := decodeEvent(dec, data, lineAt)
		if err != nil {
			return broken(err, errorOffset(err, data))
		}
		events = append(events, e)
	}
	if _, err := dec.Token(); err != nil { // ]
		return broken(err, dec.InputOffset())
	}
	if end := skipSpace(data, int(dec.InputOffset())); end < len(data) {
		return atLine(lineAt(int64(end)), "more after the JSON array's closing ]: give one array, or one event per line (NDJSON)")
	}
	for _, e := range events {
		if err := each(e); err != nil {
			return err
		}
	}
	return nil
}

// decodeEvent reads the next value of dec, a decoder of data, as an event on one line.
func decodeEvent(dec *json.Decoder, data []byte, lineAt func(offset int64) int) (inputEvent, error) {
	// The decoder's offset is before the comma and white space ahead of the value.
	line := lineAt(int64(skipSpace(data, int(dec.InputOffset()))))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return inputEvent{}, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return inputEvent{}, err
	}
	return inputEvent{line: line, raw: compact.Bytes()}, nil
}

// errorOffset is where in data the decoding error err lies.
func errorOffset(err error, data []byte) int64 {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return syntax.Offset - 1 // the offset is past the character at fault
	}
	return int64(len(data)) - 1 // the input ended inside a value
}

// lineFinder returns the line of an offset of data, whose first byte is on line firstLine.
func lineFinder(data []byte, firstLine int) func(offset int64) int {
	var newlines []int // offsets of the newlines of data
	for i, c := range data {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	return func(offset int64) int { return sort.SearchInts(newlines, int(offset)) + firstLine }
}

// skipSpace returns the offset of the first byte of data from pos on that is neither a comma
// nor white space: where the JSON value a decoder is about to read starts.
func skipSpace(data []byte, pos int) int {
	for pos < len(data) && strings.IndexByte(", \t\r\n", data[pos]) >= 0 {
		pos++
	}
	return pos
}

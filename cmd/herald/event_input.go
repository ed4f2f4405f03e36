package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// readInputEvents calls each for every event of in: a JSON array of events, or one event per
// line (NDJSON, blank lines skipped). NDJSON is streamed, so inputs of any length work; an
// array is read whole.
func readInputEvents(in io.Reader, each func(inputEvent) error) error {
	r := bufio.NewReaderSize(in, 1<<20)
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
			return readEventLines(r, line, each)
		}
		_, _ = r.ReadByte()
	}
}

func readEventLines(r *bufio.Reader, line int, each func(inputEvent) error) error {
	for ; ; line++ {
		text, err := r.ReadBytes('\n')
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

func readEventArray(r io.Reader, firstLine int, each func(inputEvent) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var newlines []int // offsets of the newlines of data
	for i, c := range data {
		if c == '\n' {
			newlines = append(newlines, i)
		}
	}
	lineAt := func(offset int64) int { return sort.SearchInts(newlines, int(offset)) + firstLine }
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // [
		return fmt.Errorf("line %d: %w", firstLine, err)
	}
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("line %d: malformed JSON array: %w", lineAt(dec.InputOffset()), err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return fmt.Errorf("line %d: %w", lineAt(start), err)
		}
		pos := int(start) // the decoder's offset is before the comma and space ahead of the element
		for pos < len(data) && strings.IndexByte(", \t\r\n", data[pos]) >= 0 {
			pos++
		}
		if err := each(inputEvent{line: lineAt(int64(pos)), raw: compact.Bytes()}); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ]
		return fmt.Errorf("line %d: malformed JSON array: %w", lineAt(dec.InputOffset()), err)
	}
	return nil
}

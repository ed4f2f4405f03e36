package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"
	"golang.org/x/term"

	"herald/domain"
)

// counted is n and a noun in its number: "1 event", "2 events", "0 duplicates".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// inNumber is one when n is 1 and many otherwise: the word that agrees with a count ("has"
// or "have", "it" or "them").
func inNumber(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// printable is s with its control characters (and the bidirectional overrides, which reorder
// what follows them) written as Go escapes (\n, \t, \x1b, \u0085, \u202e),
// for a table cell or a line on a terminal. Names, event fields and receivers' answers come
// from other people: printed raw, an ESC could recolour or rewrite the reader's terminal, and
// a newline or a tab would break the table.
func printable(s string) string {
	return escapeControls(s, func(r rune) bool { return unicode.IsControl(r) || domain.IsBidiOverride(r) })
}

// printableText is printable for text of several lines, such as an error: it keeps newlines
// and tabs.
func printableText(s string) string {
	return escapeControls(s, func(r rune) bool {
		return r != '\n' && r != '\t' && unicode.IsControl(r) || domain.IsBidiOverride(r)
	})
}

func escapeControls(s string, control func(rune) bool) string {
	if !strings.ContainsFunc(s, control) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !control(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\n', '\x1b', '\u0085'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// printJSON writes v as indented JSON. The bidirectional controls, DEL and the C1 controls
// (which encoding/json leaves raw) are written as escapes (\u202E, \u009B), which JSON reads
// back as the same text: raw, they would reorder what the reader sees after them or drive the
// terminal (an event's message comes from whoever produced it).
func printJSON(cmd *cobra.Command, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := cmd.OutOrStdout().Write(escapeForTerminal(b.Bytes()))
	return err
}

// printYAML writes v as YAML indented by 2. A string holding a bidirectional control is
// written double-quoted, with the control as an escape (\u202E): YAML reads it back as the same
// text, and the terminal shows it in the order it reads. (The YAML encoder escapes the other
// control characters itself, but takes these for printable.)
func printYAML(cmd *cobra.Command, v any) error {
	var doc yaml.Node
	if err := doc.Encode(v); err != nil {
		return err
	}
	quoteBidi(&doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := cmd.OutOrStdout().Write(escapeForTerminal(b.Bytes()))
	return err
}

// quoteBidi double-quotes the scalars (keys too) that hold a bidirectional control, the one
// style of YAML in which escapeForTerminal's escapes mean the character.
func quoteBidi(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && strings.ContainsFunc(n.Value, domain.IsBidiOverride) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		quoteBidi(c)
	}
}

// escapeForTerminal writes each bidirectional control, DEL and C1 control of out, JSON or
// YAML in which they can only stand inside double-quoted strings (the YAML encoder escapes
// DEL and C1 itself), as a \uXXXX escape.
func escapeForTerminal(out []byte) []byte {
	if !bytes.ContainsFunc(out, rawForTerminal) {
		return out
	}
	var b bytes.Buffer
	for len(out) > 0 {
		r, size := utf8.DecodeRune(out)
		if rawForTerminal(r) {
			fmt.Fprintf(&b, "\\u%04X", r)
		} else {
			b.Write(out[:size])
		}
		out = out[size:]
	}
	return b.Bytes()
}

// rawForTerminal tells whether r, left raw, would reorder the text after it or drive the
// terminal, in output whose C0 controls the encoder already escaped.
func rawForTerminal(r rune) bool {
	return domain.IsBidiOverride(r) || r == 0x7F || r >= 0x80 && r <= 0x9F
}

// isTerminal tells whether f, a reader or writer of a command, is a terminal: not a file, a
// pipe, or another character device such as /dev/null.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

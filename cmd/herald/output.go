package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"

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

// isTerminal tells whether f, a reader or writer of a command, is a terminal: not a file, a
// pipe, or another character device such as /dev/null.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

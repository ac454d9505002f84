package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text from a cluster (names, event and container messages, server errors)
// is written by daemoncheck to terminals and to CI logs, where some
// characters are instructions rather than text:
//
//   - control characters: ESC starts terminal sequences that clear or
//     rewrite lines; CR and LF start new lines (a forged table row, a forged
//     workflow command);
//   - Unicode format characters (bidi overrides U+202A..U+202E and isolates
//     U+2066..U+2069, zero-width U+200B..U+200F, U+2060, U+FEFF, tag
//     characters) and the line and paragraph separators: they reorder or
//     hide what a reader sees;
//   - GitHub Actions workflow commands: the runner executes "::command::"
//     at the start of a line (after white space) and the legacy
//     "##[command]" anywhere in a line, so "##[stop-commands]" in an event
//     message would switch off every later annotation of the job;
//   - bytes that are not UTF-8: XML, Prometheus and JSON readers reject the
//     whole document for one.
//
// Visible writes each of them so that a person sees it and nothing acts on
// it: controls as \x1b, \n, \t; format characters as \u202e; invalid bytes
// as \xff; "##[" as "##\[" and a line that starts with "::" as "\::".
// Printable text, a backslash included, is left as is: the result is for
// people and CI logs, not to be unescaped.

// Terminal is s as one line that is safe on a terminal and in a CI log:
// a newline is written \n, so that no value can start a line of its own.
func Terminal(s string) string { return escape(s, false) }

// Lines is Terminal for text that may span lines (an XML text node, an
// annotation's message): newlines are kept, and each line is made safe.
func Lines(s string) string { return escape(s, true) }

// escape is Terminal (multiline false) or Lines (true).
func escape(s string, multiline bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && multiline:
			b.WriteByte('\n')
			i += n
			lineStart = true
			continue
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case lineStart && r == ':' && strings.HasPrefix(s[i:], "::"):
			b.WriteString(`\:`)
		case r == '#' && strings.HasPrefix(s[i:], "##["):
			b.WriteString(`##\[`)
			i += len("##[")
			lineStart = false
			continue
		default:
			b.WriteRune(r)
		}
		// The runner trims white space before looking for "::".
		if !unicode.IsSpace(r) {
			lineStart = false
		}
		i += n
	}
	return b.String()
}

// isPlain says whether escape would leave s as it is (the common case,
// checked without allocating).
func isPlain(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError || r >= 0xa0 && hidden(r) {
			return false
		}
	}
	return !strings.Contains(s, "##[") && !strings.Contains(s, "::")
}

// hidden says whether r changes how text around it reads without being
// seen: Unicode format characters (bidi controls, zero-width characters,
// the byte order mark, tag characters, the soft hyphen), the line and
// paragraph separators, and the noncharacters (U+FFFE and U+FFFF are not
// allowed in XML at all).
func hidden(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r&0xfffe == 0xfffe || r >= 0xfdd0 && r <= 0xfdef
}

// Truncate cuts s to at most n bytes on a rune boundary: a cut in the
// middle of a character leaves bytes that are not UTF-8, which XML,
// Prometheus and JSON readers reject. Callers add their own ellipsis.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

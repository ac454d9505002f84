package rendertest

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// NothingActive fails when out holds a character that acts on a
// terminal or a reader (controls other than newline, bidi and zero-width
// characters) or a workflow command the runner would execute: "##[" in a
// line, or "::" at the start of a line that is not one of -o github's own
// annotations.
func NothingActive(t testing.TB, name, out string) {
	t.Helper()
	NoActiveText(t, name, out, false)
}

// NoActiveText is NothingActive; annotations says the output
// is -o github's, whose own lines are workflow commands.
func NoActiveText(t testing.TB, name, out string, annotations bool) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || isHidden(r) {
			t.Errorf("%s: raw %U in the output:\n%s", name, r, out)
			return
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "##[") {
			t.Errorf("%s: a legacy workflow command in %q", name, l)
		}
		if strings.HasPrefix(strings.TrimLeft(l, " \t\u00a0"), "::") && !(annotations && WorkflowCommand.MatchString(l)) {
			t.Errorf("%s: a line starts a workflow command: %q", name, l)
		}
	}
}

func isHidden(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == 0xfffe || r == 0xffff
}

// MarkdownSafe checks what a Markdown reader makes of out: every table
// row has its header's number of cells, and outside code spans there is no
// HTML and no unescaped bracket (a link or an image).
func MarkdownSafe(t testing.TB, name, out string) {
	t.Helper()
	NothingActive(t, name, out)
	cells := -1
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "|") {
			cells = -1
			continue
		}
		n := unescapedPipes(l)
		if cells < 0 {
			cells = n
		} else if n != cells {
			t.Errorf("%s: a row of %d cells under a header of %d: %q", name, n-1, cells-1, l)
		}
		// Outside code spans (which GitHub's tables split at \| too).
		for i, part := range strings.Split(l, "`") {
			if i%2 == 1 {
				continue
			}
			if strings.ContainsAny(part, "<>") {
				t.Errorf("%s: HTML in %q", name, l)
			}
			for j := range len(part) {
				if (part[j] == '[' || part[j] == ']') && backslashesBefore(part, j)%2 == 0 {
					t.Errorf("%s: an unescaped bracket in %q", name, l)
					break
				}
			}
		}
	}
}

// unescapedPipes counts the pipes that split a table row, as GitHub's
// tables (cmark-gfm) split it: at every pipe without a backslash just
// before it, in code spans too.
func unescapedPipes(l string) int {
	n := 0
	for i := range len(l) {
		if l[i] == '|' && backslashesBefore(l, i) == 0 {
			n++
		}
	}
	return n
}

func backslashesBefore(s string, i int) int {
	n := 0
	for i > 0 && s[i-1] == '\\' {
		n++
		i--
	}
	return n
}

// XMLTexts parses doc with encoding/xml (failing the test when it is not
// well-formed) and returns every attribute value, text and comment.
func XMLTexts(t testing.TB, doc []byte) []string {
	t.Helper()
	// encoding/xml does not check comments for characters XML forbids;
	// other readers do.
	for _, r := range string(doc) {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff) {
			t.Fatalf("%U is not an XML character:\n%s", r, doc)
		}
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	var out []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			for _, a := range tk.Attr {
				out = append(out, a.Value)
			}
		case xml.CharData:
			out = append(out, string(tk))
		case xml.Comment:
			out = append(out, string(tk))
		}
	}
}

// WorkflowCommand is the shape of a GitHub Actions workflow command line.
var WorkflowCommand = regexp.MustCompile(`^::(error|warning|notice)( ([a-z]+=[^,:]*)(,[a-z]+=[^,:]*)*)?::(.*)$`)

package render

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cutVisible cuts s to width terminal columns, ending a cut line with an
// ellipsis. Colour sequences take no column and are kept whole (a cut
// line ends with a reset, so the colour does not run on), and runes are
// never split.
func cutVisible(s string, width int) string {
	if visibleLen(s) <= width {
		return s
	}
	var b strings.Builder
	n, coloured := 0, false
	for i := 0; i < len(s); {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && s[j] != 'm' {
				j++
			}
			seq := s[i:min(j+1, len(s))]
			b.WriteString(seq)
			coloured = seq != sgrReset
			i = j + 1
			continue
		}
		if n == width-1 {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		i += size
		n++
	}
	out := strings.TrimRightFunc(b.String(), unicode.IsSpace) + "…"
	if coloured {
		out += sgrReset
	}
	return out
}

// visibleLen is the number of columns s takes on a terminal: its runes
// without SGR colour sequences.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && s[j] != 'm' {
				j++
			}
			i = j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// WrapItems writes items joined by ", " wrapped to width as wrap does, but
// breaking lines only between items, so that an item ("pods 38/880 (5%)")
// stays whole on its line; an item wider than a line on its own is wrapped
// at its spaces. width 0 (pipes, files): one line.
func WrapItems(items []string, width int, first, rest string) string {
	var b strings.Builder
	line, indent := "", first
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		switch {
		case line == "":
			line = it
		case width > 0 && visibleLen(indent)+visibleLen(line+" "+it) > width:
			b.WriteString(Wrap(line, width, indent, rest))
			line, indent = it, rest
		default:
			line += " " + it
		}
	}
	if line != "" {
		b.WriteString(Wrap(line, width, indent, rest))
	}
	return b.String()
}

// cutWriter cuts every line at width display columns, ending a cut line
// with an ellipsis.
type cutWriter struct {
	w     io.Writer
	width int
	buf   bytes.Buffer
}

func (c *cutWriter) Write(p []byte) (int, error) {
	c.buf.Write(p)
	for {
		i := bytes.IndexByte(c.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(c.buf.Next(i + 1))
		if _, err := io.WriteString(c.w, cutLine(strings.TrimSuffix(line, "\n"), c.width)+"\n"); err != nil {
			return 0, err
		}
	}
}

func (c *cutWriter) flush() error {
	if c.buf.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(c.w, cutLine(c.buf.String(), c.width))
	return err
}

func cutLine(s string, width int) string { return cutVisible(s, width) }

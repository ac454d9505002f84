package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"k8s.io/cli-runtime/pkg/printers"
)

// safe makes text from the cluster (event and container messages, image and
// node names, server errors) safe to print for a person: no terminal escape
// sequence can clear or rewrite a line, and no newline can inject a table
// row. cli-runtime's EscapeTerminal handles ESC and CR; the rest of the C0
// and C1 control characters are escaped here.
func safe(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = printers.EscapeTerminal(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
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

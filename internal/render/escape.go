package render

import (
	"bytes"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Every printer writes text that came from the cluster (names, event and
// container messages, server errors, kubeconfig context names) through the
// one sanitiser of its output context, below: terminal text (safe), GitHub
// workflow command data and properties (ghData, ghProperty), Markdown cell
// and inline text (mdEscape, mdCode), XML text, attributes and comments
// (junitSuites.sanitise, xmlComment), Prometheus label values (promLabel).
// Each starts from text.Terminal or text.Lines, which write control,
// bidi and zero-width characters visibly (\x1b, \u202e) and neutralise
// GitHub workflow commands ("##[", a line starting with "::"): every one of
// these outputs can end up in a CI log.

// safe makes text from the cluster safe to print for a person: no terminal
// escape sequence can clear or rewrite a line, no newline can inject a table
// row, no bidi override can reorder what is read, and no workflow command
// runs in a CI log.
func safe(s string) string { return text.Terminal(s) }

// ghData escapes a workflow command's message as the Actions toolkit does
// (toolkit/packages/core/src/command.ts: a newline would end the command),
// after text.Lines (the message may span lines; the runner unescapes
// them).
func ghData(s string) string { return ghDataEscaper.Replace(text.Lines(s)) }

// ghProperty escapes a property value (a title): also ":" and ",", which
// delimit properties.
func ghProperty(s string) string { return ghPropertyEscaper.Replace(text.Terminal(s)) }

var (
	ghDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// mdEscape keeps a value in its table cell, and text in its line, as text:
// a pipe or newline would break the table; a backslash could undo the
// escapes; HTML (<h1>, <img>, <a>, comments) and link and image syntax
// ([text](url), ![](url), <url>) would put the cluster's markup in a job
// summary or pull-request comment; a backtick would open a code span.
func mdEscape(s string) string { return mdEscaper.Replace(text.Terminal(s)) }

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "`", "\\`", "[", `\[`, "]", `\]`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;")

// mdCode writes a name (a context may hold any character) as inline code,
// where Markdown reads neither HTML nor escapes: only a backtick would end
// it (written ') and a pipe end its table cell (GitHub's tables read \| in
// code spans too).
func mdCode(s string) string {
	return "`" + strings.NewReplacer("`", "'", "|", `\|`).Replace(text.Terminal(s)) + "`"
}

// xmlComment makes s the text of an XML comment: "--" may not occur in one
// (nor end it), so a "-" after a "-" is written "\-" (a context named
// team-a---prod reads team-a-\-\-prod); characters XML does not allow are
// written visibly by text.Terminal.
func xmlComment(s string) string {
	s = text.Terminal(s)
	if !strings.Contains(s, "--") {
		return s
	}
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		if r == '-' && prev == '-' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// sanitise passes every text and attribute of the document through
// text.Lines, once, just before it is encoded (the JUnit printers of the
// audit, the fleet and the what-if build their documents freely):
// encoding/xml escapes markup, but writes a character XML does not allow
// (ESC, NUL) as U+FFFD, which hides what the server said, and passes bidi
// characters and workflow commands through.
func (out *junitSuites) sanitise() {
	x := text.Lines
	out.Name = x(out.Name)
	for i := range out.Suites {
		s := &out.Suites[i]
		s.Name, s.Timestamp = x(s.Name), x(s.Timestamp)
		for j := range s.Properties {
			p := &s.Properties[j]
			p.Name, p.Value = x(p.Name), x(p.Value)
		}
		for j := range s.Cases {
			c := &s.Cases[j]
			c.Name, c.Classname, c.SystemOut = x(c.Name), x(c.Classname), x(c.SystemOut)
			if c.Skipped != nil {
				c.Skipped.Message = x(c.Skipped.Message)
			}
			for _, f := range []*junitFailure{c.Error, c.Failure} {
				if f != nil {
					f.Type, f.Message, f.Text = x(f.Type), x(f.Message), x(f.Text)
				}
			}
		}
	}
}

// promLabel is a Prometheus label value: the exposition format escapes
// backslash, quote and newline itself, but passes other control and bidi
// characters, and its parsers reject a value that is not UTF-8.
func promLabel(s string) string { return text.Terminal(s) }

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

// Package escape holds the sanitisers of every output context the printers
// write to, in one place so that each context has exactly one, and the
// printers of every package (render, render/plan, render/ci) share them.
package escape

import (
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Every printer writes text that came from the cluster (names, event and
// container messages, server errors, kubeconfig context names) through the
// one sanitiser of its output context, below: terminal text (Terminal),
// GitHub workflow command data and properties (GHData, GHProperty),
// Markdown cell and inline text (Markdown, MarkdownCode), XML text,
// attributes and comments (the JUnit document's sanitise in
// internal/render/ci, XMLComment), Prometheus label values (PromLabel),
// JSON and YAML (machine.go).
// Each starts from text.Terminal or text.Lines, which write control,
// bidi and zero-width characters visibly (\x1b, \u202e) and neutralise
// GitHub workflow commands ("##[", a line starting with "::"): every one of
// these outputs can end up in a CI log.

// Terminal makes text from the cluster safe to print for a person: no
// terminal escape sequence can clear or rewrite a line, no newline can
// inject a table row, no bidi override can reorder what is read, and no
// workflow command runs in a CI log.
func Terminal(s string) string { return text.Terminal(s) }

// GHData escapes a workflow command's message as the Actions toolkit does
// (toolkit/packages/core/src/command.ts: a newline would end the command),
// after text.Lines (the message may span lines; the runner unescapes
// them).
func GHData(s string) string { return ghDataEscaper.Replace(text.Lines(s)) }

// GHProperty escapes a property value (a title): also ":" and ",", which
// delimit properties.
func GHProperty(s string) string { return ghPropertyEscaper.Replace(text.Terminal(s)) }

var (
	ghDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// Markdown keeps a value in its table cell, and text in its line, as text:
// a pipe or newline would break the table; a backslash could undo the
// escapes; HTML (<h1>, <img>, <a>, comments) and link and image syntax
// ([text](url), ![](url), <url>) would put the cluster's markup in a job
// summary or pull-request comment; a backtick would open a code span.
func Markdown(s string) string { return mdEscaper.Replace(text.Terminal(s)) }

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "`", "\\`", "[", `\[`, "]", `\]`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;")

// MarkdownCode writes a name (a context may hold any character) as inline code,
// where Markdown reads neither HTML nor escapes: only a backtick would end
// it (written ') and a pipe end its table cell (GitHub's tables read \| in
// code spans too).
func MarkdownCode(s string) string {
	return "`" + strings.NewReplacer("`", "'", "|", `\|`).Replace(text.Terminal(s)) + "`"
}

// XMLComment makes s the text of an XML comment: "--" may not occur in one
// (nor end it), so a "-" after a "-" is written "\-" (a context named
// team-a---prod reads team-a-\-\-prod); characters XML does not allow are
// written visibly by text.Terminal.
func XMLComment(s string) string {
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

// PromLabel is a Prometheus label value: the exposition format escapes
// backslash, quote and newline itself, but passes other control and bidi
// characters, and its parsers reject a value that is not UTF-8.
func PromLabel(s string) string { return text.Terminal(s) }

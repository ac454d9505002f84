// Package page writes a report as one self-contained HTML page: the
// verdict, the problems with their causes and fixes, and the node x
// DaemonSet coverage grid by pool. It is -o html (internal/render registers
// it) and the page `serve` answers on /.
package page

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The page is one self-contained file: a CI artifact opened from disk and
// the page `serve` answers on / must work offline, so the style and the
// little script are inlined, never linked.
var (
	//go:embed page.tmpl
	htmlTemplate string
	//go:embed page.css
	htmlCSS string
	//go:embed page.js
	htmlJS string
)

var htmlPageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).Parse(htmlTemplate))

// DefaultCollapseAbove is the pool size above which the HTML grid shows a
// pool as counts, its nodes behind a drill-in: a few thousand rows of cells
// bury the one broken node.
const DefaultCollapseAbove = 50

// Options shape the HTML page.
type Options struct {
	// Title heads the page ("" is "daemoncheck report").
	Title string
	// CollapseAbove is the pool size above which a pool is collapsed to
	// counts (0: DefaultCollapseAbove; negative: never).
	CollapseAbove int
	// Refresh, when positive, makes the browser reload the page that often
	// (a live page served from a cluster).
	Refresh time.Duration
}

// Texts are the sentences the page shares word for word with the other
// formats (a terminal line, an XML comment, a Markdown quote): the package
// render words them, the page only shows them. Write cleans them.
type Texts struct {
	// Verdict is "passed", "failed" or "incomplete".
	Verdict string
	// Partial says what a partial report could not read ("" when the
	// report is complete), without the "PARTIAL REPORT: " of a terminal.
	Partial string
	// SetAside says how many findings exemptions and --grace set aside
	// ("" when none).
	SetAside string
}

// Write writes the report as one self-contained HTML page: the verdict,
// the problems with their causes and fixes, and the node x DaemonSet
// coverage grid by pool. Every string from the report goes through
// html/template, after clean has made control and bidirectional characters
// visible.
func Write(w io.Writer, r *report.Report, t Texts, opts Options) error {
	bw := bufio.NewWriterSize(w, 64*1024)
	if err := htmlPageTemplate.Execute(bw, newHTMLPage(r, t, opts)); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlPage is what the template shows: every string in it is already
// cleaned, every list already in its order.
type htmlPage struct {
	Title       string
	Refresh     int
	CSS         template.CSS
	JS          template.JS
	Verdict     string
	VerdictKey  string
	VerdictLine string
	GeneratedAt string
	Source      string
	Server      string
	Gate        string
	Partial     string
	Warnings    []string
	SetAside    string
	Problems    []htmlProblem
	Grid        grid
	States      []gridState
	DaemonSets  []htmlDaemonSet
}

type htmlProblem struct {
	ID         string
	Type       string
	Severity   string
	Failing    bool
	DaemonSets []string
	Nodes      string
	// AllNodes lists every node when Nodes, a compact range, leaves some
	// out.
	AllNodes []string
	Cause    string
	Pattern  string
	Fix      []fixPart
}

// fixPart is a piece of a fix: words, or a command to copy.
type fixPart struct {
	Text    string
	Command string
	Writes  bool
}

type htmlDaemonSet struct {
	Namespace, Name                                      string
	Desired, Current, Ready, UpToDate, Available, Marked string
	Findings                                             int
	ManagedBy                                            string
}

func newHTMLPage(r *report.Report, t Texts, opts Options) *htmlPage {
	collapse := opts.CollapseAbove
	switch {
	case collapse == 0:
		collapse = DefaultCollapseAbove
	case collapse < 0:
		collapse = int(^uint(0) >> 1)
	}
	p := &htmlPage{
		Title:   clean(orNone(opts.Title, "daemoncheck report")),
		Refresh: int(opts.Refresh / time.Second),
		CSS:     template.CSS(htmlCSS),
		JS:      template.JS(htmlJS),
		Source:  clean(r.Source),
		Server:  clean(r.ServerVersion),
		Gate:    gateWords(r),
		Grid:    buildGrid(r, collapse),
		States:  gridStates,
	}
	if !r.GeneratedAt.IsZero() {
		p.GeneratedAt = r.GeneratedAt.UTC().Format(time.RFC3339)
	}
	p.VerdictKey = t.Verdict
	p.Verdict = strings.ToUpper(p.VerdictKey)
	s := r.Summary
	p.VerdictLine = fmt.Sprintf("%d failing of %d findings in %d DaemonSets (%d healthy)", s.Failing, s.Findings, s.DaemonSets, s.Healthy)
	p.Partial = clean(t.Partial)
	for _, w := range r.Warnings {
		p.Warnings = append(p.Warnings, clean(w))
	}
	p.SetAside = clean(t.SetAside)
	for i := range r.Problems {
		p.Problems = append(p.Problems, newHTMLProblem(&r.Problems[i]))
	}
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		c := ds.Computed
		get := func(f func(*report.Counts) int32) string { return num(c, f) }
		hd := htmlDaemonSet{Namespace: clean(ds.Namespace), Name: clean(ds.Name),
			Desired:   get(func(c *report.Counts) int32 { return c.DesiredNumberScheduled }),
			Current:   get(func(c *report.Counts) int32 { return c.CurrentNumberScheduled }),
			Ready:     get(func(c *report.Counts) int32 { return c.NumberReady }),
			UpToDate:  get(func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }),
			Available: get(func(c *report.Counts) int32 { return c.NumberAvailable }),
			Findings:  activeCount(ds.Findings),
		}
		if ds.ManagedBy != nil {
			hd.ManagedBy = clean(ds.ManagedBy.Summary)
		}
		p.DaemonSets = append(p.DaemonSets, hd)
	}
	return p
}

func newHTMLProblem(pr *report.Problem) htmlProblem {
	hp := htmlProblem{ID: clean(pr.ID), Type: clean(pr.Type), Severity: clean(string(pr.Severity)), Failing: pr.Failing,
		Cause: clean(pr.Cause), Pattern: clean(pr.Pattern), Nodes: "none: about the DaemonSet as a whole"}
	for _, ds := range pr.DaemonSets {
		hp.DaemonSets = append(hp.DaemonSets, clean(ds))
	}
	if len(pr.Nodes) > 0 {
		hp.Nodes = strconv.Itoa(len(pr.Nodes)) + ": " + clean(pr.Range)
	}
	if len(pr.Nodes) > allNodesAbove {
		for _, n := range pr.Nodes {
			hp.AllNodes = append(hp.AllNodes, clean(n))
		}
	}
	hp.Fix = fixParts(pr.Advice, pr.Fix)
	return hp
}

// allNodesAbove is the node count above which a problem also lists every
// node behind a drill-in: its range then names only the first few.
const allNodesAbove = 5

// fixParts splits advice into words and the commands its "{i}" markers
// stand for (as report.Advice.Render reads them), so that each command is a
// block of its own to copy; fix is the rendered text, for advice-less
// problems.
func fixParts(a *report.Advice, fix string) []fixPart {
	if a == nil {
		if fix == "" {
			return nil
		}
		return []fixPart{{Text: clean(fix)}}
	}
	var out []fixPart
	rest := a.Text
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest[max(i, 0):], '}')
		if i < 0 || j < 0 {
			out = append(out, fixPart{Text: clean(rest)})
			break
		}
		n, err := strconv.Atoi(rest[i+1 : i+j])
		if err != nil || n < 0 || n >= len(a.Commands) {
			out = append(out, fixPart{Text: clean(rest[:i+1])})
			rest = rest[i+1:]
			continue
		}
		if i > 0 {
			out = append(out, fixPart{Text: clean(rest[:i])})
		}
		c := a.Commands[n]
		out = append(out, fixPart{Command: clean(c.Render(report.RenderOptions{})), Writes: c.Writes})
		rest = rest[i+j+1:]
	}
	return out
}

// gateWords says what the findings were judged under.
func gateWords(r *report.Report) string {
	g := r.Gate
	parts := []string{"--fail-on " + orNone(strings.Join(g.FailOn, ","), string(report.DefaultFailOn))}
	if len(g.Ignore) > 0 {
		ig := make([]string, len(g.Ignore))
		for i, t := range g.Ignore {
			ig[i] = string(t)
		}
		parts = append(parts, "--ignore "+strings.Join(ig, ","))
	}
	if g.Grace != "" {
		parts = append(parts, "--grace "+g.Grace)
	}
	return clean(strings.Join(parts, " "))
}

// clean is the terminal sanitiser's escaping (control, bidi and
// zero-width characters shown as escapes) before html/template's own: the
// page shows what was made harmless, readably.
func clean(s string) string { return text.Terminal(s) }

// unknown is what a count not read shows, as in the other formats.
const unknown = "<unknown>"

func num(c *report.Counts, get func(*report.Counts) int32) string {
	if c == nil {
		return unknown
	}
	return strconv.Itoa(int(get(c)))
}

func activeCount(fs []report.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Active() {
			n++
		}
	}
	return n
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

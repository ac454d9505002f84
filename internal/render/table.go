// Package render prints reports: the one registry of -o formats
// (formats.go), kubectl's machine printers (printflags.go), and the views
// for people of the audit, the nodes, -w and several clusters, with the
// tables, wrapping, colour and words that the printers of its subpackages
// share (plan: the capacity and what-if views; ci: JUnit, Markdown,
// GitHub, Prometheus). Printers only read the report: every number and
// sentence they show was decided by the analysis.
package render

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Options shape the human output.
type Options struct {
	// Wide is set by Printer.Print for -o wide.
	Wide      bool
	NoHeaders bool
	// MaxWidth, when set (a terminal), is the terminal's width: tables
	// that do not fit drop columns, switch to a list, or cut long cells
	// with an ellipsis; prose wraps at it. 0 (pipes, files): nothing is cut
	// or wrapped.
	MaxWidth int
	// Color colours severities and the verdict (a terminal, unless
	// NO_COLOR or --color=never).
	Color bool
	// Node is the node of the node view; Transpose turns the coverage
	// matrix (DaemonSets as rows).
	Node      string
	Transpose bool
	// LabelColumns are node label keys shown as columns of the coverage
	// matrix (-L, as kubectl get -L).
	LabelColumns []string
	// Now is used for AGE columns.
	Now time.Time
	// FullReport is where the run writes the whole report (an
	// --output-file in a machine format), for a printer that must cut.
	FullReport string
}

// Unknown is what a cell shows when its value could not be determined.
const Unknown = "<unknown>"

// newTable returns a tablewriter table that looks like `kubectl get`: its
// default renderer with no borders, rules or separators, cells as given
// (no header upper-casing, no wrapping, left-aligned) and three spaces after
// each cell (kubectl's tabwriter padding).
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRendition(tw.Rendition{Borders: tw.BorderNone, Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone}}),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Right: "   ", Overwrite: true}),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// WriteTable renders rows under headers (unless noHeaders) and strips the
// padding after the last column, as kubectl's tabwriter does not emit it.
func WriteTable(w io.Writer, headers []string, rows [][]string, noHeaders bool, indent string) error {
	var buf bytes.Buffer
	t := newTable(&buf)
	if !noHeaders {
		// Headers may be names too (nodes, DaemonSets, label keys).
		hs := make([]string, len(headers))
		for i, h := range headers {
			hs[i] = escape.Terminal(h)
		}
		t.Header(hs)
	}
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = escape.Terminal(c)
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if len(rows) == 0 && noHeaders {
		return nil
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if _, err := fmt.Fprintln(w, indent+strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

// typeColumns are the finding types whose count columns the summary table
// shows by default (wide=false) or adds under -o wide (wide=true), from the
// catalog: a new finding type with a Column gets its column here.
func typeColumns(wide bool) []report.TypeInfo {
	var out []report.TypeInfo
	for _, ti := range report.Catalog {
		if ti.Column != "" && ti.Wide == wide {
			out = append(out, ti)
		}
	}
	return out
}

// Table prints the summary of every DaemonSet, then, by default, the
// problems (findings grouped by cause), a line on the nodes DaemonSets do
// not target, and the verdict; with -o wide, every count column, one row
// per finding and each DaemonSet's untargeted nodes too.
func Table(w io.Writer, r *report.Report, o Options) error {
	rows, marked := summaryRows(r, o)
	headers := summaryHeaders(o)
	if o.MaxWidth > 0 {
		headers, rows = fitSummary(headers, rows, o.MaxWidth)
	}
	if err := cutToWidth(w, o, func(w io.Writer) error { return WriteTable(w, headers, rows, o.NoHeaders, "") }); err != nil {
		return err
	}
	if marked && !o.NoHeaders {
		fmt.Fprint(w, Wrap(recomputedNote, o.MaxWidth, "", "  "))
	}
	// Tables are separated by a blank line even without headers (as
	// kubectl separates the tables of several kinds), in a fixed order:
	// DaemonSets, problems, findings.
	if len(r.Problems) > 0 {
		fmt.Fprintln(w)
		if err := Problems(w, r, o); err != nil {
			return err
		}
	}
	if o.Wide && listsFindings(r) {
		fmt.Fprintln(w)
		if err := cutToWidth(w, o, func(w io.Writer) error { return Findings(w, r, o) }); err != nil {
			return err
		}
	}
	if o.NoHeaders {
		return nil
	}
	lines := coverageLines(r, "")
	switch {
	case o.Wide:
		coverage(w, lines, o.MaxWidth)
	case len(lines) > 0:
		fmt.Fprintln(w)
		fmt.Fprint(w, Wrap(fmt.Sprintf("Not targeted by design: %s leave some nodes out on purpose (taints, selectors); -o wide lists them, --require makes a node required.",
			Count(len(lines), "DaemonSet")), o.MaxWidth, "", ""))
	}
	if set := SetAside(r); set != "" {
		fmt.Fprintln(w)
		fmt.Fprint(w, Wrap(set+setAsideHint(o), o.MaxWidth, "", ""))
	}
	if b := PartialBanner(r); b != "" {
		fmt.Fprintln(w)
		fmt.Fprint(w, Wrap(escape.Terminal(b), o.MaxWidth, "", "  "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, paintVerdict(o.Color, Verdict(r)))
	return nil
}

// fitColumns drops the columns named in drop, in that order, until the
// table fits width (or none is left to drop).
func fitColumns(headers []string, rows [][]string, width int, drop ...string) ([]string, [][]string) {
	for _, name := range drop {
		if TableWidth(headers, rows) <= width {
			break
		}
		col := slices.Index(headers, name)
		if col < 0 {
			continue
		}
		headers = slices.Delete(slices.Clone(headers), col, col+1)
		out := make([][]string, len(rows))
		for i, r := range rows {
			out[i] = slices.Delete(slices.Clone(r), col, col+1)
		}
		rows = out
	}
	return headers, rows
}

// fitSummary fits the DaemonSet summary to width by dropping columns
// before a cut one: FINDINGS, last, is the column that says where to look.
func fitSummary(headers []string, rows [][]string, width int) ([]string, [][]string) {
	headers, rows = fitColumns(headers, rows, width, "UP-TO-DATE", "CURRENT", "AVAILABLE", "AGE", "NODE SELECTOR", "STRATEGY")
	if TableWidth(headers, rows) > width {
		// Long namespaces (openshift-cluster-node-tuning-operator):
		// one NAMESPACE/NAME column saves two padded ones, then
		// DESIRED goes; READY and FINDINGS stay.
		headers, rows = joinNamespace(headers, rows)
		headers, rows = fitColumns(headers, rows, width, "DESIRED")
	}
	return headers, rows
}

// joinNamespace turns the NAMESPACE and NAME columns (adjacent: first, or
// after CLUSTER) into one DAEMONSET column of namespace/name.
func joinNamespace(headers []string, rows [][]string) ([]string, [][]string) {
	at := slices.Index(headers, "NAMESPACE")
	if at < 0 || at+1 >= len(headers) || headers[at+1] != "NAME" {
		return headers, rows
	}
	join := func(cells []string, joined string) []string {
		out := append(slices.Clone(cells[:at]), joined)
		return append(out, cells[at+2:]...)
	}
	h := join(headers, "DAEMONSET")
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = join(r, r[at]+"/"+r[at+1])
	}
	return h, out
}

// cutToWidth runs print on a writer that, on a terminal (o.MaxWidth), cuts
// long lines at its width rather than wrapping them (never in pipes or
// files, which get every word).
func cutToWidth(w io.Writer, o Options, print func(io.Writer) error) error {
	if o.MaxWidth <= 0 {
		return print(w)
	}
	cw := &cutWriter{w: w, width: o.MaxWidth}
	err := print(cw)
	if ferr := cw.flush(); err == nil {
		err = ferr
	}
	return err
}

// recomputedNote explains the "*" the summary marks counts with.
const recomputedNote = "* recomputed by daemoncheck; the controller's status (what kubectl get ds shows) differs: see StaleStatus"

// listsFindings says whether -o wide has findings to list (set-aside ones
// included).
func listsFindings(r *report.Report) bool {
	return r.Summary.Findings > 0 || r.Summary.Exempted+r.Summary.HeldBack > 0
}

// setAsideHint points the default view at where set-aside findings are.
func setAsideHint(o Options) string {
	if o.Wide {
		return ""
	}
	return " (listed with -o wide)"
}

// summaryHeaders are the DaemonSet summary's columns.
func summaryHeaders(o Options) []string {
	headers := []string{"NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"}
	if o.Wide {
		for _, ti := range append(typeColumns(false), typeColumns(true)...) {
			headers = append(headers, ti.Column)
		}
	}
	headers = append(headers, "FINDINGS")
	if o.Wide {
		headers = append(headers, "NOT-TARGETED", "STRATEGY", "NODE SELECTOR", "AGE")
	}
	return headers
}

// summaryRows are one row per DaemonSet under summaryHeaders; marked says
// whether a count differs from the controller's (a footnote says why).
func summaryRows(r *report.Report, o Options) (rows [][]string, marked bool) {
	var cols []report.TypeInfo
	if o.Wide {
		cols = append(typeColumns(false), typeColumns(true)...)
	}
	rows = make([][]string, 0, len(r.DaemonSets))
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		n := countActive(ds.Findings)
		c := ds.Computed
		// A recomputed value that differs from what the controller reports
		// (what kubectl get ds shows) is marked; a footnote says why.
		cnt := func(get func(*report.Counts) int32) string {
			v := Num(c, get)
			if c != nil && get(c) != get(&ds.Status) {
				v += "*"
				marked = true
			}
			return v
		}
		row := []string{ds.Namespace, kindName(ds),
			cnt(func(c *report.Counts) int32 { return c.DesiredNumberScheduled }),
			cnt(func(c *report.Counts) int32 { return c.CurrentNumberScheduled }),
			cnt(func(c *report.Counts) int32 { return c.NumberReady }),
			cnt(func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }),
			cnt(func(c *report.Counts) int32 { return c.NumberAvailable }),
		}
		for _, ti := range cols {
			// Findings that need the node list are unknown without it.
			row = append(row, countOrUnknown(c == nil && ti.NeedsNodes, n[ti.Type]))
		}
		row = append(row, strconv.Itoa(ActiveCount(ds.Findings)))
		if o.Wide {
			notTargeted := 0
			for _, nv := range ds.Nodes {
				if !nv.ShouldRun {
					notTargeted++
				}
			}
			strategy := ds.UpdateStrategy
			if ds.MaxUnavailable != "" || ds.MaxSurge != "" {
				strategy += fmt.Sprintf("(%s/%s)", OrNone(ds.MaxUnavailable, "1"), OrNone(ds.MaxSurge, "0"))
			}
			row = append(row, countOrUnknown(c == nil, notTargeted), strategy, OrNone(ds.NodeSelector, "<none>"), age(o.Now, ds.Created))
		}
		rows = append(rows, row)
	}
	return rows, marked
}

// maxGapsPerDaemonSet bounds the coverage lines of one DaemonSet in the
// default view (the detail view lists them all).
const maxGapsPerDaemonSet = 3

// coverageLines say, per DaemonSet, which nodes it does not target, grouped
// by pool and reason, one line per DaemonSet: informational (a coverage
// policy makes it a finding). context, when set, is the kubeconfig context
// the hint's command must name.
func coverageLines(r *report.Report, context string) []string {
	var lines []string
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		if len(ds.NotTargeted) == 0 || ds.Computed == nil {
			continue
		}
		var parts []string
		for j, g := range ds.NotTargeted {
			if j == maxGapsPerDaemonSet {
				cmd := fmt.Sprintf("kubectl daemoncheck %s -n %s", ds.Name, ds.Namespace)
				if context != "" {
					cmd += " --context " + text.ShellQuote(context)
				}
				parts = append(parts, fmt.Sprintf("%d more (%s)", len(ds.NotTargeted)-j, cmd))
				break
			}
			where := g.Range
			if g.Pool != "" {
				where = fmt.Sprintf("pool %s (%d): %s", g.Pool, g.Count, g.Range)
			}
			parts = append(parts, where+": "+g.Reason)
		}
		lines = append(lines, fmt.Sprintf("%s/%s: %d/%d nodes; not on %s", ds.Namespace, ds.Name,
			ds.Computed.DesiredNumberScheduled, len(ds.Nodes), strings.Join(parts, "; ")))
	}
	return lines
}

// coverage prints the coverage lines under their heading, each wrapped
// with a hanging indent on a terminal.
func coverage(w io.Writer, lines []string, width int) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Not targeted (by design unless a coverage policy requires it; --require makes it a finding):")
	for _, l := range lines {
		fmt.Fprint(w, Wrap(escape.Terminal(l), width, "  ", "    "))
	}
}

// PartialBanner says what a partial report could not read: one text for
// every format, which each wraps in its own way (a line, an XML comment, a
// Markdown quote). "" when the report is complete.
func PartialBanner(r *report.Report) string {
	if !r.Partial {
		return ""
	}
	parts := make([]string, 0, len(r.Unread))
	for _, u := range r.Unread {
		parts = append(parts, u.Kind+" not read: "+u.Reason)
	}
	if len(parts) == 0 {
		parts = append(parts, "some objects could not be read")
	}
	return "PARTIAL REPORT: " + strings.Join(parts, "; ")
}

// Findings prints one row per finding, sorted by DaemonSet, node, type.
func Findings(w io.Writer, r *report.Report, o Options) error {
	return WriteTable(w, findingHeaders(o), findingRows(r, o), o.NoHeaders, "")
}

// findingHeaders are -o wide's per-finding columns: short ones only (the
// prose, the cause and the fix, is the problems'), each one word.
func findingHeaders(Options) []string {
	return []string{"DAEMONSET", "NODE", "POD", "FINDING", "SEVERITY", "FAILING", "STATE", "REVISION", "AGE"}
}

func findingRows(r *report.Report, o Options) [][]string {
	var rows [][]string
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		for j := range ds.Findings {
			f := &ds.Findings[j]
			since := "-"
			if f.Since != nil {
				since = age(o.Now, *f.Since)
			}
			failing := "no"
			if f.Failing {
				failing = "yes"
			}
			rows = append(rows, []string{ds.Namespace + "/" + ds.Name, OrNone(f.Node, "-"), OrNone(f.Pod, "-"), string(f.Type),
				string(f.Severity), failing, string(f.State), OrNone(f.Params.Revision, "-"), since})
		}
	}
	return rows
}

// countActive counts active findings by type.
func countActive(fs []report.Finding) map[report.FindingType]int {
	m := map[report.FindingType]int{}
	for _, f := range fs {
		if f.Active() {
			m[f.Type]++
		}
	}
	return m
}

// ActiveCount counts the findings neither exempted nor held back.
func ActiveCount(fs []report.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Active() {
			n++
		}
	}
	return n
}

// SetAside says how many findings exemptions and --grace set aside, so that
// nothing is silently hidden ("" when none).
func SetAside(r *report.Report) string {
	var parts []string
	if r.Summary.Exempted > 0 {
		parts = append(parts, fmt.Sprintf("%d exempted by the daemoncheck.io/exempt annotation", r.Summary.Exempted))
	}
	if r.Summary.HeldBack > 0 {
		parts = append(parts, fmt.Sprintf("%d held back by --grace %s", r.Summary.HeldBack, r.Grace))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Findings set aside: " + strings.Join(parts, ", ") + "."
}

// Num is a DaemonSet count as a cell: Unknown when the counts are not
// known (c nil).
func Num(c *report.Counts, get func(*report.Counts) int32) string {
	if c == nil {
		return Unknown
	}
	return strconv.Itoa(int(get(c)))
}

func countOrUnknown(isUnknown bool, n int) string {
	if isUnknown {
		return Unknown
	}
	return strconv.Itoa(n)
}

// OrNone is s, or none when s is empty.
func OrNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func age(now, t time.Time) string {
	if t.IsZero() || now.IsZero() {
		return Unknown
	}
	return duration.HumanDuration(now.Sub(t))
}

// Package printer renders a report for people: the kubectl-style summary and
// findings tables, and the describe-style detail view of one DaemonSet.
// Machine formats (json, yaml, jsonpath, go-template) are kubectl's own
// printers, applied in package cmd. Printers only read the report: every
// number and sentence they show was decided by package analyze.
package printer

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Options shape the human output.
type Options struct {
	// Wide is set by Printer.Print for -o wide.
	Wide      bool
	NoHeaders bool
	// Node is the node of the node view; Transpose turns the coverage
	// matrix (DaemonSets as rows).
	Node      string
	Transpose bool
	// Now is used for AGE columns.
	Now time.Time
}

// unknown is what a cell shows when its value could not be determined.
const unknown = "<unknown>"

// newTable returns a tablewriter table that looks like `kubectl get`: no
// borders or rules, left-aligned, headers as given, three spaces between
// columns (kubectl's tabwriter padding).
func newTable(w io.Writer) *tablewriter.Table {
	pad := tw.CellPadding{Global: tw.Padding{Left: "", Right: "   ", Overwrite: true}}
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{ShowHeader: tw.Off, ShowFooter: tw.Off, BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowTop: tw.Off, ShowBottom: tw.Off, ShowHeaderLine: tw.Off, ShowFooterLine: tw.Off},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone, Alignment: tw.AlignLeft},
				Padding:    pad,
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone, Alignment: tw.AlignLeft},
				Padding:    pad,
			},
		}),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// writeTable renders rows under headers (unless noHeaders) and strips the
// padding after the last column, as kubectl's tabwriter does not emit it.
func writeTable(w io.Writer, headers []string, rows [][]string, noHeaders bool, indent string) error {
	var buf bytes.Buffer
	t := newTable(&buf)
	if !noHeaders {
		t.Header(headers)
	}
	for _, r := range rows {
		if err := t.Append(r); err != nil {
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

// typeColumns are the finding types counted in the summary table, from the
// catalog: a new finding type with a Column gets its column here.
func typeColumns(wide bool) []report.TypeInfo {
	var out []report.TypeInfo
	for _, ti := range report.Catalog {
		if ti.Column != "" && (wide || !ti.Wide) && ti.Wide == wide {
			out = append(out, ti)
		}
	}
	return out
}

// Table prints the summary of every DaemonSet, then one row per finding.
func Table(w io.Writer, r *report.Report, o Options) error {
	headers := []string{"NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"}
	cols := typeColumns(false)
	if o.Wide {
		cols = append(cols, typeColumns(true)...)
	}
	for _, ti := range cols {
		headers = append(headers, ti.Column)
	}
	headers = append(headers, "FINDINGS")
	if o.Wide {
		headers = append(headers, "NOT-TARGETED", "STRATEGY", "NODE SELECTOR", "AGE")
	}
	rows := make([][]string, 0, len(r.DaemonSets))
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		n := countActive(ds.Findings)
		c := ds.Computed
		row := []string{ds.Namespace, ds.Name, num(c, func(c *report.Counts) int32 { return c.DesiredNumberScheduled }),
			num(c, func(c *report.Counts) int32 { return c.CurrentNumberScheduled }),
			num(c, func(c *report.Counts) int32 { return c.NumberReady }),
			num(c, func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }),
			num(c, func(c *report.Counts) int32 { return c.NumberAvailable }),
		}
		for _, ti := range cols {
			// Findings that need the node list are unknown without it.
			row = append(row, countOrUnknown(c == nil && ti.NeedsNodes, n[ti.Type]))
		}
		row = append(row, strconv.Itoa(activeCount(ds.Findings)))
		if o.Wide {
			notTargeted := 0
			for _, nv := range ds.Nodes {
				if !nv.ShouldRun {
					notTargeted++
				}
			}
			strategy := ds.UpdateStrategy
			if ds.MaxUnavailable != "" || ds.MaxSurge != "" {
				strategy += fmt.Sprintf("(%s/%s)", orNone(ds.MaxUnavailable, "1"), orNone(ds.MaxSurge, "0"))
			}
			row = append(row, countOrUnknown(c == nil, notTargeted), strategy, orNone(ds.NodeSelector, "<none>"), age(o.Now, ds.Created))
		}
		rows = append(rows, row)
	}
	if err := writeTable(w, headers, rows, o.NoHeaders, ""); err != nil {
		return err
	}
	if r.Summary.Findings > 0 || (o.Wide && r.Summary.Exempted+r.Summary.HeldBack > 0) {
		if !o.NoHeaders {
			fmt.Fprintln(w)
		}
		if err := Findings(w, r, o); err != nil {
			return err
		}
	}
	if set := setAside(r); set != "" && !o.NoHeaders {
		hint := ""
		if !o.Wide {
			hint = " (listed with -o wide)"
		}
		fmt.Fprintf(w, "\n%s%s\n", set, hint)
	}
	if b := partialBanner(r); b != "" {
		fmt.Fprintf(w, "\n%s\n", b)
	}
	return nil
}

// partialBanner says what a partial report could not read: one text for
// every format, which each wraps in its own way (a line, an XML comment, a
// Markdown quote). "" when the report is complete.
func partialBanner(r *report.Report) string {
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
	headers := []string{"DAEMONSET", "NODE", "FINDING", "REASON"}
	if o.Wide {
		headers = []string{"DAEMONSET", "NODE", "POD", "FINDING", "REASON", "SUGGESTION"}
	}
	var rows [][]string
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		for _, f := range ds.Findings {
			name := ds.Namespace + "/" + ds.Name
			if !f.Active() && !o.Wide {
				continue
			}
			if o.Wide {
				msg := f.Message
				switch {
				case f.Exempted != "":
					msg = "[exempted by " + f.Exempted + "] " + msg
				case f.HeldBack != "":
					msg = "[held back: " + f.HeldBack + "] " + msg
				}
				rows = append(rows, []string{name, orNone(f.Node, "<none>"), orNone(f.Pod, "<none>"), string(f.Type), msg, orNone(f.Suggestion, "<none>")})
			} else {
				rows = append(rows, []string{name, orNone(f.Node, "<none>"), string(f.Type), f.Message})
			}
		}
	}
	return writeTable(w, headers, rows, o.NoHeaders, "")
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

func activeCount(fs []report.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Active() {
			n++
		}
	}
	return n
}

// setAside says how many findings exemptions and --grace set aside, so that
// nothing is silently hidden ("" when none).
func setAside(r *report.Report) string {
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

func num(c *report.Counts, get func(*report.Counts) int32) string {
	if c == nil {
		return unknown
	}
	return strconv.Itoa(int(get(c)))
}

func countOrUnknown(isUnknown bool, n int) string {
	if isUnknown {
		return unknown
	}
	return strconv.Itoa(n)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func age(now, t time.Time) string {
	if t.IsZero() || now.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(t))
}

package render

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Problems prints the problems in the layout that fits: on a terminal
// (o.MaxWidth) the table when every column fits its width, else the list;
// in pipes and files always the table, nothing cut (one line per problem,
// the greppable layout).
func Problems(w io.Writer, r *report.Report, o Options) error {
	rows := problemRows(r)
	if o.MaxWidth > 0 && !o.NoHeaders && TableWidth(problemHeaders, rows) > o.MaxWidth {
		ps := make([]contextProblem, len(r.Problems))
		for i := range r.Problems {
			ps[i] = contextProblem{p: &r.Problems[i]}
		}
		problemList(w, ps, o)
		return nil
	}
	return cutToWidth(w, o, func(w io.Writer) error { return WriteTable(w, problemHeaders, rows, o.NoHeaders, "") })
}

// problemHeaders are the problems table's columns. The first four are one
// word each, so scripts can split on blanks: the severity, the DaemonSets
// (comma-separated), the type and the number of nodes ("-" when the
// problem is about the DaemonSet as a whole); WHERE names the nodes.
var problemHeaders = []string{"SEVERITY", "DAEMONSET", "PROBLEM", "NODES", "WHERE", "CAUSE", "FIX"}

func problemRows(r *report.Report) [][]string {
	rows := make([][]string, 0, len(r.Problems))
	for i := range r.Problems {
		rows = append(rows, problemRow(&r.Problems[i]))
	}
	return rows
}

// problemRow is a problem's row under problemHeaders.
func problemRow(p *report.Problem) []string {
	nodes, where := "-", "-"
	if len(p.Nodes) > 0 {
		nodes, where = strconv.Itoa(len(p.Nodes)), p.Range
	}
	return []string{string(p.Severity), strings.Join(p.DaemonSets, ","), p.Type, nodes, where, problemCause(p), p.Fix}
}

// problemCause is the cause with what the problem's nodes share.
func problemCause(p *report.Problem) string {
	if p.Pattern != "" {
		return p.Cause + "; " + p.Pattern
	}
	return p.Cause
}

// TableWidth is the width WriteTable renders rows at: each column as wide
// as its widest cell, three spaces between columns.
func TableWidth(headers []string, rows [][]string) int {
	return widthOf(columnWidths(headers, rows))
}

// widthOf is the width of a table of columns this wide, three spaces
// between them.
func widthOf(widths []int) int {
	total := 3 * (len(widths) - 1)
	for _, n := range widths {
		total += n
	}
	return total
}

// columnWidths is the width of each column of a table: its widest cell,
// as printed (escaped), or its header.
func columnWidths(headers []string, rows [][]string) []int {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(escape.Terminal(c)))
		}
	}
	return widths
}

// problemList prints each problem as a heading line (severity, type,
// DaemonSets, nodes; the cluster in a fleet) and its cause and fix,
// wrapped to the terminal with a hanging indent, so the fix is on screen at
// any width. A terminal shows the end of what was printed: the list runs
// from the least to the most severe, so that the errors sit just above the
// verdict, where the eye lands after a run (in pipes the table keeps the
// report's order, errors first, where a reader starts).
func problemList(w io.Writer, ps []contextProblem, o Options) {
	fmt.Fprintf(w, "%s, most severe last:\n", Count(len(ps), "problem"))
	// The report's order is by severity, most severe first (a fleet's
	// per cluster): a stable sort keeps it within a severity.
	order := slices.Clone(ps)
	slices.SortStableFunc(order, func(a, b contextProblem) int { return b.p.Severity.Rank() - a.p.Severity.Rank() })
	for i := len(order) - 1; i >= 0; i-- {
		p := order[i].p
		sev := fmt.Sprintf("%-8s", p.Severity)
		head := fmt.Sprintf("%s %s", p.Type, strings.Join(p.DaemonSets, ", "))
		if order[i].context != "" {
			head = order[i].context + ": " + head
		}
		if len(p.Nodes) > 0 {
			head += fmt.Sprintf(" on %s: %s", Count(len(p.Nodes), "node"), p.Range)
		}
		fmt.Fprint(w, Wrap(escape.Terminal(head), o.MaxWidth, Paint(o.Color, severityColour(p.Severity), sev), listIndent))
		fmt.Fprint(w, Wrap(escape.Terminal(problemCause(p)), o.MaxWidth, listIndent+"cause: ", listIndent+"       "))
		if p.Fix != "" {
			fmt.Fprint(w, Wrap(escape.Terminal(p.Fix), o.MaxWidth, listIndent+"fix:   ", listIndent+"       "))
		}
	}
}

// contextProblem is a problem and, in a fleet, its cluster's context.
type contextProblem struct {
	context string
	p       *report.Problem
}

// listIndent indents a problem's lines under its heading, past the
// severity.
const listIndent = "        "

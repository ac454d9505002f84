package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The fleet printers render the report of several clusters (--contexts):
// the tables get a CLUSTER column first, the detail view, JUnit and Markdown
// one section (suite) per cluster. Every cluster is rendered from its own
// report exactly as a single run renders it; a cluster that could not be
// audited says so in its row or section, and never hides the others.

// FleetTable prints one row per cluster (its result, and its error or what
// it could not read), then the DaemonSet summary, the problems (-o wide: the
// findings) and the coverage of every cluster, CLUSTER first, and the
// verdict last. On a terminal the views follow the single run's width
// policy: the clusters' messages go under their table when it is too
// narrow for them, the summary drops columns before FINDINGS, and the
// problems become the list (cluster, severity, type; cause and fix whole)
// when their table does not fit; whatever is still too long is cut.
func FleetTable(w io.Writer, f *report.FleetReport, o Options) error {
	return cutToWidth(w, o, func(w io.Writer) error { return fleetTable(w, f, o) })
}

func fleetTable(w io.Writer, f *report.FleetReport, o Options) error {
	if err := fleetClusters(w, f, o); err != nil {
		return err
	}
	fp := gatherFleet(f, o)
	dsRows, detailRows, problems, marked := fp.dsRows, fp.detailRows, fp.problems, fp.marked
	cover, aside, leaving := fp.cover, fp.aside, fp.leaving
	section := func(headers []string, rows [][]string) error {
		if len(rows) == 0 {
			return nil
		}
		if !o.NoHeaders {
			fmt.Fprintln(w)
		}
		return WriteTable(w, headers, rows, o.NoHeaders, "")
	}
	sumHeaders := append([]string{"CLUSTER"}, summaryHeaders(o)...)
	if o.MaxWidth > 0 {
		sumHeaders, dsRows = fitSummary(sumHeaders, dsRows, o.MaxWidth)
	}
	if err := section(sumHeaders, dsRows); err != nil {
		return err
	}
	if marked && !o.NoHeaders {
		fmt.Fprint(w, Wrap(recomputedNote, o.MaxWidth, "", "  "))
	}
	detailHeaders := append([]string{"CLUSTER"}, problemHeaders...)
	if o.Wide {
		detailHeaders = append([]string{"CLUSTER"}, findingHeaders(o)...)
	}
	if !o.Wide && o.MaxWidth > 0 && !o.NoHeaders && len(detailRows) > 0 && TableWidth(detailHeaders, detailRows) > o.MaxWidth {
		fmt.Fprintln(w)
		problemList(w, problems, o)
	} else if err := section(detailHeaders, detailRows); err != nil {
		return err
	}
	if o.NoHeaders {
		return nil
	}
	// As a single run's: the default view says how many DaemonSets leave
	// nodes out by design, -o wide lists them.
	switch {
	case o.Wide:
		coverage(w, cover, o.MaxWidth)
	case len(leaving) > 0:
		fmt.Fprintln(w)
		fmt.Fprint(w, Wrap(escape.Terminal(fmt.Sprintf("Not targeted by design: %s leave some nodes out on purpose (taints, selectors); -o wide lists them, --require makes a node required.",
			strings.Join(leaving, ", "))), o.MaxWidth, "", ""))
	}
	if len(aside) > 0 {
		fmt.Fprintf(w, "\nFindings set aside%s:\n", setAsideHint(o))
		for _, l := range aside {
			fmt.Fprint(w, Wrap(escape.Terminal(l), o.MaxWidth, "  ", "    "))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, Wrap(paintVerdict(o.Color, escape.Terminal(FleetVerdict(f))), o.MaxWidth, "", "  "))
	return nil
}

// fleetParts are the rows and lines of every cluster's report, each marked
// with its cluster.
type fleetParts struct {
	dsRows, detailRows    [][]string
	problems              []contextProblem
	cover, aside, leaving []string
	marked                bool
}

// gatherFleet collects the rows and lines of the clusters' reports.
func gatherFleet(f *report.FleetReport, o Options) fleetParts {
	var fp fleetParts
	for i := range f.Clusters {
		c := &f.Clusters[i]
		r := c.Report
		if r == nil {
			continue
		}
		co := o
		co.Now = r.GeneratedAt
		rows, m := summaryRows(r, co)
		fp.marked = fp.marked || m
		fp.dsRows = append(fp.dsRows, withCluster(c.Context, rows)...)
		if o.Wide {
			fp.detailRows = append(fp.detailRows, withCluster(c.Context, findingRows(r, co))...)
		} else {
			fp.detailRows = append(fp.detailRows, withCluster(c.Context, problemRows(r))...)
			for j := range r.Problems {
				fp.problems = append(fp.problems, contextProblem{c.Context, &r.Problems[j]})
			}
		}
		lines := coverageLines(r, c.Context)
		for _, l := range lines {
			fp.cover = append(fp.cover, c.Context+": "+l)
		}
		if len(lines) > 0 {
			fp.leaving = append(fp.leaving, Count(len(lines), "DaemonSet")+" in "+c.Context)
		}
		if s := SetAside(r); s != "" {
			fp.aside = append(fp.aside, c.Context+": "+strings.TrimPrefix(s, "Findings set aside: "))
		}
	}
	return fp
}

// fleetClusters prints the clusters table; on a terminal too narrow for
// MESSAGE (a cluster's error is a long sentence), the table goes without
// it and each message follows, wrapped, under the cluster's name.
func fleetClusters(w io.Writer, f *report.FleetReport, o Options) error {
	headers, rows := clusterHeaders(o), clusterRows(f, o)
	if o.MaxWidth == 0 || o.NoHeaders || TableWidth(headers, rows) <= o.MaxWidth {
		return WriteTable(w, headers, rows, o.NoHeaders, "")
	}
	last := len(headers) - 1
	short := make([][]string, len(rows))
	for i, r := range rows {
		short[i] = r[:last]
	}
	if err := WriteTable(w, headers[:last], short, false, ""); err != nil {
		return err
	}
	for i := range f.Clusters {
		if m := ClusterMessage(&f.Clusters[i]); m != "" {
			fmt.Fprint(w, Wrap(escape.Terminal(f.Clusters[i].Context+": "+m), o.MaxWidth, "", "  "))
		}
	}
	return nil
}

// FleetVerdict is the fleet's last line: which clusters fail the gate,
// which could not be audited or were read in part, and the exit code that
// follows (1 if any cluster fails, else 3 if any is not audited or
// partial).
func FleetVerdict(f *report.FleetReport) string {
	var failed, errs, partial []string
	for i := range f.Clusters {
		c := &f.Clusters[i]
		switch c.Result {
		case report.ResultFailed:
			failed = append(failed, c.Context)
		case report.ResultPartial:
			partial = append(partial, c.Context)
		case report.ResultPassed:
		default:
			errs = append(errs, c.Context)
		}
	}
	var rest []string
	if len(errs) > 0 {
		rest = append(rest, fmt.Sprintf("%d not audited (%s)", len(errs), strings.Join(errs, ", ")))
	}
	if len(partial) > 0 {
		rest = append(rest, fmt.Sprintf("%d partial (%s)", len(partial), strings.Join(partial, ", ")))
	}
	tail := ""
	if len(rest) > 0 {
		tail = "; " + strings.Join(rest, ", ")
	}
	n := len(f.Clusters)
	switch {
	case len(failed) > 0:
		return fmt.Sprintf("FAIL: %d of %s fail the gate (%s)%s; exit 1", len(failed), Count(n, "cluster"), strings.Join(failed, ", "), tail)
	case len(rest) > 0:
		return fmt.Sprintf("INCOMPLETE: no cluster fails the gate%s; exit 3", tail)
	}
	return fmt.Sprintf("PASS: %s pass the gate; exit 0", Count(n, "cluster"))
}

// clusterHeaders are the columns of the clusters table.
func clusterHeaders(o Options) []string {
	h := []string{"CLUSTER", "RESULT", "DAEMONSETS", "HEALTHY", "FINDINGS", "FAILING"}
	if o.Wide {
		h = append(h, "SERVER", "VERSION")
	}
	return append(h, "MESSAGE")
}

func clusterRows(f *report.FleetReport, o Options) [][]string {
	rows := make([][]string, 0, len(f.Clusters))
	for i := range f.Clusters {
		c := &f.Clusters[i]
		row := []string{c.Context, string(c.Result), Unknown, Unknown, Unknown, Unknown}
		if r := c.Report; r != nil {
			s := r.Summary
			row = append(row[:2], strconv.Itoa(s.DaemonSets), strconv.Itoa(s.Healthy), strconv.Itoa(s.Findings), strconv.Itoa(s.Failing))
		}
		if o.Wide {
			version := Unknown
			if c.Report != nil && c.Report.ServerVersion != "" {
				version = c.Report.ServerVersion
			}
			row = append(row, OrNone(c.Server, Unknown), version)
		}
		rows = append(rows, append(row, OrNone(ClusterMessage(c), "<none>")))
	}
	return rows
}

// ClusterMessage is why a cluster did not pass other than by its findings:
// its error, or what its partial report could not read ("" if nothing).
func ClusterMessage(c *report.ClusterReport) string {
	if c.Error != "" {
		return c.Error
	}
	if c.Report != nil {
		return strings.TrimPrefix(PartialBanner(c.Report), "PARTIAL REPORT: ")
	}
	return ""
}

// withCluster puts the cluster's name before every row.
func withCluster(cluster string, rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string{cluster}, r...)
	}
	return out
}

// FleetDescribe prints the detail view of every cluster, each under its
// context, server and result.
func FleetDescribe(w io.Writer, f *report.FleetReport, o Options) error {
	for i := range f.Clusters {
		c := &f.Clusters[i]
		if i > 0 {
			fmt.Fprint(w, "\n\n")
		}
		kv := [][2]string{{"Context", c.Context}, {"Server", OrNone(c.Server, Unknown)}, {"Result", string(c.Result)}}
		if c.Error != "" {
			kv = append(kv, [2]string{"Error", c.Error})
		}
		for _, p := range kv {
			fmt.Fprintf(w, "%-8s  %s\n", p[0]+":", escape.Terminal(p[1]))
		}
		if c.Report == nil || len(c.Report.DaemonSets) == 0 && !c.Report.Partial {
			continue
		}
		fmt.Fprintln(w)
		co := o
		co.Now = c.Report.GeneratedAt
		if err := Describe(w, c.Report, co); err != nil {
			return err
		}
	}
	return nil
}

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
		return writeTable(w, headers, rows, o.NoHeaders, "")
	}
	sumHeaders := append([]string{"CLUSTER"}, summaryHeaders(o)...)
	if o.MaxWidth > 0 {
		sumHeaders, dsRows = fitSummary(sumHeaders, dsRows, o.MaxWidth)
	}
	if err := section(sumHeaders, dsRows); err != nil {
		return err
	}
	if marked && !o.NoHeaders {
		fmt.Fprint(w, wrap(recomputedNote, o.MaxWidth, "", "  "))
	}
	detailHeaders := append([]string{"CLUSTER"}, problemHeaders...)
	if o.Wide {
		detailHeaders = append([]string{"CLUSTER"}, findingHeaders(o)...)
	}
	if !o.Wide && o.MaxWidth > 0 && !o.NoHeaders && len(detailRows) > 0 && tableWidth(detailHeaders, detailRows) > o.MaxWidth {
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
		fmt.Fprint(w, wrap(escape.Terminal(fmt.Sprintf("Not targeted by design: %s leave some nodes out on purpose (taints, selectors); -o wide lists them, --require makes a node required.",
			strings.Join(leaving, ", "))), o.MaxWidth, "", ""))
	}
	if len(aside) > 0 {
		fmt.Fprintf(w, "\nFindings set aside%s:\n", setAsideHint(o))
		for _, l := range aside {
			fmt.Fprint(w, wrap(escape.Terminal(l), o.MaxWidth, "  ", "    "))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, wrap(paintVerdict(o.Color, escape.Terminal(FleetVerdict(f))), o.MaxWidth, "", "  "))
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
			fp.leaving = append(fp.leaving, count(len(lines), "DaemonSet")+" in "+c.Context)
		}
		if s := setAside(r); s != "" {
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
	if o.MaxWidth == 0 || o.NoHeaders || tableWidth(headers, rows) <= o.MaxWidth {
		return writeTable(w, headers, rows, o.NoHeaders, "")
	}
	last := len(headers) - 1
	short := make([][]string, len(rows))
	for i, r := range rows {
		short[i] = r[:last]
	}
	if err := writeTable(w, headers[:last], short, false, ""); err != nil {
		return err
	}
	for i := range f.Clusters {
		if m := clusterMessage(&f.Clusters[i]); m != "" {
			fmt.Fprint(w, wrap(escape.Terminal(f.Clusters[i].Context+": "+m), o.MaxWidth, "", "  "))
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
		return fmt.Sprintf("FAIL: %d of %s fail the gate (%s)%s; exit 1", len(failed), count(n, "cluster"), strings.Join(failed, ", "), tail)
	case len(rest) > 0:
		return fmt.Sprintf("INCOMPLETE: no cluster fails the gate%s; exit 3", tail)
	}
	return fmt.Sprintf("PASS: %s pass the gate; exit 0", count(n, "cluster"))
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
		row := []string{c.Context, string(c.Result), unknown, unknown, unknown, unknown}
		if r := c.Report; r != nil {
			s := r.Summary
			row = append(row[:2], strconv.Itoa(s.DaemonSets), strconv.Itoa(s.Healthy), strconv.Itoa(s.Findings), strconv.Itoa(s.Failing))
		}
		if o.Wide {
			version := unknown
			if c.Report != nil && c.Report.ServerVersion != "" {
				version = c.Report.ServerVersion
			}
			row = append(row, orNone(c.Server, unknown), version)
		}
		rows = append(rows, append(row, orNone(clusterMessage(c), "<none>")))
	}
	return rows
}

// clusterMessage is why a cluster did not pass other than by its findings:
// its error, or what its partial report could not read ("" if nothing).
func clusterMessage(c *report.ClusterReport) string {
	if c.Error != "" {
		return c.Error
	}
	if c.Report != nil {
		return strings.TrimPrefix(partialBanner(c.Report), "PARTIAL REPORT: ")
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
		kv := [][2]string{{"Context", c.Context}, {"Server", orNone(c.Server, unknown)}, {"Result", string(c.Result)}}
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

// FleetJUnit prints one test suite per cluster: its DaemonSets' cases (class
// CLUSTER/NAMESPACE/NAME, as a single run's suites have them), the kinds it
// could not read, and an errored "audit" case when it could not be audited.
func FleetJUnit(w io.Writer, f *report.FleetReport, o Options) error {
	out := junitSuites{Name: "daemoncheck", Time: junitTime}
	var comments []string
	for i := range f.Clusters {
		c := &f.Clusters[i]
		prefix := c.Context + "/"
		s := junitSuite{Name: c.Context, Time: junitTime, Properties: []junitProperty{{"context", c.Context}, {"server", c.Server}}}
		var parts []junitSuite
		if r := c.Report; r != nil {
			s.Timestamp = junitTimestamp(r)
			if r.ServerVersion != "" {
				s.Properties = append(s.Properties, junitProperty{"serverVersion", r.ServerVersion})
			}
			parts = daemonSetSuites(r)
			if u := unreadSuite(r, prefix); u != nil {
				parts = append(parts, *u)
			}
			if b := partialBanner(r); b != "" {
				comments = append(comments, c.Context+": "+b)
			}
		}
		if c.Error != "" {
			parts = append(parts, junitSuite{Tests: 1, Errors: 1, Cases: []junitCase{{Name: "audit", Classname: prefix + "daemoncheck", Time: junitTime,
				Error: &junitFailure{Type: "ClusterError", Message: c.Error}}}})
		}
		for _, p := range parts {
			for _, tc := range p.Cases {
				if !strings.HasPrefix(tc.Classname, prefix) {
					tc.Classname = prefix + tc.Classname
				}
				s.Cases = append(s.Cases, tc)
			}
			s.Tests += p.Tests
			s.Failures += p.Failures
			s.Errors += p.Errors
			s.Skipped += p.Skipped
		}
		out.add(s)
	}
	return writeJUnit(w, out, comments)
}

// FleetMarkdown prints the clusters' results as a table, then one section
// per cluster, as a single run's Markdown; the whole stays under
// MarkdownLimit (150 clusters easily pass it).
func FleetMarkdown(w io.Writer, f *report.FleetReport, o Options) error {
	d := mdDoc{fullReport: o.FullReport}
	s := f.Summary
	verdict := "passed"
	switch {
	case s.Failed > 0:
		verdict = "failed"
	case s.Partial+s.Errors > 0:
		verdict = "incomplete"
	}
	d.line(fmt.Sprintf("## daemoncheck %s: %d clusters: %d failed, %d not audited, %d partial, %d passed; %d failing of %d findings\n\n",
		verdict, s.Clusters, s.Failed, s.Errors, s.Partial, s.Passed, s.Failing, s.Findings), nil)
	d.line("| Cluster | Result | DaemonSets | Healthy | Findings | Failing | Message |\n|---|---|---:|---:|---:|---:|---|\n", nil)
	for i := range f.Clusters {
		c := &f.Clusters[i]
		// Markdown would take <unknown> for an HTML tag.
		counts := "- | - | - | -"
		if r := c.Report; r != nil {
			counts = fmt.Sprintf("%d | %d | %d | %d", r.Summary.DaemonSets, r.Summary.Healthy, r.Summary.Findings, r.Summary.Failing)
		}
		d.line(fmt.Sprintf("| %s | %s | %s | %s |\n", escape.MarkdownCode(c.Context), escape.Markdown(string(c.Result)), counts, escape.Markdown(clusterMessage(c))), &d.droppedClusterRows)
	}
	for i := range f.Clusters {
		c := &f.Clusters[i]
		title := "\n### " + escape.MarkdownCode(c.Context) + " "
		if c.Report == nil {
			d.line(fmt.Sprintf("%snot audited\n\n> **Error:** %s\n", title, escape.Markdown(c.Error)), &d.droppedSections)
			continue
		}
		d.report(c.Report, title, "####", &d.droppedSections)
		if c.Error != "" {
			d.line(fmt.Sprintf("\n> **Error:** %s\n", escape.Markdown(c.Error)), nil)
		}
		if set := setAside(c.Report); set != "" {
			d.line("\n"+set+"\n", nil)
		}
	}
	d.cutNote()
	_, err := io.WriteString(w, d.b.String())
	return err
}

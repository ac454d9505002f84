package ci

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Markdown is for a pull-request comment or a CI job summary: the audit,
// several clusters, the capacity view and the what-if.
func init() {
	render.Register(render.Format{Name: "markdown", Render: map[render.View]render.RenderFunc{render.ViewAudit: Markdown, render.ViewDetail: Markdown, render.ViewCapacity: CapacityMarkdown},
		Fleet: map[render.View]render.FleetRenderFunc{render.ViewAudit: FleetMarkdown, render.ViewDetail: FleetMarkdown}, RenderWhatIf: WhatIfMarkdown})
}

// MarkdownLimit is the size Markdown stays under: GitHub rejects a job
// summary ($GITHUB_STEP_SUMMARY) above 1 MiB, and a cut table is better than
// none. A variable so tests can lower it.
var MarkdownLimit = 1 << 20

// markdownNoteRoom is kept free under the limit for the note that says
// what was cut.
const markdownNoteRoom = 2048

// Markdown prints a summary for a pull-request comment or a CI job summary.
// Lines that would take it past MarkdownLimit are left out, and a note says
// how many and where the whole report is.
func Markdown(w io.Writer, r *report.Report, o render.Options) error {
	d := mdDoc{fullReport: o.FullReport}
	d.report(r, "## daemoncheck ", "###", nil)
	if set := render.SetAside(r); set != "" {
		d.line("\n"+set+"\n", nil)
	}
	d.cutNote()
	_, err := io.WriteString(w, d.b.String())
	return err
}

// mdDoc is a Markdown document that stays under MarkdownLimit: every byte
// goes through line, and once a line does not fit, every later one is left
// out too (a table with holes would mislead); cutNote says what was.
type mdDoc struct {
	b   strings.Builder
	cut bool
	// What was left out: clusters (their rows of the fleet table, their
	// sections), DaemonSet rows and findings (of how many).
	droppedClusterRows, droppedSections, droppedDS, droppedFindings, findings int
	// fullReport is where this run writes the whole report (Options).
	fullReport string
}

// line writes s, or counts it in dropped (when not nil) if it does not fit
// or an earlier line did not.
func (d *mdDoc) line(s string, dropped *int) {
	if d.cut || d.b.Len()+len(s) > MarkdownLimit-markdownNoteRoom {
		d.cut = true
		if dropped != nil {
			*dropped++
		}
		return
	}
	d.b.WriteString(s)
}

// report writes a report's title (after title), its partial banner, its
// DaemonSet table and its findings under a heading of level sub; section
// counts the report as left out when its title does not fit.
func (d *mdDoc) report(r *report.Report, title, sub string, section *int) {
	d.line(fmt.Sprintf("%s%s: %d failing of %d findings in %d DaemonSets (%d healthy)\n\n", title, render.Outcome(r), r.Summary.Failing, r.Summary.Findings, r.Summary.DaemonSets, r.Summary.Healthy), section)
	if pb := render.PartialBanner(r); pb != "" {
		d.line(fmt.Sprintf("> **Partial report:** %s\n\n", escape.Markdown(strings.TrimPrefix(pb, "PARTIAL REPORT: "))), nil)
	}
	d.findings += r.Summary.Findings
	d.line("| DaemonSet | Desired | Current | Ready | Up-to-date | Available | Findings |\n|---|---:|---:|---:|---:|---:|---:|\n", nil)
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		c := ds.Computed
		// mdEscape: Markdown would take <unknown> for an HTML tag.
		get := func(f func(*report.Counts) int32) string { return escape.Markdown(render.Num(c, f)) }
		d.line(fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %d |\n", escape.MarkdownCode(ds.Namespace+"/"+ds.Name),
			get(func(c *report.Counts) int32 { return c.DesiredNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.CurrentNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.NumberReady }),
			get(func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.NumberAvailable }),
			render.ActiveCount(ds.Findings)), &d.droppedDS)
	}
	if r.Summary.Findings == 0 {
		return
	}
	d.line("\n"+sub+" Findings\n\n| DaemonSet | Node | Finding | Reason | Fix |\n|---|---|---|---|---|\n", nil)
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		for _, f := range ds.Findings {
			if !f.Active() {
				continue
			}
			typ := escape.Markdown(string(f.Type))
			if f.Failing {
				typ = "**" + typ + "**"
			}
			d.line(fmt.Sprintf("| %s | %s | %s | %s | %s |\n", escape.MarkdownCode(ds.Namespace+"/"+ds.Name), escape.Markdown(render.OrNone(f.Node, "-")), typ, escape.Markdown(f.Message), escape.Markdown(f.Suggestion)), &d.droppedFindings)
		}
	}
}

// cutNote says what the limit left out, if anything, and where the whole
// report is; it has markdownNoteRoom to itself.
func (d *mdDoc) cutNote() {
	if !d.cut {
		return
	}
	var parts []string
	if d.droppedClusterRows > 0 {
		parts = append(parts, fmt.Sprintf("%d rows of the clusters table", d.droppedClusterRows))
	}
	if d.droppedSections > 0 {
		parts = append(parts, fmt.Sprintf("the sections of %d clusters", d.droppedSections))
	}
	parts = append(parts, fmt.Sprintf("%d DaemonSet rows and %d of %d findings", d.droppedDS, d.droppedFindings, d.findings))
	where := "write the whole report to a file with `--output-file json=daemoncheck.json`"
	if d.fullReport != "" {
		// A path may be long: the note must fit its room.
		where = "the whole report is in " + escape.MarkdownCode(text.Truncate(d.fullReport, 1024))
	}
	fmt.Fprintf(&d.b, "\n> **Cut to stay under the %d KiB job summary limit:** %s left out; %s.\n", MarkdownLimit>>10, strings.Join(parts, ", "), where)
}

// WhatIfMarkdown prints a what-if for a pull-request comment or a CI job
// summary: the verdict, per pool shape the daemons that would not run or
// not fit, per change the nodes gained and lost, and every finding with
// its fix. Rows past MarkdownLimit are left out with a note.
func WhatIfMarkdown(w io.Writer, r *report.WhatIfReport, _ render.Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## daemoncheck %s\n\n", escape.Markdown(plan.WhatIfVerdict(r)))
	if pb := plan.WhatIfPartial(r); pb != "" {
		fmt.Fprintf(&b, "> **Partial:** %s\n\n", escape.Markdown(pb))
	}
	budget := MarkdownLimit - markdownNoteRoom
	cut, dropped := false, 0
	row := func(line string) {
		if cut || b.Len()+len(line) > budget {
			cut = true
			dropped++
			return
		}
		b.WriteString(line)
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		what := "change"
		if c.New {
			what = "new"
		}
		row(fmt.Sprintf("### DaemonSet `%s/%s` (%s): %d nodes, today %d\n\n| Nodes | Pool | Count | Names | Reason |\n|---|---|---:|---|---|\n", escape.Markdown(c.Namespace), escape.Markdown(c.Name), what, c.NodesAfter, c.NodesBefore))
		for _, g := range c.Gained {
			row(fmt.Sprintf("| gained | %s | %d | %s | |\n", escape.Markdown(render.OrNone(g.Pool, "-")), g.Count, escape.Markdown(g.Range)))
		}
		for _, g := range c.Lost {
			row(fmt.Sprintf("| lost | %s | %d | %s | %s |\n", escape.Markdown(render.OrNone(g.Pool, "-")), g.Count, escape.Markdown(g.Range), escape.Markdown(g.Reason)))
		}
		row("\n")
		mdFindings(row, c.Findings, 0)
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		// What runs and fits is counted; what does not is listed.
		row(fmt.Sprintf("### %s `%s` (%s)\n\n| Node shape | DaemonSet | Runs | Fit | Reason |\n|---|---|---|---|---|\n", escape.Markdown(p.Kind), escape.Markdown(p.Name), escape.Markdown(p.Source)))
		for _, s := range p.Shapes {
			ok, waiting := 0, 0
			var startup []string
			for _, d := range s.DaemonSets {
				if d.Runs && d.Fit != report.ShapeFitNo {
					ok++
					if len(d.WaitsFor) > 0 {
						waiting++
						startup = d.WaitsFor
					}
				}
			}
			note := ""
			if waiting > 0 {
				note = fmt.Sprintf("; %d of them once startup taint %s is removed", waiting, strings.Join(startup, ", "))
			}
			row(fmt.Sprintf("| `%s` | %d of %d DaemonSets | yes | %s | run%s%s |\n", escape.Markdown(s.Name), ok, len(s.DaemonSets), shapeFitWord(s), escape.Markdown(allocNote(s)), escape.Markdown(note)))
			for _, d := range s.DaemonSets {
				if d.Runs && d.Fit != report.ShapeFitNo {
					continue
				}
				runs, why := "yes", strings.Join(append(append([]string{}, d.Shortfalls...), d.PortClashes...), "; ")
				if !d.Runs {
					runs, why = "no", d.Reason
				}
				if w := plan.RunsWord(&d); w != "" {
					runs = "**" + w + "**"
				}
				fit := render.OrNone(d.Fit, "-")
				if w := plan.FitWord(&d); w != "" {
					fit = "**" + w + "**"
				}
				row(fmt.Sprintf("| `%s` | `%s/%s` | %s | %s | %s |\n", escape.Markdown(s.Name), escape.Markdown(d.Namespace), escape.Markdown(d.Name), runs, fit, escape.Markdown(why)))
			}
		}
		row("\n")
		mdFindings(row, p.Findings, len(p.Shapes))
	}
	if dropped > 0 {
		fmt.Fprintf(&b, "\n> **Cut to stay under the %d KiB job summary limit:** %d rows left out; write the whole report with `-o json`.\n", MarkdownLimit>>10, dropped)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdFindings(row func(string), fs []report.WhatIfFinding, shapes int) {
	if len(fs) == 0 {
		return
	}
	row("| Finding | DaemonSet | Where | Message | Fix |\n|---|---|---|---|---|\n")
	// One row per cause, as the table view prints them.
	for _, g := range plan.FindingGroups(fs) {
		f := g[0]
		kind := string(f.Type)
		if f.Failing {
			kind = "**" + kind + "**"
		}
		where := strings.Join(f.Shapes, ", ")
		if len(f.Nodes) > 0 {
			where = strings.Join(f.Nodes, ", ")
			if len(f.Nodes) > render.MaxNodesPerReason {
				where = fmt.Sprintf("%s +%d more", strings.Join(f.Nodes[:render.MaxNodesPerReason], ", "), len(f.Nodes)-render.MaxNodesPerReason)
			}
		}
		msg, dss := f.Message, f.DaemonSet
		if len(g) > 1 {
			msg = plan.WillNotRunText(g, shapes)
			var names []string
			for _, o := range g {
				names = append(names, o.DaemonSet)
			}
			dss = strings.Join(names, ", ")
		}
		row(fmt.Sprintf("| %s | %s | %s | %s | %s |\n", kind, escape.Markdown(render.OrNone(dss, "-")), escape.Markdown(render.OrNone(where, "-")), escape.Markdown(msg), escape.Markdown(f.Suggestion)))
	}
	row("\n")
}

func shapeFitWord(s report.Shape) string {
	if s.FitUnknown != "" {
		return report.ShapeFitUnknown
	}
	return report.ShapeFitYes
}

func allocNote(s report.Shape) string {
	if s.FitUnknown != "" {
		return ""
	}
	units := plan.ShapeUnits(&s)
	return " (allocatable " + units.Quantities(s.AllocatableValues, nil) + "; daemons " + units.Quantities(s.OverheadValues, s.OverheadPercent) + ")"
}

// FleetMarkdown prints the clusters' results as a table, then one section
// per cluster, as a single run's Markdown; the whole stays under
// MarkdownLimit (150 clusters easily pass it).
func FleetMarkdown(w io.Writer, f *report.FleetReport, o render.Options) error {
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
		d.line(fmt.Sprintf("| %s | %s | %s | %s |\n", escape.MarkdownCode(c.Context), escape.Markdown(string(c.Result)), counts, escape.Markdown(render.ClusterMessage(c))), &d.droppedClusterRows)
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
		if set := render.SetAside(c.Report); set != "" {
			d.line("\n"+set+"\n", nil)
		}
	}
	d.cutNote()
	_, err := io.WriteString(w, d.b.String())
	return err
}

// CapacityMarkdown prints the pool table for a pull request or a job
// summary.
func CapacityMarkdown(w io.Writer, r *report.Report, _ render.Options) error {
	c := r.Capacity
	if c == nil {
		c = &report.Capacity{}
	}
	var b strings.Builder
	notFitting := 0
	for _, p := range c.Pools {
		notFitting += p.NotFitting
	}
	verdict := "every daemon fits"
	if notFitting > 0 {
		verdict = fmt.Sprintf("the daemons do not all fit on %d nodes", notFitting)
	}
	if !c.Workloads {
		verdict += " (daemons only: other Pods not counted)"
	}
	fmt.Fprintf(&b, "## Daemon overhead: %s\n\n", verdict)
	if pb := render.PartialBanner(r); pb != "" {
		fmt.Fprintf(&b, "> **Partial report:** %s\n\n", escape.Markdown(strings.TrimPrefix(pb, "PARTIAL REPORT: ")))
	}
	b.WriteString("| Pool | Nodes | DaemonSets |")
	for _, name := range c.Resources {
		fmt.Fprintf(&b, " %s |", escape.Markdown(name))
	}
	b.WriteString(" Not fitting |\n|---|---:|---:|")
	for range c.Resources {
		b.WriteString("---:|")
	}
	b.WriteString("---|\n")
	units := plan.PoolUnits(c)
	for _, p := range c.Pools {
		fmt.Fprintf(&b, "| %s | %d | %d |", escape.Markdown(render.OrNone(p.Pool, "-")), p.Nodes, p.DaemonSets)
		for _, rc := range p.Resources {
			if p.NodesUnknown == p.Nodes {
				fmt.Fprintf(&b, " %s / %s |", units.Format(rc.Resource, rc.DaemonsValue), escape.Markdown(render.Unknown))
				continue
			}
			fmt.Fprintf(&b, " %s / %s (%d%%) |", units.Format(rc.Resource, rc.DaemonsValue), units.Format(rc.Resource, rc.AllocatableValue), rc.Percent)
		}
		nf := "0"
		if p.NotFitting > 0 {
			nf = escape.Markdown(fmt.Sprintf("%d: %s (%s)", p.NotFitting, p.NotFittingRange, strings.Join(p.LeftOut, ", ")))
		}
		fmt.Fprintf(&b, " %s |\n", nf)
	}
	n := 0
	for _, node := range c.Nodes {
		for _, l := range node.LeftOut {
			if n == 0 {
				b.WriteString("\n### Daemons that do not fit\n\n")
			}
			if n == plan.MaxLeftOutLines {
				fmt.Fprintf(&b, "- ... and more: `kubectl daemoncheck capacity -o wide`\n")
				break
			}
			fmt.Fprintf(&b, "- %s: %s: %s\n", escape.MarkdownCode(node.Name), escape.MarkdownCode(l.DaemonSet), escape.Markdown(l.Reason))
			n++
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// WhatIfJUnit prints a what-if as JUnit XML: one test suite per changed
// DaemonSet and per proposed pool, with one test case per cause (the
// findings grouped as the table view groups them: one kind, cause, fix and
// verdict), named by its kind and DaemonSets, failing when the gate selects
// it, its shapes or nodes and fix in the failure's text (system-out for a
// warning). A suite without findings has one passing case, so that every
// reader counts it. The suite's properties say what was judged: each
// node shape of a pool (platform, instance types, how many daemons run and
// fit), the nodes a change gains and loses.
func WhatIfJUnit(w io.Writer, r *report.WhatIfReport, _ Options) error {
	out := junitSuites{Name: "daemoncheck whatif", Time: junitTime}
	ts := r.GeneratedAt.Format("2006-01-02T15:04:05Z07:00")
	for i := range r.Changes {
		c := &r.Changes[i]
		s := junitSuite{Name: fmt.Sprintf("DaemonSet %s/%s", c.Namespace, c.Name), Time: junitTime, Timestamp: ts}
		s.Properties = append(s.Properties, junitProperty{"nodes", fmt.Sprintf("%d, today %d", c.NodesAfter, c.NodesBefore)})
		for _, g := range c.Gained {
			s.Properties = append(s.Properties, junitProperty{"gained " + orNone(g.Pool, "-"), fmt.Sprintf("%d: %s", g.Count, g.Range)})
		}
		for _, g := range c.Lost {
			s.Properties = append(s.Properties, junitProperty{"lost " + orNone(g.Pool, "-"), fmt.Sprintf("%d: %s (%s)", g.Count, g.Range, g.Reason)})
		}
		causeCases(&s, whatIfCauses(c.Findings, 0))
		out.add(s)
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		s := junitSuite{Name: fmt.Sprintf("%s %s", p.Kind, p.Name), Time: junitTime, Timestamp: ts}
		for j := range p.Shapes {
			s.Properties = append(s.Properties, junitProperty{"shape " + p.Shapes[j].Name, shapeSummary(&p.Shapes[j])})
		}
		causeCases(&s, whatIfCauses(p.Findings, len(p.Shapes)))
		out.add(s)
	}
	var comments []string
	if b := whatIfPartial(r); b != "" {
		comments = append(comments, b)
	}
	return writeJUnit(w, out, comments)
}

// causeCases adds a test case per cause to s (a passing one when there is
// none).
func causeCases(s *junitSuite, causes []whatIfCause) {
	if len(causes) == 0 {
		s.Cases = append(s.Cases, junitCase{Name: "every required daemon runs and fits", Classname: s.Name, Time: junitTime})
		s.Tests++
		return
	}
	for _, c := range causes {
		tc := junitCase{Name: c.title(), Classname: s.Name, Time: junitTime}
		body := c.where
		if c.fix != "" {
			body += "\nSuggestion: " + c.fix
		}
		if c.failing {
			tc.Failure = &junitFailure{Type: string(c.kind), Message: c.message, Text: body}
			s.Failures++
		} else {
			tc.SystemOut = fmt.Sprintf("%s (%s): %s\n%s", c.kind, c.severity, c.message, body)
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
}

// shapeSummary is a node shape in a line: platform, instance types, and
// how many daemons run and fit there.
func shapeSummary(sh *report.Shape) string {
	runs, fit := 0, 0
	for _, d := range sh.DaemonSets {
		if d.Runs {
			runs++
			if d.Fit != report.ShapeFitNo {
				fit++
			}
		}
	}
	line := fmt.Sprintf("%s/%s", orNone(sh.OS, unknown), orNone(sh.Arch, unknown))
	if it := instanceTypesText(sh); it != "" {
		line += " " + it
	}
	line += fmt.Sprintf(": %d of %d DaemonSets run", runs, len(sh.DaemonSets))
	switch {
	case sh.FitUnknown != "":
		line += ", fit unknown"
	case fit < runs:
		line += fmt.Sprintf(", %d do not fit", runs-fit)
	default:
		line += ", all fit"
	}
	return line
}

// maxCINodes bounds the nodes a CI entry lists (a change can lose
// thousands; an annotation or failure text stays readable).
const maxCINodes = 50

// whatIfCause is one cause of a what-if's findings (a findingGroups
// entry), as the CI formats report it.
type whatIfCause struct {
	kind       report.WhatIfFindingType
	severity   report.Severity
	failing    bool
	daemonSets []string
	// where lists the node shapes (a pool) or the cluster nodes (a change)
	// the cause concerns.
	where        string
	message, fix string
}

// title names a cause: its kind and DaemonSets.
func (c whatIfCause) title() string {
	if len(c.daemonSets) == 0 {
		return string(c.kind)
	}
	return string(c.kind) + " " + strings.Join(c.daemonSets, ", ")
}

// whatIfCauses groups findings by cause, as the table view does (shapes:
// the pool's number of shapes, 0 for a change).
func whatIfCauses(fs []report.WhatIfFinding, shapes int) []whatIfCause {
	var out []whatIfCause
	for _, g := range findingGroups(fs) {
		f := g[0]
		c := whatIfCause{kind: f.Type, severity: f.Severity, failing: f.Failing, message: f.Message, fix: f.Suggestion}
		for _, o := range g {
			if o.DaemonSet != "" {
				c.daemonSets = append(c.daemonSets, o.DaemonSet)
			}
		}
		if len(g) > 1 {
			c.message = willNotRunText(g, shapes)
		}
		// The group shares its shapes and nodes (findingGroups' key).
		switch {
		case len(f.Nodes) > maxCINodes:
			c.where = fmt.Sprintf("Nodes: %s and %d more (-o json lists them)", strings.Join(f.Nodes[:maxCINodes], ", "), len(f.Nodes)-maxCINodes)
		case len(f.Nodes) > 0:
			c.where = fmt.Sprintf("%s: %s", plural(len(f.Nodes), "Node", "Nodes"), strings.Join(f.Nodes, ", "))
		case len(f.Shapes) > 0:
			c.where = fmt.Sprintf("%s: %s", plural(len(f.Shapes), "Node shape", "Node shapes"), strings.Join(f.Shapes, ", "))
		}
		out = append(out, c)
	}
	return out
}

// WhatIfMarkdown prints a what-if for a pull-request comment or a CI job
// summary: the verdict, per pool shape the daemons that would not run or
// not fit, per change the nodes gained and lost, and every finding with
// its fix. Rows past MarkdownLimit are left out with a note.
func WhatIfMarkdown(w io.Writer, r *report.WhatIfReport, _ Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## daemoncheck %s\n\n", escape.Markdown(whatIfVerdict(r)))
	if pb := whatIfPartial(r); pb != "" {
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
			row(fmt.Sprintf("| gained | %s | %d | %s | |\n", escape.Markdown(orNone(g.Pool, "-")), g.Count, escape.Markdown(g.Range)))
		}
		for _, g := range c.Lost {
			row(fmt.Sprintf("| lost | %s | %d | %s | %s |\n", escape.Markdown(orNone(g.Pool, "-")), g.Count, escape.Markdown(g.Range), escape.Markdown(g.Reason)))
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
				if w := runsWord(&d); w != "" {
					runs = "**" + w + "**"
				}
				fit := orNone(d.Fit, "-")
				if w := fitWord(&d); w != "" {
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
	for _, g := range findingGroups(fs) {
		f := g[0]
		kind := string(f.Type)
		if f.Failing {
			kind = "**" + kind + "**"
		}
		where := strings.Join(f.Shapes, ", ")
		if len(f.Nodes) > 0 {
			where = strings.Join(f.Nodes, ", ")
			if len(f.Nodes) > maxNodesPerReason {
				where = fmt.Sprintf("%s +%d more", strings.Join(f.Nodes[:maxNodesPerReason], ", "), len(f.Nodes)-maxNodesPerReason)
			}
		}
		msg, dss := f.Message, f.DaemonSet
		if len(g) > 1 {
			msg = willNotRunText(g, shapes)
			var names []string
			for _, o := range g {
				names = append(names, o.DaemonSet)
			}
			dss = strings.Join(names, ", ")
		}
		row(fmt.Sprintf("| %s | %s | %s | %s | %s |\n", kind, escape.Markdown(orNone(dss, "-")), escape.Markdown(orNone(where, "-")), escape.Markdown(msg), escape.Markdown(f.Suggestion)))
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
	units := shapeUnits(&s)
	return " (allocatable " + units.quantities(s.AllocatableValues, nil) + "; daemons " + units.quantities(s.OverheadValues, s.OverheadPercent) + ")"
}

// WhatIfGitHub prints a what-if as GitHub Actions workflow commands, as
// GitHub does for the audit: kinds not read, then one annotation per cause
// (the findings grouped as the table view groups them; ::error when the
// gate selects it, ::warning otherwise), titled by its kind, where (pool
// or DaemonSet) and DaemonSets, listing the node shapes or nodes it
// concerns, and the verdict line last.
func WhatIfGitHub(w io.Writer, r *report.WhatIfReport, _ Options) error {
	for _, u := range r.Unread {
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", escape.GHProperty("daemoncheck whatif: partial"), escape.GHData(u.Kind+" not read: "+u.Reason)); err != nil {
			return err
		}
	}
	annotate := func(where string, causes []whatIfCause) error {
		for _, c := range causes {
			level := "warning"
			if c.failing {
				level = "error"
			}
			title := string(c.kind) + " " + where
			if len(c.daemonSets) > 0 {
				title += " " + strings.Join(c.daemonSets, " ")
			}
			msg := c.message
			if c.where != "" {
				msg += "\n" + c.where
			}
			if c.fix != "" {
				msg += "\nFix: " + c.fix
			}
			if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", level, escape.GHProperty(title), escape.GHData(msg)); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		if err := annotate(fmt.Sprintf("DaemonSet %s/%s", c.Namespace, c.Name), whatIfCauses(c.Findings, 0)); err != nil {
			return err
		}
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		if err := annotate(p.Kind+" "+p.Name, whatIfCauses(p.Findings, len(p.Shapes))); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, escape.Terminal(whatIfVerdict(r)))
	return err
}

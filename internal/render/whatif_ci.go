package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// WhatIfJUnit prints a what-if as JUnit XML, in the shape JUnit shows for
// the audit (junitSuites): one test suite per proposed pool with one test
// case per DaemonSet (failing when a failing finding is about it on any of
// the pool's node shapes; every shape's verdict in system-out) and a "pool"
// case for what concerns no single DaemonSet; one suite per changed
// DaemonSet with a "coverage" case (nodes gained and lost; failing when a
// required node is lost) and a "fit" case (daemons that newly do not fit
// or clash on a host port).
func WhatIfJUnit(w io.Writer, r *report.WhatIfReport, _ Options) error {
	out := junitSuites{Name: "daemoncheck whatif", Time: junitTime}
	ts := r.GeneratedAt.Format("2006-01-02T15:04:05Z07:00")
	add := out.add
	caseOf := func(s *junitSuite, name string, fs []report.WhatIfFinding, notes []string) {
		tc := junitCase{Name: name, Classname: s.Name, Time: junitTime}
		var failing []report.WhatIfFinding
		for _, f := range fs {
			if f.Failing {
				failing = append(failing, f)
			} else {
				notes = append(notes, fmt.Sprintf("%s (warning): %s", f.Kind, f.Message))
			}
		}
		tc.Failure = mergeWhatIf(failing)
		tc.SystemOut = strings.Join(notes, "\n")
		if tc.Failure != nil {
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		s := junitSuite{Name: fmt.Sprintf("DaemonSet %s/%s", c.Namespace, c.Name), Time: junitTime, Timestamp: ts}
		var cov, fit []report.WhatIfFinding
		for _, f := range c.Findings {
			if f.Kind == report.WhatIfWillNotRun {
				cov = append(cov, f)
			} else {
				fit = append(fit, f)
			}
		}
		var notes []string
		for _, g := range c.Gained {
			notes = append(notes, fmt.Sprintf("gained %d %s of pool %s: %s", g.Count, plural(g.Count, "node", "nodes"), orNone(g.Pool, "-"), g.Range))
		}
		for _, g := range c.Lost {
			notes = append(notes, fmt.Sprintf("lost %d %s of pool %s (%s): %s", g.Count, plural(g.Count, "node", "nodes"), orNone(g.Pool, "-"), g.Reason, g.Range))
		}
		caseOf(&s, "coverage", cov, notes)
		caseOf(&s, "fit", fit, nil)
		add(s)
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		s := junitSuite{Name: fmt.Sprintf("%s %s", p.Kind, p.Name), Time: junitTime, Timestamp: ts}
		byDS := map[string][]report.WhatIfFinding{}
		var poolLevel []report.WhatIfFinding
		for _, f := range p.Findings {
			if f.DaemonSet == "" {
				poolLevel = append(poolLevel, f)
				continue
			}
			byDS[f.DaemonSet] = append(byDS[f.DaemonSet], f)
		}
		caseOf(&s, "pool", poolLevel, nil)
		if len(p.Shapes) > 0 {
			for j := range p.Shapes[0].DaemonSets {
				d := &p.Shapes[0].DaemonSets[j]
				key := d.Namespace + "/" + d.Name
				var notes []string
				for k := range p.Shapes {
					sd := &p.Shapes[k].DaemonSets[j]
					v := "runs, fit " + strings.ToLower(orNone(sd.Fit, "-"))
					if !sd.Runs {
						v = "not targeted: " + sd.Reason
					}
					notes = append(notes, fmt.Sprintf("%s: %s", p.Shapes[k].Name, v))
				}
				caseOf(&s, "daemonset "+key, byDS[key], notes)
			}
		}
		add(s)
	}
	var comments []string
	if b := whatIfPartial(r); b != "" {
		comments = append(comments, b)
	}
	return writeJUnit(w, out, comments)
}

// mergeWhatIf folds failing findings into one <failure>, as mergeFailures
// does for the audit.
func mergeWhatIf(fs []report.WhatIfFinding) *junitFailure {
	items := make([]failureItem, len(fs))
	for i, f := range fs {
		items[i] = failureItem{string(f.Kind), f.Message, f.Suggestion}
	}
	return mergeItems(items)
}

// WhatIfMarkdown prints a what-if for a pull-request comment or a CI job
// summary: the verdict, per pool shape the daemons that would not run or
// not fit, per change the nodes gained and lost, and every finding with
// its fix. Rows past MarkdownLimit are left out with a note.
func WhatIfMarkdown(w io.Writer, r *report.WhatIfReport, _ Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## daemoncheck %s\n\n", mdEscape(whatIfVerdict(r)))
	if pb := whatIfPartial(r); pb != "" {
		fmt.Fprintf(&b, "> **Partial:** %s\n\n", mdEscape(pb))
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
		row(fmt.Sprintf("### DaemonSet `%s/%s` (%s): %d nodes, today %d\n\n| Nodes | Pool | Count | Names | Reason |\n|---|---|---:|---|---|\n", mdEscape(c.Namespace), mdEscape(c.Name), what, c.NodesAfter, c.NodesBefore))
		for _, g := range c.Gained {
			row(fmt.Sprintf("| gained | %s | %d | %s | |\n", mdEscape(orNone(g.Pool, "-")), g.Count, mdEscape(g.Range)))
		}
		for _, g := range c.Lost {
			row(fmt.Sprintf("| lost | %s | %d | %s | %s |\n", mdEscape(orNone(g.Pool, "-")), g.Count, mdEscape(g.Range), mdEscape(g.Reason)))
		}
		row("\n")
		mdFindings(row, c.Findings, 0)
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		// What runs and fits is counted; what does not is listed.
		row(fmt.Sprintf("### %s `%s` (%s)\n\n| Node shape | DaemonSet | Runs | Fit | Reason |\n|---|---|---|---|---|\n", mdEscape(p.Kind), mdEscape(p.Name), mdEscape(p.Source)))
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
			row(fmt.Sprintf("| `%s` | %d of %d DaemonSets | yes | %s | run%s%s |\n", mdEscape(s.Name), ok, len(s.DaemonSets), fitWord(s), mdEscape(allocNote(s)), mdEscape(note)))
			for _, d := range s.DaemonSets {
				if d.Runs && d.Fit != report.ShapeFitNo {
					continue
				}
				runs, why := "yes", strings.Join(append(append([]string{}, d.Shortfalls...), d.PortClashes...), "; ")
				if !d.Runs {
					runs, why = "no", d.Reason
				}
				if !d.Runs && d.Required {
					runs = "**no**"
				}
				fit := orNone(d.Fit, "-")
				if d.Fit == report.ShapeFitNo {
					fit = "**No**"
				}
				row(fmt.Sprintf("| `%s` | `%s/%s` | %s | %s | %s |\n", mdEscape(s.Name), mdEscape(d.Namespace), mdEscape(d.Name), runs, fit, mdEscape(why)))
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
		kind := string(f.Kind)
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
		row(fmt.Sprintf("| %s | %s | %s | %s | %s |\n", kind, mdEscape(orNone(dss, "-")), mdEscape(orNone(where, "-")), mdEscape(msg), mdEscape(f.Suggestion)))
	}
	row("\n")
}

func fitWord(s report.Shape) string {
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
// GitHub does for the audit: kinds not read, then one annotation per
// finding (::error when it fails the gate, ::warning otherwise), titled by
// its kind and where (pool or DaemonSet), and the verdict line last.
func WhatIfGitHub(w io.Writer, r *report.WhatIfReport, _ Options) error {
	for _, u := range r.Unread {
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", ghProperty("daemoncheck whatif: partial"), ghData(u.Kind+" not read: "+u.Reason)); err != nil {
			return err
		}
	}
	annotate := func(where string, fs []report.WhatIfFinding) error {
		for _, f := range fs {
			level := "warning"
			if f.Failing {
				level = "error"
			}
			title := string(f.Kind) + " " + where
			if f.DaemonSet != "" {
				title += " " + f.DaemonSet
			}
			msg := f.Message
			if f.Suggestion != "" {
				msg += "\nFix: " + f.Suggestion
			}
			if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", level, ghProperty(title), ghData(msg)); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		if err := annotate(fmt.Sprintf("DaemonSet %s/%s", c.Namespace, c.Name), c.Findings); err != nil {
			return err
		}
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		if err := annotate(p.Kind+" "+p.Name, p.Findings); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, safe(whatIfVerdict(r)))
	return err
}

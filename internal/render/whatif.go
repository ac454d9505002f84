package render

import (
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"

	corev1 "k8s.io/api/core/v1"
)

// WhatIfTable prints a what-if for people: per proposed pool, each node
// shape with every DaemonSet (runs or not and why, fits or not), then the
// findings with their fixes; per changed DaemonSet, the nodes gained and
// lost by pool and reason. -o wide adds each daemon's request, priority
// and coverage rule, and every label of each shape.
func WhatIfTable(w io.Writer, r *report.WhatIfReport, o Options) error {
	width := o.MaxWidth
	if width == 0 {
		width = detailWidth
	}
	for i := range r.Changes {
		if err := whatIfChange(w, &r.Changes[i], o, width); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	for i := range r.Pools {
		if err := whatIfPool(w, &r.Pools[i], o, width); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, safe(whatIfVerdict(r)))
	if b := whatIfPartial(r); b != "" {
		fmt.Fprintln(w, safe(b))
	}
	return nil
}

// whatIfVerdict is the one-line answer: passed or failed, and by what.
func whatIfVerdict(r *report.WhatIfReport) string {
	s := r.Summary
	verdict := "passed"
	switch {
	case s.Failing > 0:
		verdict = "failed"
	case r.Partial:
		verdict = "incomplete"
	}
	var what []string
	if s.Pools > 0 {
		shapes := fmt.Sprintf("%d %s", s.Shapes, plural(s.Shapes, "node shape", "node shapes"))
		if s.UnjudgedShapes > 0 {
			// Never "passed: 32 node shapes" for a pool of millions.
			shapes += fmt.Sprintf(" judged, %d not judged: beyond --max-shapes", s.UnjudgedShapes)
		}
		what = append(what, fmt.Sprintf("%d %s (%s)", s.Pools, plural(s.Pools, "pool", "pools"), shapes))
	}
	if s.Changes > 0 {
		what = append(what, fmt.Sprintf("%d DaemonSet %s", s.Changes, plural(s.Changes, "change", "changes")))
	}
	line := fmt.Sprintf("whatif %s: %s against %d DaemonSets and %d nodes; %d %s, %d failing", verdict, strings.Join(what, " and "), r.DaemonSetCount, r.NodeCount, s.Findings, plural(s.Findings, "finding", "findings"), s.Failing)
	if len(s.ByKind) > 0 {
		var parts []string
		for _, k := range report.WhatIfKinds {
			if n := s.ByKind[k.Kind]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k.Kind, n))
			}
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	return line
}

func whatIfPartial(r *report.WhatIfReport) string {
	if !r.Partial {
		return ""
	}
	var kinds []string
	for _, u := range r.Unread {
		kinds = append(kinds, u.Kind)
	}
	return fmt.Sprintf("PARTIAL: %s could not be read; see the warnings", strings.Join(kinds, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// kv prints aligned "Key:  value" lines, wrapping long values.
func kv(w io.Writer, pairs [][2]string, width int, indent string) {
	keyW := 0
	for _, p := range pairs {
		keyW = max(keyW, len(p[0])+1)
	}
	for _, p := range pairs {
		head := fmt.Sprintf("%s%-*s  ", indent, keyW, p[0]+":")
		fmt.Fprint(w, wrap(safe(p[1]), width, head, strings.Repeat(" ", len(head))))
	}
}

func whatIfPool(w io.Writer, p *report.PoolWhatIf, o Options, width int) error {
	title := p.Kind + " " + p.Name
	if p.Namespace != "" {
		title = fmt.Sprintf("%s %s/%s", p.Kind, p.Namespace, p.Name)
	}
	origin := p.Source
	if p.APIVersion != "" {
		origin = p.APIVersion + ", " + p.Source
	}
	if p.Kind == "Flags" {
		title, origin = "Node "+p.Name, "described by flags"
	}
	fmt.Fprintln(w, safe(fmt.Sprintf("%s (%s)", title, origin)))
	var pairs [][2]string
	pairs = append(pairs, [2]string{"Taints", orNone(strings.Join(p.Taints, ", "), "<none>")})
	if len(p.StartupTaints) > 0 {
		var sts []string
		for _, st := range p.StartupTaints {
			by := "tolerated by no DaemonSet"
			if len(st.ToleratedBy) > 0 {
				by = "tolerated by " + strings.Join(st.ToleratedBy, ", ")
			}
			sts = append(sts, fmt.Sprintf("%s (%s)", st.Taint, by))
		}
		pairs = append(pairs, [2]string{"Startup Taints", strings.Join(sts, "; ")})
	}
	if len(p.Requirements) > 0 {
		pairs = append(pairs, [2]string{"Requirements", strings.Join(p.Requirements, ", ")})
	}
	if p.UnjudgedShapes > 0 {
		pairs = append(pairs, [2]string{"Node Shapes", fmt.Sprintf("%d judged of %d the requirements allow; %d not judged (beyond --max-shapes)", len(p.Shapes), p.ShapesAllowed, p.UnjudgedShapes)})
	}
	if len(p.FilledLabels) > 0 {
		pairs = append(pairs, [2]string{"Labels Filled In", strings.Join(p.FilledLabels, ", ") + " (not in the input: the kubelet, the cloud provider or the provisioner sets them)"})
	}
	if o.Wide {
		pairs = append(pairs, [2]string{"Labels", labelsLine(p.Labels)})
	}
	kv(w, pairs, width, "")
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "Notes:")
		for _, n := range p.Notes {
			fmt.Fprint(w, wrap(safe(n), width, "  - ", "    "))
		}
	}
	for i := range p.Shapes {
		fmt.Fprintln(w)
		if err := whatIfShape(w, &p.Shapes[i], o, width); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	whatIfFindings(w, p.Findings, width)
	return nil
}

func labelsLine(ls map[string]string) string { return text.KeyValues(ls) }

func whatIfShape(w io.Writer, s *report.Shape, o Options, width int) error {
	head := "Node shape " + s.Name
	if len(s.Varies) > 0 {
		head += ": " + strings.Join(s.Varies, ", ")
	}
	fmt.Fprint(w, wrap(safe(head), width, "", "  "))
	units := shapeUnits(s)
	var pairs [][2]string
	if s.InstanceType != "" {
		pairs = append(pairs, [2]string{"Instance Type", s.InstanceType})
	}
	if s.FitUnknown != "" {
		pairs = append(pairs, [2]string{"Allocatable", "unknown: " + s.FitUnknown})
		pairs = append(pairs, [2]string{"Daemon Overhead", units.quantities(s.OverheadValues, nil)})
	} else {
		pairs = append(pairs, [2]string{"Allocatable", fmt.Sprintf("%s (from %s)", units.quantities(s.AllocatableValues, nil), s.AllocatableFrom)})
		pairs = append(pairs, [2]string{"Daemon Overhead", units.quantities(s.OverheadValues, s.OverheadPercent)})
		pairs = append(pairs, [2]string{"Headroom", units.quantities(s.HeadroomValues, nil) + " (left for workloads once the daemons that fit run)"})
	}
	if o.Wide {
		pairs = append(pairs, [2]string{"Labels", labelsLine(s.Labels)})
	}
	kv(w, pairs, width, "  ")
	headers := []string{"NAMESPACE", "NAME", "RUNS", "FIT", "REASON"}
	if o.Wide {
		headers = []string{"NAMESPACE", "NAME", "RUNS", "FIT", "CPU", "MEMORY", "PRIORITY", "REQUIRED", "REASON"}
	}
	var rows [][]string
	for _, d := range s.DaemonSets {
		runs, fit, why := "no", "-", d.Reason
		if d.Runs {
			runs, fit = "yes", d.Fit
			var parts []string
			parts = append(parts, d.Shortfalls...)
			parts = append(parts, d.PortClashes...)
			if len(d.WaitsFor) > 0 {
				parts = append(parts, "lands once startup taint "+strings.Join(d.WaitsFor, ", ")+" is removed")
			}
			why = strings.Join(parts, "; ")
		}
		if d.Required && !d.Runs {
			runs = "NO"
		}
		if fit == report.ShapeFitNo {
			fit = "NO"
		}
		row := []string{d.Namespace, d.Name, runs, orNone(fit, "-")}
		if o.Wide {
			prio := strconv.Itoa(int(d.Priority))
			if !d.PriorityKnown {
				prio = unknown
			}
			req := "-"
			switch {
			case d.RequiredBy == report.RequiredBySelectors:
				req = "(its selectors)"
			case d.Required:
				req = d.RequiredBy
			}
			row = append(row, units.request(d, corev1.ResourceCPU), units.request(d, corev1.ResourceMemory), prio, req)
		}
		rows = append(rows, append(row, orNone(why, "")))
	}
	return writeTable(w, headers, rows, o.NoHeaders, "  ")
}

// shapeUnits are the units of a node shape: its allocatable, overhead,
// headroom and every daemon's request (-o wide's CPU and MEMORY), one per
// resource for all of them.
func shapeUnits(s *report.Shape) resourceUnits {
	vals := map[string][]int64{}
	add := func(m map[string]int64) {
		for name, v := range m {
			vals[name] = append(vals[name], v)
		}
	}
	add(s.AllocatableValues)
	add(s.OverheadValues)
	add(s.HeadroomValues)
	for _, d := range s.DaemonSets {
		add(d.RequestValues)
	}
	return unitsOf(vals)
}

// request is a daemon's request of r in the shape's unit, "0" when it
// requests none.
func (u resourceUnits) request(d report.ShapeDaemon, r corev1.ResourceName) string {
	v, ok := d.RequestValues[string(r)]
	if !ok {
		return "0"
	}
	return u.format(string(r), v)
}

// quantities renders "cpu 250m (6%), memory 512Mi" in the fixed resource
// order.
func (u resourceUnits) quantities(q map[string]int64, pct map[string]int) string {
	if len(q) == 0 {
		return "none"
	}
	names := make([]corev1.ResourceName, 0, len(q))
	for k := range q {
		names = append(names, corev1.ResourceName(k))
	}
	capacity.SortNames(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n) + " " + u.format(string(n), q[string(n)])
		if p, ok := pct[string(n)]; ok {
			parts[i] += fmt.Sprintf(" (%d%%)", p)
		}
	}
	return strings.Join(parts, ", ")
}

func whatIfFindings(w io.Writer, fs []report.WhatIfFinding, width int) {
	fmt.Fprint(w, "Findings:")
	if len(fs) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	fmt.Fprintln(w)
	for _, f := range fs {
		sev := "warning"
		if f.Failing {
			sev = "FAIL"
		}
		fmt.Fprint(w, wrap(fmt.Sprintf("%s %s: %s", sev, f.Kind, safe(f.Message)), width, "  ", "      "))
		if f.Suggestion != "" {
			fmt.Fprint(w, wrap("Fix: "+safe(f.Suggestion), width, "    ", "      "))
		}
	}
}

func whatIfChange(w io.Writer, c *report.DaemonSetChange, o Options, width int) error {
	what := "change"
	if c.New {
		what = "new"
	}
	fmt.Fprintln(w, safe(fmt.Sprintf("DaemonSet %s/%s (%s, %s)", c.Namespace, c.Name, what, c.Source)))
	targets := fmt.Sprintf("%d nodes (gained %d, lost %d)", c.NodesAfter, groupCount(c.Gained), groupCount(c.Lost))
	if !c.New {
		targets = fmt.Sprintf("%d nodes, today %d (gained %d, lost %d)", c.NodesAfter, c.NodesBefore, groupCount(c.Gained), groupCount(c.Lost))
	}
	vals := map[string][]int64{}
	for _, m := range []map[string]int64{c.RequestAfterValues, c.RequestBeforeValues} {
		for name, v := range m {
			vals[name] = append(vals[name], v)
		}
	}
	units := unitsOf(vals)
	req := units.quantities(c.RequestAfterValues, nil)
	if c.RequestBeforeValues != nil && !maps.Equal(c.RequestBeforeValues, c.RequestAfterValues) {
		req += " (today " + units.quantities(c.RequestBeforeValues, nil) + ")"
	}
	pairs := [][2]string{{"Targets", targets}, {"Request", req}}
	for _, u := range c.Unknown {
		pairs = append(pairs, [2]string{"Unknown", u})
	}
	kv(w, pairs, width, "")
	var rows [][]string
	for _, g := range c.Gained {
		rows = append(rows, []string{"gained", orNone(g.Pool, "-"), strconv.Itoa(g.Count), g.Range, ""})
	}
	for _, g := range c.Lost {
		rows = append(rows, []string{"lost", orNone(g.Pool, "-"), strconv.Itoa(g.Count), g.Range, g.Reason})
	}
	if len(rows) > 0 {
		if err := writeTable(w, []string{"NODES", "POOL", "COUNT", "NAMES", "REASON"}, rows, o.NoHeaders, "  "); err != nil {
			return err
		}
	}
	whatIfFindings(w, c.Findings, width)
	return nil
}

func groupCount(gs []report.NodeGroup) int {
	n := 0
	for _, g := range gs {
		n += g.Count
	}
	return n
}

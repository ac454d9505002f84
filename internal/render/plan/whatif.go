package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"

	corev1 "k8s.io/api/core/v1"
)

// The what-if view for people is the default and -o wide's.
func init() {
	for _, name := range []string{render.Default, "wide"} {
		render.Register(render.Format{Name: name, RenderWhatIf: WhatIfTable})
	}
}

// WhatIfTable prints a what-if for people: per proposed pool, its node
// shapes (architecture, OS, instance types, daemon overhead), every
// DaemonSet once per group of shapes where all of them fare alike (runs or
// not and why, fits or not), then the findings with their fixes, one per
// cause; per changed DaemonSet, the nodes gained and lost by pool and
// reason. -o wide adds each daemon's request, priority and coverage rule,
// and every label of each shape. On a terminal (o.MaxWidth) prose wraps to
// its width; in pipes and files nothing is wrapped, so a grep finds a
// whole message.
func WhatIfTable(w io.Writer, r *report.WhatIfReport, o render.Options) error {
	width := o.MaxWidth
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
	fmt.Fprint(w, render.Wrap(escape.Terminal(WhatIfVerdict(r)), width, "", "  "))
	if b := WhatIfPartial(r); b != "" {
		fmt.Fprint(w, render.Wrap(escape.Terminal(b), width, "", "  "))
	}
	return nil
}

// WhatIfVerdict is the one-line answer: passed or failed, and by what.
func WhatIfVerdict(r *report.WhatIfReport) string {
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
		shapes := fmt.Sprintf("%d %s", s.Shapes, render.Plural(s.Shapes, "node shape", "node shapes"))
		if s.UnjudgedShapes > 0 {
			// Never "passed: 32 node shapes" for a pool of millions.
			shapes += fmt.Sprintf(" judged, %d not judged: beyond --max-shapes", s.UnjudgedShapes)
		}
		what = append(what, fmt.Sprintf("%d %s (%s)", s.Pools, render.Plural(s.Pools, "pool", "pools"), shapes))
	}
	if s.Changes > 0 {
		what = append(what, fmt.Sprintf("%d DaemonSet %s", s.Changes, render.Plural(s.Changes, "change", "changes")))
	}
	line := fmt.Sprintf("whatif %s: %s against %d DaemonSets and %d nodes; %d %s, %d failing", verdict, strings.Join(what, " and "), r.DaemonSets, r.NodeCount, s.Findings, render.Plural(s.Findings, "finding", "findings"), s.Failing)
	if len(s.ByType) > 0 {
		var parts []string
		for _, k := range report.WhatIfTypes {
			if n := s.ByType[k.Type]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k.Type, n))
			}
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	return line
}

// WhatIfPartial says which kinds could not be read ("" when the what-if
// is complete).
func WhatIfPartial(r *report.WhatIfReport) string {
	if !r.Partial {
		return ""
	}
	var kinds []string
	for _, u := range r.Unread {
		kinds = append(kinds, u.Kind)
	}
	return fmt.Sprintf("PARTIAL: %s could not be read; see the warnings", strings.Join(kinds, ", "))
}

func whatIfPool(w io.Writer, p *report.PoolWhatIf, o render.Options, width int) error {
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
	fmt.Fprintln(w, escape.Terminal(fmt.Sprintf("%s (%s)", title, origin)))
	var pairs [][2]string
	pairs = append(pairs, [2]string{"Taints", render.OrNone(strings.Join(p.Taints, ", "), "<none>")})
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
	render.KV(w, pairs, width, "")
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "Notes:")
		for _, n := range p.Notes {
			fmt.Fprint(w, render.Wrap(escape.Terminal(n), width, "  - ", "    "))
		}
	}
	if len(p.Shapes) == 1 {
		fmt.Fprintln(w)
		if err := whatIfShape(w, &p.Shapes[0], o, width); err != nil {
			return err
		}
	} else if len(p.Shapes) > 1 {
		fmt.Fprintln(w)
		if err := whatIfShapeTable(w, p, o, width); err != nil {
			return err
		}
		for _, g := range shapeGroups(p.Shapes) {
			fmt.Fprintln(w)
			head := "DaemonSets on node shapes " + strings.Join(g.names(p.Shapes), ", ")
			if len(g) == len(p.Shapes) {
				head = fmt.Sprintf("DaemonSets, alike on all %d node shapes", len(p.Shapes))
			}
			var unknownFit []string
			for _, at := range g {
				if p.Shapes[at].FitUnknown != "" {
					unknownFit = append(unknownFit, p.Shapes[at].Name)
				}
			}
			if len(unknownFit) > 0 && len(unknownFit) < len(g) {
				head += " (fit Unknown on " + strings.Join(unknownFit, ", ") + ", whose allocatable is not known)"
			}
			fmt.Fprint(w, render.Wrap(escape.Terminal(head+":"), width, "", "  "))
			if err := whatIfDaemons(w, p.Shapes, g, shapesUnits(p), o, width); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(w)
	whatIfFindings(w, p.Findings, len(p.Shapes), width)
	return nil
}

func labelsLine(ls map[string]string) string { return text.KeyValues(ls) }

// whatIfShape prints a pool's one node shape: what it is, its capacity,
// and every DaemonSet on it.
func whatIfShape(w io.Writer, s *report.Shape, o render.Options, width int) error {
	head := "Node shape " + s.Name
	if len(s.Varies) > 0 {
		head += ": " + strings.Join(s.Varies, ", ")
	}
	fmt.Fprint(w, render.Wrap(escape.Terminal(head), width, "", "  "))
	units := ShapeUnits(s)
	var pairs [][2]string
	if s.Arch != "" || s.OS != "" {
		pairs = append(pairs, [2]string{"Platform", render.OrNone(s.OS, render.Unknown) + "/" + render.OrNone(s.Arch, render.Unknown)})
	}
	if it := InstanceTypesText(s); it != "" {
		pairs = append(pairs, [2]string{"Instance Type", it})
	}
	if s.FitUnknown != "" {
		pairs = append(pairs, [2]string{"Allocatable", "unknown: " + s.FitUnknown})
		pairs = append(pairs, [2]string{"Daemon Overhead", units.Quantities(s.OverheadValues, nil)})
	} else {
		pairs = append(pairs, [2]string{"Allocatable", fmt.Sprintf("%s (from %s)", units.Quantities(s.AllocatableValues, nil), s.AllocatableFrom)})
		pairs = append(pairs, [2]string{"Daemon Overhead", units.Quantities(s.OverheadValues, s.OverheadPercent)})
		pairs = append(pairs, [2]string{"Headroom", units.headroom(s.HeadroomValues) + " (left for workloads once the daemons that fit run)"})
	}
	if o.Wide {
		pairs = append(pairs, [2]string{"Labels", labelsLine(s.Labels)})
	}
	render.KV(w, pairs, width, "  ")
	return whatIfDaemons(w, []report.Shape{*s}, make(shapeGroup, 1), units, o, width)
}

// InstanceTypesText names every instance type a shape stands for, those of
// one family together: "m7g.{large,xlarge}, c6g.xlarge, or any other".
func InstanceTypesText(s *report.Shape) string {
	types := s.InstanceTypes
	if len(types) == 0 && s.InstanceType != "" && !s.OtherInstanceTypes {
		types = []string{s.InstanceType}
	}
	var fams []string
	sizes := map[string][]string{}
	for _, t := range types {
		fam, size, ok := strings.Cut(t, ".")
		if !ok {
			fam, size = t, ""
		}
		if _, seen := sizes[fam]; !seen {
			fams = append(fams, fam)
		}
		sizes[fam] = append(sizes[fam], size)
	}
	var parts []string
	for _, f := range fams {
		ss := sizes[f]
		switch {
		case len(ss) == 1 && ss[0] == "":
			parts = append(parts, f)
		case len(ss) == 1:
			parts = append(parts, f+"."+ss[0])
		default:
			parts = append(parts, f+".{"+strings.Join(ss, ",")+"}")
		}
	}
	if s.OtherInstanceTypes {
		parts = append(parts, "any other")
	}
	return strings.Join(parts, ", ")
}

// whatIfShapeTable prints a pool's node shapes, one row each: what each
// is (platform, instance types) and what its daemons take of it.
func whatIfShapeTable(w io.Writer, p *report.PoolWhatIf, o render.Options, width int) error {
	headers := []string{"NODE SHAPE", "OS/ARCH", "INSTANCE TYPES", "CPU", "MEMORY", "PODS"}
	if o.Wide {
		headers = append(headers, "HEADROOM", "ALLOCATABLE FROM")
	}
	// One unit per column, from its largest amount.
	vals := map[string][]int64{}
	for i := range p.Shapes {
		for name, v := range shapeUnitValues(&p.Shapes[i]) {
			vals[name] = append(vals[name], v...)
		}
	}
	units := columnUnitsOf(vals)
	var rows [][]string
	for i := range p.Shapes {
		s := &p.Shapes[i]
		row := []string{s.Name, render.OrNone(s.OS, render.Unknown) + "/" + render.OrNone(s.Arch, render.Unknown), render.OrNone(InstanceTypesText(s), render.Unknown)}
		for _, r := range []string{string(corev1.ResourceCPU), string(corev1.ResourceMemory), string(corev1.ResourcePods)} {
			d := units.Format(r, s.OverheadValues[r])
			if s.FitUnknown != "" {
				row = append(row, d+"/?")
				continue
			}
			row = append(row, fmt.Sprintf("%s/%s (%d%%)", d, units.Format(r, s.AllocatableValues[r]), s.OverheadPercent[r]))
		}
		if o.Wide {
			if s.FitUnknown != "" {
				row = append(row, render.Unknown, render.Unknown)
			} else {
				row = append(row, units.headroom(s.HeadroomValues), s.AllocatableFrom)
			}
		}
		rows = append(rows, row)
	}
	fmt.Fprintln(w, "Node shapes:")
	if o.MaxWidth > 0 && !o.NoHeaders && render.TableWidth(headers, rows)+2 > o.MaxWidth {
		// Too narrow for the table: a line per shape, "column value".
		for _, r := range rows {
			var parts []string
			for i := 1; i < len(r); i++ {
				parts = append(parts, strings.ToLower(headers[i])+" "+r[i])
			}
			fmt.Fprint(w, render.Wrap(escape.Terminal(r[0]+": "+strings.Join(parts, ", ")), width, "  ", "      "))
		}
	} else if err := render.WriteTable(w, headers, rows, o.NoHeaders, "  "); err != nil {
		return err
	}
	if !o.NoHeaders {
		note := "CPU, MEMORY, PODS: what the daemons that run request / the node's allocatable (share; ?: not known)."
		if !o.Wide {
			note += " -o wide: headroom and where the allocatable comes from."
		}
		fmt.Fprint(w, render.Wrap(note, width, "  ", "  "))
	}
	return nil
}

// shapeGroup is the indexes of node shapes where every DaemonSet fares
// alike.
type shapeGroup []int

func (g shapeGroup) names(shapes []report.Shape) []string {
	out := make([]string, len(g))
	for i, at := range g {
		out[i] = shapes[at].Name
	}
	return out
}

// daemonVerdict is what sets a DaemonSet's row apart on a shape: whether
// it runs and why not, whether it fits (Yes and Unknown alike: an unknown
// allocatable is the shape's, said in its row and a FitUnknown finding),
// why not, and the rule that requires it.
func daemonVerdict(d *report.ShapeDaemon) string {
	fit := d.Fit == report.ShapeFitNo
	return strings.Join([]string{strconv.FormatBool(d.Runs), d.Reason, strconv.FormatBool(d.Required), d.RequiredBy, strconv.FormatBool(fit),
		strings.Join(d.Shortfalls, "\x01"), strings.Join(d.PortClashes, "\x01"), strings.Join(d.WaitsFor, "\x01")}, "\x00")
}

// shapeGroups groups a pool's shapes by every DaemonSet's verdict, in the
// order of each group's first shape.
func shapeGroups(shapes []report.Shape) []shapeGroup {
	var out []shapeGroup
	at := map[string]int{}
	for i := range shapes {
		var b strings.Builder
		for j := range shapes[i].DaemonSets {
			b.WriteString(daemonVerdict(&shapes[i].DaemonSets[j]))
			b.WriteString("\x02")
		}
		k := b.String()
		if g, ok := at[k]; ok {
			out[g] = append(out[g], i)
			continue
		}
		at[k] = len(out)
		out = append(out, shapeGroup{i})
	}
	return out
}

// whatIfDaemons prints every DaemonSet as it fares on the shapes of group
// g (alike on each, but for Yes against Unknown fit, which the group's
// heading says). On a terminal too narrow for the table's REASON, each
// DaemonSet is one line with a hanging indent instead.
func whatIfDaemons(w io.Writer, shapes []report.Shape, g shapeGroup, units ResourceUnits, o render.Options, width int) error {
	first := &shapes[g[0]]
	headers := []string{"NAMESPACE", "NAME", "RUNS", "FIT", "REASON"}
	if o.Wide {
		headers = []string{"NAMESPACE", "NAME", "RUNS", "FIT", "CPU", "MEMORY", "PRIORITY", "REQUIRED", "REASON"}
	}
	var rows [][]string
	for j, d := range first.DaemonSets {
		runs, fit, why := "no", "-", d.Reason
		if d.Runs {
			runs, fit = "yes", d.Fit
			for _, at := range g {
				// Yes where the allocatable is known, Unknown elsewhere.
				if shapes[at].DaemonSets[j].Fit == report.ShapeFitYes {
					fit = report.ShapeFitYes
				}
			}
			var parts []string
			parts = append(parts, d.Shortfalls...)
			parts = append(parts, d.PortClashes...)
			if len(d.WaitsFor) > 0 {
				parts = append(parts, "lands once startup taint "+strings.Join(d.WaitsFor, ", ")+" is removed")
			}
			why = strings.Join(parts, "; ")
		}
		if w := RunsWord(&d); w != "" {
			runs = w
		}
		if w := FitWord(&d); w != "" {
			fit = w
		}
		row := []string{d.Namespace, d.Name, runs, render.OrNone(fit, "-")}
		if o.Wide {
			prio := strconv.Itoa(int(d.Priority))
			if !d.PriorityKnown {
				prio = render.Unknown
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
		rows = append(rows, append(row, render.OrNone(why, "")))
	}
	if o.MaxWidth > 0 && !o.NoHeaders && render.TableWidth(headers, rows)+2 > o.MaxWidth {
		daemonList(w, headers, rows, width)
		return nil
	}
	return render.WriteTable(w, headers, rows, o.NoHeaders, "  ")
}

// RunsWord and FitWord are the RUNS and FIT cells that fail: the type of
// the finding they make (WillNotRun, WillNotFit, HostPortConflict), a word
// --ignore and --fail-on take, apart from "no", a DaemonSet that does not
// run there by design; "" when the daemon does not fail there.
func RunsWord(d *report.ShapeDaemon) string {
	if d.Required && !d.Runs {
		return string(report.WhatIfWillNotRun)
	}
	return ""
}

func FitWord(d *report.ShapeDaemon) string {
	switch {
	case d.Fit != report.ShapeFitNo:
		return ""
	case len(d.Shortfalls) == 0 && len(d.PortClashes) > 0:
		return string(report.WhatIfHostPortConflict)
	}
	return string(report.WhatIfWillNotFit)
}

// daemonList prints the DaemonSet table's rows as a list: "RUNS FIT
// namespace/name: reason", the other columns in parentheses, wrapped with
// a hanging indent.
func daemonList(w io.Writer, headers []string, rows [][]string, width int) {
	rw, fw := len("RUNS"), len("FIT")
	for _, r := range rows {
		rw, fw = max(rw, utf8.RuneCountInString(r[2])), max(fw, utf8.RuneCountInString(r[3]))
	}
	rest := strings.Repeat(" ", 2+rw+1+fw+1)
	fmt.Fprintf(w, "  %-*s %-*s DAEMONSET: REASON\n", rw, "RUNS", fw, "FIT")
	for _, r := range rows {
		line := r[0] + "/" + r[1]
		var extra []string
		for i := 4; i < len(r)-1; i++ {
			extra = append(extra, strings.ToLower(headers[i])+" "+r[i])
		}
		if len(extra) > 0 {
			line += " (" + strings.Join(extra, ", ") + ")"
		}
		if why := r[len(r)-1]; why != "" {
			line += ": " + why
		}
		// The fixed columns are the first line's indent: wrap keeps it.
		fmt.Fprint(w, render.Wrap(escape.Terminal(line), width, fmt.Sprintf("  %-*s %-*s ", rw, escape.Terminal(r[2]), fw, escape.Terminal(r[3])), rest))
	}
}

// ShapeUnits are the units of a node shape: its allocatable, overhead,
// headroom and every daemon's request (-o wide's CPU and MEMORY), one per
// resource for all of them.
func ShapeUnits(s *report.Shape) ResourceUnits { return unitsOf(shapeUnitValues(s)) }

// shapesUnits are the units of a pool's tables: every shape's amounts of a
// resource together, so that each column has one.
func shapesUnits(p *report.PoolWhatIf) ResourceUnits {
	vals := map[string][]int64{}
	for i := range p.Shapes {
		for name, v := range shapeUnitValues(&p.Shapes[i]) {
			vals[name] = append(vals[name], v...)
		}
	}
	return unitsOf(vals)
}

// shapeUnitValues are the amounts a shape shows, by resource.
func shapeUnitValues(s *report.Shape) map[string][]int64 {
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
	return vals
}

// headroom renders "cpu 3470m, memory 14336Mi" in the fixed resource
// order, a negative amount as "cpu over by 90m".
func (u ResourceUnits) headroom(q map[string]int64) string {
	names := make([]corev1.ResourceName, 0, len(q))
	for k := range q {
		names = append(names, corev1.ResourceName(k))
	}
	capacity.SortNames(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n) + " " + u.left(string(n), q[string(n)])
	}
	return render.OrNone(strings.Join(parts, ", "), "none")
}

// left is a headroom amount: "90m", or "over by 90m" when the daemons ask
// more than the node has.
func (u ResourceUnits) left(name string, v int64) string {
	if v < 0 {
		return "over by " + u.Format(name, -v)
	}
	return u.Format(name, v)
}

// request is a daemon's request of r in the shape's unit, "0" when it
// requests none.
func (u ResourceUnits) request(d report.ShapeDaemon, r corev1.ResourceName) string {
	v, ok := d.RequestValues[string(r)]
	if !ok {
		return "0"
	}
	return u.Format(string(r), v)
}

// Quantities renders "cpu 250m (6%), memory 512Mi" in the fixed resource
// order.
func (u ResourceUnits) Quantities(q map[string]int64, pct map[string]int) string {
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
		parts[i] = string(n) + " " + u.Format(string(n), q[string(n)])
		if p, ok := pct[string(n)]; ok {
			parts[i] += fmt.Sprintf(" (%d%%)", p)
		}
	}
	return strings.Join(parts, ", ")
}

func whatIfFindings(w io.Writer, fs []report.WhatIfFinding, shapes, width int) {
	fmt.Fprint(w, "Findings:")
	if len(fs) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	fmt.Fprintln(w)
	for _, g := range FindingGroups(fs) {
		f := g[0]
		sev := string(f.Severity)
		if f.Failing {
			sev = "FAIL"
		}
		msg := f.Message
		if len(g) > 1 {
			msg = WillNotRunText(g, shapes)
		}
		fmt.Fprint(w, render.Wrap(fmt.Sprintf("%s %s: %s", sev, f.Type, escape.Terminal(msg)), width, "  ", "      "))
		if f.Suggestion != "" {
			fmt.Fprint(w, render.Wrap("Fix: "+escape.Terminal(f.Suggestion), width, "    ", "      "))
		}
	}
}

// FindingGroups gathers the findings of one kind with the same cause, fix,
// failing and shapes (DaemonSets that a taint keeps off alike), in
// first-seen order: one entry per cause.
func FindingGroups(fs []report.WhatIfFinding) [][]report.WhatIfFinding {
	var out [][]report.WhatIfFinding
	at := map[string]int{}
	for _, f := range fs {
		if f.Cause == "" || f.DaemonSet == "" {
			out = append(out, []report.WhatIfFinding{f})
			continue
		}
		k := strings.Join([]string{string(f.Type), f.Cause, f.Suggestion, strconv.FormatBool(f.Failing), strings.Join(f.Shapes, ","), strings.Join(f.Nodes, ",")}, "\x00")
		if i, ok := at[k]; ok {
			out[i] = append(out[i], f)
			continue
		}
		at[k] = len(out)
		out = append(out, []report.WhatIfFinding{f})
	}
	return out
}

// WillNotRunText says in one sentence what several findings of one cause
// say: the DaemonSets, the rules that require them, where and why.
func WillNotRunText(g []report.WhatIfFinding, shapes int) string {
	var dss, rules []string
	for _, f := range g {
		dss = append(dss, f.DaemonSet)
		if f.RequiredBy != "" && !slices.Contains(rules, f.RequiredBy) {
			rules = append(rules, f.RequiredBy)
		}
	}
	where := "node shape " + strings.Join(g[0].Shapes, ", ")
	switch {
	case len(g[0].Nodes) > 0:
		where = "nodes " + strings.Join(g[0].Nodes, ", ")
	case len(g[0].Shapes) > 1 && len(g[0].Shapes) == shapes:
		where = fmt.Sprintf("all %d node shapes of the pool", shapes)
	case len(g[0].Shapes) > 1:
		where = "node shapes " + strings.Join(g[0].Shapes, ", ")
	}
	return fmt.Sprintf("%d daemonsets (%s) are required on %s (by %s) but the controller would not target them: %s",
		len(g), strings.Join(dss, ", "), where, strings.Join(rules, "; "), g[0].Cause)
}

func whatIfChange(w io.Writer, c *report.DaemonSetChange, o render.Options, width int) error {
	what := "change"
	if c.New {
		what = "new"
	}
	fmt.Fprintln(w, escape.Terminal(fmt.Sprintf("DaemonSet %s/%s (%s, %s)", c.Namespace, c.Name, what, c.Source)))
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
	req := units.Quantities(c.RequestAfterValues, nil)
	if c.RequestBeforeValues != nil && !maps.Equal(c.RequestBeforeValues, c.RequestAfterValues) {
		req += " (today " + units.Quantities(c.RequestBeforeValues, nil) + ")"
	}
	pairs := [][2]string{{"Targets", targets}, {"Request", req}}
	for _, u := range c.Unknown {
		pairs = append(pairs, [2]string{"Unknown", u})
	}
	render.KV(w, pairs, width, "")
	var rows [][]string
	for _, g := range c.Gained {
		rows = append(rows, []string{"gained", render.OrNone(g.Pool, "-"), strconv.Itoa(g.Count), g.Range, ""})
	}
	for _, g := range c.Lost {
		rows = append(rows, []string{"lost", render.OrNone(g.Pool, "-"), strconv.Itoa(g.Count), g.Range, g.Reason})
	}
	if len(rows) > 0 {
		if err := render.WriteTable(w, []string{"NODES", "POOL", "COUNT", "NAMES", "REASON"}, rows, o.NoHeaders, "  "); err != nil {
			return err
		}
	}
	whatIfFindings(w, c.Findings, 0, width)
	return nil
}

func groupCount(gs []report.NodeGroup) int {
	n := 0
	for _, g := range gs {
		n += g.Count
	}
	return n
}

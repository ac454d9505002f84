// Package plan prints the views for people that look ahead rather than
// audit: the capacity section (the daemons' overhead per pool, or per node
// with -o wide) and a what-if (pools, node shapes, DaemonSet changes).
// They join render's registry as the default and -o wide printers of
// their views.
package plan

import (
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The capacity view is the default and -o wide's.
func init() {
	for _, name := range []string{render.Default, "wide"} {
		render.Register(render.Format{Name: name, Render: map[render.View]render.RenderFunc{render.ViewCapacity: CapacityTable}})
	}
}

// MaxLeftOutLines bounds the "do not fit" lines under the pool table (-o
// wide lists every node).
const MaxLeftOutLines = 10

// CapacityTable prints the daemons' overhead per node pool, or with -o wide
// per node, with a total row, then the nodes where the daemons alone do not
// fit, and a last line with the verdict, which says when the other Pods
// were not counted (no --workloads). On a terminal too narrow for the
// table, each pool (node) is a heading line with its verdict and indented
// lines instead, nothing cut; in pipes and files always the table (one
// line per pool, the greppable layout).
func CapacityTable(w io.Writer, r *report.Report, o render.Options) error {
	c := r.Capacity
	if c == nil {
		c = &report.Capacity{}
	}
	v := capacityPools(c)
	if o.Wide {
		v = capacityNodes(c)
	}
	list := o.MaxWidth > 0 && !o.NoHeaders && render.TableWidth(v.headers, v.cells()) > o.MaxWidth
	if list {
		capacityList(w, v, o)
	} else if err := render.WriteTable(w, v.headers, v.cells(), o.NoHeaders, ""); err != nil {
		return err
	}
	if o.NoHeaders {
		return nil
	}
	capacityNotes(w, r, c, o, list)
	return nil
}

// capacityView is the capacity view's rows (pools, or nodes with -o wide)
// in the two layouts: the table's cells under headers, and the list's
// heading and labelled lines.
type capacityView struct {
	headers []string
	rows    []capacityRow
}

// capacityRow is one pool or node (or the total).
type capacityRow struct {
	cells []string
	// name, about and verdict make the list's heading ("general: 8 nodes,
	// 6 DaemonSets; the daemons do not all fit on 2 of 8 nodes"); bad
	// colours the verdict; lines are the labelled lines under it.
	name, about, verdict string
	bad                  bool
	lines                []capacityLine
}

// capacityLine is a labelled line of a list entry: its items are joined
// with commas and a line breaks only between them.
type capacityLine struct {
	label string
	items []string
}

func (v capacityView) cells() [][]string {
	out := make([][]string, len(v.rows))
	for i, r := range v.rows {
		out[i] = r.cells
	}
	return out
}

// capacityPools is the default view: a row per pool, then the total.
func capacityPools(c *report.Capacity) capacityView {
	v := capacityView{headers: capacityHeaders(c, []string{"POOL", "NODES", "DAEMONSETS"}, "TIGHTEST NODE", "NOT FITTING")}
	res := c.Resources
	units := PoolUnits(c)
	tot := capacityTotal{}
	var totTight string
	totMost, nodes, notFitting := -1, 0, 0
	for _, p := range c.Pools {
		nodes += p.Nodes
		notFitting += p.NotFitting
		n := fmt.Sprint(p.Nodes)
		about := render.Count(p.Nodes, "node")
		if p.NodesUnknown > 0 {
			n += fmt.Sprintf(" (%d without allocatable)", p.NodesUnknown)
			about += fmt.Sprintf(" (%d without allocatable)", p.NodesUnknown)
		}
		row := capacityRow{name: render.OrNone(p.Pool, "<none>"), about: about + ", " + render.Count(p.DaemonSets, "DaemonSet")}
		row.cells = []string{row.name, n, fmt.Sprint(p.DaemonSets)}
		// The tightest node, in the resource the daemons use most of.
		var tight string
		most := -1
		work := map[string]int64{}
		known := p.NodesUnknown < p.Nodes
		var amounts []string
		for _, rc := range p.Resources {
			tot.add(rc.Resource, rc.DaemonsValue, rc.AllocatableValue, rc.HeadroomValue, rc.WorkloadsValue, known)
			cell := units.Format(rc.Resource, rc.DaemonsValue) + "/" + render.Unknown
			if known {
				cell = fmt.Sprintf("%s/%s (%d%%)", units.Format(rc.Resource, rc.DaemonsValue), units.Format(rc.Resource, rc.AllocatableValue), rc.Percent)
				work[rc.Resource] = rc.WorkloadsValue
				if rc.Resource != "pods" && rc.MinHeadroomNode != "" && rc.Percent > most {
					most = rc.Percent
					tight = fmt.Sprintf("%s (%s %s)", rc.MinHeadroomNode, rc.Resource, units.leftWord(rc.Resource, rc.MinHeadroomValue))
				}
			}
			row.cells = append(row.cells, cell)
			amounts = append(amounts, rc.Resource+" "+cell)
		}
		if most > totMost {
			totMost, totTight = most, tight
		}
		nf := "0"
		if p.NotFitting > 0 {
			nf = fmt.Sprintf("%d: %s (%s)", p.NotFitting, p.NotFittingRange, strings.Join(p.LeftOut, ", "))
		}
		row.verdict, row.bad = fitVerdict(p.NotFitting, p.Nodes)
		row.lines = capacityLines(amounts, "tightest node", render.OrNone(tight, render.Unknown))
		row.cells = append(row.cells, render.OrNone(tight, render.Unknown))
		if c.Workloads {
			row.cells = append(row.cells, units.amounts(res, work, false))
			row.lines = append(row.lines, capacityLine{"workloads", units.amountList(res, work, false)})
		}
		row.cells = append(row.cells, nf)
		if p.NotFitting > 0 {
			row.lines = append(row.lines, capacityLine{"not fitting", []string{p.NotFittingRange}}, capacityLine{"left out", p.LeftOut})
		}
		v.rows = append(v.rows, row)
	}
	if len(c.Pools) > 1 {
		row := capacityRow{name: "<total>", about: render.Count(nodes, "node") + " in " + render.Count(len(c.Pools), "pool")}
		row.verdict, row.bad = fitVerdict(notFitting, nodes)
		amounts := tot.cells(res, units)
		row.cells = append(append([]string{row.name, fmt.Sprint(nodes), "-"}, amounts...), render.OrNone(totTight, render.Unknown))
		row.lines = capacityLines(labelled(res, amounts), "tightest node", render.OrNone(totTight, render.Unknown))
		if c.Workloads {
			row.cells = append(row.cells, units.amounts(res, tot.work, false))
			row.lines = append(row.lines, capacityLine{"workloads", units.amountList(res, tot.work, false)})
		}
		row.cells = append(row.cells, fmt.Sprint(notFitting))
		v.rows = append(v.rows, row)
	}
	return v
}

// capacityNodes is -o wide: a row per node, then the total.
func capacityNodes(c *report.Capacity) capacityView {
	v := capacityView{headers: capacityHeaders(c, []string{"NODE", "POOL", "DAEMONSETS"}, "HEADROOM", "LEFT OUT")}
	res := c.Resources
	units := nodeUnits(c)
	tot := capacityTotal{}
	for _, n := range c.Nodes {
		row := capacityRow{name: n.Name, about: "pool " + render.OrNone(n.Pool, "<none>") + ", " + render.Count(n.DaemonSets, "DaemonSet")}
		row.cells = []string{n.Name, render.OrNone(n.Pool, "<none>"), fmt.Sprint(n.DaemonSets)}
		known := len(n.Allocatable) > 0
		var amounts []string
		for _, name := range res {
			tot.add(name, n.DaemonsValues[name], n.AllocatableValues[name], n.HeadroomValues[name], n.WorkloadsValues[name], known)
			cell := units.Format(name, n.DaemonsValues[name]) + "/" + render.Unknown
			if known {
				cell = fmt.Sprintf("%s/%s (%d%%)", units.Format(name, n.DaemonsValues[name]), units.Format(name, n.AllocatableValues[name]), n.Percent[name])
			}
			row.cells = append(row.cells, cell)
			amounts = append(amounts, name+" "+cell)
		}
		room := render.OrNone(units.headroomIn(res, n.HeadroomValues), render.Unknown)
		row.cells = append(row.cells, room)
		row.lines = capacityLines(amounts, "headroom", room)
		if c.Workloads {
			row.cells = append(row.cells, units.amounts(res, n.WorkloadsValues, false))
			row.lines = append(row.lines, capacityLine{"workloads", units.amountList(res, n.WorkloadsValues, false)})
		}
		var lo []string
		for _, l := range n.LeftOut {
			lo = append(lo, leftOutShort(l))
		}
		tot.leftOut += len(n.LeftOut)
		row.cells = append(row.cells, render.OrNone(strings.Join(lo, ", "), "-"))
		row.verdict, row.bad = "the daemons fit", false
		if len(n.LeftOut) > 0 {
			row.verdict, row.bad = render.Plural(len(n.LeftOut), "1 daemon does not fit", fmt.Sprintf("%d daemons do not fit", len(n.LeftOut))), true
			row.lines = append(row.lines, capacityLine{"left out", lo})
		}
		v.rows = append(v.rows, row)
	}
	if len(c.Nodes) > 1 {
		amounts := tot.cells(res, units)
		room := render.OrNone(units.headroomIn(res, tot.headroom), render.Unknown)
		left := render.Plural(tot.leftOut, "1 daemon", fmt.Sprintf("%d daemons", tot.leftOut))
		row := capacityRow{name: "<total>", about: render.Count(len(c.Nodes), "node"), verdict: "the daemons fit"}
		if tot.leftOut > 0 {
			row.verdict, row.bad = left+" left out", true
		}
		row.cells = append(append([]string{row.name, "-", "-"}, amounts...), room)
		row.lines = capacityLines(labelled(res, amounts), "headroom", room)
		if c.Workloads {
			row.cells = append(row.cells, units.amounts(res, tot.work, false))
			row.lines = append(row.lines, capacityLine{"workloads", units.amountList(res, tot.work, false)})
		}
		row.cells = append(row.cells, left)
		v.rows = append(v.rows, row)
	}
	return v
}

// fitVerdict is a pool's verdict in the list: whether the daemons fit on
// every node.
func fitVerdict(notFitting, nodes int) (string, bool) {
	if notFitting == 0 {
		return "the daemons fit", false
	}
	return fmt.Sprintf("the daemons do not all fit on %d of %s", notFitting, render.Count(nodes, "node")), true
}

// capacityLines are a list entry's first lines: the daemons' share of each
// resource, then the room left.
func capacityLines(amounts []string, room, roomValue string) []capacityLine {
	return []capacityLine{{"daemons", amounts}, {room, []string{roomValue}}}
}

// labelled prefixes each cell with its resource's name.
func labelled(res, cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = res[i] + " " + c
	}
	return out
}

// capacityList prints the rows as a list: a heading line per pool (node)
// with its verdict, then its labelled lines, each wrapped with a hanging
// indent between its items, so nothing is cut at any width.
func capacityList(w io.Writer, v capacityView, o render.Options) {
	labelW := 0
	for _, r := range v.rows {
		for _, l := range r.lines {
			labelW = max(labelW, len(l.label)+1)
		}
	}
	for _, r := range v.rows {
		head := escape.Terminal(r.name+": "+r.about+"; ") + render.Paint(o.Color, render.FitColour(r.bad), r.verdict)
		fmt.Fprint(w, render.Wrap(head, o.MaxWidth, "", capacityIndent))
		for _, l := range r.lines {
			first := fmt.Sprintf("%s%-*s ", capacityIndent, labelW, l.label+":")
			fmt.Fprint(w, render.WrapItems(l.items, o.MaxWidth, first, strings.Repeat(" ", len(first))))
		}
	}
}

// capacityNotes prints what follows the rows: the legend (of the table's
// columns or the list's labels), the daemons that do not fit, what is not
// known, the partial banner and the verdict.
func capacityNotes(w io.Writer, r *report.Report, c *report.Capacity, o render.Options, list bool) {
	fmt.Fprintln(w)
	// The legend names the table's columns, or the list's labels.
	label := func(column, listLabel string) string {
		if list {
			return listLabel
		}
		return column
	}
	legend := []string{label("CPU, MEMORY ...", "daemons") + ": what the DaemonSets that should run on the nodes request / the nodes' allocatable (share); one Pod slot each under " + label("PODS", "pods") + "."}
	if !o.Wide {
		legend = append(legend, label("TIGHTEST NODE", "tightest node")+": the node with the least room left after its daemons. -o wide shows every node.")
	}
	if c.Workloads {
		legend = append(legend, label("WORKLOADS", "workloads")+": what the other Pods on the nodes request (--workloads).")
	} else {
		legend = append(legend, "Other Pods were not counted: these are the daemons alone (--workloads also counts what every other Pod requests).")
	}
	for _, l := range legend {
		fmt.Fprint(w, render.Wrap(l, o.MaxWidth, "", "  "))
	}
	var lines []string
	for _, n := range c.Nodes {
		for _, l := range n.LeftOut {
			lines = append(lines, fmt.Sprintf("%s: %s: %s", n.Name, l.DaemonSet, l.Reason))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprint(w, render.Wrap("Daemons that do not fit (placed by priority, then the Pods already there, then the oldest DaemonSet):", o.MaxWidth, "", "  "))
		for i, l := range lines {
			if i == MaxLeftOutLines && !o.Wide {
				fmt.Fprintf(w, "  ... %d more (-o wide, or -o json)\n", len(lines)-i)
				break
			}
			fmt.Fprint(w, render.Wrap(escape.Terminal(l), o.MaxWidth, "  ", "      "))
		}
	}
	for i, u := range c.Unknown {
		if i == 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprint(w, render.Wrap("Unknown: "+escape.Terminal(u), o.MaxWidth, "", "  "))
	}
	if b := render.PartialBanner(r); b != "" {
		fmt.Fprintln(w)
		fmt.Fprint(w, render.Wrap(escape.Terminal(b), o.MaxWidth, "", "  "))
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, render.Wrap(capacityVerdict(c), o.MaxWidth, "", "  "))
}

// capacityVerdict is the last line: on how many nodes the daemons do not
// all fit, and whether other Pods were counted.
func capacityVerdict(c *report.Capacity) string {
	nodes, notFitting := 0, 0
	for _, p := range c.Pools {
		nodes += p.Nodes
		notFitting += p.NotFitting
	}
	v := fmt.Sprintf("capacity: the daemons fit on all %d %s", nodes, render.Plural(nodes, "node", "nodes"))
	if notFitting > 0 {
		v = fmt.Sprintf("capacity: the daemons do not all fit on %d of %d %s", notFitting, nodes, render.Plural(nodes, "node", "nodes"))
	}
	if c.Workloads {
		return v + " (daemons alone; the other Pods' requests under WORKLOADS)"
	}
	return v + " (daemons only: other Pods not counted)"
}

// capacityTotal sums a capacity table's rows, per resource.
type capacityTotal struct {
	daemons, alloc, headroom, work map[string]int64
	known                          bool
	leftOut                        int
}

func (t *capacityTotal) add(name string, daemons, alloc, headroom, work int64, known bool) {
	if t.daemons == nil {
		t.daemons, t.alloc, t.headroom, t.work = map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	}
	t.work[name] += work
	if !known {
		return // as in each row: only nodes with allocatable are summed
	}
	t.known = true
	t.daemons[name] += daemons
	t.alloc[name] += alloc
	t.headroom[name] += headroom
}

// cells are the total's resource cells, as the rows': daemons/allocatable
// (share, rounded up).
func (t *capacityTotal) cells(res []string, units ResourceUnits) []string {
	var out []string
	for _, name := range res {
		if !t.known {
			out = append(out, units.Format(name, t.daemons[name])+"/"+render.Unknown)
			continue
		}
		out = append(out, fmt.Sprintf("%s/%s (%d%%)", units.Format(name, t.daemons[name]), units.Format(name, t.alloc[name]), capacity.PercentUp(t.daemons[name], t.alloc[name])))
	}
	return out
}

// capacityHeaders are first, a column per resource, room, WORKLOADS (with
// --workloads) and last.
func capacityHeaders(c *report.Capacity, first []string, room, last string) []string {
	h := append([]string{}, first...)
	for _, name := range c.Resources {
		h = append(h, strings.ToUpper(name))
	}
	h = append(h, room)
	if c.Workloads {
		h = append(h, "WORKLOADS")
	}
	return append(h, last)
}

// ResourceUnits is the unit of each resource in one table: every amount
// of a resource it prints, in any column, is in that unit, so "HEADROOM"
// and "MEMORY" compare at a glance (capacity.ColumnUnit: from the largest
// amount, memory in Gi with one decimal from 1Gi, cpu in cores from one
// core, never Ki).
type ResourceUnits map[string]capacity.Unit

// unitsOf chooses the units from the amounts each resource shows, as a
// message's numbers (capacity.UnitFor: the smallest amount decides, so a
// request reads as written): a node shape's lines and its DaemonSets.
func unitsOf(vals map[string][]int64) ResourceUnits {
	u := ResourceUnits{}
	for name, vs := range vals {
		u[name] = capacity.UnitFor(corev1.ResourceName(name), vs...)
	}
	return u
}

// columnUnitsOf chooses the units of a table's columns from the amounts
// each resource shows (capacity.ColumnUnit: the largest amount decides).
func columnUnitsOf(vals map[string][]int64) ResourceUnits {
	u := ResourceUnits{}
	for name, vs := range vals {
		u[name] = capacity.ColumnUnit(corev1.ResourceName(name), vs...)
	}
	return u
}

// PoolUnits are the units of the pool table: the daemons, allocatable,
// tightest node's headroom and workloads of every pool.
func PoolUnits(c *report.Capacity) ResourceUnits {
	vals := map[string][]int64{}
	for _, p := range c.Pools {
		for _, rc := range p.Resources {
			vals[rc.Resource] = append(vals[rc.Resource], rc.DaemonsValue)
			if p.NodesUnknown < p.Nodes {
				vals[rc.Resource] = append(vals[rc.Resource], rc.AllocatableValue, rc.MinHeadroomValue)
			}
			if c.Workloads {
				vals[rc.Resource] = append(vals[rc.Resource], rc.WorkloadsValue)
			}
		}
	}
	return columnUnitsOf(vals)
}

// nodeUnits are the units of the node table (-o wide).
func nodeUnits(c *report.Capacity) ResourceUnits {
	vals := map[string][]int64{}
	for _, n := range c.Nodes {
		for _, m := range []map[string]int64{n.DaemonsValues, n.AllocatableValues, n.HeadroomValues, n.WorkloadsValues} {
			for name, v := range m {
				vals[name] = append(vals[name], v)
			}
		}
	}
	return columnUnitsOf(vals)
}

// Format writes v of the resource name in its unit.
func (u ResourceUnits) Format(name string, v int64) string {
	return capacity.FormatIn(corev1.ResourceName(name), v, u[name])
}

// headroomIn writes a headroom, "cpu 1.87, memory 13.3Gi, pods 104", a
// negative amount as "cpu over by 0.09".
func (u ResourceUnits) headroomIn(res []string, m map[string]int64) string {
	var parts []string
	for _, name := range res {
		if v, ok := m[name]; ok {
			parts = append(parts, name+" "+u.left(name, v))
		}
	}
	return strings.Join(parts, ", ")
}

// leftWord is a headroom amount in a sentence: "1.87 left", "over by 0.09".
func (u ResourceUnits) leftWord(name string, v int64) string {
	if v < 0 {
		return u.left(name, v)
	}
	return u.Format(name, v) + " left"
}

// amounts writes "cpu 3800m, memory 12288Mi" for the resources other than
// pods (withPods: pods too).
func (u ResourceUnits) amounts(res []string, m map[string]int64, withPods bool) string {
	return strings.Join(u.amountList(res, m, withPods), ", ")
}

// amountList is amounts' parts: "cpu 3800m", "memory 12288Mi".
func (u ResourceUnits) amountList(res []string, m map[string]int64, withPods bool) []string {
	var parts []string
	for _, name := range res {
		if v, ok := m[name]; ok && (withPods || name != "pods") {
			parts = append(parts, name+" "+u.Format(name, v))
		}
	}
	return parts
}

// leftOutShort names a left-out daemon and what it lacks, for a cell.
func leftOutShort(l report.LeftOutDaemon) string {
	var what []string
	what = append(what, l.Resources...)
	for _, p := range l.HostPorts {
		what = append(what, "port "+strings.SplitN(p, " ", 2)[0])
	}
	return fmt.Sprintf("%s (%s)", l.DaemonSet, strings.Join(what, ", "))
}

// capacityIndent indents a list entry's lines under its heading.
const capacityIndent = "    "

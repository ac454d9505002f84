package render

import (
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// maxLeftOutLines bounds the "do not fit" lines under the pool table (-o
// wide lists every node).
const maxLeftOutLines = 10

// CapacityTable prints the daemons' overhead per node pool, or with -o wide
// per node, then the nodes where the daemons alone do not fit.
func CapacityTable(w io.Writer, r *report.Report, o Options) error {
	c := r.Capacity
	if c == nil {
		c = &report.Capacity{}
	}
	res := c.Resources
	var headers []string
	var rows [][]string
	if o.Wide {
		headers = capacityHeaders(c, []string{"NODE", "POOL", "DAEMONSETS"}, "HEADROOM", "LEFT OUT")
		units := nodeUnits(c)
		for _, n := range c.Nodes {
			row := []string{n.Name, orNone(n.Pool, "<none>"), fmt.Sprint(n.DaemonSets)}
			for _, name := range res {
				if len(n.Allocatable) == 0 {
					row = append(row, units.format(name, n.DaemonsValues[name])+"/"+unknown)
					continue
				}
				row = append(row, fmt.Sprintf("%s/%s (%d%%)", units.format(name, n.DaemonsValues[name]), units.format(name, n.AllocatableValues[name]), n.Percent[name]))
			}
			row = append(row, orNone(units.amounts(res, n.HeadroomValues, true), unknown))
			if c.Workloads {
				row = append(row, units.amounts(res, n.WorkloadsValues, false))
			}
			var lo []string
			for _, l := range n.LeftOut {
				lo = append(lo, leftOutShort(l))
			}
			row = append(row, orNone(strings.Join(lo, ", "), "-"))
			rows = append(rows, row)
		}
	} else {
		headers = capacityHeaders(c, []string{"POOL", "NODES", "DAEMONSETS"}, "TIGHTEST NODE", "NOT FITTING")
		units := poolUnits(c)
		for _, p := range c.Pools {
			nodes := fmt.Sprint(p.Nodes)
			if p.NodesUnknown > 0 {
				nodes += fmt.Sprintf(" (%d without allocatable)", p.NodesUnknown)
			}
			row := []string{orNone(p.Pool, "<none>"), nodes, fmt.Sprint(p.DaemonSets)}
			// The tightest node, in the resource the daemons use most of.
			var tight string
			most := -1
			work := map[string]int64{}
			for _, rc := range p.Resources {
				if p.NodesUnknown == p.Nodes {
					row = append(row, units.format(rc.Resource, rc.DaemonsValue)+"/"+unknown)
					continue
				}
				row = append(row, fmt.Sprintf("%s/%s (%d%%)", units.format(rc.Resource, rc.DaemonsValue), units.format(rc.Resource, rc.AllocatableValue), rc.Percent))
				work[rc.Resource] = rc.WorkloadsValue
				if rc.Resource != "pods" && rc.MinHeadroomNode != "" && rc.Percent > most {
					most = rc.Percent
					tight = fmt.Sprintf("%s (%s %s left)", rc.MinHeadroomNode, rc.Resource, units.format(rc.Resource, rc.MinHeadroomValue))
				}
			}
			row = append(row, orNone(tight, unknown))
			if c.Workloads {
				row = append(row, units.amounts(res, work, false))
			}
			nf := "0"
			if p.NotFitting > 0 {
				nf = fmt.Sprintf("%d: %s (%s)", p.NotFitting, p.NotFittingRange, strings.Join(p.LeftOut, ", "))
			}
			row = append(row, nf)
			rows = append(rows, row)
		}
	}
	if err := writeTable(w, headers, rows, o.NoHeaders, ""); err != nil {
		return err
	}
	if o.NoHeaders {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU, MEMORY ...: what the DaemonSets that should run on the nodes request / the nodes' allocatable (share); one Pod slot each under PODS.")
	if !o.Wide {
		fmt.Fprintln(w, "TIGHTEST NODE: the node with the least room left after its daemons. -o wide shows every node.")
	}
	var lines []string
	for _, n := range c.Nodes {
		for _, l := range n.LeftOut {
			lines = append(lines, fmt.Sprintf("  %s: %s: %s", n.Name, l.DaemonSet, l.Reason))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Daemons that do not fit (placed by priority, then the Pods already there, then the oldest DaemonSet):")
		for i, l := range lines {
			if i == maxLeftOutLines && !o.Wide {
				fmt.Fprintf(w, "  ... %d more (-o wide, or -o json)\n", len(lines)-i)
				break
			}
			fmt.Fprintln(w, safe(l))
		}
	}
	for i, u := range c.Unknown {
		if i == 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Unknown: %s\n", safe(u))
	}
	if b := partialBanner(r); b != "" {
		fmt.Fprintf(w, "\n%s\n", safe(b))
	}
	return nil
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

// CapacityMarkdown prints the pool table for a pull request or a job
// summary.
func CapacityMarkdown(w io.Writer, r *report.Report, _ Options) error {
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
	fmt.Fprintf(&b, "## Daemon overhead: %s\n\n", verdict)
	if pb := partialBanner(r); pb != "" {
		fmt.Fprintf(&b, "> **Partial report:** %s\n\n", mdEscape(strings.TrimPrefix(pb, "PARTIAL REPORT: ")))
	}
	b.WriteString("| Pool | Nodes | DaemonSets |")
	for _, name := range c.Resources {
		fmt.Fprintf(&b, " %s |", mdEscape(name))
	}
	b.WriteString(" Not fitting |\n|---|---:|---:|")
	for range c.Resources {
		b.WriteString("---:|")
	}
	b.WriteString("---|\n")
	units := poolUnits(c)
	for _, p := range c.Pools {
		fmt.Fprintf(&b, "| %s | %d | %d |", mdEscape(orNone(p.Pool, "-")), p.Nodes, p.DaemonSets)
		for _, rc := range p.Resources {
			if p.NodesUnknown == p.Nodes {
				fmt.Fprintf(&b, " %s / %s |", units.format(rc.Resource, rc.DaemonsValue), mdEscape(unknown))
				continue
			}
			fmt.Fprintf(&b, " %s / %s (%d%%) |", units.format(rc.Resource, rc.DaemonsValue), units.format(rc.Resource, rc.AllocatableValue), rc.Percent)
		}
		nf := "0"
		if p.NotFitting > 0 {
			nf = mdEscape(fmt.Sprintf("%d: %s (%s)", p.NotFitting, p.NotFittingRange, strings.Join(p.LeftOut, ", ")))
		}
		fmt.Fprintf(&b, " %s |\n", nf)
	}
	n := 0
	for _, node := range c.Nodes {
		for _, l := range node.LeftOut {
			if n == 0 {
				b.WriteString("\n### Daemons that do not fit\n\n")
			}
			if n == maxLeftOutLines {
				fmt.Fprintf(&b, "- ... and more: `kubectl daemoncheck capacity -o wide`\n")
				break
			}
			fmt.Fprintf(&b, "- %s: %s: %s\n", mdCode(node.Name), mdCode(l.DaemonSet), mdEscape(l.Reason))
			n++
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// resourceUnits is the unit of each resource in one table: every amount
// of a resource it prints, in any column, is in that unit, so "HEADROOM"
// and "MEMORY" compare at a glance (capacity.UnitFor: Gi only when every
// non-zero amount is at least 1Gi, never Ki; cpu in cores only when all are
// whole).
type resourceUnits map[string]capacity.Unit

// unitsOf chooses the units from the amounts each resource shows.
func unitsOf(vals map[string][]int64) resourceUnits {
	u := resourceUnits{}
	for name, vs := range vals {
		u[name] = capacity.UnitFor(corev1.ResourceName(name), vs...)
	}
	return u
}

// poolUnits are the units of the pool table: the daemons, allocatable,
// tightest node's headroom and workloads of every pool.
func poolUnits(c *report.Capacity) resourceUnits {
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
	return unitsOf(vals)
}

// nodeUnits are the units of the node table (-o wide).
func nodeUnits(c *report.Capacity) resourceUnits {
	vals := map[string][]int64{}
	for _, n := range c.Nodes {
		for _, m := range []map[string]int64{n.DaemonsValues, n.AllocatableValues, n.HeadroomValues, n.WorkloadsValues} {
			for name, v := range m {
				vals[name] = append(vals[name], v)
			}
		}
	}
	return unitsOf(vals)
}

func (u resourceUnits) format(name string, v int64) string {
	return capacity.FormatIn(corev1.ResourceName(name), v, u[name])
}

// amounts writes "cpu 3800m, memory 12288Mi" for the resources other than
// pods (withPods: pods too).
func (u resourceUnits) amounts(res []string, m map[string]int64, withPods bool) string {
	var parts []string
	for _, name := range res {
		if v, ok := m[name]; ok && (withPods || name != "pods") {
			parts = append(parts, name+" "+u.format(name, v))
		}
	}
	return strings.Join(parts, ", ")
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

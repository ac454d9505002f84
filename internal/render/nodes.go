package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// cell says in a word or two how one DaemonSet stands on one node.
func cell(nv *report.NodeVerdict, wide bool) string {
	why := func(s string) string {
		if wide && nv.Short != "" {
			return s + "(" + nv.Short + ")"
		}
		return s
	}
	switch {
	case nv == nil:
		return Unknown
	case !nv.ShouldRun && nv.Required:
		return why("Uncovered")
	case !nv.ShouldRun && len(nv.Pods) > 0:
		return why("Misscheduled")
	case !nv.ShouldRun:
		return why("-")
	case nv.Coverage == report.CoverageUnknown:
		return Unknown
	case len(nv.Pods) == 0:
		return "Missing"
	}
	// The first Pod is the one the controller counts for the node.
	p := nv.Pods[0]
	s := p.State
	if s == "Running" && !p.Ready {
		s = "NotReady"
	}
	if len(nv.Pods) > 1 {
		s += fmt.Sprintf("+%d", len(nv.Pods)-1)
	}
	return s
}

// Matrix prints nodes as rows and DaemonSets as columns (or transposed).
func Matrix(w io.Writer, r *report.Report, o Options) error {
	transpose := o.Transpose
	names := columnNames(r)
	verdicts := make([]map[string]*report.NodeVerdict, len(r.DaemonSets))
	for i := range r.DaemonSets {
		verdicts[i] = map[string]*report.NodeVerdict{}
		for j := range r.DaemonSets[i].Nodes {
			nv := &r.DaemonSets[i].Nodes[j]
			verdicts[i][nv.Name] = nv
		}
	}
	var headers []string
	var rows [][]string
	fixed := 1 // columns repeated in every block: the row's name (and status, labels)
	if !transpose {
		headers = []string{"NODE", "STATUS"}
		for _, k := range o.LabelColumns {
			// As kubectl get -L: the key's last segment, upper-cased.
			headers = append(headers, strings.ToUpper(k[strings.LastIndex(k, "/")+1:]))
		}
		fixed = len(headers)
		headers = append(headers, names...)
		for _, n := range r.Nodes {
			row := []string{n.Name, nodeStatus(&n)}
			for _, k := range o.LabelColumns {
				row = append(row, n.Labels[k])
			}
			for i := range r.DaemonSets {
				row = append(row, cell(verdicts[i][n.Name], o.Wide))
			}
			rows = append(rows, row)
		}
	} else {
		headers = []string{"DAEMONSET"}
		for _, n := range r.Nodes {
			headers = append(headers, n.Name)
		}
		for i, name := range names {
			row := []string{name}
			for _, n := range r.Nodes {
				row = append(row, cell(verdicts[i][n.Name], o.Wide))
			}
			rows = append(rows, row)
		}
	}
	for i, cols := range columnBlocks(headers, rows, fixed, o.MaxWidth) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := WriteTable(w, pick(headers, cols), pickRows(rows, cols), o.NoHeaders, ""); err != nil {
			return err
		}
	}
	if !o.NoHeaders {
		fmt.Fprintln(w)
		writeLegend(w, o)
	}
	if b := PartialBanner(r); b != "" {
		fmt.Fprintf(w, "\n%s\n", escape.Terminal(b))
	}
	if !o.NoHeaders {
		// The view narrows what is shown, never the gate: its verdict and
		// exit code are the audit's (internal/view).
		fmt.Fprintln(w)
		fmt.Fprint(w, Wrap(paintVerdict(o.Color, Verdict(r)), o.MaxWidth, "", "  "))
	}
	return nil
}

// matrixLegend says what the cells of the matrix mean; its last sentence
// differs under -o wide, whose cells carry the rule that excludes a node.
var matrixLegend = [...]string{
	"Running/NotReady/CrashLoopBackOff...: the state of the Pod the controller counts (+N: extra Pods); Pending: not scheduled or not started;",
	"Missing: targeted, no Pod; Misscheduled: a Pod where the controller does not target; Uncovered: a coverage policy requires it,",
	"the controller does not target the node; -: not targeted.",
}

// writeLegend prints the legend as three lines in pipes and files (as it
// always has), and wrapped to the terminal's width on a terminal, where a
// line cut at the edge would lose words.
func writeLegend(w io.Writer, o Options) {
	last := " -o wide shows why; kubectl daemoncheck nodes NODE explains one node."
	if o.Wide {
		last = " (…): the rule that excludes the node."
	}
	if o.MaxWidth == 0 {
		fmt.Fprintln(w, matrixLegend[0])
		fmt.Fprintln(w, matrixLegend[1])
		fmt.Fprintln(w, matrixLegend[2]+last)
		return
	}
	fmt.Fprint(w, Wrap(strings.Join(matrixLegend[:], " ")+last, o.MaxWidth, "", ""))
}

// columnBlocks splits a table wider than width into blocks of columns that
// each fit, every block repeating the first fixed columns (the node and its
// status), so that no DaemonSet's column is cut off the screen: the column
// a person looks for may be the last. width 0 (pipes, files), or a table
// that fits: one block of every column. A column too wide to fit beside the
// fixed ones gets a block of its own (and the line is cut there).
func columnBlocks(headers []string, rows [][]string, fixed, width int) [][]int {
	all := make([]int, len(headers))
	for i := range all {
		all[i] = i
	}
	if width == 0 || fixed >= len(headers) {
		return [][]int{all}
	}
	colWidth := columnWidths(headers, rows)
	if widthOf(colWidth) <= width {
		return [][]int{all}
	}
	base := widthOf(colWidth[:fixed])
	var blocks [][]int
	block, used := all[:fixed:fixed], base
	for i := fixed; i < len(headers); i++ {
		if len(block) > fixed && used+3+colWidth[i] > width {
			blocks = append(blocks, block)
			block, used = all[:fixed:fixed], base
		}
		block = append(block, i)
		used += 3 + colWidth[i]
	}
	return append(blocks, block)
}

func pick(cells []string, cols []int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = cells[c]
	}
	return out
}

func pickRows(rows [][]string, cols []int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = pick(r, cols)
	}
	return out
}

// columnNames uses the bare DaemonSet name where it is unique among the
// columns, else namespace/name.
func columnNames(r *report.Report) []string {
	count := map[string]int{}
	for _, ds := range r.DaemonSets {
		count[ds.Name]++
	}
	names := make([]string, len(r.DaemonSets))
	for i, ds := range r.DaemonSets {
		names[i] = ds.Name
		if count[ds.Name] > 1 {
			names[i] = ds.Namespace + "/" + ds.Name
		}
	}
	return names
}

// NodeDetail lists every DaemonSet that does and does not cover the node,
// and why: what runs on this node, and what should.
func NodeDetail(w io.Writer, r *report.Report, o Options) error {
	node := o.Node
	var info *report.NodeInfo
	for i := range r.Nodes {
		if r.Nodes[i].Name == node {
			info = &r.Nodes[i]
		}
	}
	if info == nil {
		return fmt.Errorf("node %q is not in the report", node)
	}
	exempt := "<none>"
	if info.Exempt != nil {
		exempt = fmt.Sprintf("%q (annotation daemoncheck.io/exempt)", *info.Exempt)
	}
	fmt.Fprintf(w, "Node:     %s\n", escape.Terminal(info.Name))
	fmt.Fprintf(w, "Status:   %s\n", escape.Terminal(nodeStatus(info)))
	fmt.Fprintf(w, "Age:      %s\n", age(o.Now, info.Created))
	fmt.Fprintf(w, "Taints:   %s\n", escape.Terminal(OrNone(strings.Join(info.Taints, ", "), "<none>")))
	fmt.Fprintf(w, "Exempt:   %s\n", escape.Terminal(exempt))
	fmt.Fprintln(w, "DaemonSets:")
	var rows [][]string
	var findings []string
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		var nv *report.NodeVerdict
		for j := range ds.Nodes {
			if ds.Nodes[j].Name == node {
				nv = &ds.Nodes[j]
			}
		}
		name := ds.Namespace + "/" + ds.Name
		pod, reason := "<none>", ""
		if nv != nil {
			if len(nv.Pods) > 0 {
				names := make([]string, len(nv.Pods))
				for k, p := range nv.Pods {
					names[k] = p.Name
				}
				pod = strings.Join(names, ",")
			}
			reason = nv.Reason
			if nv.Required {
				reason = strings.TrimPrefix(reason+"; required by "+nv.RequiredBy, "; ")
			}
		}
		rows = append(rows, []string{name, cell(nv, false), pod, OrNone(reason, "")})
		for _, f := range ds.Findings {
			if f.Node != node {
				continue
			}
			line := fmt.Sprintf("  %s %s: %s", escape.Terminal(name), f.Type, escape.Terminal(f.Message))
			if !f.Active() {
				line += escape.Terminal(fmt.Sprintf(" [set aside: %s%s]", f.Exempted, f.HeldBack))
			}
			if f.Suggestion != "" {
				line += "\n    Suggestion: " + escape.Terminal(f.Suggestion)
			}
			findings = append(findings, line)
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "  <none>")
	} else if err := WriteTable(w, []string{"DAEMONSET", "STATE", "POD", "REASON"}, rows, false, "  "); err != nil {
		return err
	}
	fmt.Fprintln(w, "Findings:")
	if len(findings) == 0 {
		fmt.Fprintln(w, "  <none>")
	}
	for _, f := range findings {
		fmt.Fprintln(w, f)
	}
	return nil
}

// nodeStatus is a node's STATUS as kubectl get nodes shows it: Ready,
// NotReady (the Ready condition False or Unknown), Unknown (no Ready
// condition), with ",SchedulingDisabled" when cordoned.
func nodeStatus(n *report.NodeInfo) string {
	s := "Unknown"
	switch {
	case n.Ready == "True":
		s = "Ready"
	case n.Ready == "False" || slices.Contains(n.Conditions, "NotReady") || slices.Contains(n.Conditions, "Unreachable"):
		s = "NotReady"
	}
	if slices.Contains(n.Conditions, "Cordoned") {
		s += ",SchedulingDisabled"
	}
	return s
}

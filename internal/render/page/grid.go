package page

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// gridState is how one DaemonSet stands on one node, as the HTML grid
// colours it. Each has a glyph and a word too, so that the grid reads
// without colour.
type gridState struct {
	Key     string // CSS class suffix and data-state value
	Glyph   string
	Word    string
	Meaning string
	// problem states count a node as needing attention.
	problem bool
}

var (
	stRunning     = gridState{"running", "✓", "running", "a ready Pod on the node", false}
	stPending     = gridState{"pending", "…", "pending", "the Pod is not scheduled or not started yet", true}
	stUnhealthy   = gridState{"unhealthy", "!", "unhealthy", "the Pod is not ready, crashing, duplicated, or where it should not run", true}
	stMissing     = gridState{"missing", "✗", "missing", "should run here (or a coverage policy requires it), no Pod", true}
	stNotTargeted = gridState{"nottargeted", "·", "not targeted", "left out by design (node selector, affinity, taints)", false}
	stExcluded    = gridState{"excluded", "⊘", "excluded by policy", "set aside by a daemoncheck.io/exempt annotation", false}
	stUnknown     = gridState{"unknown", "?", "unknown", "not determined: objects not read", false}
)

// gridStates is the legend, in the order the pool counts list them.
var gridStates = []gridState{stRunning, stPending, stUnhealthy, stMissing, stNotTargeted, stExcluded, stUnknown}

// gridColumn is one DaemonSet of the grid.
type gridColumn struct {
	Key       string // namespace/name
	Namespace string
	Name      string
	Title     string
}

// gridCell is one (node, DaemonSet) cell.
type gridCell struct {
	State gridState
	// Flag marks a cell whose state is fine but that has active findings
	// (an outdated Pod, a node too small): the title says which.
	Flag  bool
	Title string
}

// gridRow is one node.
type gridRow struct {
	Node   string
	Badges []string
	Cells  []gridCell
	// Attention is true when a cell is pending, unhealthy or missing.
	Attention bool
}

// poolCount is how many nodes of a pool are in one state, for one
// DaemonSet.
type poolCount struct {
	State   gridState
	N       int
	Percent int
}

// gridPool is the nodes of one pool.
type gridPool struct {
	Name string
	Rows []gridRow
	// Collapsed pools show Counts (one list per column) and keep their
	// rows behind a drill-in.
	Collapsed bool
	Counts    [][]poolCount
	// CountTitles say each column's counts in words.
	CountTitles []string
	Attention   int
	// AttentionRows are, in a collapsed pool, the first nodes that need
	// attention, shown outside the drill-in: the broken few of thousands.
	AttentionRows []gridRow
}

// maxAttentionRows bounds the nodes a collapsed pool shows outside its
// drill-in (a pool where most nodes are broken says so in its counts).
const maxAttentionRows = 50

// grid is the whole node x DaemonSet matrix, grouped by pool.
type grid struct {
	Columns []gridColumn
	Pools   []gridPool
	Nodes   int
}

// buildGrid derives the grid from the report: each DaemonSet's node
// verdicts and the findings on each node. collapseAbove is the pool size
// above which a pool shows counts only.
func buildGrid(r *report.Report, collapseAbove int) grid {
	g := grid{Nodes: len(r.Nodes)}
	verdicts := make([]map[string]*report.NodeVerdict, len(r.DaemonSets))
	findings := make([]map[string][]*report.Finding, len(r.DaemonSets))
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		g.Columns = append(g.Columns, gridColumn{
			Key: clean(ds.Namespace + "/" + ds.Name), Namespace: clean(ds.Namespace), Name: clean(ds.Name),
			Title: clean(ds.Namespace+"/"+ds.Name) + ": " + columnCounts(ds),
		})
		verdicts[i] = make(map[string]*report.NodeVerdict, len(ds.Nodes))
		for j := range ds.Nodes {
			verdicts[i][ds.Nodes[j].Name] = &ds.Nodes[j]
		}
		findings[i] = map[string][]*report.Finding{}
		for j := range ds.Findings {
			if f := &ds.Findings[j]; f.Node != "" {
				findings[i][f.Node] = append(findings[i][f.Node], f)
			}
		}
	}
	byPool := map[string][]gridRow{}
	for k := range r.Nodes {
		n := &r.Nodes[k]
		row := gridRow{Node: clean(n.Name), Badges: nodeBadges(n)}
		for i := range r.DaemonSets {
			c := gridCellOf(verdicts[i][n.Name], findings[i][n.Name])
			c.Title = clean(n.Name) + " · " + g.Columns[i].Key + ": " + c.Title
			row.Attention = row.Attention || c.State.problem
			row.Cells = append(row.Cells, c)
		}
		pool := providers.PoolOf(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: n.Labels}}, providers.DefaultPoolLabels)
		byPool[pool] = append(byPool[pool], row)
	}
	pools := make([]string, 0, len(byPool))
	for p := range byPool {
		pools = append(pools, p)
	}
	// Named pools in natural order; nodes without a pool last.
	slices.SortFunc(pools, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		case names.Less(a, b):
			return -1
		}
		return 1
	})
	for _, p := range pools {
		rows := byPool[p]
		slices.SortStableFunc(rows, func(a, b gridRow) int {
			if names.Less(a.Node, b.Node) {
				return -1
			}
			if names.Less(b.Node, a.Node) {
				return 1
			}
			return cmp.Compare(a.Node, b.Node)
		})
		gp := gridPool{Name: clean(p), Rows: rows, Collapsed: len(rows) > collapseAbove}
		for _, row := range rows {
			if row.Attention {
				gp.Attention++
				if gp.Collapsed && len(gp.AttentionRows) < maxAttentionRows {
					gp.AttentionRows = append(gp.AttentionRows, row)
				}
			}
		}
		if gp.Collapsed {
			gp.Counts, gp.CountTitles = poolCounts(rows, len(g.Columns))
		}
		g.Pools = append(g.Pools, gp)
	}
	return g
}

// poolCounts counts, per column, the pool's nodes in each state.
func poolCounts(rows []gridRow, columns int) ([][]poolCount, []string) {
	counts := make([][]poolCount, columns)
	titles := make([]string, columns)
	for i := range columns {
		n := map[string]int{}
		for _, row := range rows {
			n[row.Cells[i].State.Key]++
		}
		var words []string
		for _, st := range gridStates {
			if n[st.Key] == 0 {
				continue
			}
			// Rounded up, so that one missing node in thousands still shows.
			pct := (n[st.Key]*100 + len(rows) - 1) / len(rows)
			counts[i] = append(counts[i], poolCount{State: st, N: n[st.Key], Percent: pct})
			words = append(words, fmt.Sprintf("%s %d", st.Word, n[st.Key]))
		}
		titles[i] = strings.Join(words, ", ")
	}
	return counts, titles
}

// gridCellOf decides a cell's state from the controller's verdict for the
// node (as the nodes view does) and the findings the analysis made there:
// an exemption that sets aside every finding of a cell makes it excluded.
func gridCellOf(nv *report.NodeVerdict, fs []*report.Finding) gridCell {
	has := func(t report.FindingType) bool {
		return slices.ContainsFunc(fs, func(f *report.Finding) bool { return f.Type == t })
	}
	var st gridState
	var what string
	switch {
	case nv == nil:
		st, what = stUnknown, "no verdict for this node"
	case !nv.ShouldRun && nv.Required:
		st, what = stMissing, "required by "+nv.RequiredBy+", but the DaemonSet does not target the node: "+nv.Reason
	case !nv.ShouldRun && len(nv.Pods) > 0:
		st, what = stUnhealthy, "Pod "+nv.Pods[0].Name+" runs where the DaemonSet does not target: "+nv.Reason
	case !nv.ShouldRun:
		st, what = stNotTargeted, nv.Reason
	case nv.Coverage == report.CoverageUnknown:
		st, what = stUnknown, "the Pods could not be read"
	case len(nv.Pods) == 0:
		st, what = stMissing, "targeted, no daemon Pod"
	default:
		p := nv.Pods[0] // the one the controller counts
		what = "Pod " + p.Name + " " + p.State
		switch {
		case has(report.UnhealthyPod):
			st = stUnhealthy
		case has(report.PendingPod) || (!p.Ready && p.Phase == "Pending"):
			st = stPending
		case !p.Ready:
			st, what = stUnhealthy, what+", not ready"
		case len(nv.Pods) > 1:
			st = stUnhealthy
		default:
			st = stRunning
		}
		if len(nv.Pods) > 1 {
			what += fmt.Sprintf(" (+%d more Pods)", len(nv.Pods)-1)
		}
	}
	c := gridCell{State: st}
	lines := []string{st.Word + ": " + clean(what)}
	active, exempted := 0, 0
	for _, f := range fs {
		line := clean(string(f.Type)) + ": " + clean(f.Message)
		switch {
		case f.Exempted != "":
			exempted++
			line += " [exempted: " + clean(f.Exempted) + "]"
		case f.HeldBack != "":
			line += " [held back: " + clean(f.HeldBack) + "]"
		default:
			active++
		}
		lines = append(lines, line)
	}
	if st.problem && active == 0 && exempted > 0 {
		c.State = stExcluded
		lines[0] = stExcluded.Word + " (" + st.Word + "): " + clean(what)
	}
	c.Flag = !c.State.problem && active > 0
	c.Title = strings.Join(lines, "\n")
	return c
}

// nodeBadges are the words shown beside a node's name: its readiness when
// not Ready, the node conditions that explain daemon problems, exemption.
func nodeBadges(n *report.NodeInfo) []string {
	var out []string
	if n.Ready != "True" && !slices.Contains(n.Conditions, "NotReady") && !slices.Contains(n.Conditions, "Unreachable") {
		out = append(out, "Ready="+clean(n.Ready))
	}
	for _, c := range n.Conditions {
		out = append(out, clean(c))
	}
	if n.Exempt != nil {
		out = append(out, "exempt")
	}
	return out
}

// columnCounts is a DaemonSet's counts, for its column's title.
func columnCounts(ds *report.DaemonSetReport) string {
	c := ds.Computed
	if c == nil {
		return "counts unknown"
	}
	return fmt.Sprintf("%d desired, %d ready, %d up to date, %d findings", c.DesiredNumberScheduled, c.NumberReady, c.UpdatedNumberScheduled, activeCount(ds.Findings))
}

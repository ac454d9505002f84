// Package problems groups a report's findings into problems: per
// DaemonSet, the findings of one type and cause; across DaemonSets, the
// findings one node condition explains. It orders them (most severe, then
// broadest, first) and names what a problem's nodes share that the
// DaemonSet's healthy nodes lack (a pattern). It reads findings and node
// objects only: what the findings mean is the audit's.
package problems

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Group groups the active findings of the report by cause: per DaemonSet,
// findings of one type with the same cause; across DaemonSets, findings a node
// condition explains (one problem per node and condition). Most severe first,
// then broadest: the default view prints one row per problem, at any size.
//
// health holds what patterns compare against, per DaemonSet: entries a
// Memo kept are used as they are, new ones are added. kept[i], when not
// nil, are the problems of DaemonSet i's own (made of its findings alone)
// that a Memo kept with its report: they are used as they are.
// Nodes is what grouping knows of the nodes: the objects, a node's
// position among them, and the report's order of node names.
type Nodes struct {
	List []*corev1.Node
	Pos  map[string]int
	// Sort orders node names as the report lists them.
	Sort func([]string)
	// Attrs caches the nodes' pattern attributes. It is only valid for
	// these very nodes: an analysis of the same nodes (a Memo's) may hand
	// the same Attrs on.
	Attrs *Attrs
}

// Group returns every problem, and each DaemonSet's own ones (for a Memo).
func Group(r *report.Report, nodes Nodes, health map[string]*Health, kept [][]report.Problem) ([]report.Problem, [][]report.Problem) {
	groups, order := collect(r, kept)
	out := make([]report.Problem, 0, len(order))
	own := make([][]report.Problem, len(r.DaemonSets))
	for i, ps := range kept {
		if ps != nil {
			own[i] = ps
			out = append(out, ps...)
		}
	}
	for _, k := range order {
		g := groups[k]
		p := g.p
		p.DaemonSets = keys(g.ds)
		sort.Strings(p.DaemonSets)
		p.Nodes = keys(g.nodes)
		nodes.Sort(p.Nodes)
		p.Range = names.Range(p.Nodes)
		p.Fix, p.Advice = groupFix(g.fixes, g.advice, p.Nodes)
		if len(p.DaemonSets) == 1 && len(p.Nodes) > 1 {
			p.Pattern = pattern(r, nodes, health, p.DaemonSets[0], k.typ+"\x00"+k.cause, p.Nodes, g.msgs)
		}
		out = append(out, p)
		if g.owner >= 0 {
			own[g.owner] = append(own[g.owner], p)
		}
	}
	for i := range own {
		if own[i] == nil {
			own[i] = []report.Problem{} // none: known, not unknown
		}
	}
	sortProblems(out)
	return out, own
}

// key is what makes findings one problem: the DaemonSet (none across
// DaemonSets), the type and the cause.
type key struct{ ds, typ, cause string }

// group is a problem being made of findings.
type group struct {
	p      report.Problem
	owner  int // the DaemonSet of a group of its own; -1 across DaemonSets
	ds     map[string]bool
	nodes  map[string]bool
	fixes  []string
	advice []*report.Advice
	msgs   []string
}

// collect puts every active finding in its group, except those of
// DaemonSets whose own problems were kept; order is the groups' first
// appearance.
func collect(r *report.Report, kept [][]report.Problem) (map[key]*group, []key) {
	groups := map[key]*group{}
	var order []key
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		name := ds.Namespace + "/" + ds.Name
		for j := range ds.Findings {
			f := &ds.Findings[j]
			if !f.Active() {
				continue
			}
			k := key{ds: name, typ: string(f.Type), cause: f.Cause}
			switch {
			case f.NodeCause != "":
				// One problem per node condition: the nodes and the
				// DaemonSets it breaks.
				k = key{typ: "Node" + f.NodeCause, cause: f.Cause}
			case report.Info(f.Type).AcrossDaemonSets:
				k.ds = ""
			}
			if k.ds != "" && i < len(kept) && kept[i] != nil {
				continue // among the DaemonSet's own problems, kept
			}
			g := groups[k]
			if g == nil {
				g = &group{p: report.Problem{Type: k.typ, Cause: f.Cause}, owner: -1, ds: map[string]bool{}, nodes: map[string]bool{}}
				if f.NodeCause != "" || f.Reason == "" {
					g.p.ID = report.ProblemID(k.ds, k.typ, "", k.cause)
				} else {
					g.p.ID = report.ProblemID(k.ds, k.typ, f.Reason, f.Params.Key())
				}
				if k.ds != "" {
					g.owner = i
				}
				groups[k] = g
				order = append(order, k)
			}
			g.ds[name] = true
			if f.Node != "" {
				g.nodes[f.Node] = true
			}
			if f.Severity.Rank() > g.p.Severity.Rank() {
				g.p.Severity = f.Severity
			}
			g.p.Failing = g.p.Failing || f.Failing
			g.p.Findings = append(g.p.Findings, report.FindingRef{ID: f.ID, DaemonSet: name, Index: j})
			g.fixes = append(g.fixes, f.Suggestion)
			g.advice = append(g.advice, f.Advice)
			g.msgs = append(g.msgs, f.Message)
		}
	}
	return groups, order
}

// sortProblems orders problems most severe first, then failing, then
// broadest.
func sortProblems(out []report.Problem) {
	// The order is total (a problem is its type, cause and first
	// DaemonSet; own and shared problems never share a type), so kept
	// problems land where a fresh grouping would put them.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.Failing != b.Failing {
			return a.Failing
		}
		if len(a.Nodes) != len(b.Nodes) {
			return len(a.Nodes) > len(b.Nodes)
		}
		if len(a.DaemonSets) != len(b.DaemonSets) {
			return len(a.DaemonSets) > len(b.DaemonSets)
		}
		if a.DaemonSets[0] != b.DaemonSets[0] {
			return a.DaemonSets[0] < b.DaemonSets[0]
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Cause < b.Cause
	})
}

// keys returns a set's members, unordered.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// groupFix is the problem's fix: the findings' common suggestion, else the
// first one, said to stand for the others (suggestions name their node or
// Pod).
func groupFix(fixes []string, advice []*report.Advice, nodes []string) (string, *report.Advice) {
	if len(fixes) == 0 {
		return "", nil
	}
	a := advice[0]
	for _, f := range fixes[1:] {
		if f != fixes[0] {
			if len(nodes) > 0 {
				more := fmt.Sprintf(" (shown for the first of %d; likewise for the others)", len(fixes))
				if a != nil {
					a = &report.Advice{Text: a.Text + more, Commands: a.Commands}
				}
				return fixes[0] + more, a
			}
			return fixes[0], a
		}
	}
	return fixes[0], a
}

// patternAttrs are what nodes of one kind share: when every node of a
// problem shares a value no healthy node has, that value is the likely cause.
var patternAttrs = []struct {
	name string
	get  func(*corev1.Node) string
}{
	{"instance type", func(n *corev1.Node) string { return n.Labels[corev1.LabelInstanceTypeStable] }},
	{"zone", func(n *corev1.Node) string { return n.Labels[corev1.LabelTopologyZone] }},
	{"OS", func(n *corev1.Node) string { return n.Labels[corev1.LabelOSStable] }},
	{"architecture", func(n *corev1.Node) string { return n.Labels[corev1.LabelArchStable] }},
	{"kernel", func(n *corev1.Node) string { return n.Status.NodeInfo.KernelVersion }},
	{"OS image", func(n *corev1.Node) string { return n.Status.NodeInfo.OSImage }},
	{"kubelet", func(n *corev1.Node) string { return n.Status.NodeInfo.KubeletVersion }},
}

// Attrs holds the nodes' attrTable once built.
type Attrs struct{ table *attrTable }

// attrTable interns the patternAttrs values of the nodes: ids[a][i] is
// node i's value of attribute a, vals[a][id] that value. Built once per set
// of nodes (a Memo reuses it with the nodes' index), so a DaemonSet's
// healthy values are a few slice writes per node, not map inserts.
type attrTable struct {
	ids  [][]int32
	vals [][]string
}

// attrs returns the nodes' attrTable, built at first use.
func (nodes Nodes) attrs() *attrTable {
	if nodes.Attrs != nil && nodes.Attrs.table != nil {
		return nodes.Attrs.table
	}
	at := &attrTable{ids: make([][]int32, len(patternAttrs)), vals: make([][]string, len(patternAttrs))}
	for a, attr := range patternAttrs {
		seen := map[string]int32{}
		at.ids[a] = make([]int32, len(nodes.List))
		for i, n := range nodes.List {
			v := attr.get(n)
			id, ok := seen[v]
			if !ok {
				id = int32(len(at.vals[a]))
				seen[v] = id
				at.vals[a] = append(at.vals[a], v)
			}
			at.ids[a][i] = id
		}
	}
	if nodes.Attrs != nil {
		nodes.Attrs.table = at
	}
	return at
}

// Health is what patterns compare against, per DaemonSet, built once.
// A Memo keeps it with the DaemonSet's report.
type Health struct {
	// healthy counts the targeted nodes without an active finding;
	// values[i][id] says whether value id of patternAttrs[i] (attrTable)
	// is among them.
	healthy int
	values  [][]bool
	// patterns are the patterns found, by problem type and cause: a
	// problem of one DaemonSet is made of its findings alone, so while
	// its report and the nodes stay the same (a Memo keeps Health only
	// then), so does the pattern.
	patterns map[string]string
}

// pattern names what a problem's nodes share that the DaemonSet's healthy
// nodes (targeted, no active finding) lack.
func pattern(r *report.Report, nodes Nodes, cache map[string]*Health, ds, problem string, nodeNames []string, msgs []string) string {
	h := cache[ds]
	at := nodes.attrs()
	if h != nil {
		if p, ok := h.patterns[problem]; ok {
			return p
		}
	} else {
		h = &Health{values: make([][]bool, len(patternAttrs)), patterns: map[string]string{}}
		for i := range patternAttrs {
			h.values[i] = make([]bool, len(at.vals[i]))
		}
		cache[ds] = h
		for i := range r.DaemonSets {
			dr := &r.DaemonSets[i]
			if dr.Namespace+"/"+dr.Name != ds {
				continue
			}
			bad := map[string]bool{}
			for _, f := range dr.Findings {
				if f.Active() {
					bad[f.Node] = true
				}
			}
			for _, nv := range dr.Nodes {
				if pos, ok := nodes.Pos[nv.Name]; ok && nv.ShouldRun && !bad[nv.Name] {
					h.healthy++
					for i := range patternAttrs {
						h.values[i][at.ids[i][pos]] = true
					}
				}
			}
		}
	}
	p := patternOf(nodes, at, h, nodeNames, msgs)
	h.patterns[problem] = p
	return p
}

// patternOf is pattern's finding, against h.
func patternOf(nodes Nodes, at *attrTable, h *Health, nodeNames []string, msgs []string) string {
	healthy := h.healthy
	var affected []int // positions in nodes.List
	for _, name := range nodeNames {
		if pos, ok := nodes.Pos[name]; ok {
			affected = append(affected, pos)
		}
	}
	if len(affected) < 2 || len(affected) != len(nodeNames) {
		return ""
	}
	noManifest := false
	for _, m := range msgs {
		if strings.Contains(m, "no matching manifest") {
			noManifest = true
		}
	}
	for ai, a := range patternAttrs {
		id := at.ids[ai][affected[0]]
		v := at.vals[ai][id]
		if v == "" {
			continue
		}
		shared := true
		for _, n := range affected[1:] {
			if at.ids[ai][n] != id {
				shared = false
				break
			}
		}
		if !shared {
			continue
		}
		if noManifest && (a.name == "OS" || a.name == "architecture") {
			return fmt.Sprintf("all %d nodes run %s %s: the image has no variant for it (no matching manifest)", len(affected), a.name, v)
		}
		if healthy == 0 {
			continue
		}
		if !h.values[ai][id] {
			return fmt.Sprintf("all %d nodes have %s %s, which none of the %d healthy nodes has", len(affected), a.name, v, healthy)
		}
	}
	return ""
}

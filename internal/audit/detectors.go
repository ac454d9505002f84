package audit

import (
	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	// The detector packages register their detectors in their init
	// functions; fit and storage are also called by the engine.
	_ "github.com/daemoncheck/daemoncheck/internal/audit/drift"
	_ "github.com/daemoncheck/daemoncheck/internal/audit/lifecycle"
	_ "github.com/daemoncheck/daemoncheck/internal/audit/pods"
	_ "github.com/daemoncheck/daemoncheck/internal/audit/rollout"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// detectors are the registered detectors in the catalog's order
// (report.Catalog): their findings are sorted afterwards
// (report.SortFindings), but what they add to a DaemonSet's unknowns
// (report.DaemonSetReport.Unknown) comes out in the order they run, so the
// order must not depend on package initialisation. A new finding type's
// place in the catalog is its detector's place here. Every catalog type
// has one detector (detect.Register refuses a type not in the catalog).
var detectors = inCatalogOrder(detect.All())

func inCatalogOrder(all []detect.Detector) []detect.Detector {
	byType := map[report.FindingType]detect.Detector{}
	for _, d := range all {
		if _, dup := byType[d.Type]; dup {
			panic("analyze: two detectors for finding type " + string(d.Type))
		}
		byType[d.Type] = d
	}
	out := make([]detect.Detector, 0, len(all))
	for _, ti := range report.Catalog {
		d, ok := byType[ti.Type]
		if !ok {
			panic("analyze: no detector registered for finding type " + string(ti.Type))
		}
		out = append(out, d)
	}
	return out
}

// detect runs every detector over the DaemonSet; findings come out in the
// canonical order (report.SortFindings). Pod findings need the Pods: without
// them only DaemonSet-level detectors run.
func (c *dsContext) detect(byNode map[string][]*model.DaemonPod) []report.Finding {
	var gone []string
	if c.PodsKnown {
		for name := range byNode {
			if c.idx.nodeByNm[name] == nil {
				gone = append(gone, name)
			}
		}
		names.Sort(gone)
	}
	out := []report.Finding{}
	// Each node's Pods, looked up once for every detector.
	var podsAt [][]*model.DaemonPod
	if c.PodsKnown && c.NodesKnown {
		podsAt = make([][]*model.DaemonPod, len(c.idx.nodes))
		for i, node := range c.idx.nodes {
			podsAt[i] = byNode[node.Name]
		}
	}
	// One case value, refilled for every node: a slice of cases would
	// hold nodes x DaemonSets of them at once on a large cluster.
	var n detect.Node
	for _, d := range detectors {
		if d.DS != nil {
			out = append(out, d.DS(c.Context)...)
		}
		if d.Node == nil || !c.PodsKnown {
			continue
		}
		if c.NodesKnown {
			for i, node := range c.idx.nodes {
				n = detect.Node{Name: node.Name, Node: node, Verdict: c.Verdicts[i], Pods: podsAt[i]}
				out = append(out, d.Node(c.Context, &n)...)
			}
		}
		for _, name := range gone {
			n = detect.Node{Name: name, Pods: byNode[name]}
			out = append(out, d.Node(c.Context, &n)...)
		}
	}
	report.SortFindings(out)
	return out
}

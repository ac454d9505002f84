package audit

import (
	"sync"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// detectorOrder is the order in which the detectors run over a DaemonSet.
// Their findings are sorted afterwards (report.SortFindings), but what
// they add to the DaemonSet's unknowns (report.DaemonSetReport.Unknown)
// comes out in this order, and a detector's DaemonSet-level function may
// prepare what its node function reads. A new detector takes its place
// here (by file name, as the detectors once lived in one package).
var detectorOrder = []report.FindingType{
	report.LowPriorityAgent, report.NoMemoryRequest, // fit/agents.go
	report.HostPortConflict, report.NodeTooSmall, // fit/capacity.go
	report.DriverWithoutPlugin, report.PluginNotRegistered, // storage/csi.go
	report.ImageDrift,                                                    // drift/drift.go
	report.DuplicatePods,                                                 // pods/duplicates.go
	report.GateDeadlock, report.NodeHeldByGate, report.GateWithoutLifter, // lifecycle/gates.go
	report.RecreateLoop,                    // lifecycle/loop.go
	report.MisscheduledPod,                 // pods/misscheduled.go
	report.MissingPod,                      // pods/missing.go
	report.NoTargets,                       // pods/notargets.go
	report.OrphanedPod,                     // pods/orphaned.go
	report.OutdatedPod,                     // rollout/outdated.go
	report.PendingPod, report.UnhealthyPod, // pods/podhealth.go
	report.RolloutStuck,  // rollout/rollout.go
	report.VersionSkew,   // drift/skew.go
	report.StaleStatus,   // rollout/stale.go
	report.UncoveredNode, // pods/uncovered.go
}

// detectors are the registered detectors in detectorOrder: every one
// registered has its place, and every place its detector.
var detectors = sync.OnceValue(func() []detect.Detector {
	byType := map[report.FindingType]detect.Detector{}
	for _, d := range detect.All() {
		if _, dup := byType[d.Type]; dup {
			panic("analyze: two detectors for finding type " + string(d.Type))
		}
		byType[d.Type] = d
	}
	out := make([]detect.Detector, 0, len(detectorOrder))
	for _, t := range detectorOrder {
		d, ok := byType[t]
		if !ok {
			panic("analyze: no detector registered for finding type " + string(t))
		}
		out = append(out, d)
		delete(byType, t)
	}
	for t := range byType {
		panic("analyze: detector for finding type " + string(t) + " has no place in detectorOrder")
	}
	return out
})

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
	for _, d := range detectors() {
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

// Until the detectors move to their packages: the old registration.
type nodeCase = detect.Node

type detector struct {
	typ  report.FindingType
	node func(c *dsContext, n *nodeCase) []report.Finding
	ds   func(c *dsContext) []report.Finding
}

func register(d detector) {
	dd := detect.Detector{Type: d.typ}
	if d.node != nil {
		dd.Node = func(c *detect.Context, n *detect.Node) []report.Finding { return d.node(&dsContext{Context: c}, n) }
	}
	if d.ds != nil {
		dd.DS = func(c *detect.Context) []report.Finding { return d.ds(&dsContext{Context: c}) }
	}
	detect.Register(dd)
}

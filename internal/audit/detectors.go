package audit

import (
	"sort"
	"strings"

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

// detectorOrder is the order in which the detectors run over a DaemonSet.
// Their findings are sorted afterwards (report.SortFindings), but what
// they add to the DaemonSet's unknowns (report.DaemonSetReport.Unknown)
// comes out in this order, and a detector's DaemonSet-level function may
// prepare what its node function reads. A new detector takes its place
// here: today's order is that of their file names, from when the detectors
// lived in one package.
var detectorOrder = []report.FindingType{
	report.LowPriorityAgent,    // fit/agents.go
	report.NoMemoryRequest,     // fit/agents.go
	report.HostPortConflict,    // fit/capacity.go
	report.NodeTooSmall,        // fit/capacity.go
	report.DriverWithoutPlugin, // storage/csi.go
	report.PluginNotRegistered, // storage/csi.go
	report.ImageDrift,          // drift/drift.go
	report.DuplicatePods,       // pods/duplicates.go
	report.GateDeadlock,        // lifecycle/gates.go
	report.NodeHeldByGate,      // lifecycle/gates.go
	report.GateWithoutLifter,   // lifecycle/gates.go
	report.RecreateLoop,        // lifecycle/loop.go
	report.MisscheduledPod,     // pods/misscheduled.go
	report.MissingPod,          // pods/missing.go
	report.NoTargets,           // pods/notargets.go
	report.OrphanedPod,         // pods/orphaned.go
	report.OutdatedPod,         // rollout/outdated.go
	report.PendingPod,          // pods/podhealth.go
	report.UnhealthyPod,        // pods/podhealth.go
	report.RolloutStuck,        // rollout/rollout.go
	report.VersionSkew,         // drift/skew.go
	report.StaleStatus,         // rollout/stale.go
	report.UncoveredNode,       // pods/uncovered.go
}

// detectors are the registered detectors in detectorOrder: every one
// registered has its place, and every place its detector. The detector
// packages are initialised, and so registered, before this package.
var detectors = inOrder(detect.All())

func inOrder(all []detect.Detector) []detect.Detector {
	byType := map[report.FindingType]detect.Detector{}
	for _, d := range all {
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
	if len(byType) > 0 {
		var extra []string
		for t := range byType {
			extra = append(extra, string(t))
		}
		sort.Strings(extra)
		panic("analyze: detectors without a place in detectorOrder: " + strings.Join(extra, ", "))
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

package audit

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// A detector finds one type of finding. Each lives in its own file with its
// finding type's messages and registers itself there, so adding a finding type
// is a catalog entry (package report), a detector file, and the demo fixture.
type detector struct {
	typ report.FindingType
	// node, if set, is called for every node of the DaemonSet (see nodeCase);
	// ds, if set, once per DaemonSet.
	node func(c *dsContext, n *nodeCase) []report.Finding
	ds   func(c *dsContext) []report.Finding
}

var detectors []detector

// register adds a detector; called from the init function of its file.
func register(d detector) {
	if !report.Known(d.typ) {
		panic("analyze: detector for undeclared finding type " + string(d.typ))
	}
	detectors = append(detectors, d)
}

// nodeCase is what per-node detectors look at: one node name and the
// DaemonSet's Pods attributed to it.
type nodeCase struct {
	name string
	// node is nil when the node is not in the snapshot: deleted (when
	// nodes were read), or unknown (when they were not).
	node *corev1.Node
	// verdict is the controller's decision for node (valid when node != nil).
	verdict scheduling.Verdict
	// pods are sorted as the controller sorts them: pods[0] is the one it
	// counts for the node.
	pods []*model.DaemonPod
}

// targeted reports whether the Pods of the case are on a node the DaemonSet
// should run on, or on a node whose verdict is unknown (nodes not read): the
// cases whose Pods are judged for health, duplicates and revision.
func (c *dsContext) targeted(n *nodeCase) bool {
	if n.node != nil {
		return n.verdict.ShouldRun
	}
	return !c.nodesKnown
}

// detect runs every detector over the DaemonSet; findings come out in the
// canonical order (report.SortFindings). Pod findings need the Pods: without
// them only DaemonSet-level detectors run.
func (c *dsContext) detect(byNode map[string][]*model.DaemonPod) []report.Finding {
	var gone []string
	if c.podsKnown {
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
	if c.podsKnown && c.nodesKnown {
		podsAt = make([][]*model.DaemonPod, len(c.idx.nodes))
		for i, node := range c.idx.nodes {
			podsAt[i] = byNode[node.Name]
		}
	}
	// One case value, refilled for every node: a slice of cases would
	// hold nodes x DaemonSets of them at once on a large cluster.
	var n nodeCase
	for _, d := range detectors {
		if d.ds != nil {
			out = append(out, d.ds(c)...)
		}
		if d.node == nil || !c.podsKnown {
			continue
		}
		if c.nodesKnown {
			for i, node := range c.idx.nodes {
				n = nodeCase{name: node.Name, node: node, verdict: c.verdicts[i], pods: podsAt[i]}
				out = append(out, d.node(c, &n)...)
			}
		}
		for _, name := range gone {
			n = nodeCase{name: name, pods: byNode[name]}
			out = append(out, d.node(c, &n)...)
		}
	}
	report.SortFindings(out)
	return out
}

// livePods are the Pods of a case that are not being deleted.
func livePods(pods []*model.DaemonPod) []*model.DaemonPod {
	live := make([]*model.DaemonPod, 0, len(pods))
	for _, p := range pods {
		if !p.Deleting {
			live = append(live, p)
		}
	}
	return live
}

package audit

import (
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// DefaultPoolLabels name a node's pool on the common platforms (EKS managed
// node groups, GKE, AKS, Karpenter); the instance type is the fallback.
var DefaultPoolLabels = []string{
	"eks.amazonaws.com/nodegroup",
	"cloud.google.com/gke-nodepool",
	"kubernetes.azure.com/agentpool",
	"karpenter.sh/nodepool",
}

const instanceTypeLabel = corev1.LabelInstanceTypeStable

// poolOf names the node's pool: the first pool label it carries, else its
// instance type, else "".
func poolOf(n *corev1.Node, poolLabels []string) string {
	for _, l := range poolLabels {
		if v := n.Labels[l]; v != "" {
			return v
		}
	}
	return n.Labels[instanceTypeLabel]
}

// coverageGaps groups the nodes the DaemonSet does not target by pool and
// reason, largest first: "not on pool batch-spot (5): taint ...".
func (c *dsContext) coverageGaps(nvs []report.NodeVerdict, poolLabels []string) []report.CoverageGap {
	if poolLabels == nil {
		poolLabels = DefaultPoolLabels
	}
	type key struct{ pool, reason string }
	// Groups hold natural-order positions: sorting ints is far cheaper
	// than comparing thousands of names naturally.
	groups := map[key][]int{}
	var order []key
	for i := range nvs {
		nv := &nvs[i]
		if nv.ShouldRun {
			continue
		}
		k := key{reason: nv.Reason}
		if n := c.idx.nodeByNm[nv.Name]; n != nil {
			k.pool = poolOf(n, poolLabels)
		}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c.idx.natural[nv.Name])
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if len(groups[a]) != len(groups[b]) {
			return len(groups[a]) > len(groups[b])
		}
		if a.pool != b.pool {
			return a.pool < b.pool
		}
		return a.reason < b.reason
	})
	out := make([]report.CoverageGap, 0, len(order))
	for _, k := range order {
		pos := groups[k]
		sort.Ints(pos)
		ns := make([]string, len(pos))
		for i, p := range pos {
			ns[i] = c.idx.byNatural[p]
		}
		out = append(out, report.CoverageGap{Pool: k.pool, Reason: k.reason, Count: len(ns), Range: names.Range(ns)})
	}
	return out
}

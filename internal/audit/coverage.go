package audit

import (
	"sort"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// coverageGaps groups the nodes the DaemonSet does not target by pool and
// reason, largest first: "not on pool batch-spot (5): taint ...".
func (c *dsContext) coverageGaps(nvs []report.NodeVerdict, poolLabels []string) []report.CoverageGap {
	if poolLabels == nil {
		poolLabels = providers.DefaultPoolLabels
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
		if n := c.Cluster.NodeByName[nv.Name]; n != nil {
			k.pool = providers.PoolOf(n, poolLabels)
		}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c.Cluster.Natural[nv.Name])
	}
	// Largest first; groups of one size in natural order of their nodes
	// (positions come in natural order, so a group's first is its least).
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if len(groups[a]) != len(groups[b]) {
			return len(groups[a]) > len(groups[b])
		}
		return groups[a][0] < groups[b][0]
	})
	out := make([]report.CoverageGap, 0, len(order))
	for _, k := range order {
		pos := groups[k]
		sort.Ints(pos)
		ns := make([]string, len(pos))
		for i, p := range pos {
			ns[i] = c.Cluster.ByNatural[p]
		}
		out = append(out, report.CoverageGap{Pool: k.pool, Reason: k.reason, Count: len(ns), Range: names.Range(ns)})
	}
	return out
}

package serve

import (
	"cmp"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// readKinds are the kinds every live read lists: each gets a
// daemoncheck_unread series, 0 or 1, so that a kind that becomes readable
// shows a 0 rather than a vanished series.
var readKinds = []model.Kind{model.DaemonSets, model.Nodes, model.Pods, model.ControllerRevisions, model.Events, model.PriorityClasses,
	// Node-plugin registrations (resourceslices only where served).
	model.CSINodes, model.CSIDrivers}

// seriesOptions is what the series depend on besides the report.
type seriesOptions struct {
	// maxNodeSeries bounds daemoncheck_node_findings (0: no bound).
	maxNodeSeries int
	// unmatched counts the coverage rules naming no DaemonSet read.
	unmatched int
	// poolLabels name a node's pool (default providers.DefaultPoolLabels).
	poolLabels []string
}

// seriesOf turns a report into the metrics a scrape returns until the next
// analysis: built once per analysis, so a scrape only copies them out and
// never waits for, nor repeats, work on the report. Const metrics are
// immutable and safe for concurrent scrapes.
func seriesOf(rep *report.Report, opts seriesOptions) []prometheus.Metric {
	var out []prometheus.Metric
	add := func(f *family, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...))
	}
	add(famLastRun, float64(rep.GeneratedAt.UnixMilli())/1000)
	add(famPartial, b2f(rep.Partial))
	unread := map[string]bool{}
	for _, u := range rep.Unread {
		unread[u.Kind] = true
	}
	for _, k := range readKinds {
		add(famUnread, b2f(unread[string(k)]), string(k))
		delete(unread, string(k))
	}
	for _, k := range slices.Sorted(maps.Keys(unread)) {
		add(famUnread, 1, k)
	}
	add(famNodes, float64(rep.NodeCount))
	add(famDaemonSets, float64(len(rep.DaemonSets)))
	add(famUnmatched, float64(opts.unmatched))

	poolOf := poolsOf(rep.Nodes, opts.poolLabels)
	var nodeRows []nodeRow
	for i := range rep.DaemonSets {
		ds := &rep.DaemonSets[i]
		counts(ds, add)
		nodeRows = findings(ds, add, nodeRows)
		pools(ds, poolOf, add)
	}
	// The bound keeps the most severe first, then a stable order, so the
	// same findings keep their series from one analysis to the next.
	slices.SortFunc(nodeRows, func(a, b nodeRow) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.ns, b.ns), cmp.Compare(a.ds, b.ds), cmp.Compare(a.node, b.node), cmp.Compare(a.typ, b.typ))
	})
	omitted := 0
	if opts.maxNodeSeries > 0 && len(nodeRows) > opts.maxNodeSeries {
		omitted = len(nodeRows) - opts.maxNodeSeries
		nodeRows = nodeRows[:opts.maxNodeSeries]
	}
	for _, r := range nodeRows {
		add(famNodeFindings, float64(r.n), r.ns, r.ds, r.node, r.typ)
	}
	add(famOmitted, float64(omitted))
	return out
}

// counts adds the DaemonSetStatus counts, as reported and as recomputed.
func counts(ds *report.DaemonSetReport, add func(*family, float64, ...string)) {
	get := []func(*report.Counts) int32{
		func(c *report.Counts) int32 { return c.DesiredNumberScheduled },
		func(c *report.Counts) int32 { return c.CurrentNumberScheduled },
		func(c *report.Counts) int32 { return c.NumberReady },
		func(c *report.Counts) int32 { return c.NumberAvailable },
		func(c *report.Counts) int32 { return c.UpdatedNumberScheduled },
		func(c *report.Counts) int32 { return c.NumberMisscheduled },
		func(c *report.Counts) int32 { return c.NumberUnavailable },
	}
	for j, f := range countFamilies {
		add(f, float64(get[j](&ds.Status)), ds.Namespace, ds.Name, "reported")
		// Unknown (nodes or Pods unread): no recomputed series rather
		// than a made-up 0.
		if ds.Computed != nil {
			add(f, float64(get[j](ds.Computed)), ds.Namespace, ds.Name, "recomputed")
		}
	}
}

// nodeRow is one daemoncheck_node_findings series before the bound.
type nodeRow struct {
	rank              int
	ns, ds, node, typ string
	n                 int
}

// findings adds a DaemonSet's findings by type, its affected nodes by type,
// what --fail-on selects and what is set aside; it returns rows with the
// DaemonSet's per-node series appended.
func findings(ds *report.DaemonSetReport, add func(*family, float64, ...string), rows []nodeRow) []nodeRow {
	type key struct {
		typ report.FindingType
		sev report.Severity
	}
	byType := map[key]int{}
	nodes := map[key]map[string]bool{}
	byNode := map[[2]string]int{}
	failing, exempted, heldBack := 0, 0, 0
	for k := range ds.Findings {
		f := &ds.Findings[k]
		switch {
		case f.Exempted != "":
			exempted++
			continue
		case f.HeldBack != "":
			heldBack++
			continue
		}
		kk := key{f.Type, f.Severity}
		byType[kk]++
		if f.Failing {
			failing++
		}
		if f.Node != "" {
			if nodes[kk] == nil {
				nodes[kk] = map[string]bool{}
			}
			nodes[kk][f.Node] = true
			byNode[[2]string{f.Node, string(f.Type)}]++
		}
	}
	// Every type that fails the default gate (error) gets a series, 0 when
	// clean, so that rules and dashboards see a value rather than an
	// absent series; the other types have one while the DaemonSet has
	// such findings (as per-node series do): a zero for each of them on
	// every DaemonSet would cost more series than the findings themselves
	// (TestSeriesCountOf5000Nodes).
	for _, ti := range report.Catalog {
		emitted := false
		for _, sev := range report.Severities {
			kk := key{ti.Type, sev}
			if n, ok := byType[kk]; ok {
				add(famFindings, float64(n), ds.Namespace, ds.Name, string(ti.Type), string(sev))
				if !ti.DaemonSetLevel {
					add(famAffected, float64(len(nodes[kk])), ds.Namespace, ds.Name, string(ti.Type), string(sev))
				}
				emitted = true
			}
		}
		if !emitted && ti.SeriesWhenClean() {
			add(famFindings, 0, ds.Namespace, ds.Name, string(ti.Type), string(ti.Severity))
			if !ti.DaemonSetLevel {
				add(famAffected, 0, ds.Namespace, ds.Name, string(ti.Type), string(ti.Severity))
			}
		}
	}
	add(famFailing, float64(failing), ds.Namespace, ds.Name)
	add(famSetAside, float64(exempted), ds.Namespace, ds.Name, "exempted")
	add(famSetAside, float64(heldBack), ds.Namespace, ds.Name, "held_back")
	for k, n := range byNode {
		ti := report.Info(report.FindingType(k[1]))
		rows = append(rows, nodeRow{rank: slices.Index(report.Severities, ti.Severity), ns: ds.Namespace, ds: ds.Name, node: k[0], typ: k[1], n: n})
	}
	return rows
}

// pools adds, for each node pool the DaemonSet targets, how many of its
// nodes it targets, covers and misses. Nodes whose coverage is unknown
// (Pods unread) are targeted, neither covered nor missing.
func pools(ds *report.DaemonSetReport, poolOf map[string]string, add func(*family, float64, ...string)) {
	type tally struct{ targeted, covered, missing int }
	by := map[string]*tally{}
	for i := range ds.Nodes {
		nv := &ds.Nodes[i]
		if !nv.ShouldRun {
			continue
		}
		p := poolOf[nv.Name]
		t := by[p]
		if t == nil {
			t = &tally{}
			by[p] = t
		}
		t.targeted++
		switch nv.Coverage {
		case report.Covered:
			t.covered++
		case report.Missing:
			t.missing++
		}
	}
	for _, p := range slices.Sorted(maps.Keys(by)) {
		t := by[p]
		add(famPoolTargeted, float64(t.targeted), ds.Namespace, ds.Name, p)
		add(famPoolCovered, float64(t.covered), ds.Namespace, ds.Name, p)
		add(famPoolMissing, float64(t.missing), ds.Namespace, ds.Name, p)
	}
}

// poolsOf names each node's pool, as the report's coverage gaps and
// capacity section do ("" when a node carries no pool label nor instance
// type).
func poolsOf(nodes []report.NodeInfo, poolLabels []string) map[string]string {
	if poolLabels == nil {
		poolLabels = providers.DefaultPoolLabels
	}
	out := make(map[string]string, len(nodes))
	var n corev1.Node
	for i := range nodes {
		n = corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: nodes[i].Labels}}
		out[nodes[i].Name] = providers.PoolOf(&n, poolLabels)
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

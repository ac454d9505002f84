package serve

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// The metric families serve exports, declared once: the collector, the
// alerting rules' test and the dashboard's test read this list.
//
// The names shared with `kubectl daemoncheck -o prometheus` (the scheduled
// path, internal/render/ci's Prometheus) mean the same and carry the same
// labels, so the rules of plugins/prometheusrule.yaml work on either path.
// Labels namespace, daemonset and node are named as kube-state-metrics
// names them (kube_daemonset_*, kube_node_*), so joins need no
// label_replace. No cluster label: Prometheus' external labels add it.
//
// Cardinality, per cluster (docs/runbooks.md, "Cardinality"): about 35 series
// per DaemonSet (counts, findings by type, affected nodes by type), 3 per
// DaemonSet and node pool it targets, one per (DaemonSet, node, finding
// type) with an active finding, at most Config.MaxNodeSeries of those, and
// about 25 for the process itself.

// family is one metric family: its descriptor and its type.
type family struct {
	name   string
	labels []string
	desc   *prometheus.Desc
	typ    prometheus.ValueType
}

var families []*family

func newFamily(typ prometheus.ValueType, name, help string, labels ...string) *family {
	f := &family{name: name, labels: labels, desc: prometheus.NewDesc(name, help, labels, nil), typ: typ}
	families = append(families, f)
	return f
}

func gauge(name, help string, labels ...string) *family {
	return newFamily(prometheus.GaugeValue, name, help, labels...)
}

func counter(name, help string, labels ...string) *family {
	return newFamily(prometheus.CounterValue, name, help, labels...)
}

var (
	dsLabels = []string{"namespace", "daemonset"}

	// From each analysis (the last complete report).
	famLastRun    = gauge("daemoncheck_last_run_timestamp_seconds", "When the last complete analysis ran (its clock), in seconds since the epoch.")
	famPartial    = gauge("daemoncheck_partial", "1 when some kinds could not be read (see daemoncheck_unread): the figures may be incomplete.")
	famUnread     = gauge("daemoncheck_unread", "1 for each kind of object the last analysis could not read, 0 for those it read.", "kind")
	famNodes      = gauge("daemoncheck_nodes", "Nodes the last analysis saw.")
	famDaemonSets = gauge("daemoncheck_daemonsets", "DaemonSets the last analysis audited.")
	famFindings   = gauge("daemoncheck_daemonset_findings", "Active findings (not exempted, not held back) of a DaemonSet, by finding type and severity; 0 for types without findings.",
		"namespace", "daemonset", "type", "severity")
	famFailing  = gauge("daemoncheck_daemonset_failing_findings", "Active findings of a DaemonSet that --fail-on selects (see daemoncheck_gate_info).", dsLabels...)
	famSetAside = gauge("daemoncheck_daemonset_set_aside_findings", "Findings of a DaemonSet set aside, by reason: exempted (annotation) or held_back (--grace).",
		"namespace", "daemonset", "reason")
	famNodeFindings = gauge("daemoncheck_node_findings", "Active findings on a node, by DaemonSet and finding type; only nodes with findings have series, and they disappear when fixed.",
		"namespace", "daemonset", "node", "type")
	famAffected = gauge("daemoncheck_daemonset_affected_nodes", "Nodes with an active finding of the type for the DaemonSet; 0 for node-level types without findings.",
		"namespace", "daemonset", "type", "severity")
	famPoolTargeted = gauge("daemoncheck_daemonset_pool_targeted_nodes", "Nodes of the pool the DaemonSet should run on (recomputed); pools it targets only.", "namespace", "daemonset", "pool")
	famPoolCovered  = gauge("daemoncheck_daemonset_pool_covered_nodes", "Targeted nodes of the pool that have a daemon Pod (in any state).", "namespace", "daemonset", "pool")
	famPoolMissing  = gauge("daemoncheck_daemonset_pool_missing_nodes", "Targeted nodes of the pool without a daemon Pod.", "namespace", "daemonset", "pool")
	famOmitted      = gauge("daemoncheck_node_findings_omitted", "Series of daemoncheck_node_findings left out to bound cardinality (--max-node-series); the per-DaemonSet counts still count them.")
	famUnmatched    = gauge("daemoncheck_policy_unmatched_rules", "Coverage rules (--require, --policy) that name a DaemonSet the last analysis did not find: they require nothing.")

	// The process' own state, current at each scrape.
	famUp         = gauge("daemoncheck_watch_up", "1 while the watches that keep the snapshot current are open (or, when the server refuses watches, while polling reads succeed); 0 while it cannot read.")
	famReady      = gauge("daemoncheck_ready", "1 once the first complete analysis is published and the cluster can be read (/readyz).")
	famAnalyses   = counter("daemoncheck_analyses_total", "Analyses completed since the process started.")
	famDuration   = gauge("daemoncheck_last_analysis_duration_seconds", "How long the last analysis took.")
	famReadErrors = counter("daemoncheck_read_errors_total", "Full reads that failed (the first read, re-reads while polling).")
	famInterrupts = counter("daemoncheck_watch_interruptions_total", "Times the watches were interrupted (API server away, a re-list failed).")
	famReloadOK   = gauge("daemoncheck_config_last_reload_successful", "1 when the last load of the coverage policy (--policy, --require) succeeded; a failed reload keeps the previous policy.")
	famReloadTime = gauge("daemoncheck_config_last_reload_success_timestamp_seconds", "When the coverage policy was last loaded successfully, in seconds since the epoch.")
	famGate       = gauge("daemoncheck_gate_info", "The --fail-on selection that daemoncheck_daemonset_failing_findings counts (always 1).", "fail_on")
	famBuild      = gauge("daemoncheck_build_info", "The build serving the metrics (always 1).", "version", "revision", "goversion")
)

// countFamilies are the DaemonSetStatus counts, named as kube-state-metrics
// names the controller's (kube_daemonset_status_*), with source "reported"
// (the controller's status) or "recomputed" (daemoncheck's).
var countFamilies = func() []*family {
	var out []*family
	for _, c := range []struct{ name, help string }{
		{"desired_number_scheduled", "Nodes that should run the daemon Pod."},
		{"current_number_scheduled", "Nodes that run at least one daemon Pod and should."},
		{"number_ready", "Nodes that should run the daemon Pod and have one Ready."},
		{"number_available", "Nodes that should run the daemon Pod and have one available."},
		{"updated_number_scheduled", "Nodes that run the current revision of the daemon Pod."},
		{"number_misscheduled", "Nodes that run the daemon Pod but should not."},
		{"number_unavailable", "Nodes that should run the daemon Pod and have none available."},
	} {
		out = append(out, gauge("daemoncheck_daemonset_"+c.name, c.help+` source="reported" is the controller's status, source="recomputed" daemoncheck's own count.`,
			"namespace", "daemonset", "source"))
	}
	return out
}()

// MetricNames lists every metric family serve exports itself (the Go
// runtime's go_* and process_* come on top), sorted.
func MetricNames() []string {
	out := make([]string, 0, len(families))
	for _, f := range families {
		out = append(out, f.name)
	}
	sort.Strings(out)
	return out
}

// MetricLabels gives the label names of each family MetricNames lists.
func MetricLabels() map[string][]string {
	out := make(map[string][]string, len(families))
	for _, f := range families {
		out[f.name] = append([]string(nil), f.labels...)
	}
	return out
}

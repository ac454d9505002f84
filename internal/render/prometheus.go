package render

import (
	"io"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Prometheus prints the report in the Prometheus text exposition format, for
// node-exporter's textfile collector or a Pushgateway fed by a scheduled run.
// Series are per DaemonSet (bounded by the DaemonSets audited) and per node
// only where a node has findings, so a large healthy cluster stays small.
// No sample carries a timestamp: the Pushgateway rejects them and the
// textfile collector ignores them; daemoncheck_last_run_timestamp_seconds
// says when the audit ran.
func Prometheus(w io.Writer, r *report.Report, _ Options) error {
	fams := promFamilies(r)
	for _, mf := range fams {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
}

// The metric names, declared once: the alerting rules in
// plugins/prometheusrule.yaml are tested against this list.
const (
	promLastRun    = "daemoncheck_last_run_timestamp_seconds"
	promPartial    = "daemoncheck_partial"
	promUnread     = "daemoncheck_unread"
	promNodes      = "daemoncheck_nodes"
	promDaemonSets = "daemoncheck_daemonsets"
	promFindings   = "daemoncheck_daemonset_findings"
	promFailing    = "daemoncheck_daemonset_failing_findings"
	promSetAside   = "daemoncheck_daemonset_set_aside_findings"
	promNode       = "daemoncheck_node_findings"
)

// promCounts are the DaemonSetStatus counts, named as kube-state-metrics
// names the controller's own (kube_daemonset_status_*), with source
// "reported" (the controller's status) or "recomputed" (daemoncheck's).
var promCounts = []struct {
	name string
	help string
	get  func(*report.Counts) int32
}{
	{"daemoncheck_daemonset_desired_number_scheduled", "Nodes that should run the daemon Pod.", func(c *report.Counts) int32 { return c.DesiredNumberScheduled }},
	{"daemoncheck_daemonset_current_number_scheduled", "Nodes that run at least one daemon Pod and should.", func(c *report.Counts) int32 { return c.CurrentNumberScheduled }},
	{"daemoncheck_daemonset_number_ready", "Nodes that should run the daemon Pod and have one Ready.", func(c *report.Counts) int32 { return c.NumberReady }},
	{"daemoncheck_daemonset_number_available", "Nodes that should run the daemon Pod and have one available.", func(c *report.Counts) int32 { return c.NumberAvailable }},
	{"daemoncheck_daemonset_updated_number_scheduled", "Nodes that run the current revision of the daemon Pod.", func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }},
	{"daemoncheck_daemonset_number_misscheduled", "Nodes that run the daemon Pod but should not.", func(c *report.Counts) int32 { return c.NumberMisscheduled }},
	{"daemoncheck_daemonset_number_unavailable", "Nodes that should run the daemon Pod and have none available.", func(c *report.Counts) int32 { return c.NumberUnavailable }},
}

// PrometheusMetricNames lists every metric family the printer can emit.
func PrometheusMetricNames() []string {
	out := []string{promLastRun, promPartial, promUnread, promNodes, promDaemonSets, promFindings, promFailing, promSetAside, promNode}
	for _, c := range promCounts {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}

func gauge(name, help string) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum()}
}

// add appends a sample; labels come as name, value pairs.
func add(mf *dto.MetricFamily, v float64, labels ...string) {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	mf.Metric = append(mf.Metric, m)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func promFamilies(r *report.Report) []*dto.MetricFamily {
	lastRun := gauge(promLastRun, "When the audit ran (its analysis clock), in seconds since the epoch.")
	add(lastRun, float64(r.GeneratedAt.UnixMilli())/1000)
	partial := gauge(promPartial, "1 when some kinds could not be read (see daemoncheck_unread): the counts below may be incomplete.")
	add(partial, b2f(r.Partial))
	unread := gauge(promUnread, "1 for each kind of object the audit could not read.")
	for _, u := range r.Unread {
		add(unread, 1, "kind", u.Kind)
	}
	nodes := gauge(promNodes, "Nodes the audit saw.")
	add(nodes, float64(r.NodeCount))
	dss := gauge(promDaemonSets, "DaemonSets audited.")
	add(dss, float64(len(r.DaemonSets)))

	counts := make([]*dto.MetricFamily, len(promCounts))
	for i, c := range promCounts {
		counts[i] = gauge(c.name, c.help+` source="reported" is the controller's status, source="recomputed" daemoncheck's own count.`)
	}
	findings := gauge(promFindings, "Active findings (not exempted, not held back) of a DaemonSet, by finding type and severity; 0 for types without findings.")
	failing := gauge(promFailing, "Findings of a DaemonSet that --fail-on selects: above 0 the run's exit code is 1.")
	setAside := gauge(promSetAside, "Findings of a DaemonSet set aside, by reason: exempted (annotation) or held_back (--grace).")
	node := gauge(promNode, "Active findings on a node, by DaemonSet and finding type; only nodes with findings have series.")

	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		id := []string{"namespace", ds.Namespace, "daemonset", ds.Name}
		for j, c := range promCounts {
			add(counts[j], float64(c.get(&ds.Status)), append(id, "source", "reported")...)
			if ds.Computed != nil {
				add(counts[j], float64(c.get(ds.Computed)), append(id, "source", "recomputed")...)
			}
		}
		type key struct {
			typ report.FindingType
			sev report.Severity
		}
		byType := map[key]int{}
		byNode := map[[2]string]int{}
		nFailing, exempted, heldBack := 0, 0, 0
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
			byType[key{f.Type, f.Severity}]++
			if f.Failing {
				nFailing++
			}
			if f.Node != "" {
				byNode[[2]string{f.Node, string(f.Type)}]++
			}
		}
		// Every type gets a series, 0 when clean, so that rules and
		// dashboards see a value rather than an absent series.
		for _, ti := range report.Catalog {
			emitted := false
			for _, sev := range report.Severities {
				if n, ok := byType[key{ti.Type, sev}]; ok {
					add(findings, float64(n), append(id, "type", string(ti.Type), "severity", string(sev))...)
					emitted = true
				}
			}
			if !emitted {
				add(findings, 0, append(id, "type", string(ti.Type), "severity", string(ti.Severity))...)
			}
		}
		add(failing, float64(nFailing), id...)
		add(setAside, float64(exempted), append(id, "reason", "exempted")...)
		add(setAside, float64(heldBack), append(id, "reason", "held_back")...)
		keys := make([][2]string, 0, len(byNode))
		for k := range byNode {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool {
			if keys[a][0] != keys[b][0] {
				return keys[a][0] < keys[b][0]
			}
			return keys[a][1] < keys[b][1]
		})
		for _, k := range keys {
			add(node, float64(byNode[k]), append(id, "node", k[0], "type", k[1])...)
		}
	}
	out := []*dto.MetricFamily{lastRun, partial, unread, nodes, dss}
	out = append(out, counts...)
	out = append(out, findings, failing, setAside, node)
	// An empty family prints a HELP and TYPE with no sample; leave it out.
	kept := out[:0]
	for _, mf := range out {
		if len(mf.Metric) > 0 {
			kept = append(kept, mf)
		}
	}
	return kept
}

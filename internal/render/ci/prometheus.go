package ci

import (
	"fmt"
	"io"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// -o prometheus: the audit (and NAME), for the textfile collector or a
// Pushgateway.
func init() {
	render.Register(render.Format{Name: "prometheus", Render: map[render.View]render.RenderFunc{render.ViewAudit: Prometheus, render.ViewDetail: Prometheus}})
}

// Prometheus prints the report in the Prometheus text exposition format, for
// node-exporter's textfile collector or a Pushgateway fed by a scheduled run.
// Series are per DaemonSet (bounded by the DaemonSets audited) and per node
// only where a node has findings, so a large healthy cluster stays small.
// No sample carries a timestamp: the Pushgateway rejects them and the
// textfile collector ignores them; daemoncheck_last_run_timestamp_seconds
// says when the audit ran.
func Prometheus(w io.Writer, r *report.Report, _ render.Options) error {
	if err := promDistinctDaemonSets(r); err != nil {
		return err
	}
	fams := promFamilies(r)
	if err := promUnique(fams); err != nil {
		return err
	}
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
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(escape.PromLabel(labels[i+1]))})
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
	out := promRunFamilies(r)
	d := newPromDaemonSetFamilies()
	for i := range r.DaemonSets {
		d.add(&r.DaemonSets[i])
	}
	out = append(out, d.counts...)
	out = append(out, d.findings, d.failing, d.setAside, d.node)
	// An empty family prints a HELP and TYPE with no sample; leave it out.
	kept := out[:0]
	for _, mf := range out {
		if len(mf.Metric) > 0 {
			kept = append(kept, mf)
		}
	}
	return kept
}

// promRunFamilies are the families about the run as a whole.
func promRunFamilies(r *report.Report) []*dto.MetricFamily {
	lastRun := gauge(promLastRun, "When the audit ran (its analysis clock), in seconds since the epoch.")
	add(lastRun, float64(r.GeneratedAt.UnixMilli())/1000)
	partial := gauge(promPartial, "1 when some kinds could not be read (see daemoncheck_unread): the counts below may be incomplete.")
	add(partial, b2f(r.Partial))
	unread := gauge(promUnread, "1 for each kind of object the audit could not read.")
	kinds := map[string]bool{}
	for _, u := range r.Unread {
		// A kind may be unread for several reasons (in several
		// namespaces): one series.
		if !kinds[u.Kind] {
			kinds[u.Kind] = true
			add(unread, 1, "kind", u.Kind)
		}
	}
	nodes := gauge(promNodes, "Nodes the audit saw.")
	add(nodes, float64(r.NodeCount))
	dss := gauge(promDaemonSets, "DaemonSets audited.")
	add(dss, float64(len(r.DaemonSets)))
	return []*dto.MetricFamily{lastRun, partial, unread, nodes, dss}
}

// promDaemonSetFamilies are the families with series per DaemonSet.
type promDaemonSetFamilies struct {
	counts                            []*dto.MetricFamily // one per promCounts
	findings, failing, setAside, node *dto.MetricFamily
}

func newPromDaemonSetFamilies() *promDaemonSetFamilies {
	d := &promDaemonSetFamilies{counts: make([]*dto.MetricFamily, len(promCounts))}
	for i, c := range promCounts {
		d.counts[i] = gauge(c.name, c.help+` source="reported" is the controller's status, source="recomputed" daemoncheck's own count.`)
	}
	d.findings = gauge(promFindings, "Active findings (not exempted, not held back) of a DaemonSet, by finding type and severity; 0 for types without findings.")
	d.failing = gauge(promFailing, "Findings of a DaemonSet that --fail-on selects: above 0 the run's exit code is 1.")
	d.setAside = gauge(promSetAside, "Findings of a DaemonSet set aside, by reason: exempted (annotation) or held_back (--grace).")
	d.node = gauge(promNode, "Active findings on a node, by DaemonSet and finding type; only nodes with findings have series.")
	return d
}

// promTypeKey is a finding type and severity.
type promTypeKey struct {
	typ report.FindingType
	sev report.Severity
}

// promTally counts a DaemonSet's findings as the families report them.
type promTally struct {
	byType                      map[promTypeKey]int
	byNode                      map[[2]string]int // node, type
	failing, exempted, heldBack int
}

func tallyFindings(fs []report.Finding) promTally {
	t := promTally{byType: map[promTypeKey]int{}, byNode: map[[2]string]int{}}
	for k := range fs {
		f := &fs[k]
		switch {
		case f.Exempted != "":
			t.exempted++
			continue
		case f.HeldBack != "":
			t.heldBack++
			continue
		}
		t.byType[promTypeKey{f.Type, f.Severity}]++
		if f.Failing {
			t.failing++
		}
		if f.Node != "" {
			t.byNode[[2]string{f.Node, string(f.Type)}]++
		}
	}
	return t
}

// add adds the series of one DaemonSet.
func (d *promDaemonSetFamilies) add(ds *report.DaemonSetReport) {
	id := []string{"namespace", ds.Namespace, "daemonset", ds.Name}
	for j, c := range promCounts {
		add(d.counts[j], float64(c.get(&ds.Status)), append(id, "source", "reported")...)
		if ds.Computed != nil {
			add(d.counts[j], float64(c.get(ds.Computed)), append(id, "source", "recomputed")...)
		}
	}
	t := tallyFindings(ds.Findings)
	// As serve does (internal/serve/series.go): the types that fail the
	// default gate get a series, 0 when clean, so that rules and
	// dashboards see a value rather than an absent series; the others
	// have one while present.
	for _, ti := range report.Catalog {
		emitted := false
		for _, sev := range report.Severities {
			if n, ok := t.byType[promTypeKey{ti.Type, sev}]; ok {
				add(d.findings, float64(n), append(id, "type", string(ti.Type), "severity", string(sev))...)
				emitted = true
			}
		}
		if !emitted && ti.SeriesWhenClean() {
			add(d.findings, 0, append(id, "type", string(ti.Type), "severity", string(ti.Severity))...)
		}
	}
	add(d.failing, float64(t.failing), id...)
	add(d.setAside, float64(t.exempted), append(id, "reason", "exempted")...)
	add(d.setAside, float64(t.heldBack), append(id, "reason", "held_back")...)
	keys := make([][2]string, 0, len(t.byNode))
	for k := range t.byNode {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a][0] != keys[b][0] {
			return keys[a][0] < keys[b][0]
		}
		return keys[a][1] < keys[b][1]
	})
	for _, k := range keys {
		add(d.node, float64(t.byNode[k]), append(id, "node", k[0], "type", k[1])...)
	}
}

// promDistinctDaemonSets refuses a report with two DaemonSets of one
// namespace and name (two objects with different UIDs in a dump: a cluster
// holds one at a time, so the input mixes two points in time, e.g. before
// and after a re-create). Their series would be duplicates, and the
// Pushgateway and node-exporter's textfile collector reject the whole
// exposition for one. Merging them would add up the counts of two objects
// (a desired count no controller ever had); a uid label would have to be on
// every series of each family (both readers require one label set per
// family), changing every series' identity for one bad input. The other
// formats list both DaemonSets; this one says which name is doubled.
func promDistinctDaemonSets(r *report.Report) error {
	seen := make(map[[2]string]bool, len(r.DaemonSets))
	for i := range r.DaemonSets {
		k := [2]string{r.DaemonSets[i].Namespace, r.DaemonSets[i].Name}
		if seen[k] {
			return fmt.Errorf("the input has two DaemonSets %s/%s (objects with different UIDs: a dump that mixes two points in time?), and Prometheus series must be unique: dump the cluster again, or use -o json", escape.PromLabel(k[0]), escape.PromLabel(k[1]))
		}
		seen[k] = true
	}
	return nil
}

// promUnique checks that no family has two series with one label set, which
// promDistinctDaemonSets cannot rule out alone: two names the escaping of
// promLabel makes equal (a node named with U+202E and one named with the
// text \u202e).
func promUnique(fams []*dto.MetricFamily) error {
	for _, mf := range fams {
		seen := make(map[string]bool, len(mf.Metric))
		for _, m := range mf.Metric {
			var b strings.Builder
			for _, l := range m.Label {
				b.WriteString(l.GetName())
				b.WriteByte(0)
				b.WriteString(l.GetValue())
				b.WriteByte(0)
			}
			if seen[b.String()] {
				return fmt.Errorf("two %s series with the labels %s: names in the input differ only in characters written escaped; use -o json", mf.GetName(), strings.ReplaceAll(b.String(), "\x00", " "))
			}
			seen[b.String()] = true
		}
	}
	return nil
}

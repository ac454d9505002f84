package ci

import (
	"bytes"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func parseExposition(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	return fams
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.Label {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestPrometheusExposition(t *testing.T) {
	r := demoReport(t, report.Gate{})
	r.Partial = true
	r.Unread = []report.Unread{{Kind: "Event", Reason: "forbidden"}}
	var buf bytes.Buffer
	if err := Prometheus(&buf, r, render.Options{}); err != nil {
		t.Fatal(err)
	}
	first := buf.String()
	fams := parseExposition(t, buf.Bytes())

	problems, err := promlint.New(bytes.NewReader(buf.Bytes())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	for name, mf := range fams {
		if mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is a %s, want a gauge (each run replaces the values)", name, mf.GetType())
		}
		for _, m := range mf.Metric {
			if m.TimestampMs != nil {
				t.Errorf("%s carries a timestamp: the Pushgateway rejects those", name)
			}
		}
	}
	if got := fams[promPartial].Metric[0].GetGauge().GetValue(); got != 1 {
		t.Errorf("partial = %v", got)
	}
	if got := fams[promLastRun].Metric[0].GetGauge().GetValue(); got != float64(r.GeneratedAt.Unix()) {
		t.Errorf("last run %v, want %v", got, r.GeneratedAt.Unix())
	}

	// The counts agree with the report, per DaemonSet and type.
	want := map[string]float64{}
	wantFailing := map[string]float64{}
	nodesWithFindings := map[string]bool{}
	for _, ds := range r.DaemonSets {
		id := ds.Namespace + "/" + ds.Name
		for _, f := range ds.Findings {
			if f.Active() {
				want[id+"/"+string(f.Type)]++
				if f.Node != "" {
					nodesWithFindings[f.Node] = true
				}
			}
			if f.Failing {
				wantFailing[id]++
			}
		}
	}
	got := map[string]float64{}
	for _, m := range fams[promFindings].Metric {
		l := labelsOf(m)
		if v := m.GetGauge().GetValue(); v != 0 {
			got[l["namespace"]+"/"+l["daemonset"]+"/"+l["type"]] += v
		}
		if l["severity"] == "" {
			t.Errorf("finding series without severity: %v", l)
		}
	}
	if !mapsEqual(got, want) {
		t.Errorf("findings by type:\n got %v\nwant %v", got, want)
	}
	// A series per DaemonSet and error type (0 when clean), and one per
	// other type the DaemonSet has findings of.
	series := map[string]bool{}
	for _, m := range fams[promFindings].Metric {
		l := labelsOf(m)
		series[l["namespace"]+"/"+l["daemonset"]+"/"+l["type"]] = true
	}
	wantSeries := 0
	for _, ds := range r.DaemonSets {
		for _, ti := range report.Catalog {
			_, has := want[ds.Namespace+"/"+ds.Name+"/"+string(ti.Type)]
			if ti.Severity == report.SeverityError || has {
				wantSeries++
				if !series[ds.Namespace+"/"+ds.Name+"/"+string(ti.Type)] {
					t.Errorf("no series for %s/%s %s", ds.Namespace, ds.Name, ti.Type)
				}
			}
		}
	}
	if n := len(fams[promFindings].Metric); n != wantSeries {
		t.Errorf("%d finding series, want one per DaemonSet and error type and one per other type present (%d)", n, wantSeries)
	}
	gotFailing := map[string]float64{}
	for _, m := range fams[promFailing].Metric {
		l := labelsOf(m)
		if v := m.GetGauge().GetValue(); v != 0 {
			gotFailing[l["namespace"]+"/"+l["daemonset"]] = v
		}
	}
	if !mapsEqual(gotFailing, wantFailing) {
		t.Errorf("failing:\n got %v\nwant %v", gotFailing, wantFailing)
	}
	// Per-node series only for nodes with findings: bounded cardinality.
	for _, m := range fams[promNode].Metric {
		if l := labelsOf(m); !nodesWithFindings[l["node"]] || m.GetGauge().GetValue() == 0 {
			t.Errorf("node series for a node without findings: %v", l)
		}
	}
	if len(nodesWithFindings) == 0 || len(fams[promNode].Metric) == 0 {
		t.Fatal("the demo should have nodes with findings")
	}
	// A healthy DaemonSet on many nodes adds no per-node series.
	healthy := &report.Report{GeneratedAt: r.GeneratedAt, NodeCount: 500, DaemonSets: []report.DaemonSetReport{{Namespace: "ns", Name: "ok", Nodes: make([]report.NodeVerdict, 500)}}}
	buf.Reset()
	if err := Prometheus(&buf, healthy, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), promNode) {
		t.Errorf("per-node series for a healthy DaemonSet:\n%s", buf.String())
	}
	if lines := strings.Count(buf.String(), "\n"); lines > 80 {
		t.Errorf("%d lines for one healthy DaemonSet on 500 nodes", lines)
	}
	for name := range fams {
		if !contains(PrometheusMetricNames(), name) {
			t.Errorf("%s is emitted but not in PrometheusMetricNames", name)
		}
	}
	// Deterministic output.
	var again bytes.Buffer
	_ = Prometheus(&again, r, render.Options{})
	if again.String() != first {
		t.Error("two renderings of one report differ")
	}
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// promQLSelector is a metric name and its optional label matchers.
var promQLSelector = regexp.MustCompile(`\b(daemoncheck_[a-z_]+)(\{([^}]*)\})?`)

// The shipped alerting rules use only metrics and labels the printer emits.
func TestPrometheusRuleFile(t *testing.T) {
	data, err := os.ReadFile("../../../plugins/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert       string            `json:"alert"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &rule); err != nil {
		t.Fatalf("plugins/prometheusrule.yaml: %v", err)
	}
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" || rule.Metadata.Name == "" || len(rule.Spec.Groups) == 0 {
		t.Fatalf("not a PrometheusRule: %+v", rule)
	}
	// The label names each family carries, from a rendering of the demo.
	var buf bytes.Buffer
	r := demoReport(t, report.Gate{})
	r.Unread = []report.Unread{{Kind: "Event", Reason: "forbidden"}}
	if err := Prometheus(&buf, r, render.Options{}); err != nil {
		t.Fatal(err)
	}
	labelNames := map[string]map[string]bool{}
	for name, mf := range parseExposition(t, buf.Bytes()) {
		labelNames[name] = map[string]bool{}
		for _, m := range mf.Metric {
			for l := range labelsOf(m) {
				labelNames[name][l] = true
			}
		}
	}
	alerts := 0
	for _, g := range rule.Spec.Groups {
		for _, rl := range g.Rules {
			alerts++
			if rl.Alert == "" || rl.Expr == "" || rl.Labels["severity"] == "" || rl.Annotations["summary"] == "" {
				t.Errorf("rule %q lacks alert, expr, a severity label or a summary", rl.Alert)
			}
			sels := promQLSelector.FindAllStringSubmatch(rl.Expr, -1)
			if len(sels) == 0 {
				t.Errorf("%s: expr %q uses no daemoncheck metric", rl.Alert, rl.Expr)
			}
			for _, s := range sels {
				names, ok := labelNames[s[1]]
				if !ok {
					t.Errorf("%s: expr uses %s, which the printer does not emit (it emits %s)", rl.Alert, s[1], strings.Join(sortedKeys(labelNames), ", "))
					continue
				}
				for _, matcher := range strings.Split(s[3], ",") {
					if matcher = strings.TrimSpace(matcher); matcher == "" {
						continue
					}
					l := regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`).FindString(matcher)
					if !names[l] {
						t.Errorf("%s: %s has no label %q", rl.Alert, s[1], l)
					}
				}
			}
			// by (...) and ignoring(...) name labels the metrics carry.
			for _, m := range regexp.MustCompile(`\b(?:by|ignoring|on|without)\s*\(([^)]*)\)`).FindAllStringSubmatch(rl.Expr, -1) {
				for _, l := range strings.Split(m[1], ",") {
					l = strings.TrimSpace(l)
					found := false
					for _, s := range sels {
						found = found || labelNames[s[1]][l]
					}
					if !found {
						t.Errorf("%s: grouping label %q is on none of its metrics", rl.Alert, l)
					}
				}
			}
		}
	}
	if alerts < 3 {
		t.Errorf("only %d alerts", alerts)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	rulesFile      = "../../plugins/chart/daemoncheck/files/rules.yaml"
	cronRulesFile  = "../../plugins/prometheusrule.yaml"
	dashboardFile  = "../../plugins/grafana/daemoncheck.json"
	runbooksFile   = "../../docs/runbooks.md"
	promtoolTarget = "make prometheus-deps"
)

// promtool finds promtool, or fails the test naming what installs it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found in PATH: run `%s` (installs the Debian package prometheus)", promtoolTarget)
	}
	return p
}

func runPromtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// The alerting rules parse, and fire on synthetic series exactly as the
// promtool unit tests in testdata/rules_test.yaml expect.
func TestAlertRules(t *testing.T) {
	runPromtool(t, ".", "check", "rules", rulesFile)
	runPromtool(t, "testdata", "test", "rules", "rules_test.yaml")
}

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []rule `json:"rules"`
	} `json:"groups"`
}

type rule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func readRules(t *testing.T, path string) []rule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if strings.HasSuffix(path, "prometheusrule.yaml") {
		var pr struct {
			Spec ruleFile `json:"spec"`
		}
		err = yaml.Unmarshal(data, &pr)
		f = pr.Spec
	} else {
		err = yaml.UnmarshalStrict(data, &f)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// Every alert has a severity, a summary and a runbook section that exists.
func TestAlertRulesLinkRunbooks(t *testing.T) {
	book, err := os.ReadFile(runbooksFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^##+ +(.+)$`).FindAllStringSubmatch(string(book), -1) {
		anchors[strings.ToLower(strings.ReplaceAll(strings.TrimSpace(m[1]), " ", "-"))] = true
	}
	const base = "https://github.com/daemoncheck/daemoncheck/blob/main/docs/runbooks.md#"
	rules := readRules(t, rulesFile)
	if len(rules) < 8 {
		t.Fatalf("only %d rules in %s", len(rules), rulesFile)
	}
	for _, r := range rules {
		if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("rule %q lacks an alert name, a severity label, a summary or a description", r.Alert)
		}
		u := r.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(u, base)
		if !ok || !anchors[anchor] || anchor != strings.ToLower(r.Alert) {
			t.Errorf("%s: runbook_url %q is not %s%s with a section ## %s in %s", r.Alert, u, base, strings.ToLower(r.Alert), r.Alert, runbooksFile)
		}
		if strings.Contains(r.Expr, "cluster") {
			t.Errorf("%s: the expression names a cluster label; serve exports none (external labels add it)", r.Alert)
		}
	}
}

// The alerts both rule files have (the scheduled -o prometheus path's
// PrometheusRule and serve's) mean the same: same severity. And the
// PrometheusRule's expressions work on serve's metrics too.
func TestRuleFilesAgree(t *testing.T) {
	serveRules := map[string]rule{}
	for _, r := range readRules(t, rulesFile) {
		serveRules[r.Alert] = r
	}
	shared := 0
	for _, r := range readRules(t, cronRulesFile) {
		if s, ok := serveRules[r.Alert]; ok {
			shared++
			if s.Labels["severity"] != r.Labels["severity"] {
				t.Errorf("%s: severity %s in %s, %s in %s", r.Alert, s.Labels["severity"], rulesFile, r.Labels["severity"], cronRulesFile)
			}
		}
		checkExpr(t, cronRulesFile+": "+r.Alert, r.Expr)
	}
	if shared == 0 {
		t.Errorf("no alert name in common between %s and %s", rulesFile, cronRulesFile)
	}
}

// externalLabels are added by Prometheus, not by serve: the target's and
// the fleet's.
var externalLabels = []string{"cluster", "job", "instance"}

// otherMetrics are the metrics not of serve's own that expressions may use:
// the scrape's health and the process collector's memory.
var otherMetrics = map[string]bool{"up": true, "process_resident_memory_bytes": true}

var (
	selectorRE = regexp.MustCompile(`\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}`)
	metricRE   = regexp.MustCompile(`\bdaemoncheck_[a-z_]+\b`)
	groupingRE = regexp.MustCompile(`\b(?:by|without|on|ignoring)\s*\(([^)]*)\)`)
	matcherRE  = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
)

// checkExpr fails when expr names a metric serve does not export, or a
// label that none of its metrics carries.
func checkExpr(t *testing.T, where, expr string) {
	t.Helper()
	labels := MetricLabels()
	used := map[string]bool{}
	for _, m := range metricRE.FindAllString(expr, -1) {
		if _, ok := labels[m]; !ok {
			t.Errorf("%s: %s is not a metric serve exports (see MetricNames)", where, m)
		}
		used[m] = true
	}
	for _, s := range selectorRE.FindAllStringSubmatch(expr, -1) {
		name := s[1]
		known, ok := labels[name]
		switch {
		case ok:
			used[name] = true
		case otherMetrics[name]:
			used[name] = true
			known = []string{"job", "instance"}
		case name == "by" || name == "without" || name == "on" || name == "ignoring" || name == "label_values":
			continue
		default:
			t.Errorf("%s: %s is not a metric serve exports", where, name)
			continue
		}
		for _, matcher := range strings.Split(s[2], ",") {
			if strings.TrimSpace(matcher) == "" {
				continue
			}
			l := matcherRE.FindStringSubmatch(matcher)
			if l == nil {
				t.Errorf("%s: cannot read matcher %q", where, matcher)
				continue
			}
			if !slices.Contains(known, l[1]) && !slices.Contains(externalLabels, l[1]) {
				t.Errorf("%s: %s has no label %q (it has %v)", where, name, l[1], known)
			}
		}
	}
	if len(used) == 0 {
		t.Errorf("%s: %q uses no metric serve exports", where, expr)
	}
	for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			l = strings.TrimSpace(l)
			if l == "" || slices.Contains(externalLabels, l) {
				continue
			}
			found := false
			for m := range used {
				found = found || slices.Contains(labels[m], l)
			}
			if !found {
				t.Errorf("%s: grouping label %q is on none of its metrics", where, l)
			}
		}
	}
}

// The rules use only metrics and labels serve exports.
func TestAlertRulesUseServedMetrics(t *testing.T) {
	for _, r := range readRules(t, rulesFile) {
		checkExpr(t, r.Alert, r.Expr)
	}
}

// dashboardExprs returns every PromQL expression of the dashboard: panel
// targets and template variable queries (label_values(metric, label) as
// its metric selector).
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	lv := regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_]+)\)$`)
	vars := 0
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := lv.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(SELECTOR, LABEL)", v.Name, q.Query)
			continue
		}
		vars++
		// The label asked for must be on the metric (or external).
		out = append(out, fmt.Sprintf("count by (%s) (%s)", m[2], m[1]))
	}
	if vars == 0 || !strings.Contains(string(data), `"name": "cluster"`) {
		t.Errorf("the dashboard has no cluster variable")
	}
	return out
}

// grafanaVars are what Grafana substitutes before a query reaches
// Prometheus.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$cluster", ".*", "$namespace", ".*", "$daemonset", ".*", "$node", ".*")

// Every dashboard expression uses only served metrics and labels, and
// parses (promtool checks them as recording rules).
func TestDashboardUsesServedMetrics(t *testing.T) {
	exprs := dashboardExprs(t)
	var rules bytes.Buffer
	rules.WriteString("groups:\n- name: dashboard\n  rules:\n")
	for i, e := range exprs {
		checkExpr(t, "dashboard", e)
		q, _ := json.Marshal(grafanaVars.Replace(e))
		fmt.Fprintf(&rules, "  - record: dashboard:expr%d\n    expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, rules.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, ".", "check", "rules", path)
}

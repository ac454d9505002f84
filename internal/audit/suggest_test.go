package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// labelCommand finds the kubectl label commands a suggestion offers.
var labelCommand = regexp.MustCompile(`kubectl label node \S+ ([^)]*?) --overwrite`)

// suggestedToleration finds the flow mappings a suggestion offers to paste.
var suggestedToleration = regexp.MustCompile(`\{key: [^}]*\}`)

// checkTolerations parses every toleration a finding suggests, as a user
// pasting it into a Pod template would, and checks that each tolerates one of
// the node's taints. It returns how many it checked.
func checkTolerations(t *testing.T, f report.Finding, taints []corev1.Taint) int {
	t.Helper()
	n := 0
	for _, y := range suggestedToleration.FindAllString(f.Suggestion, -1) {
		n++
		// As kubectl apply reads a manifest: YAML to JSON without the Go
		// type (yaml.Unmarshal into the struct would turn a boolean back
		// into the string "true" and hide the defect), then strict JSON.
		js, err := yaml.YAMLToJSON([]byte(y))
		if err != nil {
			t.Errorf("%s on %s: suggested toleration %s is not YAML: %v", f.Type, f.Node, y, err)
			continue
		}
		var tol corev1.Toleration
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tol); err != nil {
			t.Errorf("%s on %s: suggested toleration %s is not a Toleration as pasted: %v", f.Type, f.Node, y, err)
			continue
		}
		ok := false
		for i := range taints {
			if tol.ToleratesTaint(klog.Background(), &taints[i], false) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s on %s: suggested toleration %s (%+v) tolerates none of the node's taints %v", f.Type, f.Node, y, tol, taints)
		}
	}
	return n
}

// Taint values that YAML reads as booleans, numbers or null unless quoted.
func TestSuggestedTolerationsParse(t *testing.T) {
	values := []string{"true", "false", "True", "yes", "No", "on", "OFF", "y", "n", "null", "123", "1.5", "0x1F", "1e3", "-1", "007", "present", "a.b-c_d", "", "1"}
	for _, v := range values {
		t.Run("value="+v, func(t *testing.T) {
			taint := corev1.Taint{Key: "spot", Value: v, Effect: corev1.TaintEffectNoExecute}
			if v == "1" {
				// A key YAML would read as a number.
				taint.Key = "1"
			}
			ds := fixture.DaemonSet("ns", "agent")
			node := fixture.Node("n1", fixture.WithTaint(taint.Key, taint.Value, taint.Effect))
			pod := fixture.Pod(&ds, "n1")
			s := &model.Snapshot{Nodes: []corev1.Node{node}, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(pod), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			r, err := policy.ParseRequire("ns/agent")
			if err != nil {
				t.Fatal(err)
			}
			rep := Analyze(s, Options{Now: fixture.Epoch, Policy: &policy.Policy{Rules: []policy.Rule{r}}})
			seen := map[report.FindingType]bool{}
			for _, f := range rep.DaemonSets[0].Findings {
				if checkTolerations(t, f, node.Spec.Taints) > 0 {
					seen[f.Type] = true
				}
			}
			// The Pod on the tainted node is misscheduled, the node uncovered:
			// both suggestion paths.
			if !seen[report.MisscheduledPod] || !seen[report.UncoveredNode] {
				t.Errorf("expected tolerations from both MisscheduledPod and UncoveredNode, got %v in %+v", seen, rep.DaemonSets[0].Findings)
			}
		})
	}
}

// Every toleration the bundled demo suggests pastes as valid YAML.
func TestDemoTolerationsParse(t *testing.T) {
	snap, err := decode.Files([]string{"../../test/fixtures/demo-cluster.yaml"}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../cli/testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := policy.Parse("policy.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p := &policy.Policy{Rules: rules}
	if err := p.Validate(snap.DaemonSets); err != nil {
		t.Fatal(err)
	}
	taints := map[string][]corev1.Taint{}
	for _, n := range snap.Nodes {
		taints[n.Name] = n.Spec.Taints
	}
	rep := Analyze(snap, Options{Now: fixture.Epoch, Policy: p})
	n := 0
	for _, ds := range rep.DaemonSets {
		for _, f := range ds.Findings {
			n += checkTolerations(t, f, taints[f.Node])
		}
	}
	if n < 3 {
		t.Errorf("only %d suggested tolerations in the demo: the test no longer covers them", n)
	}
}

// A node outside a rule because of a label the kubelet owns is never to be
// relabelled: the fix is the rule, the selector, or a DaemonSet per OS.
func TestNoRelabelOfOwnedLabels(t *testing.T) {
	linuxOnly := fixture.DaemonSet("kube-system", "agent", fixture.WithNodeSelector("kubernetes.io/os", "linux"))
	archAffinity := fixture.DaemonSet("kube-system", "agent", fixture.WithAffinity(fixture.Term(fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64"))))
	zoned := fixture.DaemonSet("kube-system", "agent", fixture.WithNodeSelector("topology.kubernetes.io/zone", "eu-1a", "tier", "prod"))
	betaOS := fixture.DaemonSet("kube-system", "agent", fixture.WithNodeSelector("beta.kubernetes.io/os", "linux"))
	userLabel := fixture.DaemonSet("kube-system", "agent", fixture.WithNodeSelector("node-role.kubernetes.io/worker", ""))
	win := fixture.Node("akswin000001", fixture.WithLabel("kubernetes.io/os", "windows"), fixture.WithLabel("kubernetes.io/arch", "arm64"),
		fixture.WithLabel("topology.kubernetes.io/zone", "eu-1b"), fixture.WithLabel("beta.kubernetes.io/os", "windows"))
	tests := []struct {
		name     string
		ds       appsv1.DaemonSet
		relabel  bool
		mentions string
	}{
		{"nodeSelector os", linuxOnly, false, "kubernetes.io/os=windows"},
		{"affinity arch", archAffinity, false, "kubernetes.io/arch=arm64"},
		{"zone and a user label", zoned, false, "kubectl label node akswin000001 tier=prod --overwrite"},
		{"beta os", betaOS, false, "beta.kubernetes.io/os"},
		{"node-role is the user's", userLabel, true, "node-role.kubernetes.io/worker="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := tt.ds
			pod := fixture.Pod(&ds, win.Name)
			s := &model.Snapshot{Nodes: []corev1.Node{win}, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(pod), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			r, err := policy.ParseRequire("kube-system/agent")
			if err != nil {
				t.Fatal(err)
			}
			rep := Analyze(s, Options{Now: fixture.Epoch, Policy: &policy.Policy{Rules: []policy.Rule{r}}})
			got := map[report.FindingType]string{}
			for _, f := range rep.DaemonSets[0].Findings {
				got[f.Type] = f.Suggestion
			}
			for _, typ := range []report.FindingType{report.UncoveredNode, report.MisscheduledPod} {
				sug, ok := got[typ]
				if !ok {
					t.Fatalf("no %s finding: %v", typ, rep.DaemonSets[0].Findings)
				}
				t.Logf("%s: %s", typ, sug)
				// No kubectl label command may touch an owned key, and
				// "relabel the node" is only offered for user labels.
				for _, m := range labelCommand.FindAllStringSubmatch(sug, -1) {
					for _, kv := range strings.Fields(m[1]) {
						if k, _, _ := strings.Cut(kv, "="); explain.SystemOwnedLabel(k) {
							t.Errorf("%s suggestion relabels owned key %s: %q", typ, k, sug)
						}
					}
				}
				relabels := len(labelCommand.FindAllString(sug, -1)) > 0 || strings.Contains(sug, "relabel the node or") || strings.Contains(sug, "change the node's labels")
				if tt.relabel && !relabels {
					t.Errorf("%s suggestion does not offer to set the user's label: %q", typ, sug)
				}
				if !tt.relabel && (strings.Contains(sug, "relabel the node or") || strings.Contains(sug, "change the node's labels")) {
					t.Errorf("%s suggestion offers to relabel the node: %q", typ, sug)
				}
				if !tt.relabel && !strings.Contains(sug, "separate DaemonSet") {
					t.Errorf("%s suggestion offers no DaemonSet per OS/arch: %q", typ, sug)
				}
				if !tt.relabel && !strings.Contains(sug, "do not relabel the node") {
					t.Errorf("%s suggestion does not say why not to relabel: %q", typ, sug)
				}
				if typ == report.UncoveredNode && !strings.Contains(sug, tt.mentions) {
					t.Errorf("%s suggestion %q does not name %s", typ, sug, tt.mentions)
				}
			}
			if sug := got[report.UncoveredNode]; !tt.relabel && !strings.Contains(sug, "narrow the rule (--require kube-system/agent)") {
				t.Errorf("uncovered suggestion does not offer to narrow the rule: %q", sug)
			}
		})
	}
}

func TestSystemOwnedLabel(t *testing.T) {
	for k, want := range map[string]bool{
		"kubernetes.io/os": true, "kubernetes.io/arch": true, "kubernetes.io/hostname": true,
		"node.kubernetes.io/instance-type": true, "beta.kubernetes.io/instance-type": true,
		"topology.kubernetes.io/zone": true, "topology.kubernetes.io/region": true,
		"failure-domain.beta.kubernetes.io/zone": true, "beta.kubernetes.io/arch": true,
		"kubernetes.azure.com/agentpool": true, "cloud.google.com/gke-nodepool": true,
		"node-role.kubernetes.io/worker": false, "tier": false, "nvidia.com/gpu.present": false, "example.com/os": false,
	} {
		if got := explain.SystemOwnedLabel(k); got != want {
			t.Errorf("systemOwnedLabel(%q) = %v, want %v", k, got, want)
		}
	}
}

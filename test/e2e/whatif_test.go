//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// runWhatIf runs `whatif` against the rig and decodes the report; exit 0
// and 1 are answers, anything else fails the test.
func runWhatIf(t *testing.T, args ...string) (*report.WhatIfReport, int) {
	t.Helper()
	res := execPlugin(t, nil, append([]string{"whatif", "--kubeconfig", cluster.KubeconfigPath, "-o", "json"}, args...)...)
	if res.code != 0 && res.code != 1 {
		t.Fatalf("whatif %v: exit %d\n%s", args, res.code, res.stderr)
	}
	var rep report.WhatIfReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("whatif: bad JSON: %v\n%s", err, res.stdout)
	}
	return &rep, res.code
}

func writeManifest(t *testing.T, dir, name string, obj any) string {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// podState is what the cluster did with a DaemonSet on a node: "" (no
// Pod), "Scheduled", or "Pending: <the scheduler's message>".
func podState(pods []corev1.Pod, node string) string {
	for _, p := range pods {
		if podNode(&p) != node || p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return "Pending: " + c.Message
			}
		}
		if p.Spec.NodeName == node {
			return "Scheduled"
		}
		return "Pending: (not tried yet)"
	}
	return ""
}

// expected is what a prediction says the cluster will do with d on its
// node, in podState's terms ("Pending: " with the resource or "free ports").
func expected(d report.ShapeDaemon, startup bool) string {
	switch {
	case !d.Runs:
		return ""
	case startup && len(d.WaitsFor) > 0:
		return ""
	case len(d.PortClashes) > 0:
		return "Pending: free ports"
	case len(d.Shortfalls) > 0:
		return "Pending: Insufficient " + strings.Fields(strings.TrimPrefix(d.Shortfalls[0], "Insufficient "))[0]
	}
	return "Scheduled"
}

func agrees(want, got string) bool {
	if !strings.HasPrefix(want, "Pending: ") {
		return want == got
	}
	return strings.HasPrefix(got, "Pending: ") && strings.Contains(got, strings.TrimPrefix(want, "Pending: "))
}

// TestWhatIfPoolDifferential predicts, for a NodePool-like spec, which
// daemons run, wait for the startup taint, do not fit or clash on a host
// port on each node shape; then creates such nodes (kwok, with the shapes'
// labels, taints and allocatable), lets the real DaemonSet controller and
// scheduler settle, and compares node by node, before and after the
// startup taint is removed.
func TestWhatIfPoolDifferential(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "whatif-pool")
	dss := map[string]*appsv1.DaemonSet{}
	mk := func(name string, edit func(*corev1.PodSpec)) {
		ds := s.newDaemonSet(name)
		edit(&ds.Spec.Template.Spec)
		dss[name] = s.createDaemonSet(ds)
	}
	gpu := corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	port := func(spec *corev1.PodSpec, p int32) {
		spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: p, HostPort: p, Protocol: corev1.ProtocolTCP}}
	}
	// Tolerates everything, node-critical: lands at once (it would be what
	// removes the startup taint).
	mk("cni", func(spec *corev1.PodSpec) {
		spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		spec.PriorityClassName = "system-node-critical"
	})
	// Selects Linux, tolerates only NoExecute: the GPU taint keeps it off.
	mk("csi", func(spec *corev1.PodSpec) {
		spec.NodeSelector["kubernetes.io/os"] = "linux"
		spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}
	})
	mk("gpu-plugin", func(spec *corev1.PodSpec) {
		spec.NodeSelector["pool"] = "gpu"
		spec.Tolerations = []corev1.Toleration{gpu}
	})
	// Holds 9100 from the start; exporter-b comes after the startup taint
	// and finds the port taken.
	mk("exporter-a", func(spec *corev1.PodSpec) {
		spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		port(spec, 9100)
	})
	mk("exporter-b", func(spec *corev1.PodSpec) {
		spec.Tolerations = []corev1.Toleration{gpu}
		port(spec, 9100)
	})
	// More CPU than the node has: Pending whatever the order.
	mk("big", func(spec *corev1.PodSpec) {
		spec.Tolerations = []corev1.Toleration{gpu}
		spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2500m")
	})
	mk("arm-only", func(spec *corev1.PodSpec) {
		spec.NodeSelector["kubernetes.io/arch"] = "arm64"
		spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	})

	pool := s.name + "-gpu"
	nodePool := map[string]any{
		"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": map[string]any{"name": pool},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"labels": map[string]string{ScenarioLabel: s.name, "pool": "gpu", "type": "kwok"}},
			"spec": map[string]any{
				"nodeClassRef":  map[string]string{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
				"taints":        []corev1.Taint{{Key: "nvidia.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}},
				"startupTaints": []corev1.Taint{{Key: "example.com/agent-not-ready", Value: "true", Effect: corev1.TaintEffectNoExecute}},
				"requirements": []map[string]any{
					{"key": "kubernetes.io/arch", "operator": "In", "values": []string{"amd64", "arm64"}},
					{"key": "kubernetes.io/os", "operator": "In", "values": []string{"linux"}},
				},
			},
		}},
	}
	file := writeManifest(t, t.TempDir(), "nodepool.yaml", nodePool)
	// The CSI node plugin must run everywhere: a coverage policy says so
	// (without one, a taint keeping it off the pool is by design).
	rep, code := runWhatIf(t, file, "-n", s.name, "--allocatable", "cpu=2,memory=4Gi,pods=20", "--require", s.name+"/csi")
	if code != 1 || len(rep.Pools) != 1 || len(rep.Pools[0].Shapes) != 2 {
		t.Fatalf("exit %d, pools %+v", code, rep.Pools)
	}
	p := rep.Pools[0]
	// The failure is the one the brief of this pool would want to hear.
	seen := map[string]bool{}
	var failing []string
	for _, f := range p.Findings {
		if k := string(f.Type) + " " + f.DaemonSet; f.Failing && !seen[k] {
			seen[k] = true
			failing = append(failing, k)
		}
	}
	sort.Strings(failing)
	wantFailing := []string{"HostPortConflict " + s.name + "/exporter-b", "WillNotFit " + s.name + "/big", "WillNotRun " + s.name + "/csi"}
	if strings.Join(failing, "; ") != strings.Join(wantFailing, "; ") {
		t.Errorf("failing findings %q, want %q", failing, wantFailing)
	}

	// Nodes as the pool would make them: each shape's labels, the taints
	// and startup taint, the allocatable.
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("20")}
	var nodes []*corev1.Node
	for _, sh := range p.Shapes {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: sh.Name, Labels: sh.Labels,
			Annotations: map[string]string{rig.FakeNodeAnnotation: rig.FakeNodeAnnotationValue}},
			Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: "nvidia.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}, {Key: "example.com/agent-not-ready", Value: "true", Effect: corev1.TaintEffectNoExecute}}},
			Status: corev1.NodeStatus{Capacity: alloc, Allocatable: alloc}}
		nodes = append(nodes, n)
	}
	s.createNodes(true, nodes...)

	compare := func(startup bool) {
		t.Helper()
		// Wait until what the prediction expects has had its chance: every
		// expected Pod exists and was tried by the scheduler, then settle.
		var diffs []string
		err := wait.PollUntilContextTimeout(s.ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			diffs = nil
			for _, sh := range p.Shapes {
				for _, d := range sh.DaemonSets {
					pods, err := daemonPods(ctx, dss[d.Name])
					if err != nil {
						return false, nil
					}
					want, got := expected(d, startup), podState(pods, sh.Name)
					if !agrees(want, got) {
						diffs = append(diffs, fmt.Sprintf("%s on %s: predicted %q, cluster %q", d.Name, sh.Name, want, got))
					}
				}
			}
			return len(diffs) == 0, nil
		})
		if err != nil {
			t.Fatalf("startup=%v: the cluster disagrees with the prediction:\n%s", startup, strings.Join(diffs, "\n"))
		}
		// And it stays so: nothing else arrives a few seconds later.
		for name := range dss {
			s.settle(name, nil)
		}
		for _, sh := range p.Shapes {
			for _, d := range sh.DaemonSets {
				pods, _ := daemonPods(s.ctx, dss[d.Name])
				if want, got := expected(d, startup), podState(pods, sh.Name); !agrees(want, got) {
					t.Errorf("startup=%v, settled: %s on %s: predicted %q, cluster %q", startup, d.Name, sh.Name, want, got)
				}
			}
		}
	}
	compare(true)
	// What removes the startup taint does so: the rest lands.
	for _, n := range nodes {
		s.updateNode(n.Name, func(n *corev1.Node) {
			var keep []corev1.Taint
			for _, tn := range n.Spec.Taints {
				if tn.Key != "example.com/agent-not-ready" {
					keep = append(keep, tn)
				}
			}
			n.Spec.Taints = keep
		})
	}
	compare(false)
}

// TestWhatIfChangeDifferential predicts the nodes a DaemonSet change gains
// and loses and where the new request does not fit, applies the change,
// and compares with where the controller puts Pods of the new template.
func TestWhatIfChangeDifferential(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "whatif-change")
	mk := func(short, tier string, edit func(*corev1.Node)) *corev1.Node {
		n := s.newNode(short)
		n.Labels["tier"] = tier
		if edit != nil {
			edit(n)
		}
		return n
	}
	nodes := []*corev1.Node{
		mk("web-1", "web", nil), mk("web-2", "web", nil), mk("db-1", "db", nil), mk("batch-1", "batch", nil),
		mk("web-tainted", "web", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule}}
		}),
		mk("web-small", "web", func(n *corev1.Node) {
			n.Status.Capacity[corev1.ResourceCPU] = resource.MustParse("1")
			n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("1")
		}),
	}
	s.createNodes(true, nodes...)
	ds := s.newDaemonSet("agent")
	all := intstr.FromString("100%")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &all}}
	tiers := func(vs ...string) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "tier", Operator: corev1.NodeSelectorOpIn, Values: vs}}}}}}}
	}
	ds.Spec.Template.Spec.Affinity = tiers("web", "db")
	ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	s.createDaemonSet(ds)
	s.settle("agent", allReady(5))

	// The pull request: web and batch only, no toleration, 1500m CPU.
	changed := s.getDaemonSet("agent").DeepCopy()
	changed.ObjectMeta = metav1.ObjectMeta{Name: "agent", Namespace: s.name}
	changed.Status = appsv1.DaemonSetStatus{}
	changed.Spec.Template.Spec.Affinity = tiers("web", "batch")
	changed.Spec.Template.Spec.Tolerations = nil
	changed.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1500m")
	changed.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}
	file := writeManifest(t, t.TempDir(), "agent.yaml", changed)
	rep, code := runWhatIf(t, file, "-n", s.name)
	if code != 1 || len(rep.Changes) != 1 {
		t.Fatalf("exit %d, changes %+v", code, rep.Changes)
	}
	c := rep.Changes[0]
	names := func(gs []report.NodeGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Nodes...)
		}
		sort.Strings(out)
		return out
	}
	gained, lost := names(c.Gained), names(c.Lost)
	var misfit []string
	for _, f := range c.Findings {
		if f.Type == report.WhatIfWillNotFit {
			misfit = append(misfit, f.Nodes...)
		}
	}
	if strings.Join(gained, " ") != s.nodeName("batch-1") || strings.Join(lost, " ") != s.nodeName("db-1")+" "+s.nodeName("web-tainted") || strings.Join(misfit, " ") != s.nodeName("web-small") {
		t.Fatalf("prediction: gained %v, lost %v, misfit %v", gained, lost, misfit)
	}

	// Apply it, and let the controller settle.
	s.updateDaemonSet("agent", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec = changed.Spec.Template.Spec })
	after := s.getDaemonSet("agent")
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(s.ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := cluster.Client.AppsV1().DaemonSets(s.name).Get(ctx, "agent", metav1.GetOptions{})
		if err != nil || d.Status.ObservedGeneration != d.Generation {
			return false, nil
		}
		pods, err = daemonPods(ctx, d)
		if err != nil {
			return false, nil
		}
		// Settled: every current-template Pod exists and the one that
		// does not fit was tried.
		return int(d.Status.DesiredNumberScheduled) == c.NodesAfter && podState(pods, s.nodeName("web-small")) != "" && strings.HasPrefix(podState(pods, s.nodeName("web-small")), "Pending: 0/"), nil
	})
	if err != nil {
		t.Fatalf("the controller did not settle on %d desired nodes: %v", c.NodesAfter, err)
	}
	s.settle("agent", nil)
	pods, _ = daemonPods(s.ctx, after)
	gen := s.getDaemonSet("agent").Annotations["deprecated.daemonset.template.generation"]
	current := map[string]string{}
	for _, p := range pods {
		if p.Labels["pod-template-generation"] == gen && p.DeletionTimestamp == nil {
			current[podNode(&p)] = podState([]corev1.Pod{p}, podNode(&p))
		}
	}
	// Where the new template's Pods are is where the prediction said the
	// change targets: before, minus lost, plus gained.
	want := map[string]bool{}
	for _, n := range []string{"web-1", "web-2", "batch-1", "web-small"} {
		want[s.nodeName(n)] = true
	}
	if len(current) != len(want) || c.NodesAfter != len(want) || c.NodesBefore != 5 {
		t.Errorf("new-template Pods on %v; predicted %d nodes (before %d)", current, c.NodesAfter, c.NodesBefore)
	}
	for n := range want {
		st, ok := current[n]
		switch {
		case !ok:
			t.Errorf("no new-template Pod on %s", n)
		case n == s.nodeName("web-small") && !strings.Contains(st, "Insufficient cpu"):
			t.Errorf("%s: predicted Insufficient cpu, cluster %q", n, st)
		case n != s.nodeName("web-small") && st != "Scheduled":
			t.Errorf("%s: predicted to run, cluster %q", n, st)
		}
	}
}

// TestReadmeWhatIfLive runs the README's live what-if example as written,
// through kubectl's plugin discovery, against the rig (internal/cli runs every
// example against the bundled dump).
func TestReadmeWhatIfLive(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := readmeBlock(t, readme, "## What-if", "sh")
	line := strings.SplitN(block, "\n", 2)[0]
	if !strings.HasPrefix(line, "kubectl daemoncheck whatif nodepool-gpu.yaml ") || strings.Contains(line, " -f ") {
		t.Fatalf("the README's first what-if example is no longer the live NodePool one: %q", line)
	}
	dir := t.TempDir()
	src := filepath.Join(repoRoot(), "internal", "cli", "testdata", "whatif", "nodepool-gpu.yaml")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nodepool-gpu.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runRecipe(t, line, dir, cluster.KubeconfigPath)
	if (code != 0 && code != 1) || !strings.Contains(out, "NodePool gpu (karpenter.sh/v1, nodepool-gpu.yaml)") || !strings.Contains(out, "whatif ") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

package audit_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

const (
	ciliumTaint  = "node.cilium.io/agent-not-ready"
	startupTaint = "startup-taint.cluster-autoscaler.kubernetes.io/disk-setup"
	nrcTaint     = "readiness.k8s.io/cni"
)

// ciliumAgent marks a DaemonSet as the Cilium agent (cilium-operator's
// --cilium-pod-labels default).
func ciliumAgent(ds *appsv1.DaemonSet) {
	// A copy: the fixture's template shares its labels with the selector.
	labels := map[string]string{"k8s-app": "cilium"}
	for k, v := range ds.Spec.Template.Labels {
		labels[k] = v
	}
	ds.Spec.Template.Labels = labels
}

func TestGateDeadlockDetector(t *testing.T) {
	ne, ns := corev1.TaintEffectNoExecute, corev1.TaintEffectNoSchedule
	gated := []corev1.Node{fixture.Node("n1"), fixture.Node("new-1", fixture.CreatedAgo(3*time.Minute), fixture.WithTaint(ciliumTaint, "true", ne))}
	testDetector(t, report.GateDeadlock, []detectorCase{
		{
			name:  "the Cilium agent that does not tolerate agent-not-ready never lifts it",
			nodes: gated, ds: fixture.DaemonSet("kube-system", "cilium", ciliumAgent), pods: podsOn("n1"),
			want: []wantFinding{{node: "new-1", severity: report.SeverityError,
				cause:   "readiness gate node.cilium.io/agent-not-ready=true:NoExecute waits for a DaemonSet that does not tolerate it",
				message: []string{"node new-1 is held by cilium gate", "its Pods carry k8s-app=cilium", "never becomes ready"},
				fix:     []string{"add the toleration", "key: node.cilium.io/agent-not-ready", "kubectl describe node new-1"}}},
		},
		{
			name:  "a toleration naming the gate with the wrong effect: deadlock",
			nodes: []corev1.Node{fixture.Node("new-1", fixture.CreatedAgo(time.Minute), fixture.WithTaint(startupTaint, "true", ne))},
			ds:    fixture.DaemonSet("storage", "disk-setup", fixture.WithToleration(fixture.Exists(startupTaint, ns))),
			want: []wantFinding{{node: "new-1", severity: report.SeverityError,
				message: []string{"cluster-autoscaler gate " + startupTaint + "=true:NoExecute", "its tolerations name the taint's key"}}},
		},
		{
			name:  "a Helm-managed agent: the toleration goes through the release",
			nodes: gated, pods: podsOn("n1"),
			ds: fixture.DaemonSet("kube-system", "cilium", ciliumAgent, func(ds *appsv1.DaemonSet) {
				ds.Labels["app.kubernetes.io/managed-by"] = "Helm"
				ds.Annotations["meta.helm.sh/release-name"], ds.Annotations["meta.helm.sh/release-namespace"] = "cilium", "kube-system"
			}),
			want: []wantFinding{{node: "new-1", severity: report.SeverityError,
				fix: []string{"Helm release kube-system/cilium", "spec.template.spec.tolerations", "key: node.cilium.io/agent-not-ready"}}},
		},
		{
			name: "a node NotReady until its CNI runs: still a deadlock",
			nodes: []corev1.Node{fixture.Node("new-1", fixture.CreatedAgo(3*time.Minute), fixture.WithTaint(ciliumTaint, "true", ne),
				fixture.WithTaint(corev1.TaintNodeNotReady, "", ns))},
			ds:   fixture.DaemonSet("kube-system", "cilium", ciliumAgent),
			want: []wantFinding{{node: "new-1", severity: report.SeverityError}},
		},
		{
			name:  "the agent tolerates the gate: no deadlock",
			nodes: gated, ds: fixture.DaemonSet("kube-system", "cilium", ciliumAgent, fixture.WithToleration(fixture.Exists(ciliumTaint, ""))), pods: podsOn("n1", "new-1"),
		},
		{
			name:  "the agent does not target the node: not waited for there",
			nodes: gated, ds: fixture.DaemonSet("kube-system", "cilium", ciliumAgent, fixture.WithNodeSelector("pool", "other")),
		},
		{
			name:  "another DaemonSet the gate keeps off is no deadlock",
			nodes: gated, ds: fixture.DaemonSet("monitoring", "node-exporter"), pods: podsOn("n1"),
		},
	})
}

func TestNodeHeldByGateDetector(t *testing.T) {
	ne := corev1.TaintEffectNoExecute
	young := fixture.Node("new-1", fixture.CreatedAgo(4*time.Minute), fixture.WithTaint(ciliumTaint, "true", ne))
	added := metav1.NewTime(fixture.Epoch.Add(-20 * time.Minute))
	old := fixture.Node("new-2", fixture.CreatedAgo(time.Hour), func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: startupTaint, Effect: ne, TimeAdded: &added})
	})
	cilium := fixture.DaemonSet("kube-system", "cilium", ciliumAgent, fixture.WithToleration(fixture.Exists("", "")))
	setup := fixture.DaemonSet("storage", "disk-setup", fixture.WithToleration(fixture.Exists(startupTaint, ne)))
	testDetector(t, report.NodeHeldByGate, []detectorCase{
		{
			name:  "young node waiting for the agent's Pod: warning",
			nodes: []corev1.Node{young}, ds: cilium,
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "new-1", fixture.NotReadyPod())}
			},
			want: []wantFinding{{node: "new-1", severity: report.SeverityWarning, cause: "node held by readiness gate node.cilium.io/agent-not-ready=true:NoExecute",
				message: []string{"for 4m, waiting for this DaemonSet", "removed by cilium-operator"},
				fix:     []string{"the gate lifts once the Pod is Ready", "kubectl describe pod -n kube-system"}}},
		},
		{
			name:  "held past the grace since the taint was added: error",
			nodes: []corev1.Node{old}, ds: setup,
			want: []wantFinding{{node: "new-2", severity: report.SeverityError,
				message: []string{"for 20m", "it has no Pod there yet"},
				fix:     []string{"kubectl describe -n storage daemonset/disk-setup"}}},
		},
		{
			name:  "agent Ready but the taint stays: the remover is named",
			nodes: []corev1.Node{young}, ds: cilium, pods: podsOn("new-1"),
			want: []wantFinding{{node: "new-1", severity: report.SeverityWarning,
				message: []string{"is Ready, yet the taint is still there"},
				fix:     []string{"check that cilium-operator, once the Cilium agent Pod on the node is Ready runs"}}},
		},
		{
			name:  "a DaemonSet tolerating every taint is not what the gate waits for",
			nodes: []corev1.Node{old}, ds: cilium,
		},
		{
			name:  "no gate, no finding",
			nodes: []corev1.Node{fixture.Node("n1")}, ds: setup, pods: podsOn("n1"),
		},
	})
}

func TestGateWithoutLifterDetector(t *testing.T) {
	ns := corev1.TaintEffectNoSchedule
	node := func(key string) corev1.Node {
		return fixture.Node("new-1", fixture.CreatedAgo(30*time.Minute), fixture.WithTaint(key, "", ns))
	}
	exporter := fixture.DaemonSet("monitoring", "node-exporter")
	rule := func(conds ...model.ReadinessCondition) func(s *model.Snapshot) {
		return func(s *model.Snapshot) {
			s.NodeReadinessRulesRead = true
			if conds != nil {
				s.NodeReadinessRules = []model.NodeReadinessRule{{Name: "cni", Taint: corev1.Taint{Key: nrcTaint, Effect: ns}, Conditions: conds}}
			}
		}
	}
	testDetector(t, report.GateWithoutLifter, []detectorCase{
		{
			name:  "startup taint no DaemonSet names: nothing lifts it",
			nodes: []corev1.Node{node(startupTaint)}, ds: exporter,
			want: []wantFinding{{node: "new-1", severity: report.SeverityError, cause: "readiness gate " + startupTaint + ":NoSchedule that nothing lifts",
				message: []string{"cluster-autoscaler only waits for it to go, and no DaemonSet tolerates it"},
				fix:     []string{"deploy the agent that lifts the gate", "kubectl taint node new-1 " + startupTaint + ":NoSchedule-"}}},
		},
		{
			name:  "only some DaemonSets read: the lifter may be among the others",
			nodes: []corev1.Node{node(startupTaint)}, ds: exporter, opts: audit.Options{Selection: "namespace monitoring"},
		},
		{
			name:  "another DaemonSet names the taint: it lifts the gate",
			nodes: []corev1.Node{node(startupTaint)}, ds: exporter,
			others: []appsv1.DaemonSet{fixture.DaemonSet("storage", "disk-setup", fixture.WithToleration(fixture.Exists(startupTaint, ns)))},
		},
		{
			name:  "a DaemonSet tolerating every taint may be what lifts it",
			nodes: []corev1.Node{node(startupTaint)}, ds: exporter,
			others: []appsv1.DaemonSet{fixture.DaemonSet("kube-system", "node-init", fixture.WithToleration(fixture.Exists("", "")))},
		},
		{
			name:  "Cilium's gate without a Cilium agent",
			nodes: []corev1.Node{node(ciliumTaint)}, ds: exporter,
			want: []wantFinding{{node: "new-1", severity: report.SeverityError, message: []string{"cilium removes it only once its agent is Ready"}}},
		},
		{
			name:  "Cluster API's gate: its controller lifts it",
			nodes: []corev1.Node{node("node.cluster.x-k8s.io/uninitialized")}, ds: exporter,
		},
		{
			name:  "readiness taint, rules unread: unknown, nothing said",
			nodes: []corev1.Node{node(nrcTaint)}, ds: exporter,
		},
		{
			name:  "readiness taint, rules refused: unknown, and why",
			nodes: []corev1.Node{node(nrcTaint)}, ds: exporter,
			edit: func(s *model.Snapshot) {
				s.NodeReadinessRulesUnread = "forbidden; to read them add apiGroups: [readiness.node.x-k8s.io]"
			},
		},
		{
			name:  "readiness taint no rule manages",
			nodes: []corev1.Node{node(nrcTaint)}, ds: exporter, edit: rule(),
			want: []wantFinding{{node: "new-1", severity: report.SeverityError, message: []string{"no NodeReadinessRule manages it"}}},
		},
		{
			name:  "readiness rule waiting for an agent's condition nobody reports",
			nodes: []corev1.Node{node(nrcTaint)}, ds: exporter, edit: rule(model.ReadinessCondition{Type: "network.example.com/CNIReady", RequiredStatus: corev1.ConditionTrue}),
			want: []wantFinding{{node: "new-1", severity: report.SeverityError, message: []string{"NodeReadinessRule cni waits for network.example.com/CNIReady=True"}}},
		},
		{
			name:  "readiness rule waiting only for the kubelet's conditions",
			nodes: []corev1.Node{node(nrcTaint)}, ds: exporter, edit: rule(model.ReadinessCondition{Type: "MemoryPressure", RequiredStatus: corev1.ConditionFalse}),
		},
		{
			name:  "the DaemonSet tolerates the gate: not kept off",
			nodes: []corev1.Node{node(startupTaint)}, ds: fixture.DaemonSet("monitoring", "node-exporter", fixture.WithToleration(fixture.Exists("", ""))),
		},
	})
}

func TestUnreadReadinessRulesAreUnknownWhereAGateNeedsThem(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("new-1", fixture.WithTaint(nrcTaint, "", corev1.TaintEffectNoSchedule))}
	s := cluster(nodes, []appsv1.DaemonSet{fixture.DaemonSet("monitoring", "node-exporter")}, nil)
	s.NodeReadinessRulesUnread = "forbidden; to read them add X"
	rep := analyzeWith(s, audit.Options{})
	want := "readiness gate readiness.k8s.io/cni: NodeReadinessRules not read (forbidden; to read them add X); whether anything lifts it is unknown"
	if got := rep.DaemonSets[0].Unknown; !slices.Contains(got, want) {
		t.Errorf("unknown %q, want %q", got, want)
	}
	s.Nodes = nodes[:1]
	for _, u := range analyzeWith(s, audit.Options{}).DaemonSets[0].Unknown {
		if strings.Contains(u, "NodeReadinessRules") {
			t.Errorf("without a readiness gate, unread rules are mentioned: %q", u)
		}
	}
}

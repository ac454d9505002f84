package lifecycle_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
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
	detecttest.Run(t, report.GateDeadlock, []detecttest.Case{
		{
			Name:  "the Cilium agent that does not tolerate agent-not-ready never lifts it",
			Nodes: gated, DS: fixture.DaemonSet("kube-system", "cilium", ciliumAgent), Pods: detecttest.PodsOn("n1"),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError,
				Cause:   "readiness gate node.cilium.io/agent-not-ready=true:NoExecute waits for a DaemonSet that does not tolerate it",
				Message: []string{"node new-1 is held by cilium gate", "its Pods carry k8s-app=cilium", "never becomes ready"},
				Fix:     []string{"add the toleration", "key: node.cilium.io/agent-not-ready", "kubectl describe node new-1"}}},
		},
		{
			Name:  "a toleration naming the gate with the wrong effect: deadlock",
			Nodes: []corev1.Node{fixture.Node("new-1", fixture.CreatedAgo(time.Minute), fixture.WithTaint(startupTaint, "true", ne))},
			DS:    fixture.DaemonSet("storage", "disk-setup", fixture.WithToleration(fixture.Exists(startupTaint, ns))),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError,
				Message: []string{"cluster-autoscaler gate " + startupTaint + "=true:NoExecute", "its tolerations name the taint's key"}}},
		},
		{
			Name:  "a Helm-managed agent: the toleration goes through the release",
			Nodes: gated, Pods: detecttest.PodsOn("n1"),
			DS: fixture.DaemonSet("kube-system", "cilium", ciliumAgent, func(ds *appsv1.DaemonSet) {
				ds.Labels["app.kubernetes.io/managed-by"] = "Helm"
				ds.Annotations["meta.helm.sh/release-name"], ds.Annotations["meta.helm.sh/release-namespace"] = "cilium", "kube-system"
			}),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError,
				Fix: []string{"Helm release kube-system/cilium", "spec.template.spec.tolerations", "key: node.cilium.io/agent-not-ready"}}},
		},
		{
			Name: "a node NotReady until its CNI runs: still a deadlock",
			Nodes: []corev1.Node{fixture.Node("new-1", fixture.CreatedAgo(3*time.Minute), fixture.WithTaint(ciliumTaint, "true", ne),
				fixture.WithTaint(corev1.TaintNodeNotReady, "", ns))},
			DS:   fixture.DaemonSet("kube-system", "cilium", ciliumAgent),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError}},
		},
		{
			Name:  "the agent tolerates the gate: no deadlock",
			Nodes: gated, DS: fixture.DaemonSet("kube-system", "cilium", ciliumAgent, fixture.WithToleration(fixture.Exists(ciliumTaint, ""))), Pods: detecttest.PodsOn("n1", "new-1"),
		},
		{
			Name:  "the agent does not target the node: not waited for there",
			Nodes: gated, DS: fixture.DaemonSet("kube-system", "cilium", ciliumAgent, fixture.WithNodeSelector("pool", "other")),
		},
		{
			Name:  "another DaemonSet the gate keeps off is no deadlock",
			Nodes: gated, DS: fixture.DaemonSet("monitoring", "node-exporter"), Pods: detecttest.PodsOn("n1"),
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
	detecttest.Run(t, report.NodeHeldByGate, []detecttest.Case{
		{
			Name:  "young node waiting for the agent's Pod: warning",
			Nodes: []corev1.Node{young}, DS: cilium,
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "new-1", fixture.NotReadyPod())}
			},
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityWarning, Cause: "node held by readiness gate node.cilium.io/agent-not-ready=true:NoExecute",
				Message: []string{"for 4m, waiting for this DaemonSet", "removed by cilium-operator"},
				Fix:     []string{"the gate lifts once the Pod is Ready", "kubectl describe pod -n kube-system"}}},
		},
		{
			Name:  "held past the grace since the taint was added: error",
			Nodes: []corev1.Node{old}, DS: setup,
			Want: []detecttest.Want{{Node: "new-2", Severity: report.SeverityError,
				Message: []string{"for 20m", "it has no Pod there yet"},
				Fix:     []string{"kubectl describe -n storage daemonset/disk-setup"}}},
		},
		{
			Name:  "agent Ready but the taint stays: the remover is named",
			Nodes: []corev1.Node{young}, DS: cilium, Pods: detecttest.PodsOn("new-1"),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityWarning,
				Message: []string{"is Ready, yet the taint is still there"},
				Fix:     []string{"check that cilium-operator, once the Cilium agent Pod on the node is Ready runs"}}},
		},
		{
			Name:  "a DaemonSet tolerating every taint is not what the gate waits for",
			Nodes: []corev1.Node{old}, DS: cilium,
		},
		{
			Name:  "no gate, no finding",
			Nodes: []corev1.Node{fixture.Node("n1")}, DS: setup, Pods: detecttest.PodsOn("n1"),
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
	detecttest.Run(t, report.GateWithoutLifter, []detecttest.Case{
		{
			Name:  "startup taint no DaemonSet names: nothing lifts it",
			Nodes: []corev1.Node{node(startupTaint)}, DS: exporter,
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError, Cause: "readiness gate " + startupTaint + ":NoSchedule that nothing lifts",
				Message: []string{"cluster-autoscaler only waits for it to go, and no DaemonSet tolerates it"},
				Fix:     []string{"deploy the agent that lifts the gate", "kubectl taint node new-1 " + startupTaint + ":NoSchedule-"}}},
		},
		{
			Name:  "only some DaemonSets read: the lifter may be among the others",
			Nodes: []corev1.Node{node(startupTaint)}, DS: exporter, Opts: audit.Options{Selection: "namespace monitoring"},
		},
		{
			Name:  "another DaemonSet names the taint: it lifts the gate",
			Nodes: []corev1.Node{node(startupTaint)}, DS: exporter,
			Others: []appsv1.DaemonSet{fixture.DaemonSet("storage", "disk-setup", fixture.WithToleration(fixture.Exists(startupTaint, ns)))},
		},
		{
			Name:  "a DaemonSet tolerating every taint may be what lifts it",
			Nodes: []corev1.Node{node(startupTaint)}, DS: exporter,
			Others: []appsv1.DaemonSet{fixture.DaemonSet("kube-system", "node-init", fixture.WithToleration(fixture.Exists("", "")))},
		},
		{
			Name:  "Cilium's gate without a Cilium agent",
			Nodes: []corev1.Node{node(ciliumTaint)}, DS: exporter,
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError, Message: []string{"cilium removes it only once its agent is Ready"}}},
		},
		{
			Name:  "Cluster API's gate: its controller lifts it",
			Nodes: []corev1.Node{node("node.cluster.x-k8s.io/uninitialized")}, DS: exporter,
		},
		{
			Name:  "readiness taint, rules unread: unknown, nothing said",
			Nodes: []corev1.Node{node(nrcTaint)}, DS: exporter,
		},
		{
			Name:  "readiness taint, rules refused: unknown, and why",
			Nodes: []corev1.Node{node(nrcTaint)}, DS: exporter,
			Edit: func(s *model.Snapshot) {
				s.NodeReadinessRulesUnread = "forbidden; to read them add apiGroups: [readiness.node.x-k8s.io]"
			},
		},
		{
			Name:  "readiness taint no rule manages",
			Nodes: []corev1.Node{node(nrcTaint)}, DS: exporter, Edit: rule(),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError, Message: []string{"no NodeReadinessRule manages it"}}},
		},
		{
			Name:  "readiness rule waiting for an agent's condition nobody reports",
			Nodes: []corev1.Node{node(nrcTaint)}, DS: exporter, Edit: rule(model.ReadinessCondition{Type: "network.example.com/CNIReady", RequiredStatus: corev1.ConditionTrue}),
			Want: []detecttest.Want{{Node: "new-1", Severity: report.SeverityError, Message: []string{"NodeReadinessRule cni waits for network.example.com/CNIReady=True"}}},
		},
		{
			Name:  "readiness rule waiting only for the kubelet's conditions",
			Nodes: []corev1.Node{node(nrcTaint)}, DS: exporter, Edit: rule(model.ReadinessCondition{Type: "MemoryPressure", RequiredStatus: corev1.ConditionFalse}),
		},
		{
			Name:  "the DaemonSet tolerates the gate: not kept off",
			Nodes: []corev1.Node{node(startupTaint)}, DS: fixture.DaemonSet("monitoring", "node-exporter", fixture.WithToleration(fixture.Exists("", ""))),
		},
	})
}

func TestUnreadReadinessRulesAreUnknownWhereAGateNeedsThem(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("new-1", fixture.WithTaint(nrcTaint, "", corev1.TaintEffectNoSchedule))}
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{fixture.DaemonSet("monitoring", "node-exporter")}, nil)
	s.NodeReadinessRulesUnread = "forbidden; to read them add X"
	rep := detecttest.Analyze(s, audit.Options{})
	want := "readiness gate readiness.k8s.io/cni: NodeReadinessRules not read (forbidden; to read them add X); whether anything lifts it is unknown"
	if got := rep.DaemonSets[0].Unknown; !slices.Contains(got, want) {
		t.Errorf("unknown %q, want %q", got, want)
	}
	s.Nodes = nodes[:1]
	for _, u := range detecttest.Analyze(s, audit.Options{}).DaemonSets[0].Unknown {
		if strings.Contains(u, "NodeReadinessRules") {
			t.Errorf("without a readiness gate, unread rules are mentioned: %q", u)
		}
	}
}

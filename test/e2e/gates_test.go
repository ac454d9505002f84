//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// TestReadinessGates runs the readiness gate findings against the real
// DaemonSet controller and scheduler: a node registered with a startup
// taint, the DaemonSets it waits for and the ones it keeps off.
func TestReadinessGates(t *testing.T) {
	t.Run("startup taint lifted once its DaemonSet is Ready", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, "gate-lifted")
		key := "startup-taint.cluster-autoscaler.kubernetes.io/agent-not-ready"
		n := s.newNode("new")
		// The kubelet's --register-with-taints puts a startup taint on the
		// node from its first moment, as node pools do.
		n.Spec.Taints = []corev1.Taint{{Key: key, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
		s.createNodes(true, n)
		agent := s.newDaemonSet("agent")
		agent.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: key, Operator: corev1.TolerationOpExists}}
		s.createDaemonSet(agent)
		// A DaemonSet that does not tolerate the gate: kept off until it
		// is lifted, then the controller places it there.
		s.createDaemonSet(s.newDaemonSet("exporter"))
		s.settle("agent", func(_ *appsv1.DaemonSet, pods []corev1.Pod) bool { return len(pods) == 1 && podReady(&pods[0]) })
		s.settle("exporter", nil)

		dr := s.check("agent", expectation{findings: []string{f(report.NodeHeldByGate, n.Name)}})
		held := dsFinding(dr, report.NodeHeldByGate, n.Name)
		if held == nil || held.Severity != report.SeverityWarning || held.Reason != report.ReasonGateWaiting || held.Failing ||
			held.Params.Other != "cluster-autoscaler" || !strings.Contains(held.Message, "is Ready, yet the taint is still there") {
			t.Fatalf("held node finding: %+v", held)
		}
		s.check("exporter", expectation{})
		if _, code := runPlugin(t, "-n", s.name); code != 0 {
			t.Errorf("a node held by a gate under its grace fails the default gate (exit %d)", code)
		}

		// This test plays the gate's owner: with the agent's Pod Ready,
		// it removes the startup taint from the node, as the agent (or
		// the controller watching it) would.
		s.updateNode(n.Name, func(n *corev1.Node) {
			var keep []corev1.Taint
			for _, tn := range n.Spec.Taints {
				if tn.Key != key {
					keep = append(keep, tn)
				}
			}
			n.Spec.Taints = keep
		})
		s.settle("exporter", func(_ *appsv1.DaemonSet, pods []corev1.Pod) bool { return len(pods) == 1 && podReady(&pods[0]) })
		s.check("agent", expectation{})
		s.check("exporter", expectation{})
	})

	t.Run("the agent a gate waits for does not tolerate it: deadlock", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, "gate-deadlock")
		key := "node.cilium.io/agent-not-ready"
		n := s.newNode("new")
		n.Spec.Taints = []corev1.Taint{{Key: key, Value: "true", Effect: corev1.TaintEffectNoExecute}}
		s.createNodes(true, n)
		cilium := s.newDaemonSet("cilium")
		// The Cilium agent's label (cilium-operator's --cilium-pod-labels
		// default), and a toleration of the gate with the wrong effect.
		cilium.Spec.Template.Labels["k8s-app"] = "cilium"
		cilium.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		s.createDaemonSet(cilium)
		s.settle("cilium", nil)

		dr := s.check("cilium", expectation{findings: []string{f(report.GateDeadlock, n.Name)}})
		dl := dsFinding(dr, report.GateDeadlock, n.Name)
		if dl == nil || dl.Severity != report.SeverityError || dl.Reason != report.ReasonGateNotTolerated || !dl.Failing ||
			dl.Params.Detail != key+"=true:NoExecute" || !strings.Contains(dl.Suggestion, "key: "+key) {
			t.Fatalf("deadlock finding: %+v", dl)
		}
		if _, code := runPlugin(t, "-n", s.name); code != 1 {
			t.Errorf("a gate deadlock: exit %d, want 1", code)
		}
	})

	t.Run("a gate nothing lifts", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, "gate-unlifted")
		key := "startup-taint.cluster-autoscaler.kubernetes.io/" + s.name
		n := s.newNode("new")
		n.Spec.Taints = []corev1.Taint{{Key: key, Effect: corev1.TaintEffectNoSchedule}}
		s.createNodes(true, n)
		s.createDaemonSet(s.newDaemonSet("exporter"))
		s.settle("exporter", nil)

		// With -n, DaemonSets of other namespaces are not read, and one of
		// them might lift the gate: nothing is claimed.
		s.check("exporter", expectation{})
		// Read whole, the cluster has no DaemonSet naming the taint.
		rep, _ := runPlugin(t)
		unlifted := findingOn(rep, s.name, "exporter", report.GateWithoutLifter, n.Name)
		if unlifted == nil || unlifted.Severity != report.SeverityError || !unlifted.Failing || unlifted.Reason != report.ReasonGateNoLifter ||
			!strings.Contains(unlifted.Suggestion, "kubectl taint node "+n.Name+" "+key+":NoSchedule-") {
			t.Fatalf("gate without a lifter: %+v", unlifted)
		}
	})
}

// A NodeReadinessRule read from the API server: the gate waits for a
// node condition no agent on the node can report (no DaemonSet tolerates
// the taint), so nothing lifts it, and the finding names the rule and the
// condition, which only the live read of the CRD can know.
func TestReadinessGateRuleReadFromTheCRD(t *testing.T) {
	s := newScenario(t, "gate-rule")
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	// A minimal stand-in for node-readiness-controller's CRD (its group,
	// version, kind and scope; no schema): the controller itself does not
	// run here, so the test writes its end state, the rule's taint on a
	// node whose condition is not met.
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "nodereadinessrules.readiness.node.x-k8s.io"},
		"spec": map[string]any{"group": "readiness.node.x-k8s.io", "scope": "Cluster",
			"names": map[string]any{"plural": "nodereadinessrules", "singular": "nodereadinessrule", "kind": "NodeReadinessRule", "listKind": "NodeReadinessRuleList"},
			"versions": []any{map[string]any{"name": "v1alpha1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}},
	}}
	if _, err := crds.Create(s.ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create the NodeReadinessRule CRD: %v", err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	rules := dyn.Resource(schema.GroupVersionResource{Group: "readiness.node.x-k8s.io", Version: "v1alpha1", Resource: "nodereadinessrules"})
	key := "readiness.k8s.io/" + s.name
	rule := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "readiness.node.x-k8s.io/v1alpha1", "kind": "NodeReadinessRule",
		"metadata": map[string]any{"name": s.name},
		"spec": map[string]any{
			"conditions":      []any{map[string]any{"type": "example.com/AgentReady", "requiredStatus": "True"}},
			"taint":           map[string]any{"key": key, "effect": "NoSchedule"},
			"enforcementMode": "bootstrap-only",
			"nodeSelector":    map[string]any{"matchLabels": map[string]any{ScenarioLabel: s.name}},
		},
	}}
	err = wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := rules.Create(ctx, rule, metav1.CreateOptions{})
		return err == nil, nil // not served until the CRD is established
	})
	if err != nil {
		t.Fatalf("create NodeReadinessRule %s: %v", s.name, err)
	}
	t.Cleanup(func() { _ = rules.Delete(context.Background(), s.name, metav1.DeleteOptions{}) })

	n := s.newNode("new")
	n.Spec.Taints = []corev1.Taint{{Key: key, Effect: corev1.TaintEffectNoSchedule}}
	s.createNodes(true, n)
	s.createDaemonSet(s.newDaemonSet("exporter"))
	s.settle("exporter", nil)

	rep, _ := runPlugin(t)
	f := findingOn(rep, s.name, "exporter", report.GateWithoutLifter, n.Name)
	if f == nil || f.Reason != report.ReasonGateNoLifter || f.Params.Other != "node-readiness-controller" ||
		!strings.Contains(f.Message, "NodeReadinessRule "+s.name+" waits for example.com/AgentReady=True") {
		t.Fatalf("gate whose rule waits for an unreported condition: %+v", f)
	}
}

// dsFinding is the DaemonSet report's finding of type typ on node, or nil.
func dsFinding(dr *report.DaemonSetReport, typ report.FindingType, node string) *report.Finding {
	if dr == nil {
		return nil
	}
	for i := range dr.Findings {
		if dr.Findings[i].Type == typ && dr.Findings[i].Node == node {
			return &dr.Findings[i]
		}
	}
	return nil
}

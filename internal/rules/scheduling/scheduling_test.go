package scheduling_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

const (
	NoSchedule       = corev1.TaintEffectNoSchedule
	NoExecute        = corev1.TaintEffectNoExecute
	PreferNoSchedule = corev1.TaintEffectPreferNoSchedule
)

// Each case is one rule of the controller's NodeShouldRunDaemonPod, or one
// automatic toleration; breaking the rule breaks the case.
func TestEvaluate(t *testing.T) {
	tests := []struct {
		name          string
		node          corev1.Node
		ds            appsv1.DaemonSet
		run, cont     bool
		cause         scheduling.Cause
		reasonContain string
	}{
		{name: "plain node runs", node: fixture.Node("n1"), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "template nodeName elsewhere", node: fixture.Node("n1"), ds: withNodeName(fixture.DaemonSet("ns", "d"), "n2"), cause: scheduling.CauseNodeName, reasonContain: "spec.nodeName=n2"},
		{name: "template nodeName here", node: fixture.Node("n1"), ds: withNodeName(fixture.DaemonSet("ns", "d"), "n1"), run: true, cont: true},
		{name: "nodeSelector matches", node: fixture.Node("n1", fixture.WithLabel("disk", "ssd")), ds: fixture.DaemonSet("ns", "d", fixture.WithNodeSelector("disk", "ssd")), run: true, cont: true},
		{name: "nodeSelector label missing", node: fixture.Node("n1"), ds: fixture.DaemonSet("ns", "d", fixture.WithNodeSelector("disk", "ssd")), cause: scheduling.CauseNodeSelector, reasonContain: "node has no label disk"},
		{name: "nodeSelector other value", node: fixture.Node("n1", fixture.WithLabel("disk", "hdd")), ds: fixture.DaemonSet("ns", "d", fixture.WithNodeSelector("disk", "ssd")), cause: scheduling.CauseNodeSelector, reasonContain: "node has disk=hdd"},
		{name: "affinity In", node: fixture.Node("n1", fixture.WithLabel("zone", "a")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpIn, "a", "b")))), run: true, cont: true},
		{name: "affinity In fails", node: fixture.Node("n1", fixture.WithLabel("zone", "c")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpIn, "a", "b")))), cause: scheduling.CauseNodeAffinity, reasonContain: "zone In [a,b] fails (node has zone=c)"},
		{name: "affinity NotIn fails", node: fixture.Node("n1", fixture.WithLabel("zone", "a")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpNotIn, "a")))), cause: scheduling.CauseNodeAffinity},
		{name: "affinity NotIn absent label matches", node: fixture.Node("n1"), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpNotIn, "a")))), run: true, cont: true},
		{name: "affinity Exists fails", node: fixture.Node("n1"), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("gpu", corev1.NodeSelectorOpExists)))), cause: scheduling.CauseNodeAffinity, reasonContain: "gpu Exists fails"},
		{name: "affinity DoesNotExist fails", node: fixture.Node("n1", fixture.WithLabel("gpu", "")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("gpu", corev1.NodeSelectorOpDoesNotExist)))), cause: scheduling.CauseNodeAffinity},
		{name: "affinity Gt", node: fixture.Node("n1", fixture.WithLabel("cores", "16")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("cores", corev1.NodeSelectorOpGt, "8")))), run: true, cont: true},
		{name: "affinity Lt fails", node: fixture.Node("n1", fixture.WithLabel("cores", "16")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("cores", corev1.NodeSelectorOpLt, "8")))), cause: scheduling.CauseNodeAffinity},
		{name: "affinity matchFields name", node: fixture.Node("n1"), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.FieldTerm(fixture.Req("metadata.name", corev1.NodeSelectorOpIn, "n1")))), run: true, cont: true},
		{name: "affinity matchFields other name", node: fixture.Node("n1"), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.FieldTerm(fixture.Req("metadata.name", corev1.NodeSelectorOpIn, "n2")))), cause: scheduling.CauseNodeAffinity, reasonContain: "node is n1"},
		{name: "affinity terms are ORed", node: fixture.Node("n1", fixture.WithLabel("zone", "b")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpIn, "a")), fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpIn, "b")))), run: true, cont: true},
		{name: "affinity expressions are ANDed", node: fixture.Node("n1", fixture.WithLabel("zone", "a")), ds: fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpIn, "a"), fixture.Req("gpu", corev1.NodeSelectorOpExists)))), cause: scheduling.CauseNodeAffinity},
		{name: "nodeSelector AND affinity", node: fixture.Node("n1", fixture.WithLabel("zone", "a")), ds: fixture.DaemonSet("ns", "d", fixture.WithNodeSelector("disk", "ssd"), fixture.WithAffinity(fixture.Term(fixture.Req("zone", corev1.NodeSelectorOpIn, "a")))), cause: scheduling.CauseNodeSelector},
		{name: "NoSchedule untolerated keeps running", node: fixture.Node("n1", fixture.WithTaint("dedicated", "db", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), cont: true, cause: scheduling.CauseTaint, reasonContain: "dedicated=db:NoSchedule"},
		{name: "NoExecute untolerated evicts", node: fixture.Node("n1", fixture.WithTaint("dedicated", "db", NoExecute)), ds: fixture.DaemonSet("ns", "d"), cause: scheduling.CauseTaint, reasonContain: "dedicated=db:NoExecute"},
		{name: "NoSchedule and NoExecute untolerated evicts", node: fixture.Node("n1", fixture.WithTaint("a", "", NoSchedule), fixture.WithTaint("b", "", NoExecute)), ds: fixture.DaemonSet("ns", "d"), cause: scheduling.CauseTaint, reasonContain: "taints a:NoSchedule, b:NoExecute"},
		{name: "NoSchedule tolerated Equal", node: fixture.Node("n1", fixture.WithTaint("dedicated", "db", NoSchedule)), ds: fixture.DaemonSet("ns", "d", fixture.WithToleration(fixture.Equal("dedicated", "db", NoSchedule))), run: true, cont: true},
		{name: "Equal with other value does not tolerate", node: fixture.Node("n1", fixture.WithTaint("dedicated", "db", NoSchedule)), ds: fixture.DaemonSet("ns", "d", fixture.WithToleration(fixture.Equal("dedicated", "web", NoSchedule))), cont: true, cause: scheduling.CauseTaint},
		{name: "toleration with other effect does not tolerate", node: fixture.Node("n1", fixture.WithTaint("dedicated", "db", NoExecute)), ds: fixture.DaemonSet("ns", "d", fixture.WithToleration(fixture.Exists("dedicated", NoSchedule))), cause: scheduling.CauseTaint},
		{name: "toleration with empty effect tolerates all effects", node: fixture.Node("n1", fixture.WithTaint("dedicated", "db", NoExecute)), ds: fixture.DaemonSet("ns", "d", fixture.WithToleration(fixture.Exists("dedicated", ""))), run: true, cont: true},
		{name: "Exists with empty key tolerates everything", node: fixture.Node("n1", fixture.WithTaint("x", "1", NoExecute), fixture.WithTaint("y", "", NoSchedule)), ds: fixture.DaemonSet("ns", "d", fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists})), run: true, cont: true},
		{name: "PreferNoSchedule is ignored", node: fixture.Node("n1", fixture.WithTaint("soft", "", PreferNoSchedule)), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "Gt toleration off by default", node: fixture.Node("n1", fixture.WithTaint("level", "5", NoSchedule)), ds: fixture.DaemonSet("ns", "d", fixture.WithToleration(corev1.Toleration{Key: "level", Operator: corev1.TolerationOpGt, Value: "3", Effect: NoSchedule})), cont: true, cause: scheduling.CauseTaint},
		// Automatic tolerations (AddOrUpdateDaemonPodTolerations).
		{name: "auto: not-ready NoExecute tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeNotReady, "", NoExecute)), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "auto: not-ready NoSchedule NOT tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeNotReady, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), cont: true, cause: scheduling.CauseTaint, reasonContain: "not-ready:NoSchedule"},
		{name: "auto: NotReady node (both taints) keeps running", node: fixture.Node("n1", fixture.NotReady()), ds: fixture.DaemonSet("ns", "d"), cont: true, cause: scheduling.CauseTaint},
		{name: "auto: unreachable NoExecute tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeUnreachable, "", NoExecute)), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "auto: unreachable NoSchedule NOT tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeUnreachable, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), cont: true, cause: scheduling.CauseTaint},
		{name: "auto: disk-pressure tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeDiskPressure, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "auto: memory-pressure tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeMemoryPressure, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "auto: pid-pressure tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodePIDPressure, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "auto: memory-pressure NoExecute NOT tolerated", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeMemoryPressure, "", NoExecute)), ds: fixture.DaemonSet("ns", "d"), cause: scheduling.CauseTaint},
		{name: "auto: cordoned node tolerated", node: fixture.Node("n1", fixture.Cordoned()), ds: fixture.DaemonSet("ns", "d"), run: true, cont: true},
		{name: "auto: network-unavailable not tolerated without hostNetwork", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeNetworkUnavailable, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d"), cont: true, cause: scheduling.CauseTaint},
		{name: "auto: network-unavailable tolerated with hostNetwork", node: fixture.Node("n1", fixture.WithTaint(corev1.TaintNodeNetworkUnavailable, "", NoSchedule)), ds: fixture.DaemonSet("ns", "d", fixture.HostNetwork()), run: true, cont: true},
		{name: "selector checked before taints", node: fixture.Node("n1", fixture.WithTaint("x", "", NoExecute)), ds: fixture.DaemonSet("ns", "d", fixture.WithNodeSelector("disk", "ssd")), cause: scheduling.CauseNodeSelector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := scheduling.NewEvaluator(&tt.ds).Evaluate(&tt.node)
			if v.ShouldRun != tt.run || v.ShouldContinueRunning != tt.cont {
				t.Fatalf("got (shouldRun %v, shouldContinueRunning %v), want (%v, %v); reason %q", v.ShouldRun, v.ShouldContinueRunning, tt.run, tt.cont, v.Reason)
			}
			if v.Cause != tt.cause {
				t.Errorf("cause %q, want %q (reason %q)", v.Cause, tt.cause, v.Reason)
			}
			if tt.run != (v.Reason == "") {
				t.Errorf("reason %q: must be set exactly when shouldRun is false", v.Reason)
			}
			if !strings.Contains(v.Reason, tt.reasonContain) {
				t.Errorf("reason %q does not contain %q", v.Reason, tt.reasonContain)
			}
		})
	}
}

func withNodeName(ds appsv1.DaemonSet, n string) appsv1.DaemonSet {
	ds.Spec.Template.Spec.NodeName = n
	return ds
}

func TestDaemonPodTolerations(t *testing.T) {
	plain := scheduling.DaemonPodTolerations(&corev1.PodSpec{})
	want := map[string]corev1.TaintEffect{
		corev1.TaintNodeNotReady:       NoExecute,
		corev1.TaintNodeUnreachable:    NoExecute,
		corev1.TaintNodeDiskPressure:   NoSchedule,
		corev1.TaintNodeMemoryPressure: NoSchedule,
		corev1.TaintNodePIDPressure:    NoSchedule,
		corev1.TaintNodeUnschedulable:  NoSchedule,
	}
	if len(plain) != len(want) {
		t.Fatalf("got %d tolerations, want %d: %v", len(plain), len(want), plain)
	}
	for _, tol := range plain {
		if want[tol.Key] != tol.Effect || tol.Operator != corev1.TolerationOpExists || tol.TolerationSeconds != nil {
			t.Errorf("unexpected toleration %+v", tol)
		}
	}
	hn := scheduling.DaemonPodTolerations(&corev1.PodSpec{HostNetwork: true, Tolerations: []corev1.Toleration{fixture.Exists("own", "")}})
	if len(hn) != len(want)+2 || hn[0].Key != "own" || hn[len(hn)-1].Key != corev1.TaintNodeNetworkUnavailable {
		t.Errorf("hostNetwork tolerations: %v", hn)
	}
}

func TestTargetNodeName(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	bound := fixture.Pod(&ds, "n1")
	if n, ok := scheduling.TargetNodeName(&bound); !ok || n != "n1" {
		t.Errorf("bound: got %q %v", n, ok)
	}
	// An unbound daemon Pod names its node only in the affinity.
	pending := fixture.Pod(&ds, "n2", fixture.Unscheduled("0/3 nodes are available"))
	if pending.Spec.NodeName != "" {
		t.Fatal("fixture must be unbound")
	}
	if n, ok := scheduling.TargetNodeName(&pending); !ok || n != "n2" {
		t.Errorf("pending: got %q %v", n, ok)
	}
	pending.Spec.Affinity = nil
	if _, ok := scheduling.TargetNodeName(&pending); ok {
		t.Error("no nodeName and no affinity must have no target")
	}
	two := fixture.Pod(&ds, "n3", fixture.Unscheduled(""))
	two.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values = []string{"a", "b"}
	if _, ok := scheduling.TargetNodeName(&two); ok {
		t.Error("matchFields with two values must have no target, as upstream")
	}
}

// Pathological taint lists (3,000 taints against 2,999
// tolerations) are matched once per distinct list, not once per node.
func TestTaintVerdictMemoizedPerNodeShape(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	var taints []corev1.Taint
	for i := range 3000 {
		taints = append(taints, corev1.Taint{Key: fmt.Sprintf("k%d", i), Value: "v", Effect: corev1.TaintEffectNoSchedule})
		if i < 2999 {
			ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, corev1.Toleration{Key: fmt.Sprintf("k%d", i), Operator: corev1.TolerationOpEqual, Value: "v", Effect: corev1.TaintEffectNoSchedule})
		}
	}
	node := func(name string) *corev1.Node {
		n := fixture.Node(name)
		n.Spec.Taints = taints
		return &n
	}
	e := scheduling.NewEvaluator(&ds)
	start := time.Now()
	first := e.Evaluate(node("n0"))
	one := time.Since(start)
	start = time.Now()
	for i := 1; i <= 200; i++ {
		if v := e.Evaluate(node(fmt.Sprintf("n%d", i))); v.ShouldRun || v.Taint == nil || v.Taint.Key != "k2999" || v.Reason != first.Reason {
			t.Fatalf("node %d: %+v", i, v)
		}
	}
	if rest := time.Since(start); rest > 20*one+50*time.Millisecond {
		t.Errorf("200 more nodes of the same shape took %s, the first %s: not memoized", rest, one)
	}
	// A different taint list is its own shape.
	other := node("x")
	other.Spec.Taints = taints[:2999]
	if v := e.Evaluate(other); !v.ShouldRun {
		t.Errorf("all taints tolerated: %+v", v)
	}
}

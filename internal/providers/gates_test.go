package providers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

func TestGatesOfRecognisesEachOwnersTaints(t *testing.T) {
	rule := model.NodeReadinessRule{Name: "cni", Taint: corev1.Taint{Key: "readiness.k8s.io/cni", Effect: corev1.TaintEffectNoSchedule},
		Conditions: []model.ReadinessCondition{{Type: "network.example.com/CNIReady", RequiredStatus: corev1.ConditionTrue}}}
	dry := model.NodeReadinessRule{Name: "dry", Taint: corev1.Taint{Key: "readiness.k8s.io/dry", Effect: corev1.TaintEffectNoSchedule}, DryRun: true}
	g := NewGates([]model.NodeReadinessRule{rule, dry}, true,
		map[string][]corev1.Taint{"gpu": {{Key: "example.com/gpu-init", Effect: corev1.TaintEffectNoExecute}}})
	ns, ne, pns := corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute, corev1.TaintEffectPreferNoSchedule
	gpuNode := map[string]string{KarpenterNodePoolLabel: "gpu"}
	cases := []struct {
		name       string
		taint      corev1.Taint
		labels     map[string]string
		gate       bool
		owner      GateOwner
		controller bool
		agent      map[string]string
		rule       string
		pool       string
	}{
		{name: "readiness rule read", taint: corev1.Taint{Key: "readiness.k8s.io/cni", Effect: ns}, gate: true, owner: OwnerNodeReadinessController, rule: "cni"},
		{name: "readiness taint without a rule", taint: corev1.Taint{Key: "readiness.k8s.io/storage", Effect: ns}, gate: true, owner: OwnerNodeReadinessController},
		{name: "dry-run rule manages nothing", taint: corev1.Taint{Key: "readiness.k8s.io/dry", Effect: ns}, gate: true, owner: OwnerNodeReadinessController},
		{name: "cluster autoscaler startup", taint: corev1.Taint{Key: "startup-taint.cluster-autoscaler.kubernetes.io/disk", Value: "true", Effect: ns}, gate: true, owner: OwnerClusterAutoscaler},
		{name: "cluster autoscaler ignore", taint: corev1.Taint{Key: "ignore-taint.cluster-autoscaler.kubernetes.io/cni", Effect: ne}, gate: true, owner: OwnerClusterAutoscaler},
		{name: "cluster autoscaler status taint is no gate", taint: corev1.Taint{Key: "status-taint.cluster-autoscaler.kubernetes.io/x", Effect: ns}},
		{name: "cluster api", taint: corev1.Taint{Key: "node.cluster.x-k8s.io/uninitialized", Effect: ns}, gate: true, owner: OwnerClusterAPI, controller: true},
		{name: "cilium", taint: corev1.Taint{Key: "node.cilium.io/agent-not-ready", Value: "true", Effect: ne}, gate: true, owner: OwnerCilium, agent: map[string]string{"k8s-app": "cilium"}},
		{name: "gardener", taint: corev1.Taint{Key: "node.gardener.cloud/critical-components-not-ready", Effect: ns}, gate: true, owner: OwnerGardener, controller: true,
			agent: map[string]string{"node.gardener.cloud/critical-component": "true"}},
		{name: "karpenter registration", taint: corev1.Taint{Key: "karpenter.sh/unregistered", Effect: ne}, gate: true, owner: OwnerKarpenter, controller: true},
		{name: "ebs csi node plugin", taint: corev1.Taint{Key: "ebs.csi.aws.com/agent-not-ready", Effect: ne}, gate: true, owner: OwnerEBSCSI},
		{name: "efs csi node plugin", taint: corev1.Taint{Key: "efs.csi.aws.com/agent-not-ready", Effect: ns}, gate: true, owner: OwnerEFSCSI},
		{name: "cloud provider", taint: corev1.Taint{Key: "node.cloudprovider.kubernetes.io/uninitialized", Value: "true", Effect: ns}, gate: true, owner: OwnerCloudProvider, controller: true},
		{name: "karpenter startup taint on its pool's node", taint: corev1.Taint{Key: "example.com/gpu-init", Effect: ne}, labels: gpuNode, gate: true, owner: OwnerKarpenter, pool: "gpu"},
		{name: "karpenter startup taint with another effect", taint: corev1.Taint{Key: "example.com/gpu-init", Effect: ns}, labels: gpuNode},
		{name: "karpenter startup taint on another pool's node", taint: corev1.Taint{Key: "example.com/gpu-init", Effect: ne}, labels: map[string]string{KarpenterNodePoolLabel: "general"}},
		{name: "karpenter taint without its nodepool label", taint: corev1.Taint{Key: "example.com/gpu-init", Effect: ne}},
		{name: "prefer-no-schedule holds nothing", taint: corev1.Taint{Key: "node.cilium.io/agent-not-ready", Effect: pns}},
		{name: "a dedicated taint", taint: corev1.Taint{Key: "dedicated", Value: "gpu", Effect: ns}},
		{name: "node lifecycle taint", taint: corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: ns}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := g.Of(&tc.taint, tc.labels)
			if ok != tc.gate {
				t.Fatalf("Of(%v) gate = %v, want %v", tc.taint, ok, tc.gate)
			}
			if !ok {
				return
			}
			if got.Owner != tc.owner || got.Controller != tc.controller || got.Pool != tc.pool || got.Remover == "" {
				t.Errorf("Of(%v) = %+v, want owner %s controller %v pool %q and a remover", tc.taint, got, tc.owner, tc.controller, tc.pool)
			}
			if len(got.AgentLabels) != len(tc.agent) {
				t.Errorf("agent labels %v, want %v", got.AgentLabels, tc.agent)
			}
			for k, v := range tc.agent {
				if got.AgentLabels[k] != v {
					t.Errorf("agent labels %v, want %v", got.AgentLabels, tc.agent)
				}
			}
			switch {
			case tc.rule == "" && got.Rule != nil:
				t.Errorf("rule %s, want none", got.Rule.Name)
			case tc.rule != "" && (got.Rule == nil || got.Rule.Name != tc.rule):
				t.Errorf("rule %v, want %s", got.Rule, tc.rule)
			}
		})
	}
}

func TestGatesWithoutRulesStillKnowBuiltInGates(t *testing.T) {
	var g *Gates
	if _, ok := g.Of(&corev1.Taint{Key: "readiness.k8s.io/x", Effect: corev1.TaintEffectNoSchedule}, nil); !ok {
		t.Error("a nil Gates does not recognise a readiness.k8s.io taint")
	}
	if g.RulesRead() {
		t.Error("a nil Gates says rules were read")
	}
	if !NewGates(nil, true, nil).RulesRead() {
		t.Error("rules read but RulesRead is false")
	}
}

func TestNamesTaintAndIsAgent(t *testing.T) {
	taint := corev1.Taint{Key: "node.cilium.io/agent-not-ready", Effect: corev1.TaintEffectNoExecute}
	if NamesTaint([]corev1.Toleration{{Operator: corev1.TolerationOpExists}}, &taint) {
		t.Error("a toleration of every taint counts as naming the gate")
	}
	if !NamesTaint([]corev1.Toleration{{Key: taint.Key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, &taint) {
		t.Error("a toleration naming the key (with another effect) does not count")
	}
	gate, _ := (*Gates)(nil).Of(&taint, nil)
	if !gate.IsAgent(map[string]string{"k8s-app": "cilium", "other": "x"}) {
		t.Error("the Cilium agent's labels are not recognised")
	}
	if gate.IsAgent(map[string]string{"k8s-app": "cilium-operator"}) {
		t.Error("another k8s-app is taken for the Cilium agent")
	}
	if (Gate{}).IsAgent(map[string]string{"k8s-app": "cilium"}) {
		t.Error("a gate without agent labels claims an agent")
	}
}

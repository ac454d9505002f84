package providers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// Readiness gates are taints that hold a new node until its agents are up:
// workloads stay off the node while the taint is on it, and whoever owns the
// gate removes it once the node is ready. This file is the one place that
// recognises them and says who owns each (sources in docs/controller-rules.md,
// "Readiness gates and startup taints").

// GateOwner names the component that defines a readiness gate.
type GateOwner string

const (
	OwnerNodeReadinessController GateOwner = "node-readiness-controller"
	OwnerClusterAutoscaler       GateOwner = "cluster-autoscaler"
	OwnerKarpenter               GateOwner = "karpenter"
	OwnerClusterAPI              GateOwner = "cluster-api"
	OwnerCilium                  GateOwner = "cilium"
	OwnerGardener                GateOwner = "gardener"
	OwnerCloudProvider           GateOwner = "cloud-provider"
	OwnerEBSCSI                  GateOwner = "aws-ebs-csi-driver"
	OwnerEFSCSI                  GateOwner = "aws-efs-csi-driver"
)

// Taint keys and prefixes of the gates, as upstream spells them.
const (
	// ReadinessTaintPrefix: node-readiness-controller's rules must use it
	// (its CRD validation); Karpenter's KnownEphemeralTaintKeyPrefixes list it.
	ReadinessTaintPrefix = "readiness.k8s.io/"
	// Cluster Autoscaler (utils/taints/taints.go): both prefixes mark a
	// startup taint, filtered from template nodes; a node carrying one is
	// "not yet started" for up to --max-node-startup-time.
	StartupTaintPrefix = "startup-taint.cluster-autoscaler.kubernetes.io/"
	IgnoreTaintPrefix  = "ignore-taint.cluster-autoscaler.kubernetes.io/"
	// Cluster API (api/core/v1beta2 NodeUninitializedTaint): removed by the
	// Machine controller once it has synced the Machine's labels to the node.
	ClusterAPIUninitializedTaint = "node.cluster.x-k8s.io/uninitialized"
	// Cilium (Helm value agentNotReadyTaintKey's default): removed by
	// cilium-operator once the Cilium agent Pod on the node is Ready.
	CiliumAgentNotReadyTaint = "node.cilium.io/agent-not-ready"
	// CiliumAgentLabel is the operator's --cilium-pod-labels default: the
	// Pods whose readiness lifts the taint.
	CiliumAgentLabel, CiliumAgentLabelValue = "k8s-app", "cilium"
	// Gardener (docs/usage/node-readiness.md): removed by
	// gardener-resource-manager's node controller once every Pod labelled
	// node.gardener.cloud/critical-component=true on the node is Ready.
	GardenerCriticalTaint                             = "node.gardener.cloud/critical-components-not-ready"
	GardenerCriticalLabel, GardenerCriticalLabelValue = "node.gardener.cloud/critical-component", "true"
	// Cloud providers (k8s.io/cloud-provider api.TaintExternalCloudProvider):
	// the kubelet registers with it under --cloud-provider=external, and the
	// cloud-controller-manager's node controller removes it.
	CloudProviderUninitializedTaint = "node.cloudprovider.kubernetes.io/uninitialized"
	// Karpenter (pkg/apis/v1/taints.go UnregisteredTaintKey): on every node
	// it launches, removed by its own registration controller.
	KarpenterUnregisteredTaint = "karpenter.sh/unregistered"
	// AWS CSI drivers (aws-ebs-csi-driver pkg/driver AgentNotReadyNodeTaintKey,
	// and the EFS driver's counterpart): removed by the node plugin on start.
	EBSAgentNotReadyTaint = "ebs.csi.aws.com/agent-not-ready"
	EFSAgentNotReadyTaint = "efs.csi.aws.com/agent-not-ready"
	// KarpenterNodePoolLabel names a Karpenter node's NodePool.
	KarpenterNodePoolLabel = "karpenter.sh/nodepool"
)

// Gate is what daemoncheck knows of one readiness gate taint.
type Gate struct {
	Owner GateOwner
	// Remover says who removes the taint, for people.
	Remover string
	// Controller is true when a controller removes the taint after work of
	// its own (Cluster API's label sync, the cloud node controller,
	// Gardener's check of its critical Pods): the gate waits for no
	// DaemonSet to tolerate it, and is never without a remover.
	Controller bool
	// AgentLabels, when set, identify the DaemonSets the gate waits for by
	// their Pod template's labels (Cilium's agent, Gardener's critical
	// components). Without them, a DaemonSet whose tolerations name the
	// taint's key is the evidence: it is meant to run under the gate.
	AgentLabels map[string]string
	// Rule is the NodeReadinessRule that manages the taint, when rules
	// were read and one does.
	Rule *model.NodeReadinessRule
	// Pool is the Karpenter NodePool whose startupTaints hold the taint.
	Pool string
}

// Gates recognises readiness gates; its zero value knows the built-in
// gates only.
type Gates struct {
	// rules are NodeReadinessRules by taint key.
	rules     map[string]*model.NodeReadinessRule
	rulesRead bool
	// startup are Karpenter NodePools' startupTaints by NodePool name.
	startup map[string][]corev1.Taint
}

// NewGates recognises the built-in gates, the taints of the
// NodeReadinessRules given (rulesRead says whether rules were read at all:
// without them, every readiness.k8s.io/ taint is a gate whose rule is
// unknown) and Karpenter NodePools' startupTaints by NodePool name.
func NewGates(rules []model.NodeReadinessRule, rulesRead bool, startup map[string][]corev1.Taint) *Gates {
	g := &Gates{rulesRead: rulesRead, startup: startup}
	if len(rules) > 0 {
		g.rules = make(map[string]*model.NodeReadinessRule, len(rules))
		for i := range rules {
			r := &rules[i]
			if !r.DryRun {
				g.rules[r.Taint.Key] = r
			}
		}
	}
	return g
}

// RulesRead says whether NodeReadinessRules were read: when they were, a
// readiness.k8s.io/ taint no rule manages has no remover.
func (g *Gates) RulesRead() bool { return g != nil && g.rulesRead }

// Of says whether the taint, on a node with the labels given, is a
// readiness gate, and whose. Only NoSchedule and NoExecute taints hold a
// node (PreferNoSchedule keeps nothing off it).
func (g *Gates) Of(t *corev1.Taint, labels map[string]string) (Gate, bool) {
	if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
		return Gate{}, false
	}
	key := t.Key
	switch {
	case key == CiliumAgentNotReadyTaint:
		return Gate{Owner: OwnerCilium, Remover: "cilium-operator, once the Cilium agent Pod on the node is Ready",
			AgentLabels: map[string]string{CiliumAgentLabel: CiliumAgentLabelValue}}, true
	case key == GardenerCriticalTaint:
		return Gate{Owner: OwnerGardener, Remover: "gardener-resource-manager's node controller, once the node's critical-component Pods are Ready",
			Controller: true, AgentLabels: map[string]string{GardenerCriticalLabel: GardenerCriticalLabelValue}}, true
	case key == ClusterAPIUninitializedTaint:
		return Gate{Owner: OwnerClusterAPI, Remover: "the Cluster API Machine controller, once it has synced the Machine's labels to the node", Controller: true}, true
	case key == KarpenterUnregisteredTaint:
		return Gate{Owner: OwnerKarpenter, Remover: "Karpenter's registration controller, once the node has registered", Controller: true}, true
	case key == EBSAgentNotReadyTaint:
		return Gate{Owner: OwnerEBSCSI, Remover: "the EBS CSI node plugin, when it starts on the node"}, true
	case key == EFSAgentNotReadyTaint:
		return Gate{Owner: OwnerEFSCSI, Remover: "the EFS CSI node plugin, when it starts on the node"}, true
	case key == CloudProviderUninitializedTaint:
		return Gate{Owner: OwnerCloudProvider, Remover: "the cloud-controller-manager's node controller, once it has initialised the node", Controller: true}, true
	case strings.HasPrefix(key, ReadinessTaintPrefix):
		gate := Gate{Owner: OwnerNodeReadinessController, Remover: "node-readiness-controller, once the node meets its rule's conditions"}
		if g != nil {
			gate.Rule = g.rules[key]
		}
		return gate, true
	case strings.HasPrefix(key, StartupTaintPrefix), strings.HasPrefix(key, IgnoreTaintPrefix):
		return Gate{Owner: OwnerClusterAutoscaler, Remover: "the DaemonSet that tolerates it, once its agent is ready (Cluster Autoscaler only waits)"}, true
	}
	if g != nil && labels != nil {
		if pool := labels[KarpenterNodePoolLabel]; pool != "" {
			for i := range g.startup[pool] {
				if g.startup[pool][i].MatchTaint(t) {
					return Gate{Owner: OwnerKarpenter, Pool: pool, Remover: "the DaemonSet that tolerates it, once its agent is ready (Karpenter only waits)"}, true
				}
			}
		}
	}
	return Gate{}, false
}

// NamesTaint says whether a toleration names the taint's key: a DaemonSet
// that lists the gate's key is meant to run under the gate (and is the
// evidence of what the gate waits for), whether or not the toleration
// actually matches the taint's value and effect. A toleration of every
// taint (no key, Exists) names none.
func NamesTaint(tols []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tols {
		if tols[i].Key == t.Key {
			return true
		}
	}
	return false
}

// IsAgent says whether Pod template labels make a DaemonSet one the gate
// waits for by its identity (AgentLabels).
func (g Gate) IsAgent(templateLabels map[string]string) bool {
	if len(g.AgentLabels) == 0 {
		return false
	}
	for k, v := range g.AgentLabels {
		if templateLabels[k] != v {
			return false
		}
	}
	return true
}

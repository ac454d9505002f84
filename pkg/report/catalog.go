package report

import (
	"fmt"
	"time"
)

// FindingType names a class of problem. The values are part of the API.
type FindingType string

const (
	MissingPod      FindingType = "MissingPod"
	PendingPod      FindingType = "PendingPod"
	UnhealthyPod    FindingType = "UnhealthyPod"
	DuplicatePods   FindingType = "DuplicatePods"
	MisscheduledPod FindingType = "MisscheduledPod"
	OrphanedPod     FindingType = "OrphanedPod"
	OutdatedPod     FindingType = "OutdatedPod"
	StaleStatus     FindingType = "StaleStatus"
	UncoveredNode   FindingType = "UncoveredNode"
	RolloutStuck    FindingType = "RolloutStuck"
	NoTargets       FindingType = "NoTargets"
	// Capacity and eviction risk (internal/audit/fit).
	HostPortConflict FindingType = "HostPortConflict"
	NodeTooSmall     FindingType = "NodeTooSmall"
	LowPriorityAgent FindingType = "LowPriorityAgent"
	NoMemoryRequest  FindingType = "NoMemoryRequest"
)

// Readiness gates and startup taints (internal/audit/lifecycle/gates.go): taints that
// hold a new node until its agents are ready (internal/providers/gates.go).
const (
	GateDeadlock      FindingType = "GateDeadlock"
	NodeHeldByGate    FindingType = "NodeHeldByGate"
	GateWithoutLifter FindingType = "GateWithoutLifter"
)

// GateGrace is how long a gate may hold a node before NodeHeldByGate is an
// error: Cluster Autoscaler's --max-node-startup-time default, after which
// it, too, stops waiting for a node with startup taints.
const GateGrace = 15 * time.Minute

// Node plugins: CSI node plugins against CSINode registrations, DRA kubelet
// plugins against ResourceSlices (internal/audit/storage).
const (
	DriverWithoutPlugin FindingType = "DriverWithoutPlugin"
	PluginNotRegistered FindingType = "PluginNotRegistered"
)

// Node lifecycle (internal/audit/nodestate).
const (
	RecreateLoop FindingType = "RecreateLoop"
)

// Drift within a DaemonSet (internal/audit/drift).
const (
	ImageDrift  FindingType = "ImageDrift"
	VersionSkew FindingType = "VersionSkew"
)

// Severity says what a finding means for the cluster, and ranks findings
// for --fail-on.
type Severity string

const (
	// SeverityError: broken now. A node the DaemonSet targets (or a
	// coverage policy requires) is not protected by a working daemon, or
	// will not be without someone acting: missing, pending, unhealthy,
	// a stuck rollout, a host-port conflict. The default gate fails on it.
	SeverityError Severity = "error"
	// SeverityWarning: at risk. Every node is served today, but the state
	// is off, or breaks at the next replacement (a daemon that will not
	// fit, priority below the workloads, a stale status, an old revision).
	SeverityWarning Severity = "warning"
	// SeverityInfo: advice. A lint about how the DaemonSet is written (no
	// memory request, no priority class); nothing is wrong on any node.
	SeverityInfo Severity = "info"
)

// SeverityMeaning says what each severity means, for the glossary and
// help.
var SeverityMeaning = map[Severity]string{
	SeverityError:   "broken now: a node the DaemonSet targets (or a coverage policy requires) has no working daemon, or will not without someone acting",
	SeverityWarning: "at risk: every node is served today, but the state is off or breaks at the next replacement",
	SeverityInfo:    "advice: how the DaemonSet is written; nothing is wrong on any node",
}

// Severities lists the severities, highest first.
var Severities = []Severity{SeverityError, SeverityWarning, SeverityInfo}

// Rank orders severities (0 for none): a threshold selects its own rank
// and above; problems sort by it.
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// TypeInfo is everything daemoncheck declares about a finding type, in one
// place (as popeye's codes.yaml does): adding a type means one entry here and
// its detection function in package analyze.
type TypeInfo struct {
	Type FindingType
	// Severity is the default severity (a reason may set another:
	// SeverityOf). Errors mean a node is not protected by its daemon now;
	// warnings mean the state is off but the node is served, or the
	// controller fixes it by itself; info is advice.
	Severity Severity
	// Why says in a few words why the type has its severity (README).
	Why string
	// PodGrace: --grace also holds the finding back while its Pod is
	// younger than the grace period (every finding on a young node is held
	// back, whatever its type).
	PodGrace bool
	// Column is the summary table column that counts the type ("" none);
	// Wide puts it under -o wide only.
	Column string
	Wide   bool
	// AcrossDaemonSets: findings of this type with the same cause in
	// several DaemonSets are one problem (their causes are the cluster's:
	// a quota, a taint, small nodes, a stuck controller), not one per
	// DaemonSet as for causes that are the DaemonSet's own (its image, its
	// crash loop, its rollout).
	AcrossDaemonSets bool
	// DaemonSetLevel: the finding is about the DaemonSet as a whole and
	// names no node.
	DaemonSetLevel bool
	// Fit: the type is about whether the daemons fit their nodes (the
	// capacity view keeps it).
	Fit bool
	// NeedsNodes: the type can only be found with the node list, so its
	// count is unknown (not 0) when nodes could not be read.
	NeedsNodes bool
	// Doc says in one line when the finding is reported (README, help).
	Doc string
}

// Catalog lists every finding type, in documentation order; the order is also
// the canonical order of findings on one node.
var Catalog = []TypeInfo{
	{Type: MissingPod, Why: "a targeted node runs no daemon", AcrossDaemonSets: true, Severity: SeverityError, Column: "MISSING", NeedsNodes: true,
		Doc: "the controller targets the node and no daemon Pod of the DaemonSet is there (or, with `maxSurge`, only a terminating one)"},
	{Type: PendingPod, Why: "a targeted node runs no daemon yet", AcrossDaemonSets: true, Severity: SeverityError, PodGrace: true, Column: "PENDING", Wide: true,
		Doc: "a daemon Pod is unscheduled or bound but not started"},
	{Type: UnhealthyPod, Why: "the daemon on the node does not work", Severity: SeverityError, PodGrace: true, Column: "UNHEALTHY",
		Doc: "the Pod is on its node but not Ready"},
	{Type: DuplicatePods, Why: "the node is served; the controller should remove the extra Pod", AcrossDaemonSets: true, Severity: SeverityWarning, Column: "DUPLICATE", Wide: true,
		Doc: "more than one daemon Pod on one node, outside a surge rollout"},
	{Type: MisscheduledPod, Why: "the node is served or the controller deletes the Pod; nothing is unprotected", AcrossDaemonSets: true, Severity: SeverityWarning, Column: "MISSCHEDULED", NeedsNodes: true,
		Doc: "a Pod on a node the controller does not target"},
	{Type: OrphanedPod, Why: "a leftover on a node that is gone; no node is unprotected", AcrossDaemonSets: true, Severity: SeverityWarning, Column: "ORPHANED", Wide: true, NeedsNodes: true,
		Doc: "a Pod bound to, or (unscheduled) aimed at, a node that no longer exists"},
	{Type: OutdatedPod, Why: "served by an old revision while the rollout proceeds", Severity: SeverityWarning, PodGrace: true, Column: "OUTDATED",
		Doc: "a Pod not on the current revision"},
	{Type: StaleStatus, Why: "what kubectl shows is wrong; the Pods are not", AcrossDaemonSets: true, Severity: SeverityWarning, DaemonSetLevel: true,
		Doc: "`status.observedGeneration < metadata.generation`, or the controller's published counts differ from the recomputed ones"},
	{Type: UncoveredNode, Why: "a node the coverage policy requires has no daemon", Severity: SeverityError, NeedsNodes: true,
		Doc: "a coverage policy requires the DaemonSet on the node, but the controller does not target it"},
	{Type: RolloutStuck, Why: "nodes stay on a broken or old revision until someone acts", Severity: SeverityError, NeedsNodes: true, DaemonSetLevel: true,
		Doc: "a rolling update cannot progress: Pods that waiting will not make available (crash loop, image pull, unschedulable, broken node, starting for 15m) use up maxUnavailable (or new Pods maxSurge) while outdated Pods remain; the reason says what holds it: the revision, broken nodes, or only nodes in a lifecycle operation (drain, disruption, maintenance: a warning, it waits)"},
	{Type: NoTargets, Why: "a selector typo keeps the daemon off every node (reported only with evidence of a mistake)", Severity: SeverityError, NeedsNodes: true, DaemonSetLevel: true,
		Doc: "the DaemonSet targets no node although nodes exist (DESIRED 0), and its selector looks mistaken: a value a typo away from one the nodes carry, the key on nodes with other values, or a key a typo away from a node label key; a key no node has is by design (a GPU plugin before the first GPU node) and shows under Not targeted"},
	{Type: HostPortConflict, Why: "one of the two daemons cannot run on the node", Fit: true, Severity: SeverityError, NeedsNodes: true,
		Doc: "two DaemonSets that both target a node claim a conflicting host port: one of them cannot run there (even before its Pod is Pending)"},
	{Type: NodeTooSmall, Why: "served today; the daemon stays Pending at its next replacement", Fit: true, AcrossDaemonSets: true, Severity: SeverityWarning, NeedsNodes: true,
		Doc: "the daemons that should run on the node request more than its allocatable: this DaemonSet is the one left out, though its Pod runs today (a Pending or missing Pod says it as its cause instead)"},
	{Type: LowPriorityAgent, Why: "below the workloads on its nodes: at risk of preemption (info when only the priority class is missing)", Fit: true, Severity: SeverityWarning, DaemonSetLevel: true,
		Doc: "a node agent has no priorityClassName, or a priority below the workloads on its nodes (with `--workloads`) or below the cluster's globalDefault class"},
	{Type: NoMemoryRequest, Why: "advice on how the DaemonSet is written", Fit: true, Severity: SeverityInfo, DaemonSetLevel: true,
		Doc: "a container of the daemon Pods requests no memory: the scheduler reserves none on any node, and the kubelet evicts it first under memory pressure"},
	// Readiness gates and startup taints.
	{Type: GateDeadlock, Why: "the node never becomes ready: the agent its gate waits for cannot run under the gate", AcrossDaemonSets: true, Severity: SeverityError, NeedsNodes: true,
		Doc: "a node carries a readiness gate or startup taint (Cilium's agent-not-ready, a node-readiness-controller rule, a Cluster Autoscaler or Karpenter startup taint ...) that waits for this DaemonSet (its agent, or a DaemonSet whose tolerations name the taint), and the DaemonSet does not tolerate the taint (a wrong effect or value): its Pod is never created there, so the gate is never lifted"},
	{Type: NodeHeldByGate, Why: "a new node is kept from workloads while its agent starts (error once held past 15m)", AcrossDaemonSets: true, Severity: SeverityWarning, NeedsNodes: true,
		Doc: "a node is held by a readiness gate that waits for this DaemonSet's Pod; warning while the gate is younger than 15 minutes (Cluster Autoscaler's `--max-node-startup-time` default), error after"},
	{Type: GateWithoutLifter, Why: "nothing will ever lift the gate: the node stays closed to this daemon", AcrossDaemonSets: true, Severity: SeverityError, NeedsNodes: true,
		Doc: "a node carries a readiness gate or startup taint that no DaemonSet tolerates and no known controller removes (or a `readiness.k8s.io/` taint no NodeReadinessRule manages): the DaemonSet, which targets the node but for the gate, never runs there"},
	// Node plugins (internal/audit/storage).
	{Type: DriverWithoutPlugin, Why: "the node advertises a driver whose plugin is not there: its volumes or devices cannot be set up", AcrossDaemonSets: true, Severity: SeverityError, NeedsNodes: true,
		Doc: "a CSI driver is registered on the node (CSINode) or a DRA driver published a ResourceSlice for it, but no Pod of the DaemonSet identified as that driver's node plugin runs there, and the DaemonSet does not target the node (where it does, MissingPod or PendingPod says so): volumes of the driver cannot be mounted or unmounted there, claims on its devices cannot be prepared"},
	{Type: PluginNotRegistered, Why: "the plugin runs but the kubelet does not know it: its volumes cannot be mounted there", Severity: SeverityWarning, PodGrace: true, NeedsNodes: true,
		Doc: "a Ready Pod of a CSI node plugin DaemonSet runs on a node whose CSINode does not list the plugin's driver: its registration with the kubelet failed (wrong --kubelet-registration-path, another kubelet root directory)"},
	// Node lifecycle (internal/audit/nodestate).
	{Type: RecreateLoop, Why: "churn: the controller and the kubelet fight over the node; its daemon findings say whether it is served", AcrossDaemonSets: true, Severity: SeverityWarning,
		Doc: "the controller keeps deleting the daemon Pods the node's kubelet fails (FailedDaemonPod events, at least 3) and creating new ones, typically on a node shutting down (kubernetes/kubernetes#122912): how many, over what span, and the node's lifecycle"},
	// Drift within a DaemonSet (internal/audit/drift).
	{Type: ImageDrift, Why: "served today, by different builds of one revision", Severity: SeverityWarning,
		Doc: "Pods of one revision run different image digests on nodes of one platform (`status.containerStatuses[].imageID`): a mutable tag moved between pulls; reported on the nodes outside the most common digest"},
	{Type: VersionSkew, Why: "served today, by a version pairing the Kubernetes skew policy does not support", Severity: SeverityWarning,
		Doc: "kube-proxy's version (from its image tag) is outside the version skew policy against the API server (newer, or more than three minor versions older) or against the node's kubelet (more than three minor versions apart)"},
}

var catalogIndex = func() map[FindingType]int {
	m := make(map[FindingType]int, len(Catalog))
	for i, ti := range Catalog {
		if _, dup := m[ti.Type]; dup {
			panic(fmt.Sprintf("report: finding type %s declared twice", ti.Type))
		}
		m[ti.Type] = i
	}
	return m
}()

// SeriesWhenClean says whether the metrics (serve, -o prometheus) give the
// type a series of 0 on a DaemonSet without such findings: the types that
// fail the default gate do, so that rules and dashboards see a value
// rather than an absent series; the others have a series only while
// present, or the zeros would cost more series than the findings.
func (ti TypeInfo) SeriesWhenClean() bool { return ti.Severity == SeverityError }

// Info returns the catalog entry of t (zero TypeInfo for an unknown type).
func Info(t FindingType) TypeInfo {
	if i, ok := catalogIndex[t]; ok {
		return Catalog[i]
	}
	return TypeInfo{Type: t}
}

// Known reports whether t is a declared finding type.
func Known(t FindingType) bool {
	_, ok := catalogIndex[t]
	return ok
}

// SeverityOf is the severity of a finding: its type's, except where the
// reason says more. A node agent with no priority class, or one below the
// globalDefault class, is advice (how it is written); one below the
// workloads actually on its nodes is at risk of preemption.
func SeverityOf(f *Finding) Severity {
	if f.Type == LowPriorityAgent && f.Reason != ReasonBelowWorkloads {
		return SeverityInfo
	}
	s := Info(f.Type).Severity
	if f.Type == NodeHeldByGate && f.Reason == ReasonGateOverdue {
		s = SeverityError
	}
	// A node in a lifecycle operation (drain, disruption, deletion,
	// shutdown, maintenance) loses its daemons on purpose: what it
	// explains is waited out, not fixed (NodeProblem.Lifecycle); so is a
	// rollout that only such nodes hold up.
	if s == SeverityError && (LifecycleCause(f.NodeCause) || f.Reason == ReasonBlockedByNodeLifecycle) {
		return SeverityWarning
	}
	return s
}

// typeOrder is t's position in the catalog (unknown types last).
func typeOrder(t FindingType) int {
	if i, ok := catalogIndex[t]; ok {
		return i
	}
	return len(Catalog)
}

// Package report defines the DaemonCheckReport: the one result of an audit,
// shared by every printer (table, describe, json/yaml) and by the exit code.
// Its JSON form is a versioned, documented API: field names follow the
// Kubernetes DaemonSetStatus names where they mean the same thing, so users
// can diff `status` (what the controller says) against `computed` (what
// daemoncheck recomputed from the objects).
package report

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	// APIVersion is bumped on any incompatible change to the JSON/YAML form
	// of a kind that carries it (the audit, fleet and what-if reports;
	// docs/json.md has each version's migration).
	APIVersion = "daemoncheck/v1alpha2"
	// CapacityAPIVersion is the capacity report's: unchanged since
	// v1alpha1 (v1alpha2 renamed fields it does not have).
	CapacityAPIVersion = "daemoncheck/v1alpha1"
	// Kind is the kind of the top-level report object.
	Kind = "DaemonCheckReport"
)

// Coverage says how a node relates to a DaemonSet.
type Coverage string

const (
	// Covered: the controller targets the node and a daemon Pod is on it.
	Covered Coverage = "Covered"
	// Missing: the controller targets the node but no daemon Pod is on it,
	// the word the coverage matrix and MissingPod use ("NotCovered" until
	// v1alpha1).
	Missing Coverage = "Missing"
	// NotCovered is Missing's name until v1alpha1.
	//
	// Deprecated: use Missing.
	NotCovered = Missing
	// NotTargeted: the controller does not target the node (see Reason).
	NotTargeted Coverage = "NotTargeted"
	// CoverageUnknown: the Pods could not be read.
	CoverageUnknown Coverage = "Unknown"
)

// Report is the whole result of one audit.
// It is a runtime.Object so that kubectl's printers (json, yaml, jsonpath,
// go-template) print it as they print any Kubernetes object.
type Report struct {
	metav1.TypeMeta `json:",inline"`
	// GeneratedAt is the analysis clock (RFC 3339).
	GeneratedAt time.Time `json:"generatedAt"`
	// Source says where the objects came from: a cluster URL or file names.
	Source string `json:"source"`
	// ServerVersion is the Kubernetes version whose controller rules the
	// analysis followed ("" unknown: the newest rules).
	ServerVersion string `json:"serverVersion,omitempty"`
	// Partial is true when some objects could not be read; Unread says
	// which, why, and what RBAC rule would let daemoncheck read them.
	Partial  bool     `json:"partial"`
	Unread   []Unread `json:"unread"`
	Warnings []string `json:"warnings,omitempty"`
	// NodeCount is the number of nodes seen.
	NodeCount int     `json:"nodeCount"`
	Summary   Summary `json:"summary"`
	// Gate records what the findings were judged under (--fail-on,
	// --ignore, --grace); each finding's failing flag follows from it.
	Gate GateSettings `json:"gate"`
	// Grace is the --grace period applied, if any (e.g. "5m0s"); also in
	// gate.grace, kept here for consumers of earlier reports.
	Grace      string            `json:"grace,omitempty"`
	DaemonSets []DaemonSetReport `json:"daemonSets"`
	// Problems group the findings by cause, most severe and broadest
	// first: what the default view prints.
	Problems []Problem `json:"problems"`
	// Nodes describes every node seen, sorted by name (for the coverage
	// view and for consumers that want taints and readiness).
	Nodes []NodeInfo `json:"nodes,omitempty"`
	// Capacity is the daemons' overhead per node pool and the nodes where
	// they do not fit (capacity.go); nil when nodes could not be read.
	Capacity *Capacity `json:"capacity,omitempty"`

	// NotServed lists the kinds looked for that the cluster does not
	// serve (e.g. OpenKruise's daemonsets.apps.kruise.io when OpenKruise
	// is not installed): not unread, and the report is not partial.
	NotServed []NotServed `json:"notServed,omitempty"`
}

// NodeInfo is what the coverage view shows of a node.
type NodeInfo struct {
	Name    string            `json:"name"`
	Ready   string            `json:"ready"`
	Created time.Time         `json:"created"`
	Taints  []string          `json:"taints,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Exempt is the node's daemoncheck.io/exempt annotation, if any.
	Exempt *string `json:"exempt,omitempty"`
	// Conditions are the node-level causes that explain daemon Pod
	// problems: NotReady, Unreachable, Cordoned, MemoryPressure,
	// DiskPressure, PIDPressure, NetworkUnavailable.
	Conditions []string `json:"conditions,omitempty"`
	// KernelVersion, OSImage and KubeletVersion come from status.nodeInfo
	// (for patterns).
	KernelVersion  string `json:"kernelVersion,omitempty"`
	OSImage        string `json:"osImage,omitempty"`
	KubeletVersion string `json:"kubeletVersion,omitempty"`
}

// Summary counts findings by type, over all DaemonSets.
type Summary struct {
	DaemonSets int `json:"daemonSets"`
	// Healthy counts DaemonSets without active findings.
	Healthy int `json:"healthy"`
	// Findings counts active findings (not exempted, not held back).
	Findings int                 `json:"findings"`
	ByType   map[FindingType]int `json:"byType,omitempty"`
	// Exempted and HeldBack count findings set aside by exemption
	// annotations and by --grace; they stay in the report, marked.
	Exempted int `json:"exempted,omitempty"`
	HeldBack int `json:"heldBack,omitempty"`
	// Failing counts the active findings that --fail-on selects (those
	// with failing: true): the exit code is 1 when it is above zero.
	Failing       int                 `json:"failing"`
	FailingByType map[FindingType]int `json:"failingByType,omitempty"`
	// FailingBySeverity says which levels failed the gate (error: broken
	// now; warning: at risk; info: advice).
	FailingBySeverity map[Severity]int `json:"failingBySeverity,omitempty"`
}

// Unread is a kind of object that could not be read (or was absent from
// the input): the report is partial.
type Unread struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	// Rule is the RBAC rule that would allow the read, when the API server
	// refused it (e.g. "apiGroups: [apps], resources: [daemonsets], verbs:
	// [get, list]").
	Rule string `json:"rule,omitempty"`
	// Optional marks a kind only some checks use (CSINodes, CSIDrivers,
	// ResourceSlices): unread, those checks say unknown, and the report is
	// not partial for it (every DaemonSet was still judged; a role made
	// before the kind was read keeps working).
	Optional bool `json:"optional,omitempty"`
}

// Counts mirrors the counting fields of apps/v1 DaemonSetStatus.
type Counts struct {
	DesiredNumberScheduled int32 `json:"desiredNumberScheduled"`
	CurrentNumberScheduled int32 `json:"currentNumberScheduled"`
	NumberReady            int32 `json:"numberReady"`
	NumberAvailable        int32 `json:"numberAvailable"`
	UpdatedNumberScheduled int32 `json:"updatedNumberScheduled"`
	NumberMisscheduled     int32 `json:"numberMisscheduled"`
	NumberUnavailable      int32 `json:"numberUnavailable"`
	ObservedGeneration     int64 `json:"observedGeneration"`
}

// DaemonSetReport is the audit of one DaemonSet.
type DaemonSetReport struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Generation is metadata.generation; CurrentRevision the hash of the
	// newest ControllerRevision ("" when unknown).
	Generation      int64     `json:"generation"`
	CurrentRevision string    `json:"currentRevision,omitempty"`
	Created         time.Time `json:"created"`
	Selector        string    `json:"selector"`
	NodeSelector    string    `json:"nodeSelector,omitempty"`
	Images          []string  `json:"images,omitempty"`
	MinReadySeconds int32     `json:"minReadySeconds,omitempty"`
	UpdateStrategy  string    `json:"updateStrategy"`
	MaxUnavailable  string    `json:"maxUnavailable,omitempty"`
	MaxSurge        string    `json:"maxSurge,omitempty"`
	// Status is what the controller reported; Computed what daemoncheck
	// recomputed the controller would report. Computed is null when the
	// objects needed to recompute it could not be read (see Unknown).
	Status   Counts  `json:"status"`
	Computed *Counts `json:"computed"`
	// ManagedBy is what reconciles the DaemonSet (a Helm release, an
	// addon manager, a cloud add-on, Argo CD, Flux, an operator), detected
	// from its labels, annotations and owner references; nil when nothing
	// does. Fixes that change the DaemonSet go through it.
	ManagedBy *Manager `json:"managedBy,omitempty"`
	// Unknown lists what daemoncheck could not determine, and why.
	Unknown []string `json:"unknown"`
	// NotTargeted groups the nodes the DaemonSet does not target by node
	// pool and reason.
	NotTargeted []CoverageGap `json:"notTargeted"`
	Nodes       []NodeVerdict `json:"nodes"`
	Findings    []Finding     `json:"findings"`
	// Events are the most recent Warning events about the DaemonSet and its
	// Pods, newest last.
	Events []Event `json:"events,omitempty"`

	// Group is the DaemonSet's API group when it is not the core
	// DaemonSet ("apps.kruise.io" for an OpenKruise Advanced DaemonSet);
	// Resource is then how kubectl names it without ambiguity
	// ("daemonset.apps.kruise.io"), and Kruise its Kruise-only settings.
	Group    string  `json:"group,omitempty"`
	Resource string  `json:"resource,omitempty"`
	Kruise   *Kruise `json:"kruise,omitempty"`
}

// Kruise is what an OpenKruise Advanced DaemonSet sets beyond a core
// DaemonSet, and which nodes it leaves as they are on purpose: their old
// Pods (HeldNodes) and their missing Pods (NotCreatedNodes) are not
// findings.
type Kruise struct {
	APIVersion string `json:"apiVersion"`
	// Partition is rollingUpdate.partition as set (an int, or a
	// percentage in v1beta1), "" when unset; PartitionNodes what it
	// resolves to.
	Partition      string `json:"partition,omitempty"`
	PartitionNodes int    `json:"partitionNodes"`
	Paused         bool   `json:"paused"`
	// UpdateSelector is rollingUpdate.selector: only nodes it matches
	// are updated.
	UpdateSelector     string `json:"updateSelector,omitempty"`
	PartitionedScaling bool   `json:"partitionedScaling"`
	RollingUpdateType  string `json:"rollingUpdateType,omitempty"`
	// HeldNodes run an old revision the controller keeps on purpose,
	// each with why: partition, selector or paused.
	HeldNodes []HeldNode `json:"heldNodes"`
	// NotCreatedNodes are targeted nodes without a Pod that partitioned
	// scaling holds back on purpose.
	NotCreatedNodes []string `json:"notCreatedNodes"`
}

// HeldNode is a node whose old Pod an Advanced DaemonSet keeps on purpose.
type HeldNode struct {
	Node string `json:"node"`
	Pod  string `json:"pod"`
	// Why is partition (rollingUpdate.partition keeps this many nodes
	// old), selector (rollingUpdate.selector does not match the node) or
	// paused (rollingUpdate.paused).
	Why string `json:"why"`
}

// NotServed is a kind daemoncheck looks for that the API server does not
// serve (a CRD that is not installed).
type NotServed struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Event is a Warning event about the DaemonSet or one of its Pods.
type Event struct {
	Object string `json:"object"`
	// From is the component that reported the event (source.component and
	// host, else reportingController and instance), kubectl's FROM column.
	From     string    `json:"from,omitempty"`
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
	Count    int32     `json:"count"`
	LastSeen time.Time `json:"lastSeen"`
}

// NodeVerdict is the controller's decision for one (DaemonSet, node) pair,
// and what is actually on the node.
type NodeVerdict struct {
	Name                  string   `json:"name"`
	ShouldRun             bool     `json:"shouldRun"`
	ShouldContinueRunning bool     `json:"shouldContinueRunning"`
	Coverage              Coverage `json:"coverage"`
	// Reason says why the node is not targeted ("" when it is); Cause
	// classifies it: Taint, NodeSelector, NodeAffinity or NodeName; Short
	// is a few words for table cells.
	Reason string `json:"reason,omitempty"`
	Cause  string `json:"cause,omitempty"`
	Short  string `json:"shortReason,omitempty"`
	// Required is true when a coverage policy says the node must run the
	// DaemonSet; RequiredBy names the rule.
	Required   bool     `json:"required,omitempty"`
	RequiredBy string   `json:"requiredBy,omitempty"`
	Pods       []PodRef `json:"pods,omitempty"`
}

// PodRef summarizes a daemon Pod.
type PodRef struct {
	Name     string    `json:"name"`
	Phase    string    `json:"phase"`
	Ready    bool      `json:"ready"`
	Revision string    `json:"revision,omitempty"`
	Updated  bool      `json:"updated"`
	Restarts int32     `json:"restarts"`
	Created  time.Time `json:"created"`
	// State is a short human state: Running, Pending, CrashLoopBackOff ...
	State string `json:"state"`
	// Adopted: the Pod has no controller but matches the DaemonSet's
	// selector; the controller adopts it at its next sync (ClaimPods) and
	// counts it already.
	Adopted bool `json:"adopted,omitempty"`
}

// Finding is one problem, with what to do about it.
type Finding struct {
	// ID is stable across runs (FindingID): problems, watch diffs and
	// fleet rows refer to findings by it.
	ID       string      `json:"id"`
	Type     FindingType `json:"type"`
	Severity Severity    `json:"severity"`
	// Reason and Params are the machine form of Cause: code decides on
	// them, never on text.
	Reason  Reason `json:"reason,omitempty"`
	Params  Params `json:"params,omitzero"`
	Node    string `json:"node,omitempty"`
	Pod     string `json:"pod,omitempty"`
	Message string `json:"message"`
	// Since is when the finding's condition began, where one is known (a
	// Pod pending since its creation, a rollout without progress since
	// its last update): printers render ages from it.
	Since      *time.Time `json:"since,omitempty"`
	Suggestion string     `json:"suggestion,omitempty"`
	// Advice is Suggestion as data: its words and the commands it names,
	// as argument vectors (printers render them per context: a fleet adds
	// --context). Nil where the suggestion names no command.
	Advice *Advice `json:"advice,omitempty"`
	// State is Active, Exempted or HeldBack (the latter two say why in
	// Exempted and HeldBack).
	State State `json:"state"`
	// Exempted says which annotation exempts the finding; HeldBack why
	// --grace holds it back. Either makes the finding inactive: reported,
	// never failing.
	Exempted string `json:"exempted,omitempty"`
	HeldBack string `json:"heldBack,omitempty"`
	// Cause is what the finding's problem groups by: findings of one
	// DaemonSet with the same type and cause are one problem.
	Cause string `json:"cause,omitempty"`
	// NodeCause is the node condition that explains the finding
	// (NotReady, Unreachable, NetworkUnavailable, MemoryPressure ...), if
	// any: the problem is the node's, not the Pod's.
	NodeCause string `json:"nodeCause,omitempty"`
	// Failing is true when the finding is active and --fail-on selects it:
	// it makes the exit code 1.
	Failing bool `json:"failing"`
}

// Active reports whether the finding counts (is neither exempted nor held
// back by grace).
func (f *Finding) Active() bool { return f.Exempted == "" && f.HeldBack == "" }

// New returns an empty report with its apiVersion and kind set.
func New() *Report {
	return &Report{TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind}}
}

// DeepCopyObject implements runtime.Object. Reports are printed, not
// mutated, so a JSON round trip is simple and fast enough.
func (r *Report) DeepCopyObject() runtime.Object {
	data, err := json.Marshal(r)
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	out := &Report{}
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}

// Manager is what reconciles an object, and how daemoncheck knows.
type Manager struct {
	// Kind is Helm, HelmController, AddonManager, EKSAddon, GKEAddon,
	// AKSAddon, ArgoCD, Flux, Kustomize, ClusterVersionOperator, Operator
	// or Tool.
	Kind string `json:"kind"`
	// Name and Namespace name the managing object (release, Application,
	// Kustomization, add-on, owner), when the metadata says.
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Object and APIVersion are the managing object's kind and version,
	// where there is one (HelmRelease, Application, an owner's kind).
	Object     string `json:"object,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	// Evidence is the label, annotation or owner reference that decided.
	Evidence string `json:"evidence"`
	// Summary is the one line the detail view prints.
	Summary string `json:"summary"`
}

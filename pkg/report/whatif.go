package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// WhatIfKind is the kind of the what-if report (`kubectl daemoncheck
// whatif`), versioned with the audit report (APIVersion).
const WhatIfKind = "WhatIfReport"

// WhatIfReport answers, before a node pool exists or a DaemonSet change is
// merged, "will every required daemon land and fit?". It is a
// runtime.Object, printed by kubectl's printers as the audit report is.
//
// Its maps of amounts (allocatable, overhead, headroom, request) hold exact
// Kubernetes quantities ("250m", "564Mi", "15258Mi") for a program to
// parse; the maps ending in Values beside them hold the same amounts as
// integers in the scheduler's units: millicores for cpu, bytes for memory,
// ephemeral-storage and hugepages, a count for pods and extended
// resources. The printers read the integers, to show the amounts of a
// resource that sit together (a node shape's lines and its table) in one
// unit.
type WhatIfReport struct {
	metav1.TypeMeta `json:",inline"`
	GeneratedAt     time.Time `json:"generatedAt"`
	// Source is the cluster the proposal is judged against (a server URL
	// or the dump's file names); Inputs are the proposal's files ("flags"
	// for a node described by flags).
	Source string   `json:"source"`
	Inputs []string `json:"inputs"`
	// Partial, Unread and Warnings as in the audit report.
	Partial  bool     `json:"partial"`
	Unread   []Unread `json:"unread"`
	Warnings []string `json:"warnings,omitempty"`
	// NodeCount is the number of cluster nodes read; DaemonSets counts
	// the DaemonSets the proposal is judged with (after the changes), as
	// the audit's summary.daemonSets does.
	NodeCount  int `json:"nodeCount"`
	DaemonSets int `json:"daemonSets"`
	// Gate is what the findings were judged under (--fail-on, --ignore).
	Gate    WhatIfGateSettings `json:"gate"`
	Summary WhatIfSummary      `json:"summary"`
	// Pools are the proposed node pools, Changes the changed DaemonSets.
	Pools   []PoolWhatIf      `json:"pools"`
	Changes []DaemonSetChange `json:"changes"`
}

// WhatIfSummary counts the what-if's findings.
type WhatIfSummary struct {
	Pools    int `json:"pools"`
	Shapes   int `json:"shapes"`
	Changes  int `json:"changes"`
	Findings int `json:"findings"`
	// Failing counts the findings the gate selects (--fail-on; by default
	// those of severity error): exit code 1 when > 0.
	Failing int                       `json:"failing"`
	ByType  map[WhatIfFindingType]int `json:"byType,omitempty"`
	// UnjudgedShapes counts the node shapes of every pool that were not
	// judged (beyond the bound on shapes per pool; saturated at the int64
	// bound).
	UnjudgedShapes int64 `json:"unjudgedShapes,omitempty"`
}

// PoolWhatIf is the verdict for one proposed pool.
type PoolWhatIf struct {
	// Source is the input file ("flags" for --labels/--taints/...).
	Source     string `json:"source"`
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Labels are on every node of the pool (labels that vary are in each
	// shape); FilledLabels are those of its nodes' labels that the input
	// does not state but the kubelet, cloud provider or provisioner sets.
	Labels       map[string]string `json:"labels"`
	FilledLabels []string          `json:"filledLabels"`
	// Requirements constrain labels that vary between the pool's nodes.
	Requirements  []string       `json:"requirements,omitempty"`
	Taints        []string       `json:"taints"`
	StartupTaints []StartupTaint `json:"startupTaints"`
	// Notes say what cannot be known from the input and what was assumed.
	Notes []string `json:"notes"`
	// Shapes are the distinct kinds of node the pool can create, as far as
	// the DaemonSets' selectors and the capacity can tell them apart.
	Shapes   []Shape         `json:"shapes"`
	Findings []WhatIfFinding `json:"findings"`
	// ShapesAllowed counts the distinct node shapes the requirements
	// allow, UnjudgedShapes those of them not judged (beyond the bound on
	// shapes per pool), both saturated at the int64 bound; set only when
	// some were not judged (a ShapesNotJudged finding says so).
	ShapesAllowed  int64 `json:"shapesAllowed,omitempty"`
	UnjudgedShapes int64 `json:"unjudgedShapes,omitempty"`
}

// StartupTaint is a taint a node starts with until something removes it.
type StartupTaint struct {
	Taint string `json:"taint"`
	// ToleratedBy are the DaemonSets whose Pods land before it is
	// removed (the one that removes it must be among them).
	ToleratedBy []string `json:"toleratedBy"`
	// Owner is the readiness gate's owner and RemovedBy who removes it,
	// when it is a gate daemoncheck knows (internal/providers/gates.go);
	// Agents are the DaemonSets among ToleratedBy it waits for (its agent,
	// or whose tolerations name its key).
	Owner     string   `json:"owner,omitempty"`
	RemovedBy string   `json:"removedBy,omitempty"`
	Agents    []string `json:"agents,omitempty"`
}

// Shape is one kind of node of a pool: its labels, capacity, and which
// daemons would run and fit there.
type Shape struct {
	// Name is the node's name (the Node manifest's, or made up).
	Name string `json:"name"`
	// Varies lists what sets this shape apart, e.g.
	// "kubernetes.io/arch in (arm64)".
	Varies       []string          `json:"varies,omitempty"`
	Labels       map[string]string `json:"labels"`
	InstanceType string            `json:"instanceType,omitempty"`
	// InstanceTypes are all the instance types the shape stands for (the
	// pool's values that no selector, coverage rule or capacity tells
	// apart; InstanceType is the one judged); OtherInstanceTypes: it also
	// stands for instance types the pool does not name.
	InstanceTypes      []string `json:"instanceTypes,omitempty"`
	OtherInstanceTypes bool     `json:"otherInstanceTypes,omitempty"`
	// OS and Arch are the shape's kubernetes.io/os and kubernetes.io/arch.
	OS   string `json:"os,omitempty"`
	Arch string `json:"arch,omitempty"`
	// Allocatable is the node's allocatable and AllocatableFrom where it
	// came from; FitUnknown says why it is not known (then Allocatable is
	// empty and no daemon is judged for resources).
	Allocatable     map[string]string `json:"allocatable,omitempty"`
	AllocatableFrom string            `json:"allocatableFrom,omitempty"`
	FitUnknown      string            `json:"fitUnknown,omitempty"`
	// Overhead is what the daemons that would run request together;
	// OverheadPercent the same in percent of Allocatable; Headroom what
	// is left for workloads once the daemons that fit are placed.
	Overhead        map[string]string `json:"overhead"`
	OverheadPercent map[string]int    `json:"overheadPercent,omitempty"`
	Headroom        map[string]string `json:"headroom,omitempty"`
	// AllocatableValues, OverheadValues and HeadroomValues are the same
	// amounts as integers (see WhatIfReport).
	AllocatableValues map[string]int64 `json:"allocatableValues,omitempty"`
	OverheadValues    map[string]int64 `json:"overheadValues"`
	HeadroomValues    map[string]int64 `json:"headroomValues,omitempty"`
	DaemonSets        []ShapeDaemon    `json:"daemonSets"`
}

// Fit values of a daemon on a shape.
const (
	ShapeFitYes     = "Yes"
	ShapeFitNo      = "No"
	ShapeFitUnknown = "Unknown"
)

// RequiredBySelectors is a daemon's RequiredBy when no coverage rule names
// its DaemonSet and its nodeSelector and required node affinity admit the
// node: it was written to run on such nodes.
const RequiredBySelectors = "its nodeSelector and node affinity admit the node (no coverage rule names it)"

// ShapeDaemon is one DaemonSet on one shape.
type ShapeDaemon struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Runs: the controller would target the node (after startup taints
	// are removed). Reason, Cause and ShortReason say why not, as in the
	// audit's node verdicts.
	Runs   bool   `json:"runs"`
	Reason string `json:"reason,omitempty"`
	Cause  string `json:"cause,omitempty"`
	Short  string `json:"shortReason,omitempty"`
	// Required: a coverage rule requires the DaemonSet on the node, or
	// (without a rule for it) its selectors admit the node; RequiredBy
	// names which.
	Required   bool   `json:"required"`
	RequiredBy string `json:"requiredBy,omitempty"`
	// WaitsFor are startup taints it does not tolerate: it lands once they
	// are removed.
	WaitsFor []string `json:"waitsFor,omitempty"`
	// Request is one Pod's effective request (with a Pod slot); Priority
	// its priority (PriorityKnown false: its PriorityClass was not read).
	Request       map[string]string `json:"request,omitempty"`
	RequestValues map[string]int64  `json:"requestValues,omitempty"`
	Priority      int32             `json:"priority"`
	PriorityKnown bool              `json:"priorityKnown"`
	// Fit is Yes, No or Unknown for a daemon that runs ("" otherwise);
	// Shortfalls and PortClashes say why not.
	Fit         string   `json:"fit,omitempty"`
	Shortfalls  []string `json:"shortfalls,omitempty"`
	PortClashes []string `json:"portClashes,omitempty"`
}

// DaemonSetChange compares the nodes a changed DaemonSet would target with
// those it targets today.
type DaemonSetChange struct {
	Source    string `json:"source"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// New: the DaemonSet is not in the cluster; every node it targets is
	// gained.
	New         bool `json:"new"`
	NodesBefore int  `json:"nodesBefore"`
	NodesAfter  int  `json:"nodesAfter"`
	// RequestBefore and RequestAfter are one Pod's effective request;
	// the Values fields the same as integers (see WhatIfReport).
	RequestBefore       map[string]string `json:"requestBefore,omitempty"`
	RequestAfter        map[string]string `json:"requestAfter"`
	RequestBeforeValues map[string]int64  `json:"requestBeforeValues,omitempty"`
	RequestAfterValues  map[string]int64  `json:"requestAfterValues"`
	// Gained and Lost group the nodes by pool (and, lost, by the reason
	// the new spec does not target them).
	Gained   []NodeGroup     `json:"gained"`
	Lost     []NodeGroup     `json:"lost"`
	Findings []WhatIfFinding `json:"findings"`
	// Unknown says what could not be compared, and why (nodes not read).
	Unknown []string `json:"unknown,omitempty"`
}

// NodeGroup is a group of cluster nodes with one pool and one reason.
type NodeGroup struct {
	Pool   string `json:"pool,omitempty"`
	Reason string `json:"reason,omitempty"`
	Cause  string `json:"cause,omitempty"`
	Count  int    `json:"count"`
	// Range is the nodes compactly (worker-1…5), Nodes each of them in
	// natural order.
	Range string   `json:"nodeRange"`
	Nodes []string `json:"nodes"`
}

// WhatIfFindingType names a class of what-if finding, as FindingType does
// for the audit. The values are part of the API.
type WhatIfFindingType string

const (
	// WhatIfWillNotRun: a required daemon would not be targeted.
	WhatIfWillNotRun WhatIfFindingType = "WillNotRun"
	// WhatIfWillNotFit: a targeted daemon would not fit, its Pod stays Pending.
	WhatIfWillNotFit WhatIfFindingType = "WillNotFit"
	// WhatIfHostPortConflict: a targeted daemon claims a host port another daemon
	// on the node holds; its Pod stays Pending (the audit's HostPortConflict).
	WhatIfHostPortConflict WhatIfFindingType = "HostPortConflict"
	// WhatIfStartupTaint: no DaemonSet tolerates a startup taint, so
	// none of them can be what removes it.
	WhatIfStartupTaint WhatIfFindingType = "StartupTaintUntolerated"
	// WhatIfFitUnknown: the node's allocatable is not known; fit is not judged.
	WhatIfFitUnknown WhatIfFindingType = "FitUnknown"
	// WhatIfShapesNotJudged: the pool allows more node shapes than the
	// bound on shapes per pool; those beyond it were not judged.
	WhatIfShapesNotJudged WhatIfFindingType = "ShapesNotJudged"
	// WhatIfNoNodeShape: the pool's requirements allow no node at all
	// (they contradict each other, or allow no value of a label).
	WhatIfNoNodeShape WhatIfFindingType = "NoNodeShape"
)

// Readiness gates in a what-if (internal/whatif/whatif_gates.go).
const (
	// WhatIfGateDeadlock: a startup taint waits for a DaemonSet that does
	// not tolerate it; the nodes never become ready.
	WhatIfGateDeadlock WhatIfFindingType = "GateDeadlock"
)

// Platforms (internal/whatif/whatif_platform.go).
const (
	// WhatIfNewPlatform: the pool brings an os/arch on which no Pod of a
	// DaemonSet it would run has run in the cluster.
	WhatIfNewPlatform WhatIfFindingType = "NewPlatform"
)

// WhatIfTypes lists the finding types with their severity, in
// documentation order.
var WhatIfTypes = []struct {
	Type     WhatIfFindingType
	Severity Severity
	Doc      string
}{
	{WhatIfWillNotRun, SeverityError, "a required DaemonSet would not be targeted: a coverage rule requires it, or its selectors admit the node but a taint keeps it off"},
	{WhatIfWillNotFit, SeverityError, "the controller would target the node but the daemon does not fit once the daemons of higher priority are placed: its Pod stays Pending"},
	{WhatIfHostPortConflict, SeverityError, "two daemons targeting the node claim the same host port: one Pod stays Pending"},
	{WhatIfStartupTaint, SeverityWarning, "no DaemonSet tolerates a startup taint, so none of them can be what removes it"},
	{WhatIfFitUnknown, SeverityWarning, "the node's allocatable is not known (no status, no --allocatable, no node of the instance type in the cluster): fit is not judged"},
	{WhatIfShapesNotJudged, SeverityError, "the pool allows more node shapes than --max-shapes: those beyond it were not judged, so a failure there would go unseen (a warning with --accept-unjudged-shapes)"},
	{WhatIfNoNodeShape, SeverityError, "no node shape satisfies the pool's requirements (they contradict each other or allow no value): nothing about the pool can be judged"},
	{WhatIfGateDeadlock, SeverityError, "a startup taint (readiness gate) waits for a DaemonSet, its agent or one whose tolerations name the taint, that does not tolerate it: its Pods never start on the pool's nodes, so the taint is never lifted"},
	// Platforms.
	{WhatIfNewPlatform, SeverityWarning, "the pool brings a platform (os/arch) on which no Pod of a DaemonSet it would run has run in the cluster: if the image has no variant for it, its Pods there fail"},
}

// WhatIfSeverity is the severity of a kind.
func WhatIfSeverity(k WhatIfFindingType) Severity {
	for _, w := range WhatIfTypes {
		if w.Type == k {
			return w.Severity
		}
	}
	return SeverityWarning
}

// WhatIfGate is a what-if's --fail-on and --ignore: severities (a
// severity selects itself and every higher one) and finding kinds.
type WhatIfGate struct {
	minRank int
	kinds   map[WhatIfFindingType]bool
	failOn  []string
	// Ignore drops findings of these kinds from the report.
	Ignore map[WhatIfFindingType]bool
}

// WhatIfGateSettings is the JSON form of a WhatIfGate.
type WhatIfGateSettings struct {
	FailOn []string            `json:"failOn"`
	Ignore []WhatIfFindingType `json:"ignore"`
}

// DefaultWhatIfGate fails on findings of severity error.
func DefaultWhatIfGate() WhatIfGate {
	g, _ := ParseWhatIfGate([]string{string(SeverityError)}, nil)
	return g
}

func whatIfTypeList() string {
	names := make([]string, len(WhatIfTypes))
	for i, k := range WhatIfTypes {
		names[i] = string(k.Type)
	}
	return strings.Join(names, ", ")
}

// KnownWhatIfType reports whether k is a what-if finding kind.
func KnownWhatIfType(k WhatIfFindingType) bool {
	for _, w := range WhatIfTypes {
		if w.Type == k {
			return true
		}
	}
	return false
}

// ParseWhatIfGate parses --fail-on (error, warning, info, none, or kinds)
// and --ignore (kinds), as ParseSelector and ParseTypes do for the audit.
// A kind both failed on and ignored is an error: ignored findings cannot
// fail.
func ParseWhatIfGate(failOn, ignore []string) (WhatIfGate, error) {
	g := WhatIfGate{kinds: map[WhatIfFindingType]bool{}, Ignore: map[WhatIfFindingType]bool{}}
	use := fmt.Sprintf("use error, warning, info, none or finding types (%s)", whatIfTypeList())
	if len(failOn) == 0 {
		return g, fmt.Errorf("--fail-on: no value: %s", use)
	}
	none := false
	for _, v := range failOn {
		switch {
		case v == "":
			return g, fmt.Errorf("--fail-on: empty value: %s", use)
		case v == FailOnNone:
			none = true
		case Severity(v).Rank() > 0:
			if r := Severity(v).Rank(); g.minRank == 0 || r < g.minRank {
				g.minRank = r
			}
		case KnownWhatIfType(WhatIfFindingType(v)):
			g.kinds[WhatIfFindingType(v)] = true
		default:
			return g, fmt.Errorf("--fail-on %q: %s", v, use)
		}
		g.failOn = append(g.failOn, v)
	}
	if none && len(failOn) > 1 {
		return g, fmt.Errorf("--fail-on %q cannot be combined with other values", FailOnNone)
	}
	sort.Strings(g.failOn)
	for _, v := range ignore {
		k := WhatIfFindingType(v)
		if !KnownWhatIfType(k) {
			return g, fmt.Errorf("--ignore %q: unknown finding type; use one of %s", v, whatIfTypeList())
		}
		if g.kinds[k] {
			return g, fmt.Errorf("--fail-on %s and --ignore %s contradict each other: ignored findings are left out of the report and cannot fail; drop one", v, v)
		}
		g.Ignore[k] = true
	}
	return g, nil
}

// Fails reports whether a finding of kind k and severity sev fails the
// gate.
func (g WhatIfGate) Fails(k WhatIfFindingType, sev Severity) bool {
	if g.minRank > 0 && sev.Rank() >= g.minRank {
		return true
	}
	return g.kinds[k]
}

// Settings returns the gate as recorded in the report.
func (g WhatIfGate) Settings() WhatIfGateSettings {
	s := WhatIfGateSettings{FailOn: append([]string{}, g.failOn...), Ignore: []WhatIfFindingType{}}
	for _, k := range WhatIfTypes {
		if g.Ignore[k.Type] {
			s.Ignore = append(s.Ignore, k.Type)
		}
	}
	return s
}

// IsZero reports whether the gate was never parsed.
func (g WhatIfGate) IsZero() bool { return g.failOn == nil }

// WhatIfFinding is one predicted problem, with the fix.
type WhatIfFinding struct {
	Type     WhatIfFindingType `json:"type"`
	Severity Severity          `json:"severity"`
	// Failing: the gate selects it (--fail-on; by default severity
	// error); makes the exit code 1.
	Failing   bool   `json:"failing"`
	DaemonSet string `json:"daemonSet,omitempty"`
	// Cause is what the finding is about, apart from where and which
	// DaemonSet: findings of one kind with the same cause have the same
	// fix (WillNotRun: the controller's reason; FitUnknown: why the
	// allocatable is not known). Printers group by it.
	Cause string `json:"cause,omitempty"`
	// RequiredBy names the coverage rule that requires the DaemonSet
	// (WillNotRun).
	RequiredBy string `json:"requiredBy,omitempty"`
	// Shapes are the pool's node shapes it concerns; Nodes the cluster
	// nodes (a change).
	Shapes     []string `json:"shapes,omitempty"`
	Nodes      []string `json:"nodes,omitempty"`
	Message    string   `json:"message"`
	Suggestion string   `json:"suggestion,omitempty"`
}

// NewWhatIf returns an empty what-if report with apiVersion and kind set.
func NewWhatIf() *WhatIfReport {
	return &WhatIfReport{TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: WhatIfKind},
		Inputs: []string{}, Unread: []Unread{}, Pools: []PoolWhatIf{}, Changes: []DaemonSetChange{}}
}

// DeepCopyObject implements runtime.Object (a JSON round trip, as Report).
func (r *WhatIfReport) DeepCopyObject() runtime.Object {
	data, err := json.Marshal(r)
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	out := &WhatIfReport{}
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}

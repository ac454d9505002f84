package report

import "fmt"

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
)

// Severity ranks findings for --fail-on.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// rank orders severities: a threshold selects its own rank and above.
func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 2
	case SeverityWarning:
		return 1
	}
	return 0
}

// TypeInfo is everything daemoncheck declares about a finding type, in one
// place (as popeye's codes.yaml does): adding a type means one entry here and
// its detection function in package analyze.
type TypeInfo struct {
	Type FindingType
	// Severity is the default severity. Errors mean a node is not protected
	// by its daemon now; warnings mean the state is off but the node is
	// served, or the controller fixes it by itself.
	Severity Severity
	// PodGrace: --grace also holds the finding back while its Pod is
	// younger than the grace period (every finding on a young node is held
	// back, whatever its type).
	PodGrace bool
	// Column is the summary table column that counts the type ("" none);
	// Wide puts it under -o wide only.
	Column string
	Wide   bool
	// Doc says in one line when the finding is reported (README, help).
	Doc string
}

// Catalog lists every finding type, in documentation order; the order is also
// the canonical order of findings on one node.
var Catalog = []TypeInfo{
	{Type: MissingPod, Severity: SeverityError, Column: "MISSING",
		Doc: "the controller targets the node and no daemon Pod of the DaemonSet is there"},
	{Type: PendingPod, Severity: SeverityError, PodGrace: true, Column: "PENDING", Wide: true,
		Doc: "a daemon Pod is unscheduled or bound but not started"},
	{Type: UnhealthyPod, Severity: SeverityError, PodGrace: true, Column: "UNHEALTHY",
		Doc: "the Pod is on its node but not Ready"},
	{Type: DuplicatePods, Severity: SeverityWarning, Column: "DUPLICATE", Wide: true,
		Doc: "more than one daemon Pod on one node, outside a surge rollout"},
	{Type: MisscheduledPod, Severity: SeverityWarning, Column: "MISSCHEDULED",
		Doc: "a Pod on a node the controller does not target"},
	{Type: OrphanedPod, Severity: SeverityWarning, Column: "ORPHANED", Wide: true,
		Doc: "a Pod bound to, or (unscheduled) aimed at, a node that no longer exists"},
	{Type: OutdatedPod, Severity: SeverityWarning, PodGrace: true, Column: "OUTDATED",
		Doc: "a Pod not on the current revision"},
	{Type: StaleStatus, Severity: SeverityWarning,
		Doc: "`status.observedGeneration < metadata.generation`, or the controller's published counts differ from the recomputed ones"},
	{Type: UncoveredNode, Severity: SeverityError,
		Doc: "a coverage policy requires the DaemonSet on the node, but the controller does not target it"},
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

// AllTypes lists every finding type, in catalog order.
func AllTypes() []FindingType {
	out := make([]FindingType, len(Catalog))
	for i, ti := range Catalog {
		out[i] = ti.Type
	}
	return out
}

// DefaultSeverity is the catalog severity of t.
func DefaultSeverity(t FindingType) Severity { return Info(t).Severity }

// typeOrder is t's position in the catalog (unknown types last).
func typeOrder(t FindingType) int {
	if i, ok := catalogIndex[t]; ok {
		return i
	}
	return len(Catalog)
}

// Package snapshot holds the objects one audit looks at. A live read of the
// cluster and an offline read of files both produce a Snapshot, so the
// analysis cannot tell them apart and behaves the same on either.
package model

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

// Kind names a kind of object in the snapshot, for saying what was not seen.
type Kind string

const (
	DaemonSets          Kind = "daemonsets"
	Nodes               Kind = "nodes"
	Pods                Kind = "pods"
	ControllerRevisions Kind = "controllerrevisions"
	Events              Kind = "events"
	PriorityClasses     Kind = "priorityclasses"
	// Workloads are every non-terminal Pod of the cluster, read only when
	// asked (--workloads), aggregated per node (see Workloads).
	AllPods Kind = "workloads"
)

// Snapshot is the input of the analysis.
type Snapshot struct {
	// Source describes where the objects came from (a server URL or files).
	Source string
	// ServerVersion is the API server's version (discovery's gitVersion,
	// e.g. "v1.33.4"; offline the --server-version flag), "" when unknown.
	// The analysis follows the controller rules of that version where they
	// differ between supported minor versions (analyze.Rules).
	ServerVersion string

	DaemonSets []appsv1.DaemonSet
	Nodes      []corev1.Node
	// DaemonPods are the daemon Pods, in the compact form both readers
	// produce (full Pods are compacted with Compact or CompactPods).
	DaemonPods          []DaemonPod
	ControllerRevisions []appsv1.ControllerRevision
	Events              []corev1.Event
	// PriorityClasses resolve the priority of daemon Pods from their
	// templates (capacity.Priority): who is left out or preempted when a
	// node is full.
	PriorityClasses []schedulingv1.PriorityClass
	// PriorityClassesRead says whether PriorityClasses holds the cluster's
	// classes: live, when the list succeeded; offline, when the input has
	// PriorityClass objects or a PriorityClassList. A dump without them is
	// not partial (most dumps lack them), but the priorities that depend on
	// them are unknown.
	PriorityClassesRead bool
	// Workloads aggregates every non-terminal Pod per node, when asked for
	// (nil otherwise, or when they could not be read: see Missing).
	Workloads *Workloads

	// Kruise holds what only OpenKruise's controller reads of each Advanced
	// DaemonSet in DaemonSets (see KruiseDaemonSet); NotServed the kinds
	// looked for that the server does not serve.
	Kruise    []KruiseDaemonSet
	NotServed []NotServed
	// NodeReadinessRules are node-readiness-controller's rules, when its
	// CRD is served and readable (NodeReadinessRulesRead); unread, a
	// readiness.k8s.io/ gate's conditions are unknown. Never an error: most
	// clusters do not run the controller.
	NodeReadinessRules     []NodeReadinessRule
	NodeReadinessRulesRead bool
	// NodeReadinessRulesUnread says why they could not be read (refused,
	// failed), "" when read or not asked for.
	NodeReadinessRulesUnread string
	// Plugins are the CSI and DRA node-plugin registrations (CSINode,
	// CSIDriver, ResourceSlice), each part read when it could be
	// (plugins.go).
	Plugins Plugins

	// Missing records kinds that could not be read (or were absent from the
	// input), with the reason. The analysis never guesses about them.
	Missing map[Kind]Gap
	// Warnings are non-fatal problems met while reading, for stderr and the
	// report.
	Warnings []string

	// NewestTime is the newest timestamp in an offline input (heartbeats,
	// condition transitions, events, creation times): a dump's best guess
	// at when it was taken, since judging it against the wall clock would
	// make every age, grace and minReadySeconds meaningless. Zero when
	// live or when the input has no timestamps.
	NewestTime time.Time
}

// Has reports whether objects of kind k were read.
func (s *Snapshot) Has(k Kind) bool {
	_, missing := s.Missing[k]
	return !missing
}

// Gap says why a kind was not read.
type Gap struct {
	// Reason is a sentence for people, including what to do.
	Reason string
	// Rule is the RBAC rule that would allow the read ("" when the server
	// did not refuse it, e.g. offline input that lacks the kind).
	Rule string
	// Optional: only some checks use the kind, which say unknown without
	// it; the report is not partial for it.
	Optional bool
}

// OptionalKinds are the kinds only some checks use (the node-plugin
// cross-checks): unread, they are reported as such, but the report is not
// partial for them.
var OptionalKinds = map[Kind]bool{CSINodes: true, CSIDrivers: true, ResourceSlices: true}

// MarkMissing records that kind k could not be read, why, and the RBAC rule
// that would allow it (if any).
func (s *Snapshot) MarkMissing(k Kind, why, rule string) {
	if s.Missing == nil {
		s.Missing = map[Kind]Gap{}
	}
	s.Missing[k] = Gap{Reason: why, Rule: rule, Optional: OptionalKinds[k]}
}

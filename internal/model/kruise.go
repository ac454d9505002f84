package model

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// OpenKruise's Advanced DaemonSet (apps.kruise.io DaemonSet) enters the
// snapshot twice: as an appsv1.DaemonSet in Snapshot.DaemonSets, whose
// fields mean what they mean for a core DaemonSet (selector, template,
// updateStrategy type, maxUnavailable, maxSurge, status), so the same
// per-node engine judges it; and as a KruiseDaemonSet in Snapshot.Kruise,
// holding what only Kruise's controller acts on (partition, paused, the
// update's node selector, partitioned scaling). The appsv1.DaemonSet's
// apiVersion (TypeMeta) says which it is: IsKruise.

// KruiseDaemonSets is the kind of Advanced DaemonSets, as Missing and
// NotServed name it (resource.group, as kubectl names it).
const KruiseDaemonSets Kind = "daemonsets.apps.kruise.io"

// KruiseGroup is OpenKruise's workload API group.
const KruiseGroup = "apps.kruise.io"

// KruiseDaemonSet is what Kruise's DaemonSet controller reads beyond a core
// DaemonSet's fields (kruise v1.8.2 apis/apps/v1alpha1/daemonset_types.go;
// v1beta1 the same, with partition as an int or percentage and
// scaleStrategy.partitionedScaling in place of the annotation).
type KruiseDaemonSet struct {
	Namespace, Name string
	UID             types.UID
	// APIVersion is the version the object was read at
	// (apps.kruise.io/v1alpha1 or apps.kruise.io/v1beta1).
	APIVersion string
	// Partition is spec.updateStrategy.rollingUpdate.partition: how many
	// nodes keep the old revision on purpose (nil: 0).
	Partition *intstr.IntOrString
	// Paused is rollingUpdate.paused: the controller does not update Pods
	// (it still creates missing ones).
	Paused bool
	// UpdateSelector is rollingUpdate.selector: only nodes it matches are
	// updated (nil: every node).
	UpdateSelector *metav1.LabelSelector
	// PartitionedScaling is scaleStrategy.partitionedScaling (v1beta1) or
	// the annotation daemonset.kruise.io/progressive-create-pod: "true"
	// (v1alpha1): the partition also holds back the creation of Pods on
	// nodes that have none.
	PartitionedScaling bool
	// RollingUpdateType is rollingUpdate.rollingUpdateType (Standard,
	// InPlaceIfPossible).
	RollingUpdateType string
	// UpdateRevision is status.daemonSetHash (v1alpha1) or
	// status.updateRevision (v1beta1): the current revision's hash as the
	// controller last wrote it.
	UpdateRevision string
}

// NotServed is a kind daemoncheck looks for that the API server does not
// serve (its CRD is not installed): nothing of it exists, so nothing is
// missing and the report is not partial.
type NotServed struct {
	Kind   Kind
	Reason string
}

// IsKruise reports whether ds is an Advanced DaemonSet (read from
// apps.kruise.io).
func IsKruise(ds *appsv1.DaemonSet) bool {
	return strings.HasPrefix(ds.APIVersion, KruiseGroup+"/")
}

// DaemonSetGroup is the API group of a DaemonSet kind as owner references
// and objects name it by apiVersion: "" for the core DaemonSet (apps, and
// extensions, which served the same object until 1.16; an empty apiVersion
// from a hand-written object is taken as core too), the group otherwise.
// Kruise's group is returned as the constant, so the many Pods that name
// it share one string.
func DaemonSetGroup(apiVersion string) string {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return "" // "v1" or "": the core group, no DaemonSet there but keep it core
	}
	switch group {
	case "apps", "extensions":
		return ""
	case KruiseGroup:
		return KruiseGroup
	}
	return group
}

// GroupOf is the API group of ds as DaemonSetGroup names it.
func GroupOf(ds *appsv1.DaemonSet) string { return DaemonSetGroup(ds.APIVersion) }

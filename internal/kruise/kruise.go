// Package kruise reads OpenKruise's Advanced DaemonSet (apps.kruise.io
// DaemonSet, v1alpha1 or v1beta1) into the two records of the snapshot: an
// appsv1.DaemonSet for the per-node engine every DaemonSet goes through,
// and a model.KruiseDaemonSet with what only Kruise's controller reads.
// Both readers (live and files) decode into Object and call Convert, so the
// two cannot disagree. The fields are read through a small struct of our
// own rather than kruise-api's types: the plugin needs a dozen fields, not
// the module.
//
// Semantics followed are those of github.com/openkruise/kruise v1.8.2:
// apis/apps/v1alpha1/daemonset_types.go (fields), apis/apps/defaults/v1alpha1.go
// SetDefaultsDaemonSet (defaults the webhook applies).
package kruise

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// Resource is how kubectl names the kind without ambiguity: a bare
// "daemonset" resolves to the core kind.
const Resource = "daemonset.apps.kruise.io"

// Versions are the versions that may serve Advanced DaemonSets, the newest
// first (kruise v1.8.2 serves v1alpha1 only; later releases add v1beta1).
var Versions = []string{"v1beta1", "v1alpha1"}

// ProgressiveCreatePodAnnotation makes the partition hold back the creation
// of Pods too, on v1alpha1 (kruise v1.8.2 pkg/controller/daemonset
// daemonset_controller.go ProgressiveCreatePod); v1beta1 spells it
// spec.scaleStrategy.partitionedScaling.
const ProgressiveCreatePodAnnotation = "daemonset.kruise.io/progressive-create-pod"

// Object is the part of an Advanced DaemonSet daemoncheck reads, in either
// version.
type Object struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec   `json:"spec"`
	Status            Status `json:"status"`
}

// Spec is the part of the spec read.
type Spec struct {
	Selector             *metav1.LabelSelector  `json:"selector"`
	Template             corev1.PodTemplateSpec `json:"template"`
	UpdateStrategy       UpdateStrategy         `json:"updateStrategy"`
	MinReadySeconds      int32                  `json:"minReadySeconds,omitempty"`
	RevisionHistoryLimit *int32                 `json:"revisionHistoryLimit,omitempty"`
	ScaleStrategy        *ScaleStrategy         `json:"scaleStrategy,omitempty"`
}

// UpdateStrategy is spec.updateStrategy.
type UpdateStrategy struct {
	Type          string         `json:"type,omitempty"`
	RollingUpdate *RollingUpdate `json:"rollingUpdate,omitempty"`
}

// RollingUpdate is spec.updateStrategy.rollingUpdate. Partition is an
// int32 in v1alpha1 and an int or percentage in v1beta1: IntOrString reads
// both.
type RollingUpdate struct {
	Type           string                `json:"rollingUpdateType,omitempty"`
	MaxUnavailable *intstr.IntOrString   `json:"maxUnavailable,omitempty"`
	MaxSurge       *intstr.IntOrString   `json:"maxSurge,omitempty"`
	Selector       *metav1.LabelSelector `json:"selector,omitempty"`
	Partition      *intstr.IntOrString   `json:"partition,omitempty"`
	Paused         *bool                 `json:"paused,omitempty"`
}

// ScaleStrategy is v1beta1's spec.scaleStrategy.
type ScaleStrategy struct {
	PartitionedScaling bool `json:"partitionedScaling,omitempty"`
}

// Status is the status read: a core DaemonSet's counts, and the current
// revision's hash under its name in each version.
type Status struct {
	appsv1.DaemonSetStatus `json:",inline"`
	DaemonSetHash          string `json:"daemonSetHash,omitempty"`
	UpdateRevision         string `json:"updateRevision,omitempty"`
}

// Convert returns the DaemonSet the engine judges and the Kruise record.
// The Kruise defaults the admission webhook applies are applied here too,
// so that an object written without the webhook (a test, a hand-made dump)
// means what the controller would make of it.
func Convert(o *Object) (appsv1.DaemonSet, model.KruiseDaemonSet) {
	apiVersion := o.APIVersion
	if apiVersion == "" {
		apiVersion = model.KruiseGroup + "/v1alpha1"
	}
	ds := appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{Kind: "DaemonSet", APIVersion: apiVersion},
		ObjectMeta: o.ObjectMeta,
		Spec: appsv1.DaemonSetSpec{
			Selector:             o.Spec.Selector,
			Template:             o.Spec.Template,
			MinReadySeconds:      o.Spec.MinReadySeconds,
			RevisionHistoryLimit: o.Spec.RevisionHistoryLimit,
		},
		Status: o.Status.DaemonSetStatus,
	}
	ds.ManagedFields = nil
	k := model.KruiseDaemonSet{Namespace: o.Namespace, Name: o.Name, UID: o.UID, APIVersion: apiVersion,
		UpdateRevision: o.Status.DaemonSetHash}
	if o.Status.UpdateRevision != "" {
		k.UpdateRevision = o.Status.UpdateRevision
	}
	k.PartitionedScaling = o.Annotations[ProgressiveCreatePodAnnotation] == "true" ||
		(o.Spec.ScaleStrategy != nil && o.Spec.ScaleStrategy.PartitionedScaling)

	// SetDefaultsDaemonSet: type RollingUpdate; a deprecated Surging
	// update surges by 1 with no unavailability; neither budget set means
	// maxUnavailable 1, maxSurge 0. A budget left nil otherwise counts 0
	// (daemonset_util.go surgeCount, unavailableCount), where the core
	// API server would default maxUnavailable to 1: write it out.
	typ := appsv1.DaemonSetUpdateStrategyType(o.Spec.UpdateStrategy.Type)
	if typ == "" {
		typ = appsv1.RollingUpdateDaemonSetStrategyType
	}
	ds.Spec.UpdateStrategy.Type = typ
	ru := o.Spec.UpdateStrategy.RollingUpdate
	if ru != nil {
		k.Partition = ru.Partition
		k.Paused = ru.Paused != nil && *ru.Paused
		k.UpdateSelector = ru.Selector
		k.RollingUpdateType = ru.Type
	}
	if typ != appsv1.RollingUpdateDaemonSetStrategyType {
		return ds, k
	}
	var r RollingUpdate
	if ru != nil {
		r = *ru
	}
	if r.Type == "Surging" {
		if r.MaxSurge == nil {
			r.MaxSurge = ptr(intstr.FromInt32(1))
		}
		if r.MaxUnavailable == nil {
			r.MaxUnavailable = ptr(intstr.FromInt32(0))
		}
		k.RollingUpdateType = "Standard"
	}
	if k.RollingUpdateType == "" {
		k.RollingUpdateType = "Standard"
	}
	switch {
	case r.MaxUnavailable == nil && r.MaxSurge == nil:
		r.MaxUnavailable, r.MaxSurge = ptr(intstr.FromInt32(1)), ptr(intstr.FromInt32(0))
	case r.MaxUnavailable == nil:
		r.MaxUnavailable = ptr(intstr.FromInt32(0))
	case r.MaxSurge == nil:
		r.MaxSurge = ptr(intstr.FromInt32(0))
	}
	ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: r.MaxUnavailable, MaxSurge: r.MaxSurge}
	return ds, k
}

func ptr[T any](v T) *T { return &v }

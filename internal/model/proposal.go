package model

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Proposal is the input of a what-if: node pools that do not exist yet and
// DaemonSets as a change would make them, read from manifests (a pull
// request) or flags. The cluster they are judged against is a Snapshot.
type Proposal struct {
	// Pools are the proposed nodes, one template per pool (a Node
	// manifest is a pool of one).
	Pools []PoolTemplate
	// DaemonSets are changed (or new) DaemonSets; Sources[i] names the
	// input DaemonSets[i] came from.
	DaemonSets []appsv1.DaemonSet
	Sources    []string
	// Inputs name what was read (files, "<stdin>", "flags").
	Inputs []string
	// Warnings are non-fatal problems of the input (ignored kinds).
	Warnings []string
}

// PoolTemplate is what the object proposing a pool says about the nodes it
// will create: the labels every node carries, the requirements that let
// labels differ between its nodes (a Karpenter NodePool picks architecture,
// instance type and zone node by node), taints, and capacity when known.
// What the object cannot tell is in Notes.
type PoolTemplate struct {
	// Source names the input the template came from.
	Source string
	// Kind, APIVersion, Namespace and Name identify the object ("Flags"
	// for a node described by flags).
	Kind       string
	APIVersion string
	Namespace  string
	Name       string
	// NodeName is the node's name when it is known (a Node manifest,
	// --node-name); "" lets the analysis name each node shape.
	NodeName string
	// Labels are on every node of the pool.
	Labels map[string]string
	// Filled lists the label keys of Labels that the object does not
	// state but that the provisioner sets (karpenter.sh/nodepool ...).
	Filled []string
	// Requirements constrain labels that vary between the pool's nodes.
	// Operators In, NotIn, Exists, DoesNotExist, Gt, Lt as in a node
	// selector, and Karpenter's Gte and Lte (kept as they are: n-1 and n+1
	// do not exist at the int64 bounds), except that every requirement but
	// DoesNotExist means the key is set on each node (a provisioner picks
	// a value).
	Requirements []corev1.NodeSelectorRequirement
	// Chosen are label keys the provisioner sets on every node to a
	// value of its choosing, unconstrained by Labels or Requirements
	// (Karpenter's well-known labels: architecture, zone, instance type).
	Chosen []string
	// Taints stay on the nodes; StartupTaints are removed after start by
	// whatever initializes the node (usually a DaemonSet).
	Taints        []corev1.Taint
	StartupTaints []corev1.Taint
	// TaintOrigin says, by taint key, where a taint is set when it is not
	// the object's usual taints field: a flag ("--taints") or another
	// object ("KubeadmConfigTemplate x joinConfiguration...").
	TaintOrigin map[string]string
	// InstanceType, OS and Arch, when the object or flags state them
	// ("" unknown; Requirements may still constrain them).
	InstanceType string
	OS, Arch     string
	// InstanceTypeWhere says where the instance type is set when the
	// input does not have it (an infrastructure template not given).
	InstanceTypeWhere string
	// Allocatable is the nodes' allocatable, when the object or flags
	// give it (else the analysis looks for a node of the same instance
	// type); AllocatableFrom says where it came from.
	Allocatable     corev1.ResourceList
	AllocatableFrom string
	// LabelsAt and TaintsAt name where the pool's nodes get their labels
	// and taints, for fixes ("NodePool gpu spec.template.metadata.labels";
	// a flag such as "--taints" for a node described by flags); "" when
	// the object has no such field. LabelsNote is said with a label fix
	// (what the provider does not copy to nodes).
	LabelsAt, LabelsNote, TaintsAt string
	// MemberLabel is the label whose value is Name on the nodes the pool
	// already has (a Karpenter NodePool being changed:
	// karpenter.sh/nodepool); "" when its nodes cannot be told apart.
	MemberLabel string
	// Notes say what cannot be known from the object and what was
	// assumed, for people.
	Notes []string
}

package model

import corev1 "k8s.io/api/core/v1"

// NodeReadinessRules are the node-readiness-controller's rules
// (readiness.node.x-k8s.io NodeReadinessRule), read when the CRD is served
// and readable; a cluster without the CRD is not partial.
const NodeReadinessRules Kind = "nodereadinessrules"

// NodeReadinessRule is what daemoncheck keeps of a NodeReadinessRule: the
// taint the controller keeps on matching nodes until every condition has its
// required status (kubernetes-sigs/node-readiness-controller,
// api/v1alpha1/nodereadinessrule_types.go).
type NodeReadinessRule struct {
	Name  string
	Taint corev1.Taint
	// Conditions are the node condition types and the status each must
	// have before the taint is removed.
	Conditions []ReadinessCondition
	// EnforcementMode is "bootstrap-only" or "continuous".
	EnforcementMode string
	// DryRun rules only report: they never taint or untaint.
	DryRun bool
}

// ReadinessCondition is one condition a NodeReadinessRule waits for.
type ReadinessCondition struct {
	Type           string
	RequiredStatus corev1.ConditionStatus
}

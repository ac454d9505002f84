// Package detect is the contract between the analysis engine (package
// audit) and the detectors, which live in packages by domain (pods,
// rollout, lifecycle, drift, storage, fit) and register themselves here in
// their init functions. A detector finds one type of finding; it reads one
// DaemonSet through its Context (what the engine worked out of the
// DaemonSet: its revision, its Pods by node, the controller's verdict on
// every node) and the Cluster every DaemonSet shares, and returns findings.
// The engine runs every detector over every DaemonSet in an order of its
// own, then sorts the findings canonically (report.SortFindings).
//
// This package holds what more than one detector package, or a detector
// and the engine, needs: the controller's rules every detector judges by
// (claim, revision, availability, an Advanced DaemonSet's partition), Pod
// health, and the fixes every finding is written with. It must not import
// the engine or a detector package.
package detect

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// A Detector finds one type of finding. Each lives in a file of its own,
// in the package of its domain, with its finding type's messages, and
// registers itself there: adding a finding type is a catalog entry
// (package report), a detector file, the engine's list of detectors
// (package audit) and the demo fixture.
type Detector struct {
	Type report.FindingType
	// Node, if set, is called for every node of the DaemonSet (see Node);
	// DS, if set, once per DaemonSet, before Node.
	Node func(c *Context, n *Node) []report.Finding
	DS   func(c *Context) []report.Finding
}

var registered []Detector

// Register adds a detector; called from the init function of its file.
func Register(d Detector) {
	if !report.Known(d.Type) {
		panic("analyze: detector for undeclared finding type " + string(d.Type))
	}
	registered = append(registered, d)
}

// RegisterWrapped registers a detector written over a package's own
// context type C (a value wrapping *Context that carries the package's
// methods): wrap makes one from the engine's Context for every call. Either
// func may be nil, as in Detector.
func RegisterWrapped[C any](typ report.FindingType, wrap func(*Context) C, node func(C, *Node) []report.Finding, ds func(C) []report.Finding) {
	d := Detector{Type: typ}
	if node != nil {
		d.Node = func(c *Context, n *Node) []report.Finding { return node(wrap(c), n) }
	}
	if ds != nil {
		d.DS = func(c *Context) []report.Finding { return ds(wrap(c)) }
	}
	Register(d)
}

// All returns the registered detectors in the order they registered
// (package initialisation order: the engine puts them in its own).
func All() []Detector { return slices.Clone(registered) }

// Node is what per-node detectors look at: one node name and the
// DaemonSet's Pods attributed to it.
type Node struct {
	Name string
	// Node is nil when the node is not in the snapshot: deleted (when
	// nodes were read), or unknown (when they were not).
	Node *corev1.Node
	// Verdict is the controller's decision for Node (valid when Node != nil).
	Verdict scheduling.Verdict
	// Pods are sorted as the controller sorts them: Pods[0] is the one it
	// counts for the node.
	Pods []*model.DaemonPod
}

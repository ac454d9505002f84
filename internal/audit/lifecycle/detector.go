// Package lifecycle holds the detectors of nodes coming and going: the
// readiness gates that hold a new node until its agents run (GateDeadlock,
// NodeHeldByGate, GateWithoutLifter) and the loop of failed daemon Pods
// the controller keeps replacing on a node that rejects them
// (RecreateLoop).
package lifecycle

import (
	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// dsContext is the detector context with this package's methods; a value,
// so that wrapping it for every node costs nothing.
type dsContext struct{ *detect.Context }

type nodeCase = detect.Node

// detector is a detect.Detector over dsContext.
type detector struct {
	typ  report.FindingType
	node func(c dsContext, n *nodeCase) []report.Finding
	ds   func(c dsContext) []report.Finding
}

// register registers d with package detect; called from the init function
// of its file.
func register(d detector) {
	detect.RegisterWrapped(d.typ, func(c *detect.Context) dsContext { return dsContext{c} }, d.node, d.ds)
}

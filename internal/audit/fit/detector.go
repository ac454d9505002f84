// Package fit holds the detectors of daemons and the room on their
// nodes: a host port another daemon holds (HostPortConflict), a node too
// small for its daemons together (NodeTooSmall), a node agent that ranks
// below the workloads that could preempt it (LowPriorityAgent) and
// containers that request no memory (NoMemoryRequest); and the capacity
// causes the engine gives Pending and missing Pods (CapacityCauses).
package fit

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

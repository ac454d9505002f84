// Package pods holds the detectors of the DaemonSet's Pods on each node,
// against what the controller would have there: a Pod missing where the
// DaemonSet should run (MissingPod), Pending or unhealthy (PendingPod,
// UnhealthyPod, with an image that cannot run on the node's platform),
// several on one node (DuplicatePods), on a node it does not target
// (MisscheduledPod, with fragile coverage under a NoSchedule taint), bound
// to a node that is gone (OrphanedPod), and the nodes a coverage policy
// requires (UncoveredNode) or none at all (NoTargets).
package pods

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

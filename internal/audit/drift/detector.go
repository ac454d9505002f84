// Package drift holds the detectors of what runs differing from what
// should: one image tag pulled as different builds across nodes
// (ImageDrift) and a kube-proxy outside the version skew policy
// (VersionSkew).
package drift

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

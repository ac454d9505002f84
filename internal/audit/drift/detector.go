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
	dd := detect.Detector{Type: d.typ}
	if d.node != nil {
		dd.Node = func(c *detect.Context, n *detect.Node) []report.Finding { return d.node(dsContext{c}, n) }
	}
	if d.ds != nil {
		dd.DS = func(c *detect.Context) []report.Finding { return d.ds(dsContext{c}) }
	}
	detect.Register(dd)
}

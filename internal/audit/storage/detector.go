// Package storage holds the detectors of node plugins: CSI drivers
// registered, and DRA drivers publishing devices, on nodes where their
// plugin does not run (DriverWithoutPlugin), and a running CSI node plugin
// whose driver the kubelet did not register (PluginNotRegistered).
package storage

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

package ci

import (
	"fmt"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// maxCINodes bounds the nodes a CI entry lists (a change can lose
// thousands; an annotation or failure text stays readable).
const maxCINodes = 50

// whatIfCause is one cause of a what-if's findings (a plan.FindingGroups
// entry), as the CI formats report it.
type whatIfCause struct {
	kind       report.WhatIfFindingType
	severity   report.Severity
	failing    bool
	daemonSets []string
	// where lists the node shapes (a pool) or the cluster nodes (a change)
	// the cause concerns.
	where        string
	message, fix string
}

// title names a cause: its kind and DaemonSets.
func (c whatIfCause) title() string {
	if len(c.daemonSets) == 0 {
		return string(c.kind)
	}
	return string(c.kind) + " " + strings.Join(c.daemonSets, ", ")
}

// whatIfCauses groups findings by cause, as the table view does (shapes:
// the pool's number of shapes, 0 for a change).
func whatIfCauses(fs []report.WhatIfFinding, shapes int) []whatIfCause {
	var out []whatIfCause
	for _, g := range plan.FindingGroups(fs) {
		f := g[0]
		c := whatIfCause{kind: f.Type, severity: f.Severity, failing: f.Failing, message: f.Message, fix: f.Suggestion}
		for _, o := range g {
			if o.DaemonSet != "" {
				c.daemonSets = append(c.daemonSets, o.DaemonSet)
			}
		}
		if len(g) > 1 {
			c.message = plan.WillNotRunText(g, shapes)
		}
		// The group shares its shapes and nodes (plan.FindingGroups' key).
		switch {
		case len(f.Nodes) > maxCINodes:
			c.where = fmt.Sprintf("Nodes: %s and %d more (-o json lists them)", strings.Join(f.Nodes[:maxCINodes], ", "), len(f.Nodes)-maxCINodes)
		case len(f.Nodes) > 0:
			c.where = fmt.Sprintf("%s: %s", render.Plural(len(f.Nodes), "Node", "Nodes"), strings.Join(f.Nodes, ", "))
		case len(f.Shapes) > 0:
			c.where = fmt.Sprintf("%s: %s", render.Plural(len(f.Shapes), "Node shape", "Node shapes"), strings.Join(f.Shapes, ", "))
		}
		out = append(out, c)
	}
	return out
}

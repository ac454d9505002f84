package ci

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// -o github: the audit (and NAME) and the what-if.
func init() {
	render.Register(render.Format{Name: "github", Render: map[render.View]render.RenderFunc{render.ViewAudit: GitHub, render.ViewDetail: GitHub}, RenderWhatIf: WhatIfGitHub})
}

// GitHub prints GitHub Actions workflow commands: one annotation per
// problem (the findings grouped by cause), ::error when it fails the gate,
// ::warning otherwise, so a 3,000-node crash loop is one annotation, not
// 3,000 (GitHub shows only the first few per step anyway). Set-aside
// findings stay out (they are in the other formats). Kinds that could not be
// read are errors too: the gate could not see them. The last line is a plain
// summary for the log.
func GitHub(w io.Writer, r *report.Report, _ render.Options) error {
	for _, u := range r.Unread {
		msg := u.Kind + " not read: " + u.Reason
		if u.Rule != "" {
			msg += " (needs RBAC " + u.Rule + ")"
		}
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", escape.GHProperty("daemoncheck: partial report"), escape.GHData(msg)); err != nil {
			return err
		}
	}
	for i := range r.Problems {
		p := &r.Problems[i]
		level := "warning"
		if p.Failing {
			level = "error"
		}
		title := p.Type + " " + strings.Join(p.DaemonSets, " ")
		if len(p.Nodes) > 0 {
			title += fmt.Sprintf(" on %d node(s): %s", len(p.Nodes), p.Range)
		}
		msg := p.Cause
		if p.Pattern != "" {
			msg += "\n" + p.Pattern
		}
		if p.Fix != "" {
			msg += "\nFix: " + p.Fix
		}
		if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", level, escape.GHProperty(title), escape.GHData(msg)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "daemoncheck: %d problems, %d failing of %d findings in %d DaemonSets (%d healthy)\n", len(r.Problems), r.Summary.Failing, r.Summary.Findings, r.Summary.DaemonSets, r.Summary.Healthy)
	return err
}

// WhatIfGitHub prints a what-if as GitHub Actions workflow commands, as
// GitHub does for the audit: kinds not read, then one annotation per cause
// (the findings grouped as the table view groups them; ::error when the
// gate selects it, ::warning otherwise), titled by its kind, where (pool
// or DaemonSet) and DaemonSets, listing the node shapes or nodes it
// concerns, and the verdict line last.
func WhatIfGitHub(w io.Writer, r *report.WhatIfReport, _ render.Options) error {
	for _, u := range r.Unread {
		if _, err := fmt.Fprintf(w, "::error title=%s::%s\n", escape.GHProperty("daemoncheck whatif: partial"), escape.GHData(u.Kind+" not read: "+u.Reason)); err != nil {
			return err
		}
	}
	annotate := func(where string, causes []whatIfCause) error {
		for _, c := range causes {
			level := "warning"
			if c.failing {
				level = "error"
			}
			title := string(c.kind) + " " + where
			if len(c.daemonSets) > 0 {
				title += " " + strings.Join(c.daemonSets, " ")
			}
			msg := c.message
			if c.where != "" {
				msg += "\n" + c.where
			}
			if c.fix != "" {
				msg += "\nFix: " + c.fix
			}
			if _, err := fmt.Fprintf(w, "::%s title=%s::%s\n", level, escape.GHProperty(title), escape.GHData(msg)); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		if err := annotate(fmt.Sprintf("DaemonSet %s/%s", c.Namespace, c.Name), whatIfCauses(c.Findings, 0)); err != nil {
			return err
		}
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		if err := annotate(p.Kind+" "+p.Name, whatIfCauses(p.Findings, len(p.Shapes))); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, escape.Terminal(plan.WhatIfVerdict(r)))
	return err
}

package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// GitHub prints GitHub Actions workflow commands: one annotation per
// problem (the findings grouped by cause), ::error when it fails the gate,
// ::warning otherwise, so a 3,000-node crash loop is one annotation, not
// 3,000 (GitHub shows only the first few per step anyway). Set-aside
// findings stay out (they are in the other formats). Kinds that could not be
// read are errors too: the gate could not see them. The last line is a plain
// summary for the log.
func GitHub(w io.Writer, r *report.Report, _ Options) error {
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

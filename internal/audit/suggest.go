package audit

import (
	"strings"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// sinceOf is t as a finding's Since (nil for the zero time).
func sinceOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// adviseChange sets the fix for a change to the DaemonSet itself: direct
// (with its commands) when nothing else manages the DaemonSet, else the way
// through its manager, which would revert a direct edit (a Helm release,
// the addon manager, a cloud add-on, Argo CD, Flux, an operator). Only
// read-only commands are suggested then: never a kubectl write on a
// managed object.
func (c *dsContext) adviseChange(f *report.Finding, ch owner.Change, direct string, cmds ...report.Command) {
	if !c.manager.Managed() {
		explain.Advise(f, direct, cmds...)
		return
	}
	ch.Namespace, ch.Name = c.ds.Namespace, c.ds.Name
	a := c.manager.Route(ch)
	text := a.Text
	if len(a.Inspect) > 0 && !strings.Contains(a.Text, owner.Quote(a.Inspect)) {
		explain.Advise(f, text+" (current settings: {0})", report.Cmd(a.Inspect...))
		return
	}
	explain.Advise(f, text)
}

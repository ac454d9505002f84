package detect

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// SinceOf is t as a finding's Since (nil for the zero time).
func SinceOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// AdviseChange sets the fix for a change to the DaemonSet itself: direct
// (with its commands) when nothing else manages the DaemonSet, else the way
// through its manager, which would revert a direct edit (a Helm release,
// the addon manager, a cloud add-on, Argo CD, Flux, an operator). Only
// read-only commands are suggested then: never a kubectl write on a
// managed object.
func (c *Context) AdviseChange(f *report.Finding, ch owner.Change, direct string, cmds ...report.Command) {
	if !c.Manager.Managed() {
		explain.Advise(f, direct, cmds...)
		return
	}
	ch.Namespace, ch.Name = c.DS.Namespace, c.DS.Name
	a := c.Manager.Route(ch)
	text := a.Text
	if len(a.Inspect) > 0 && !strings.Contains(a.Text, owner.Quote(a.Inspect)) {
		explain.Advise(f, text+" (current settings: {0})", report.Cmd(a.Inspect...))
		return
	}
	explain.Advise(f, text)
}

// DescribeDS is kubectl describe of the DaemonSet.
func (c *Context) DescribeDS() report.Command {
	return explain.Kubectl("describe", "-n", c.DS.Namespace, c.Resource())
}

// Name is the DaemonSet as namespace/name.
func (c *Context) Name() string { return c.DS.Namespace + "/" + c.DS.Name }

// HumanDuration prints a duration as kubectl's AGE column does (2m, 3h, 5d).
func HumanDuration(d time.Duration) string { return duration.HumanDuration(d) }

// Plural is the plural ending of a count of n: "s" but for one.
func Plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// VerbS is the ending of a verb whose subject is a count of n: "s" for one.
func VerbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// NodesWord is a count of nodes in words: "1 node", "3 nodes".
func NodesWord(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// RuleOf is the rule part of an exclusion reason, without what the node
// has: "nodeSelector pool=edge: node has pool=general" -> "nodeSelector
// pool=edge", so that nodes excluded by one rule group together.
func RuleOf(reason string) string {
	for _, sep := range []string{": node has", " fails (node has", " (node has"} {
		if i := strings.Index(reason, sep); i > 0 {
			return reason[:i]
		}
	}
	return reason
}

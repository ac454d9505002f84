package detect

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/providers"
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

// PoolOf names the node's pool by the analysis's pool labels.
func (c *Context) PoolOf(n *corev1.Node) string {
	labels := c.PoolLabels
	if labels == nil {
		labels = providers.DefaultPoolLabels
	}
	return providers.PoolOf(n, labels)
}

// RequiredBy names the first policy rule requiring the DaemonSet on node.
func (c *Context) RequiredBy(node *corev1.Node) string {
	for i := range c.Policy {
		if c.Policy[i].Nodes.Matches(labels.Set(node.Labels)) {
			return c.Policy[i].Source
		}
	}
	return ""
}

// LatestEvent returns the newest Warning event about uid, optionally only one
// whose message names the node.
func (c *Context) LatestEvent(uid types.UID, node string) *corev1.Event {
	var best *corev1.Event
	for _, e := range c.Cluster.EventsFor[uid] {
		if node != "" && !strings.Contains(e.Message, node) {
			continue
		}
		if best == nil || EventTime(e).After(EventTime(best)) {
			best = e
		}
	}
	if best == nil && node != "" {
		for _, e := range c.Cluster.EventsFor[uid] {
			if e.Reason == "FailedCreate" && (best == nil || EventTime(e).After(EventTime(best))) {
				best = e
			}
		}
	}
	return best
}

// EventTime is when an event last happened.
func EventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	}
	return e.CreationTimestamp.Time
}

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

// PlatformOf is a node's os/arch: its kubernetes.io/os and
// kubernetes.io/arch labels (the kubelet sets them from its own build),
// else status.nodeInfo; "" when neither says, "unknown" for the half that
// is missing.
func PlatformOf(n *corev1.Node) string { return JoinPlatform(providers.Platform(n)) }

// JoinPlatform writes os and arch as PlatformOf does.
func JoinPlatform(os, arch string) string {
	if os == "" && arch == "" {
		return ""
	}
	return cmp.Or(os, "unknown") + "/" + cmp.Or(arch, "unknown")
}

// TemplateImage is the image of the named container (or init container)
// in the DaemonSet's Pod template, "" when it has none of that name.
func TemplateImage(ds *appsv1.DaemonSet, container string) string {
	spec := &ds.Spec.Template.Spec
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == container {
				return cs[i].Image
			}
		}
	}
	return ""
}

package pods_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// taintAdded is a taint with its timeAdded set d before the fixtures' now.
func taintAdded(key, value string, effect corev1.TaintEffect, d time.Duration) fixture.NodeOpt {
	return func(n *corev1.Node) {
		at := metav1.NewTime(fixture.Epoch.Add(-d))
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect, TimeAdded: &at})
	}
}

func TestFragileCoverageDetector(t *testing.T) {
	agent := fixture.DaemonSet("ns", "agent")
	// The Pods were made an hour before now.
	podsAnHourOld := func(nodes ...string) func(ds *appsv1.DaemonSet) []corev1.Pod {
		return func(ds *appsv1.DaemonSet) []corev1.Pod {
			var out []corev1.Pod
			for _, n := range nodes {
				out = append(out, fixture.Pod(ds, n, fixture.PodCreatedAgo(time.Hour)))
			}
			return out
		}
	}
	detecttest.Run(t, report.MisscheduledPod, []detecttest.Case{
		{
			Name:  "NoSchedule taint added under the running Pod: at-risk coverage, since timeAdded",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", taintAdded("dedicated", "db", corev1.TaintEffectNoSchedule, 10*time.Minute))},
			DS:    agent, Pods: podsAnHourOld("n1", "n2"),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning, Cause: "fragile coverage: left running under untolerated taint dedicated=db:NoSchedule",
				Message: []string{"still serves node n2, but no replacement would be scheduled there", "the taint was added 50m after the Pod started (timeAdded 2026-11-23T11:50:00Z)",
					"node n2 is left without the daemon"},
				Fix: []string{"add the toleration", "kubectl taint node n2 dedicated:NoSchedule-", "if the node should not run it, nothing to do"}}},
		},
		{
			Name:  "taint without timeAdded: since when is unknown, not guessed",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))},
			DS:    agent, Pods: podsAnHourOld("n1"),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Message: []string{"the taint has no timeAdded, so since when is unknown"}}},
		},
		{
			Name:  "taint older than the Pod: the DaemonSet's tolerations changed",
			Nodes: []corev1.Node{fixture.Node("n1", taintAdded("dedicated", "db", corev1.TaintEffectNoSchedule, 2*time.Hour))},
			DS:    agent, Pods: podsAnHourOld("n1"),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Message: []string{"the taint is older than the Pod", "tolerations changed"}}},
		},
		{
			Name:  "NoExecute taint: the controller deletes the Pod, not fragile coverage",
			Nodes: []corev1.Node{fixture.Node("n1", taintAdded("dedicated", "db", corev1.TaintEffectNoExecute, 10*time.Minute))},
			DS:    agent, Pods: podsAnHourOld("n1"),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Cause: "on a node it does not target: untolerated taint dedicated=db:NoExecute",
				Message: []string{"the controller will delete it"}}},
		},
		{
			Name:  "selector label removed: the controller deletes the Pod (shouldContinueRunning is false), not fragile coverage",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "general"))},
			DS:    fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu")), Pods: podsAnHourOld("n1"),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Cause: "on a node it does not target: nodeSelector pool=gpu",
				Message: []string{"the controller will delete it"}}},
		},
	})
}

// The reason and its parameters are what consumers and grouping decide on.
func TestFragileCoverageReasonAndParams(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	nodes := []corev1.Node{
		fixture.Node("n1", taintAdded("dedicated", "db", corev1.TaintEffectNoSchedule, 10*time.Minute)),
		fixture.Node("n2", fixture.WithTaint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoSchedule), fixture.NotReady()),
	}
	pods := []corev1.Pod{fixture.Pod(&ds, "n1", fixture.PodCreatedAgo(time.Hour)), fixture.Pod(&ds, "n2", fixture.PodCreatedAgo(time.Hour))}
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, ds.Generation))
	rep := detecttest.Analyze(s, audit.Options{})
	var got []report.Finding
	for _, f := range detecttest.FindingsOf(rep, "ns/agent") {
		if f.Type == report.MisscheduledPod {
			got = append(got, f)
		}
	}
	if len(got) != 2 {
		t.Fatalf("got %d MisscheduledPod findings, want 2:\n%s", len(got), detecttest.DescribeFindings(got))
	}
	f := got[0]
	if f.Reason != report.ReasonFragileCoverage || f.Params.Rule != "Taint" || f.Params.Detail != "untolerated taint dedicated=db:NoSchedule" || f.Params.State != report.StateTaintAddedUnderPod {
		t.Errorf("n1: reason %s params %+v, want FragileCoverage, Taint, the taint, TaintAddedUnderPod", f.Reason, f.Params)
	}
	if want := fixture.Epoch.Add(-10 * time.Minute); f.Since == nil || !f.Since.Equal(want) {
		t.Errorf("n1: since %v, want the taint's timeAdded %v", f.Since, want)
	}
	// A NotReady node's condition taint goes away with the condition: the
	// node's cause, not fragile coverage.
	if got[1].Reason != report.ReasonNotTargeted || got[1].NodeCause == "" {
		t.Errorf("n2: reason %s node cause %q, want NotTargeted explained by the node", got[1].Reason, got[1].NodeCause)
	}
	// The controller counts both as misscheduled, and so does the
	// recomputed status.
	if c := rep.DaemonSets[0].Computed; c == nil || c.NumberMisscheduled != 2 {
		t.Errorf("computed status %+v, want numberMisscheduled 2", c)
	}
}

// One taint added under the daemons of several DaemonSets is one problem:
// the node's change, not each DaemonSet's.
func TestFragileCoverageGroupsAcrossDaemonSets(t *testing.T) {
	a, b := fixture.DaemonSet("ns", "agent-a"), fixture.DaemonSet("other", "agent-b")
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2", taintAdded("dedicated", "db", corev1.TaintEffectNoSchedule, 10*time.Minute))}
	var pods []corev1.Pod
	for _, ds := range []*appsv1.DaemonSet{&a, &b} {
		pods = append(pods, fixture.Pod(ds, "n1"), fixture.Pod(ds, "n2"))
	}
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{a, b}, pods, fixture.Revision(&a, 1), fixture.Revision(&b, 1))
	rep := detecttest.Analyze(s, audit.Options{})
	var got []report.Problem
	for _, p := range rep.Problems {
		if p.Type == string(report.MisscheduledPod) {
			got = append(got, p)
		}
	}
	if len(got) != 1 || len(got[0].DaemonSets) != 2 || len(got[0].Nodes) != 1 || got[0].Nodes[0] != "n2" || got[0].Cause != "fragile coverage: left running under untolerated taint dedicated=db:NoSchedule" {
		t.Errorf("problems %+v, want one fragile-coverage problem of both DaemonSets on n2", got)
	}
}

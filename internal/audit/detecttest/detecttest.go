// Package detecttest runs a detector's table of cases through the whole
// analysis (audit.Analyze) and checks the findings of its type: the shared
// runner of the detector packages' tests (internal/audit/pods, rollout,
// lifecycle, drift, storage, fit), with the cluster builders they share.
package detecttest

import (
	"sort"
	"strings"
	"testing"

	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Case is one row of a detector's table (pods/missing_test.go,
// rollout/stale_test.go ...): nodes, one DaemonSet at its current revision and its
// Pods, and the findings of the detector's type the analysis must report.
// An empty Want is a negative case: the detector must stay quiet.
type Case struct {
	Name  string
	Nodes []corev1.Node
	DS    appsv1.DaemonSet
	// Others are more DaemonSets in the cluster, without Pods (the
	// detector's findings are only looked for on DS).
	Others []appsv1.DaemonSet
	// Pods are the DaemonSet's Pods (built from the DaemonSet, so that
	// they carry its revision and owner).
	Pods func(ds *appsv1.DaemonSet) []corev1.Pod
	// Edit changes the snapshot once built: the DaemonSet's published
	// status is the recomputed one unless Edit sets another.
	Edit func(s *model.Snapshot)
	Opts audit.Options
	Want []Want
}

// Want is what one finding must say: its node and severity exactly,
// its cause exactly when set, and its message and suggestion must contain
// each of the given parts.
type Want struct {
	Node     string
	Severity report.Severity
	Cause    string
	// NodeCause is the node condition that explains the finding, if any.
	NodeCause string
	Message   []string
	Fix       []string
}

// Run runs each case through Analyze and compares the findings of
// type typ (in report order) with the case's Want.
func Run(t *testing.T, typ report.FindingType, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ds := tc.DS
			var pods []corev1.Pod
			if tc.Pods != nil {
				pods = tc.Pods(&ds)
			}
			s := Cluster(tc.Nodes, append([]appsv1.DaemonSet{ds}, tc.Others...), pods, fixture.Revision(&ds, ds.Generation))
			if tc.Edit != nil {
				tc.Edit(s)
			}
			var got []report.Finding
			for _, f := range FindingsOf(Analyze(s, tc.Opts), ds.Namespace+"/"+ds.Name) {
				if f.Type == typ {
					got = append(got, f)
				}
			}
			if len(got) != len(tc.Want) {
				t.Fatalf("got %d %s findings, want %d:\n%s", len(got), typ, len(tc.Want), DescribeFindings(got))
			}
			for i, w := range tc.Want {
				checkFinding(t, &got[i], w)
			}
		})
	}
}

func checkFinding(t *testing.T, f *report.Finding, w Want) {
	t.Helper()
	if f.Node != w.Node {
		t.Errorf("%s on node %q, want %q", f.Type, f.Node, w.Node)
	}
	if f.Severity != w.Severity {
		t.Errorf("%s severity %q, want %q", f.Type, f.Severity, w.Severity)
	}
	if f.NodeCause != w.NodeCause {
		t.Errorf("%s node cause %q, want %q", f.Type, f.NodeCause, w.NodeCause)
	}
	if w.Cause != "" && f.Cause != w.Cause {
		t.Errorf("%s cause:\n got %q\nwant %q", f.Type, f.Cause, w.Cause)
	}
	for _, part := range w.Message {
		if !strings.Contains(f.Message, part) {
			t.Errorf("%s message lacks %q:\n%s", f.Type, part, f.Message)
		}
	}
	for _, part := range w.Fix {
		if !strings.Contains(f.Suggestion, part) {
			t.Errorf("%s suggestion lacks %q:\n%s", f.Type, part, f.Suggestion)
		}
	}
}

// DescribeFindings lists findings for a failure message.
func DescribeFindings(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Node + " [" + string(f.Severity) + "] cause=" + f.Cause + "\n    " + f.Message + "\n    fix: " + f.Suggestion + "\n")
	}
	return b.String()
}

// ReadyNodes returns Ready nodes with the given names.
func ReadyNodes(names ...string) []corev1.Node {
	out := make([]corev1.Node, len(names))
	for i, n := range names {
		out[i] = fixture.Node(n)
	}
	return out
}

// PodsOn returns a healthy, current Pod of ds on each node.
func PodsOn(nodeNames ...string) func(ds *appsv1.DaemonSet) []corev1.Pod {
	return func(ds *appsv1.DaemonSet) []corev1.Pod {
		out := make([]corev1.Pod, len(nodeNames))
		for i, n := range nodeNames {
			out[i] = fixture.Pod(ds, n)
		}
		return out
	}
}

// PodOn returns one Pod of ds on node n1, built with opts.
func PodOn(opts ...fixture.PodOpt) func(ds *appsv1.DaemonSet) []corev1.Pod {
	return func(ds *appsv1.DaemonSet) []corev1.Pod { return []corev1.Pod{fixture.Pod(ds, "n1", opts...)} }
}

// Cluster builds a snapshot from full objects, with the status the
// controller would publish (so StaleStatus stays out of the way).
func Cluster(nodes []corev1.Node, dss []appsv1.DaemonSet, pods []corev1.Pod, revs ...appsv1.ControllerRevision) *model.Snapshot {
	s := &model.Snapshot{Nodes: nodes, DaemonSets: dss, DaemonPods: collect.CompactPods(pods...), ControllerRevisions: revs}
	rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	for i := range s.DaemonSets {
		// The report lists DaemonSets sorted, the input as given.
		var c *report.Counts
		for j := range rep.DaemonSets {
			if rep.DaemonSets[j].Namespace == s.DaemonSets[i].Namespace && rep.DaemonSets[j].Name == s.DaemonSets[i].Name {
				c = rep.DaemonSets[j].Computed
			}
		}
		s.DaemonSets[i].Status = appsv1.DaemonSetStatus{ObservedGeneration: s.DaemonSets[i].Generation,
			DesiredNumberScheduled: c.DesiredNumberScheduled, CurrentNumberScheduled: c.CurrentNumberScheduled,
			NumberReady: c.NumberReady, NumberAvailable: c.NumberAvailable, UpdatedNumberScheduled: c.UpdatedNumberScheduled,
			NumberMisscheduled: c.NumberMisscheduled, NumberUnavailable: c.NumberUnavailable}
	}
	return s
}

// Analyze analyses s with opts at fixture.Epoch.
func Analyze(s *model.Snapshot, opts audit.Options) *report.Report {
	opts.Now = fixture.Epoch
	return audit.Analyze(s, opts)
}

// FindingsOf are the findings of DaemonSet ds (namespace/name).
func FindingsOf(rep *report.Report, ds string) []report.Finding {
	for _, dr := range rep.DaemonSets {
		if dr.Namespace+"/"+dr.Name == ds {
			return dr.Findings
		}
	}
	return nil
}

// KindsOf are the findings of DaemonSet ds as type@node, sorted.
func KindsOf(rep *report.Report, ds string) []string {
	var out []string
	for _, f := range FindingsOf(rep, ds) {
		out = append(out, string(f.Type)+"@"+f.Node)
	}
	sort.Strings(out)
	return out
}

// FindingAt is DaemonSet ds's finding of type typ on node, nil if none.
func FindingAt(rep *report.Report, ds string, typ report.FindingType, node string) *report.Finding {
	fs := FindingsOf(rep, ds)
	for i := range fs {
		if fs[i].Type == typ && fs[i].Node == node {
			return &fs[i]
		}
	}
	return nil
}

// CreatedAgo sets the DaemonSet's creation to d before fixture.Epoch.
func CreatedAgo(d time.Duration) fixture.DSOpt {
	return func(ds *appsv1.DaemonSet) { ds.CreationTimestamp = metav1.NewTime(fixture.Epoch.Add(-d)) }
}

// Workload is a Pod of some Deployment bound to node.
func Workload(name, node string, prio int32, cpu string) corev1.Pod {
	t := true
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, UID: types.UID("uid-" + name),
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: name + "-rs", UID: "rs", Controller: &t}}},
		Spec: corev1.PodSpec{NodeName: node, Priority: &prio, Containers: []corev1.Container{{Name: "app",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// Relabel sets the Pod's labels kv (key, value, key, value ...).
func Relabel(kv ...string) fixture.PodOpt {
	return func(p *corev1.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

// OnArch labels a node with its architecture.
func OnArch(arch string) fixture.NodeOpt { return fixture.WithLabel(corev1.LabelArchStable, arch) }

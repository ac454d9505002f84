package audit_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// detectorCase is one row of a detector's table (missing_test.go,
// stale_test.go ...): nodes, one DaemonSet at its current revision and its
// Pods, and the findings of the detector's type the analysis must report.
// An empty want is a negative case: the detector must stay quiet.
type detectorCase struct {
	name  string
	nodes []corev1.Node
	ds    appsv1.DaemonSet
	// others are more DaemonSets in the cluster, without Pods (the
	// detector's findings are only looked for on ds).
	others []appsv1.DaemonSet
	// pods are the DaemonSet's Pods (built from the DaemonSet, so that
	// they carry its revision and owner).
	pods func(ds *appsv1.DaemonSet) []corev1.Pod
	// edit changes the snapshot once built: the DaemonSet's published
	// status is the recomputed one unless edit sets another.
	edit func(s *model.Snapshot)
	opts audit.Options
	want []wantFinding
}

// wantFinding is what one finding must say: its node and severity exactly,
// its cause exactly when set, and its message and suggestion must contain
// each of the given parts.
type wantFinding struct {
	node     string
	severity report.Severity
	cause    string
	// nodeCause is the node condition that explains the finding, if any.
	nodeCause string
	message   []string
	fix       []string
}

// testDetector runs each case through Analyze and compares the findings of
// type typ (in report order) with the case's want.
func testDetector(t *testing.T, typ report.FindingType, cases []detectorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds := tc.ds
			var pods []corev1.Pod
			if tc.pods != nil {
				pods = tc.pods(&ds)
			}
			s := cluster(tc.nodes, append([]appsv1.DaemonSet{ds}, tc.others...), pods, fixture.Revision(&ds, ds.Generation))
			if tc.edit != nil {
				tc.edit(s)
			}
			var got []report.Finding
			for _, f := range findingsOf(analyzeWith(s, tc.opts), ds.Namespace+"/"+ds.Name) {
				if f.Type == typ {
					got = append(got, f)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d %s findings, want %d:\n%s", len(got), typ, len(tc.want), describeFindings(got))
			}
			for i, w := range tc.want {
				checkFinding(t, &got[i], w)
			}
		})
	}
}

func checkFinding(t *testing.T, f *report.Finding, w wantFinding) {
	t.Helper()
	if f.Node != w.node {
		t.Errorf("%s on node %q, want %q", f.Type, f.Node, w.node)
	}
	if f.Severity != w.severity {
		t.Errorf("%s severity %q, want %q", f.Type, f.Severity, w.severity)
	}
	if f.NodeCause != w.nodeCause {
		t.Errorf("%s node cause %q, want %q", f.Type, f.NodeCause, w.nodeCause)
	}
	if w.cause != "" && f.Cause != w.cause {
		t.Errorf("%s cause:\n got %q\nwant %q", f.Type, f.Cause, w.cause)
	}
	for _, part := range w.message {
		if !strings.Contains(f.Message, part) {
			t.Errorf("%s message lacks %q:\n%s", f.Type, part, f.Message)
		}
	}
	for _, part := range w.fix {
		if !strings.Contains(f.Suggestion, part) {
			t.Errorf("%s suggestion lacks %q:\n%s", f.Type, part, f.Suggestion)
		}
	}
}

func describeFindings(fs []report.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.Node + " [" + string(f.Severity) + "] cause=" + f.Cause + "\n    " + f.Message + "\n    fix: " + f.Suggestion + "\n")
	}
	return b.String()
}

// readyNodes returns Ready nodes with the given names.
func readyNodes(names ...string) []corev1.Node {
	out := make([]corev1.Node, len(names))
	for i, n := range names {
		out[i] = fixture.Node(n)
	}
	return out
}

// podsOn returns a healthy, current Pod of ds on each node.
func podsOn(nodeNames ...string) func(ds *appsv1.DaemonSet) []corev1.Pod {
	return func(ds *appsv1.DaemonSet) []corev1.Pod {
		out := make([]corev1.Pod, len(nodeNames))
		for i, n := range nodeNames {
			out[i] = fixture.Pod(ds, n)
		}
		return out
	}
}

package render

import (
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func counts(desired, ready int32) *report.Counts {
	return &report.Counts{DesiredNumberScheduled: desired, CurrentNumberScheduled: desired, NumberReady: ready, NumberAvailable: ready, UpdatedNumberScheduled: desired}
}

func dsReport(ns, name string, c *report.Counts, findings ...report.Finding) report.DaemonSetReport {
	return report.DaemonSetReport{Namespace: ns, Name: name, Computed: c, Findings: findings}
}

// problem builds a problem whose data (its ID stands in for its reason
// and parameters) follows its cause.
func problem(typ, ds, cause string, nodes ...string) report.Problem {
	return report.Problem{ID: cause, Type: typ, Severity: report.SeverityError, DaemonSets: []string{ds}, Cause: cause, Nodes: nodes, Range: strings.Join(nodes, ", ")}
}

func TestWatchChanges(t *testing.T) {
	old := &report.Report{
		DaemonSets: []report.DaemonSetReport{dsReport("a", "agent", counts(3, 2)), dsReport("a", "gone", counts(1, 1)), dsReport("b", "same", counts(2, 2))},
		Problems: []report.Problem{
			problem("UnhealthyPod", "a/agent", "CrashLoopBackOff", "n-1"),
			problem("OutdatedPod", "a/agent", "runs old revision x (current: y)", "n-1", "n-2"),
			problem("RolloutStuck", "a/agent", "blocked: 1 unavailable of maxUnavailable 1 (agent-1 on n-1)"),
			{Type: "MissingPod", Severity: report.SeverityError, DaemonSets: []string{"a/agent"}, Cause: "no daemon Pod on a targeted node", Nodes: []string{"n-3"}, Range: "n-3"},
		},
	}
	new := &report.Report{
		DaemonSets: []report.DaemonSetReport{dsReport("a", "agent", counts(3, 3)), dsReport("a", "new", nil), dsReport("b", "same", counts(2, 2))},
		Problems: []report.Problem{
			// Another DaemonSet misses its Pod on the same node: the
			// cluster-wide problem changes, it does not reappear.
			{Type: "MissingPod", Severity: report.SeverityError, DaemonSets: []string{"a/agent", "b/same"}, Cause: "no daemon Pod on a targeted node", Nodes: []string{"n-3"}, Range: "n-3"},
			problem("OutdatedPod", "a/agent", "runs old revision x (current: y)", "n-2"),
			// A DaemonSet-level problem keeps its identity as its cause changes.
			problem("RolloutStuck", "a/agent", "blocked: 1 unavailable of maxUnavailable 1 (agent-2 on n-2)"),
			problem("UnhealthyPod", "a/agent", "ImagePullBackOff: image x", "n-2"),
		},
	}
	got := WatchChanges(NewWatchState(old, false), NewWatchState(new, false))
	want := []string{
		"DELETED   a/gone   desired=1 current=1 ready=1 up-to-date=1 available=1",
		"MODIFIED   a/agent   desired=3 current=3 ready=3 up-to-date=3 available=3",
		"ADDED   a/new   desired=<unknown> current=<unknown> ready=<unknown> up-to-date=<unknown> available=<unknown>",
		"RESOLVED   error   a/agent   UnhealthyPod   1   n-1   CrashLoopBackOff",
		"CHANGED   error   a/agent,b/same   MissingPod   1   n-3   no daemon Pod on a targeted node",
		"CHANGED   error   a/agent   OutdatedPod   1   n-2   runs old revision x (current: y)",
		"CHANGED   error   a/agent   RolloutStuck   -   -   blocked: 1 unavailable of maxUnavailable 1 (agent-2 on n-2)",
		"APPEARED   error   a/agent   UnhealthyPod   1   n-2   ImagePullBackOff: image x",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same reports always give the same lines; no change, no line.
	if again := WatchChanges(NewWatchState(old, false), NewWatchState(new, false)); strings.Join(again, "\n") != strings.Join(got, "\n") {
		t.Errorf("not deterministic:\n%s", strings.Join(again, "\n"))
	}
	if none := WatchChanges(NewWatchState(new, false), NewWatchState(new, false)); len(none) != 0 {
		t.Errorf("no change printed %v", none)
	}
}

// Under -o wide the rows are findings: a Pod replaced on its node is a
// finding resolved and one appeared; a finding --grace held back that
// becomes active changes; control characters are escaped.
func TestWatchChangesWide(t *testing.T) {
	f := func(typ report.FindingType, node, pod, msg string) report.Finding {
		return report.Finding{Type: typ, Node: node, Pod: pod, Message: msg}
	}
	held := f(report.MissingPod, "n-2", "", "no Pod")
	held.HeldBack = "node younger than --grace 2m"
	old := &report.Report{DaemonSets: []report.DaemonSetReport{dsReport("a", "agent", counts(2, 1),
		f(report.UnhealthyPod, "n-1", "agent-1", "crash"), held)}}
	new := &report.Report{DaemonSets: []report.DaemonSetReport{dsReport("a", "agent", counts(2, 1),
		f(report.UnhealthyPod, "n-1", "agent-9", "crash\x1b[31m"), f(report.MissingPod, "n-2", "", "no Pod"))}}
	got := strings.Join(WatchChanges(NewWatchState(old, true), NewWatchState(new, true)), "\n")
	want := strings.Join([]string{
		"RESOLVED   a/agent   n-1   agent-1   UnhealthyPod   crash",
		"APPEARED   a/agent   n-1   agent-9   UnhealthyPod   crash\\x1b[31m",
		"CHANGED   a/agent   n-2   -   MissingPod   no Pod",
	}, "\n")
	if got != want {
		t.Errorf("changes:\n%s\nwant:\n%s", got, want)
	}
}

// NextWatchState reuses the rows of a DaemonSet whose findings are the
// very slice it saw (a report carried forward by audit.Memo), and makes
// the others anew: the lines are those of a new state.
func TestNextWatchStateReusesUnchangedDaemonSets(t *testing.T) {
	crash := []report.Finding{{Type: report.UnhealthyPod, Node: "n-1", Pod: "b-1", Message: "crash"}}
	old := &report.Report{DaemonSets: []report.DaemonSetReport{
		dsReport("a", "agent", counts(2, 2)),
		dsReport("b", "kept", counts(2, 1), crash...)}}
	prev := NextWatchState(nil, old, true)
	// agent's Pod crash-loops; kept's report is carried forward (the
	// same findings), though an equal copy would be rebuilt.
	next := &report.Report{DaemonSets: []report.DaemonSetReport{
		dsReport("a", "agent", counts(2, 1), report.Finding{Type: report.UnhealthyPod, Node: "n-2", Pod: "a-2", Message: "crash"}),
		old.DaemonSets[1]}}
	got := NextWatchState(prev, next, true)
	if &got.rowOf["b/kept"].rows[0] != &prev.rowOf["b/kept"].rows[0] {
		t.Error("the rows of a DaemonSet whose findings are the same slice were made again")
	}
	want := WatchChanges(prev, NewWatchState(next, true))
	if lines := WatchChanges(prev, got); strings.Join(lines, "\n") != strings.Join(want, "\n") || len(lines) != 2 {
		t.Errorf("changes:\n%s\nwant (2 lines):\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// A DaemonSet whose findings are a new slice gets new rows, even when
	// equal: the state never trusts equal-looking data to be the same.
	copied := &report.Report{DaemonSets: []report.DaemonSetReport{next.DaemonSets[0], dsReport("b", "kept", counts(2, 1), report.Finding{Type: report.UnhealthyPod, Node: "n-1", Pod: "b-1", Message: "crash again", Params: report.Params{State: "Error"}})}}
	if lines := WatchChanges(got, NextWatchState(got, copied, true)); len(lines) != 1 || !strings.Contains(lines[0], "crash again") {
		t.Errorf("a changed finding of a rebuilt DaemonSet: %v", lines)
	}
}

// The watch compares what findings say as data, not their words: a
// Pending Pod's "(for 3m)" becoming "(for 4m)" prints nothing, a new cause
// does, and so does a quantity (which a pattern over the text, blanking
// ages, once took for an age: 2020m to 2900m printed nothing).
func TestWatchComparesDataNotWords(t *testing.T) {
	pending := func(msg, resource, detail string) *report.Report {
		return &report.Report{DaemonSets: []report.DaemonSetReport{dsReport("a", "agent", counts(2, 1),
			report.Finding{ID: "p1", Type: report.PendingPod, Reason: report.ReasonInsufficient, Params: report.Params{Resource: resource, Detail: detail},
				Node: "node-5m", Pod: "agent-1", Message: msg})}}
	}
	if lines := WatchChanges(NewWatchState(pending("Pending: Insufficient cpu (for 3m)", "cpu", ""), true), NewWatchState(pending("Pending: Insufficient cpu (for 4m10s)", "cpu", ""), true)); len(lines) != 0 {
		t.Errorf("an older age printed %v", lines)
	}
	lines := WatchChanges(NewWatchState(pending("Pending: Insufficient cpu (for 3m)", "cpu", ""), true), NewWatchState(pending("Pending: Insufficient memory (for 3m)", "memory", ""), true))
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "CHANGED") || !strings.Contains(lines[0], "(for 3m)") {
		t.Errorf("a new cause: %v", lines)
	}
	lines = WatchChanges(NewWatchState(pending("needs 2020m", "cpu", "needs 2020m"), true), NewWatchState(pending("needs 2900m", "cpu", "needs 2900m"), true))
	if len(lines) != 1 || !strings.Contains(lines[0], "2900m") {
		t.Errorf("a new quantity: %v", lines)
	}
}

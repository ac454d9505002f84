package audit_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestUncoveredNode(t *testing.T) {
	ds := fixture.DaemonSet("security", "agent", fixture.Critical(), fixture.WithNodeSelector("kubernetes.io/os", "linux", "tier", "prod"),
		fixture.WithToleration(fixture.Exists("node-role.kubernetes.io/control-plane", corev1.TaintEffectNoSchedule)))
	nodes := []corev1.Node{
		fixture.Node("ok", fixture.WithLabel("tier", "prod")),
		fixture.Node("gpu", fixture.WithLabel("tier", "prod"), fixture.WithTaint("nvidia.com/gpu", "present", corev1.TaintEffectNoSchedule), fixture.WithTaint("dedicated", "", corev1.TaintEffectNoExecute)),
		fixture.Node("staging", fixture.WithLabel("tier", "staging")),
		fixture.Node("windows", fixture.WithLabel("kubernetes.io/os", "windows")),
	}
	pods := []corev1.Pod{fixture.Pod(&ds, "ok")}
	s := &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(pods...), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
	withStatus(counts(1, 1, 1, 1, 1, 0))(&s.DaemonSets[0])

	// Without a policy the gaps are silent: desired is 1 and all is well.
	if dr := audit.Analyze(s, audit.Options{Now: fixture.Epoch}).DaemonSets[0]; len(dr.Findings) != 0 {
		t.Fatalf("no policy: %v", kinds(dr))
	}
	rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch, Policy: fixture.Require(t, "security/agent=kubernetes.io/os=linux")})
	dr := rep.DaemonSets[0]
	if got, want := kinds(dr), []string{"UncoveredNode@gpu", "UncoveredNode@staging"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	byNode := map[string]report.Finding{}
	for _, f := range dr.Findings {
		byNode[f.Node] = f
	}
	gpu := byNode["gpu"]
	for _, want := range []string{"{key: nvidia.com/gpu, operator: Equal, value: present, effect: NoSchedule}", "{key: dedicated, operator: Exists, effect: NoExecute}"} {
		if !strings.Contains(gpu.Suggestion, want) {
			t.Errorf("gpu suggestion %q lacks %q", gpu.Suggestion, want)
		}
	}
	if !strings.Contains(gpu.Message, "--require security/agent") || gpu.Severity != report.SeverityError {
		t.Errorf("gpu finding %+v", gpu)
	}
	if st := byNode["staging"]; !strings.Contains(st.Suggestion, "kubectl label node staging tier=prod --overwrite") {
		t.Errorf("staging suggestion %q", st.Suggestion)
	}
	for _, nv := range dr.Nodes {
		if wantReq := nv.Name != "windows"; nv.Required != wantReq {
			t.Errorf("node %s required=%v", nv.Name, nv.Required)
		}
	}

	// The same rule from the DaemonSet's annotation.
	s.DaemonSets[0].Annotations[policy.RequireAnnotation] = "tier=staging"
	dr = audit.Analyze(s, audit.Options{Now: fixture.Epoch, Policy: &policy.Policy{}}).DaemonSets[0]
	if got := kinds(dr); !reflect.DeepEqual(got, []string{"UncoveredNode@staging"}) {
		t.Errorf("annotation rule: %v", got)
	}
}

func TestExemptGraceIgnore(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	exemptNode := fixture.Node("exempt")
	exemptNode.Annotations = map[string]string{policy.ExemptAnnotation: "MissingPod"}
	s := &model.Snapshot{
		Nodes:      []corev1.Node{fixture.Node("old"), fixture.Node("young", fixture.CreatedAgo(time.Minute)), exemptNode, fixture.Node("p")},
		DaemonSets: []appsv1.DaemonSet{ds},
		DaemonPods: collect.CompactPods(
			fixture.Pod(&ds, "p", fixture.PodCreatedAgo(30*time.Second), fixture.Unscheduled("0/4 nodes are available")),
		),
		ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)},
	}
	withStatus(counts(4, 1, 0, 0, 1, 0))(&s.DaemonSets[0])

	rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch, Gate: report.Gate{Grace: 5 * time.Minute}})
	state := map[string]string{}
	for _, f := range rep.DaemonSets[0].Findings {
		switch {
		case f.Exempted != "":
			state[string(f.Type)+"@"+f.Node] = "exempted"
		case f.HeldBack != "":
			state[string(f.Type)+"@"+f.Node] = "held"
		default:
			state[string(f.Type)+"@"+f.Node] = "active"
		}
	}
	want := map[string]string{"MissingPod@old": "active", "MissingPod@young": "held", "MissingPod@exempt": "exempted", "PendingPod@p": "held"}
	if !reflect.DeepEqual(state, want) {
		t.Errorf("states %v, want %v", state, want)
	}
	if rep.Summary.Findings != 1 || rep.Summary.Exempted != 1 || rep.Summary.HeldBack != 2 || rep.Grace != "5m0s" {
		t.Errorf("summary %+v grace %q", rep.Summary, rep.Grace)
	}
	// The gate stamps: only the active finding fails; the summary counts the
	// stamps, and the report records the settings it was judged under.
	for _, f := range rep.DaemonSets[0].Findings {
		if f.Failing != f.Active() {
			t.Errorf("%s@%s: failing %v, active %v", f.Type, f.Node, f.Failing, f.Active())
		}
	}
	if rep.Summary.Failing != 1 || rep.Gate.Grace != "5m0s" || len(rep.Gate.FailOn) != 1 || rep.Gate.FailOn[0] != "error" {
		t.Errorf("failing %d, gate %+v", rep.Summary.Failing, rep.Gate)
	}

	// Without grace the young node and Pod count.
	rep = audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	if rep.Summary.Findings != 3 || rep.Summary.HeldBack != 0 {
		t.Errorf("no grace: %+v", rep.Summary)
	}
	// An exempt DaemonSet sets all its findings aside, visibly.
	s.DaemonSets[0].Annotations[policy.ExemptAnnotation] = "true"
	rep = audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	if rep.Summary.Findings != 0 || rep.Summary.Exempted != 4 || len(rep.DaemonSets[0].Findings) != 4 {
		t.Errorf("exempt daemonset: %+v", rep.Summary)
	}
	delete(s.DaemonSets[0].Annotations, policy.ExemptAnnotation)
	// --ignore drops the type entirely.
	rep = audit.Analyze(s, audit.Options{Now: fixture.Epoch, Gate: report.Gate{Ignore: map[report.FindingType]bool{report.MissingPod: true}}})
	if got := kinds(rep.DaemonSets[0]); !reflect.DeepEqual(got, []string{"PendingPod@p"}) {
		t.Errorf("ignore: %v", got)
	}
}

// --fail-on selects by each finding's own severity and types; the summary's
// failing counts are the stamps' (the --wait progress line reads them).
func TestGateStampsFailing(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	ds.Status.DesiredNumberScheduled = 7 // stale: a warning
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}
	s := &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{ds},
		DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
	for _, tc := range []struct {
		failOn []string
		want   map[report.FindingType]bool
	}{
		{[]string{"warning"}, map[report.FindingType]bool{report.MissingPod: true, report.StaleStatus: true}},
		{[]string{"error"}, map[report.FindingType]bool{report.MissingPod: true, report.StaleStatus: false}},
		{[]string{"StaleStatus"}, map[report.FindingType]bool{report.MissingPod: false, report.StaleStatus: true}},
		{[]string{"none"}, map[report.FindingType]bool{report.MissingPod: false, report.StaleStatus: false}},
	} {
		sel, err := report.ParseSelector(tc.failOn)
		if err != nil {
			t.Fatal(err)
		}
		rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch, Gate: report.Gate{FailOn: sel}})
		fs := rep.DaemonSets[0].Findings
		failing := 0
		for _, f := range fs {
			if want, ok := tc.want[f.Type]; !ok || f.Failing != want {
				t.Errorf("--fail-on %v: %s failing=%v", tc.failOn, f.Type, f.Failing)
			}
			if f.Failing {
				failing++
			}
		}
		if len(fs) != 2 || rep.Summary.Failing != failing || rep.Summary.FailingByType[report.StaleStatus] != map[bool]int{true: 1}[tc.want[report.StaleStatus]] {
			t.Errorf("--fail-on %v: %d findings, summary %+v", tc.failOn, len(fs), rep.Summary)
		}
	}
	for _, bad := range [][]string{{""}, {}, {"none", "error"}, {"bogus"}} {
		if _, err := report.ParseSelector(bad); err == nil {
			t.Errorf("--fail-on %q: want an error", bad)
		}
	}
}

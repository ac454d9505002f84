package page

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func TestHTMLPageIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	r := gridReport(120)
	if err := Write(&a, r, Texts{}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, r, Texts{}, Options{}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two pages of one report differ")
	}
}

// gridReport has one DaemonSet on n nodes of pool "big" (every third node
// without its Pod) and one node of pool "small".
func gridReport(n int) *report.Report {
	r := &report.Report{GeneratedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	ds := report.DaemonSetReport{Namespace: "kube-system", Name: "agent", Computed: &report.Counts{}}
	add := func(name, pool string, nv report.NodeVerdict) {
		r.Nodes = append(r.Nodes, report.NodeInfo{Name: name, Ready: "True", Labels: map[string]string{"eks.amazonaws.com/nodegroup": pool}})
		nv.Name = name
		ds.Nodes = append(ds.Nodes, nv)
	}
	for i := range n {
		nv := report.NodeVerdict{ShouldRun: true, Coverage: report.Covered, Pods: []report.PodRef{{Name: fmt.Sprintf("agent-%d", i), Phase: "Running", State: "Running", Ready: true}}}
		if i%3 == 0 {
			nv = report.NodeVerdict{ShouldRun: true, Coverage: report.Missing}
			ds.Findings = append(ds.Findings, report.Finding{Type: report.MissingPod, Node: fmt.Sprintf("big-%d", i), Message: "no Pod"})
		}
		add(fmt.Sprintf("big-%d", i), "big", nv)
	}
	add("small-1", "small", report.NodeVerdict{Coverage: report.NotTargeted, Reason: "untolerated taint x"})
	r.DaemonSets = []report.DaemonSetReport{ds}
	return r
}

func TestHTMLGridCollapsesLargePoolsToCounts(t *testing.T) {
	g := buildGrid(gridReport(120), DefaultCollapseAbove)
	if len(g.Pools) != 2 || g.Pools[0].Name != "big" || g.Pools[1].Name != "small" {
		t.Fatalf("pools %+v, want big then small", g.Pools)
	}
	big, small := g.Pools[0], g.Pools[1]
	if !big.Collapsed || small.Collapsed {
		t.Errorf("collapsed: big %v, small %v; want only the pool above %d nodes", big.Collapsed, small.Collapsed, DefaultCollapseAbove)
	}
	if len(big.Rows) != 120 || big.Attention != 40 {
		t.Errorf("big: %d rows, %d needing attention; want 120 and 40", len(big.Rows), big.Attention)
	}
	want := []poolCount{{stRunning, 80, 67}, {stMissing, 40, 34}}
	if !slices.Equal(big.Counts[0], want) {
		t.Errorf("big pool counts %+v, want %+v", big.Counts[0], want)
	}
	// The broken nodes are shown outside the drill-in, at most
	// maxAttentionRows of them.
	if len(big.AttentionRows) != 40 || big.AttentionRows[0].Node != "big-0" || len(small.AttentionRows) != 0 {
		t.Errorf("%d attention rows (first %s), want the 40 nodes without a Pod from big-0", len(big.AttentionRows), big.AttentionRows[0].Node)
	}
	if g := buildGrid(gridReport(300), DefaultCollapseAbove); len(g.Pools[0].AttentionRows) != maxAttentionRows || g.Pools[0].Attention != 100 {
		t.Errorf("300 nodes: %d attention rows of %d, want %d of 100", len(g.Pools[0].AttentionRows), g.Pools[0].Attention, maxAttentionRows)
	}
	if big.CountTitles[0] != "running 80, missing 40" {
		t.Errorf("count title %q", big.CountTitles[0])
	}
	// Nodes in natural order: big-2 before big-10.
	if big.Rows[2].Node != "big-2" || big.Rows[10].Node != "big-10" {
		t.Errorf("rows not in natural order: %s, %s", big.Rows[2].Node, big.Rows[10].Node)
	}
	var buf bytes.Buffer
	if err := Write(&buf, gridReport(120), Texts{}, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<details class="drill"><summary>Show all 120 nodes of pool big</summary>`) {
		t.Error("the collapsed pool has no drill-in to its nodes")
	}
	if strings.Count(buf.String(), "<details") != 1 {
		t.Error("the small pool is collapsed too")
	}
}

func TestHTMLGridCellStates(t *testing.T) {
	running := report.PodRef{Name: "p", Phase: "Running", State: "Running", Ready: true}
	tests := []struct {
		name  string
		nv    *report.NodeVerdict
		fs    []*report.Finding
		want  gridState
		flag  bool
		title string
	}{
		{name: "ready Pod", nv: &report.NodeVerdict{ShouldRun: true, Pods: []report.PodRef{running}}, want: stRunning, title: "running: Pod p Running"},
		{name: "ready Pod with an old revision", nv: &report.NodeVerdict{ShouldRun: true, Pods: []report.PodRef{running}},
			fs: []*report.Finding{{Type: report.OutdatedPod, Message: "runs old revision a"}}, want: stRunning, flag: true, title: "OutdatedPod: runs old revision a"},
		{name: "pending Pod", nv: &report.NodeVerdict{ShouldRun: true, Pods: []report.PodRef{{Name: "p", Phase: "Pending", State: "Pending"}}}, want: stPending},
		{name: "image pull failure is unhealthy, not pending", nv: &report.NodeVerdict{ShouldRun: true, Pods: []report.PodRef{{Name: "p", Phase: "Pending", State: "ImagePullBackOff"}}},
			fs: []*report.Finding{{Type: report.UnhealthyPod}}, want: stUnhealthy},
		{name: "crashing Pod", nv: &report.NodeVerdict{ShouldRun: true, Pods: []report.PodRef{{Name: "p", Phase: "Running", State: "CrashLoopBackOff"}}}, want: stUnhealthy},
		{name: "two Pods", nv: &report.NodeVerdict{ShouldRun: true, Pods: []report.PodRef{running, running}}, want: stUnhealthy, title: "(+1 more Pods)"},
		{name: "no Pod", nv: &report.NodeVerdict{ShouldRun: true}, want: stMissing},
		{name: "required by a policy, not targeted", nv: &report.NodeVerdict{Required: true, RequiredBy: "--require a/b", Reason: "untolerated taint t"}, want: stMissing, title: "required by --require a/b"},
		{name: "misscheduled Pod", nv: &report.NodeVerdict{Pods: []report.PodRef{running}, Reason: "nodeSelector a=b"}, want: stUnhealthy, title: "runs where the DaemonSet does not target"},
		{name: "not targeted", nv: &report.NodeVerdict{Reason: "untolerated taint t"}, want: stNotTargeted, title: "not targeted: untolerated taint t"},
		{name: "unknown coverage", nv: &report.NodeVerdict{ShouldRun: true, Coverage: report.CoverageUnknown}, want: stUnknown},
		{name: "no verdict", want: stUnknown},
		{name: "exempted", nv: &report.NodeVerdict{ShouldRun: true},
			fs: []*report.Finding{{Type: report.MissingPod, Exempted: "annotation daemoncheck.io/exempt on node n"}}, want: stExcluded, title: "excluded by policy (missing)"},
		{name: "held back by grace stays what it is", nv: &report.NodeVerdict{ShouldRun: true},
			fs: []*report.Finding{{Type: report.MissingPod, HeldBack: "node n joined 1m ago"}}, want: stMissing, title: "[held back: node n joined 1m ago]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := gridCellOf(tt.nv, tt.fs)
			if c.State != tt.want || c.Flag != tt.flag {
				t.Errorf("state %s (flag %v), want %s (flag %v)", c.State.Word, c.Flag, tt.want.Word, tt.flag)
			}
			if !strings.Contains(c.Title, tt.title) {
				t.Errorf("title %q lacks %q", c.Title, tt.title)
			}
		})
	}
}

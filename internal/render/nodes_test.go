package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// wideMatrixReport has more DaemonSet columns than a terminal holds: 12
// DaemonSets with long names on 3 nodes, one of them failing on node-2.
func wideMatrixReport() *report.Report {
	r := &report.Report{NodeCount: 3, Gate: report.GateSettings{FailOn: []string{"error"}}}
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		r.Nodes = append(r.Nodes, report.NodeInfo{Name: n, Ready: "True"})
	}
	for i := range 12 {
		ds := report.DaemonSetReport{Namespace: "kube-system", Name: fmt.Sprintf("daemon-with-a-long-name-%02d", i)}
		for _, n := range r.Nodes {
			nv := report.NodeVerdict{Name: n.Name, ShouldRun: true, Coverage: report.Covered,
				Pods: []report.PodRef{{Name: ds.Name + "-" + n.Name, State: "Running", Ready: true}}}
			if i == 11 && n.Name == "node-2" {
				nv.Pods, nv.Coverage = nil, report.Missing
			}
			ds.Nodes = append(ds.Nodes, nv)
		}
		r.DaemonSets = append(r.DaemonSets, ds)
	}
	r.Problems = []report.Problem{{Type: string(report.MissingPod), Severity: report.SeverityError, Failing: true, Nodes: []string{"node-2"}}}
	return r
}

func TestMatrixOnATerminalShowsEveryDaemonSetInBlocksThatFit(t *testing.T) {
	for _, width := range []int{80, 120} {
		var buf bytes.Buffer
		if err := Matrix(&buf, wideMatrixReport(), Options{MaxWidth: width}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, l := range strings.Split(out, "\n") {
			if visibleLen(l) > width {
				t.Errorf("width %d: line of %d columns: %q", width, visibleLen(l), l)
			}
		}
		for i := range 12 {
			name := fmt.Sprintf("daemon-with-a-long-name-%02d", i)
			if !strings.Contains(out, name) {
				t.Errorf("width %d: column %s is not on the screen:\n%s", width, name, out)
			}
		}
		// Every block names its rows: the NODE header once per block.
		if blocks := headerLines(out); blocks < 2 {
			t.Errorf("width %d: %d blocks, want the columns split into several:\n%s", width, blocks, out)
		}
		if !strings.Contains(out, "Missing") {
			t.Errorf("width %d: the missing Pod's cell is not shown:\n%s", width, out)
		}
		// The legend is wrapped, not cut: every word of it is there.
		if !strings.Contains(strings.Join(strings.Fields(out), " "), "kubectl daemoncheck nodes NODE explains one node.") {
			t.Errorf("width %d: the legend lost words:\n%s", width, out)
		}
		last := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if v := last[len(last)-1]; v != "FAIL: 1 problem fails the gate (1 error) on 1 of 3 nodes; exit 1" {
			t.Errorf("width %d: last line %q, want the verdict", width, v)
		}
	}
}

func TestMatrixInAPipeIsOneTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Matrix(&buf, wideMatrixReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	if blocks := headerLines(buf.String()); blocks != 1 {
		t.Errorf("%d tables in a pipe, want one whole table (scripts read it by column)", blocks)
	}
}

// headerLines counts the matrix's header lines (one per block).
func headerLines(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "NODE ") {
			n++
		}
	}
	return n
}

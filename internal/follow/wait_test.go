package follow

import (
	"testing"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// --wait's progress line counts what the gate stamped failing, and says
// when the controller is mid-change, which holds off convergence.
func TestProgressLine(t *testing.T) {
	rep := &report.Report{
		Summary: report.Summary{Failing: 2, FailingByType: map[report.FindingType]int{report.Catalog[0].Type: 2}},
		DaemonSets: []report.DaemonSetReport{{
			Findings: []report.Finding{{Failing: true}, {Failing: true}},
		}},
	}
	want := "2 failing findings in 1 DaemonSet (2 " + string(report.Catalog[0].Type) + ")"
	if got := progressLine(rep); got != want {
		t.Errorf("progressLine = %q, want %q", got, want)
	}
	if f := inFlight(rep); f != "" {
		t.Errorf("inFlight of a settled report = %q", f)
	}
	rep.DaemonSets[0].Generation = 2
	rep.DaemonSets[0].Status.ObservedGeneration = 1
	if f := inFlight(rep); f != "the DaemonSet controller is mid-change (1 DaemonSet status behind its spec)" {
		t.Errorf("inFlight of a DaemonSet behind its spec = %q", f)
	}
}

package cli

import (
	"strings"
	"testing"
)

func TestHTMLOutputOfTheDemoMatchesGolden(t *testing.T) {
	out, errOut, code := runCmd(t, "", "-f", demo, demoNow, "-o", "html")
	if code != ExitFindings {
		t.Errorf("exit code %d, want %d (stderr %q)", code, ExitFindings, errOut)
	}
	golden(t, "report.html.golden", out)
}

// The nodes view prints the same page for the nodes and DaemonSets it
// selects: the grid is its matrix.
func TestHTMLOutputOfTheNodesViewHasOnlyTheSelectedNodes(t *testing.T) {
	out, errOut, _ := runCmd(t, "", "nodes", "-f", demo, demoNow, "-o", "html", "--node-selector", "accelerator=nvidia")
	if errOut != "" && !strings.Contains(errOut, "Analysing as of") {
		t.Logf("stderr: %s", errOut)
	}
	for _, want := range []string{`data-node="gpu-1"`, `data-node="gpu-2"`, "<!DOCTYPE html>"} {
		if !strings.Contains(out, want) {
			t.Errorf("nodes -o html lacks %s", want)
		}
	}
	if strings.Contains(out, `data-node="worker-1"`) {
		t.Errorf("nodes -o html --node-selector accelerator=nvidia shows worker-1")
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// checkRefs fails when a problem of rep refers to a finding that is not
// where the reference says (by index) or not there at all (by ID).
func checkRefs(t *testing.T, where string, rep *report.Report) {
	t.Helper()
	byName := map[string]*report.DaemonSetReport{}
	for i := range rep.DaemonSets {
		ds := &rep.DaemonSets[i]
		byName[ds.Namespace+"/"+ds.Name] = ds
	}
	for _, p := range rep.Problems {
		if len(p.Findings) == 0 {
			t.Errorf("%s: problem %s %q refers to no finding", where, p.Type, p.Cause)
		}
		for _, ref := range p.Findings {
			ds := byName[ref.DaemonSet]
			if ds == nil || ref.Index < 0 || ref.Index >= len(ds.Findings) {
				t.Errorf("%s: problem %s refers to %s[%d], which does not exist", where, p.Type, ref.DaemonSet, ref.Index)
				continue
			}
			if f := ds.Findings[ref.Index]; f.ID != ref.ID || ref.ID == "" {
				t.Errorf("%s: problem %s refers to %s[%d] id %q, which holds %s id %q", where, p.Type, ref.DaemonSet, ref.Index, ref.ID, f.Type, f.ID)
			}
		}
	}
}

func decodeReport(t *testing.T, out string) *report.Report {
	t.Helper()
	rep := &report.Report{}
	if err := json.Unmarshal([]byte(out), rep); err != nil {
		t.Fatalf("decoding the report: %v", err)
	}
	return rep
}

// The nodes view used to filter findings in place while problems kept
// pointing at the old positions: every reference of `nodes worker-8 -o
// json` was wrong.
func TestNodesViewProblemsReferToItsOwnFindings(t *testing.T) {
	for _, args := range [][]string{
		{"nodes", "worker-8"},
		{"nodes", "--node-selector", "kubernetes.io/os=linux"},
		{"nodes", "--daemonsets", "logging/fluent-bit,security/falco"},
		{"capacity"},
		{},
	} {
		out, errOut, _ := runCmd(t, "", append(args, "-f", demo, demoNow, "-o", "json")...)
		if out == "" {
			t.Fatalf("%v: no output; stderr %s", args, errOut)
		}
		rep := decodeReport(t, out)
		checkRefs(t, strings.Join(args, " "), rep)
		if len(rep.Problems) == 0 && rep.Summary.Findings > 0 {
			t.Errorf("%v: %d findings but no problem", args, rep.Summary.Findings)
		}
	}
}

// A view flag selects what is printed, not what is judged: a node selector
// that matches every node keeps every finding, DaemonSet-level ones too
// (it used to drop RolloutStuck and StaleStatus: 21 failing became 15).
func TestNodeSelectorMatchingEveryNodeKeepsTheGate(t *testing.T) {
	full, _, fullCode := runCmd(t, "", "nodes", "-f", demo, demoNow, "-o", "json")
	all, _, allCode := runCmd(t, "", "nodes", "--node-selector", "kubernetes.io/os", "-f", demo, demoNow, "-o", "json")
	a, b := decodeReport(t, full), decodeReport(t, all)
	if a.NodeCount != b.NodeCount {
		t.Fatalf("the selector should match every node: %d vs %d", b.NodeCount, a.NodeCount)
	}
	if a.Summary.Failing == 0 || a.Summary.Failing != b.Summary.Failing || a.Summary.Findings != b.Summary.Findings || fullCode != allCode {
		t.Errorf("gate changed with --node-selector: failing %d -> %d, findings %d -> %d, exit %d -> %d",
			a.Summary.Failing, b.Summary.Failing, a.Summary.Findings, b.Summary.Findings, fullCode, allCode)
	}
	if len(a.Problems) != len(b.Problems) {
		t.Errorf("problems %d -> %d", len(a.Problems), len(b.Problems))
	}
	// And the audit's own verdict is the same as the full nodes view's.
	audit, _, _ := runCmd(t, "", "-f", demo, demoNow, "-o", "json")
	if c := decodeReport(t, audit); c.Summary.Failing != a.Summary.Failing {
		t.Errorf("nodes view fails %d findings, the audit %d", a.Summary.Failing, c.Summary.Failing)
	}
}

// Every report kept as a golden (JSON or YAML) has problems whose
// references resolve: what consumers of the machine formats rely on.
func TestGoldenReportsReferencesResolve(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.golden")
	seen := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".yaml.golden") {
			if data, err = yaml.YAMLToJSON(data); err != nil {
				continue
			}
		}
		var probe struct {
			Kind     string            `json:"kind"`
			Clusters []json.RawMessage `json:"clusters"`
		}
		if json.Unmarshal(data, &probe) != nil {
			continue
		}
		switch probe.Kind {
		case report.Kind:
			rep := &report.Report{}
			if err := json.Unmarshal(data, rep); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			checkRefs(t, f, rep)
			seen++
		case "FleetReport":
			var fr report.FleetReport
			if err := json.Unmarshal(data, &fr); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, c := range fr.Clusters {
				if c.Report != nil {
					checkRefs(t, f+" "+c.Context, c.Report)
					seen++
				}
			}
		}
	}
	if seen < 3 {
		t.Fatalf("only %d reports found among the goldens: the glob or the kinds are wrong", seen)
	}
}

// Every command a suggestion spells out is in its Advice as an argument
// vector (so a fleet can name the context and an owner-aware renderer can
// route writes), and the suggestion is that Advice rendered.
func TestSuggestedCommandsAreData(t *testing.T) {
	out, _, _ := runCmd(t, "", "-f", demo, demoNow, "-o", "json", "--require", "security/falco")
	rep := decodeReport(t, out)
	n := 0
	for _, ds := range rep.DaemonSets {
		for _, f := range ds.Findings {
			if f.Advice != nil && f.Advice.Render(report.RenderOptions{}) != f.Suggestion {
				t.Errorf("%s %s: suggestion %q is not its advice rendered %q", ds.Name, f.Type, f.Suggestion, f.Advice.Render(report.RenderOptions{}))
			}
			if !strings.Contains(f.Suggestion, "kubectl ") {
				continue
			}
			n++
			if f.Advice == nil || len(f.Advice.Commands) == 0 {
				t.Errorf("%s %s: %q names a kubectl command that is not data", ds.Name, f.Type, f.Suggestion)
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d suggestions with commands in the demo", n)
	}
}

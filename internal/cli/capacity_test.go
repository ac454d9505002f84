package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func TestCapacityGoldens(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"capacity.golden", nil},
		{"capacity-wide.golden", []string{"-o", "wide"}},
		{"capacity-workloads.golden", []string{"--workloads"}},
		{"capacity.markdown.golden", []string{"-o", "markdown"}},
		{"capacity.yaml.golden", []string{"-o", "yaml"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", append([]string{"capacity", "-f", demo, demoNow}, tt.args...)...)
			// The demo's HostPortConflict fails the default gate.
			if code != ExitFindings {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestCapacityMachineOutput(t *testing.T) {
	out, _, _ := runCmd(t, "", "capacity", "-f", demo, demoNow, "-o", "yaml", "--workloads")
	var c report.CapacityReport
	if err := yaml.UnmarshalStrict([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.APIVersion != report.CapacityAPIVersion || c.Kind != report.CapacityKind || len(c.Nodes) != 11 || !c.Workloads {
		t.Fatalf("%s %s, %d nodes, workloads %v", c.APIVersion, c.Kind, len(c.Nodes), c.Workloads)
	}
	var gpu2 *report.NodeCapacity
	for i := range c.Nodes {
		if c.Nodes[i].Name == "gpu-2" {
			gpu2 = &c.Nodes[i]
		}
	}
	// The training job's requests are the other Pods' on gpu-2.
	if gpu2 == nil || gpu2.Workloads["memory"] != "29Gi" || gpu2.Workloads["cpu"] != "6" || gpu2.Daemons["pods"] != "2" {
		t.Errorf("gpu-2: %+v", gpu2)
	}
	// The audit's report carries the section too, with only the nodes
	// where a daemon is left out.
	out, _, _ = runCmd(t, "", "-f", demo, demoNow, "-o", "json")
	var r report.Report
	if err := yaml.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Capacity == nil || len(r.Capacity.Pools) != 3 || len(r.Capacity.Nodes) != 3 {
		t.Errorf("audit capacity section: %+v", r.Capacity)
	}
}

func TestCapacityExitAndErrors(t *testing.T) {
	// Only findings about fit count: without the demo's port clash and the
	// device plugin Pending for memory, the node too small for falco (a
	// warning: at risk) fails --fail-on warning ...
	if _, errOut, code := runCmd(t, "", "capacity", "-f", demo, demoNow, "--ignore", "HostPortConflict,PendingPod", "--fail-on", "warning"); code != ExitFindings {
		t.Errorf("exit %d; %s", code, errOut)
	}
	// ... but not the default gate (errors), although the audit has errors
	// elsewhere (an image pull, a missing Pod) the capacity view does not show.
	if _, errOut, code := runCmd(t, "", "capacity", "-f", demo, demoNow, "--ignore", "HostPortConflict,PendingPod"); code != ExitOK {
		t.Errorf("exit %d; %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, "", "capacity", "extra", "-f", demo); code != ExitUsage || !strings.Contains(errOut, "capacity takes no arguments") {
		t.Errorf("exit %d; %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, "", "capacity", "-f", demo, "-o", "junit"); code != ExitUsage || !strings.Contains(errOut, "is not supported by capacity") {
		t.Errorf("exit %d; %s", code, errOut)
	}
}

// The README's capacity example is this command's output, as written.
func TestReadmeCapacityExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```\n\\$ (kubectl daemoncheck capacity [^\n]*)\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README lost its capacity example")
	}
	args := strings.Fields(string(m[1]))[2:]
	for i, a := range args {
		args[i] = strings.Replace(a, "test/fixtures/", "../../test/fixtures/", 1)
	}
	out, _, _ := runCmd(t, "", args...)
	if out != string(m[2]) {
		t.Errorf("README capacity example differs from %s:\n%s", m[1], out)
	}
}

// capacity --workloads and the audit with --workloads place the daemons
// alike: the same daemon is left out on the same node, and the audit
// reports a finding about fit for each.
func TestCapacityAndAuditAgreeOnWorkloads(t *testing.T) {
	leftOut := func(nodes []report.NodeCapacity) map[string]bool {
		out := map[string]bool{}
		for _, n := range nodes {
			for _, l := range n.LeftOut {
				out[n.Name+" "+l.DaemonSet] = true
			}
		}
		return out
	}
	out, _, _ := runCmd(t, "", "capacity", "-f", demo, demoNow, "-o", "json", "--workloads")
	var c report.CapacityReport
	if err := yaml.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCmd(t, "", "-f", demo, demoNow, "-o", "json", "--workloads")
	var r report.Report
	if err := yaml.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !c.Workloads || r.Capacity == nil || !r.Capacity.Workloads {
		t.Fatalf("--workloads not recorded: capacity %v, audit %+v", c.Workloads, r.Capacity)
	}
	got, want := leftOut(r.Capacity.Nodes), leftOut(c.Nodes)
	if len(want) == 0 {
		t.Fatal("the demo has no daemon left out: nothing to compare")
	}
	for k := range want {
		if !got[k] {
			t.Errorf("capacity leaves out %s, the audit does not", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("the audit leaves out %s, capacity does not", k)
		}
	}
	found := map[string]bool{}
	for _, d := range r.DaemonSets {
		for _, f := range d.Findings {
			switch f.Type {
			case report.NodeTooSmall, report.HostPortConflict, report.PendingPod, report.MissingPod:
				found[f.Node+" "+d.Namespace+"/"+d.Name] = true
			}
		}
	}
	for k := range want {
		if !found[k] {
			t.Errorf("left out %s, but the audit has no finding about its fit there", k)
		}
	}
}

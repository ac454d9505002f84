package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// An amount the scheduler's int64 arithmetic cannot hold (1e16 cpu is
// 10^19 millicores; an extended resource of 2^63) or a negative one is
// refused wherever it is read, with one line naming the object and the
// field, exit 3 (--allocatable: a usage error, 2): it used to wrap, so a
// daemon that can never fit passed the what-if gate.
func TestAmountsBeyondInt64AreRefusedEverywhere(t *testing.T) {
	ds := fixture.DaemonSet("kube-system", "agent", fixture.Requests("cpu", "1e16"))
	node := fixture.Node("n1", fixture.Sized("4", "16Gi"))
	bigNode := fixture.Node("n2")
	bigNode.Status.Allocatable = corev1.ResourceList{"example.com/dev": resource.MustParse("9223372036854775808"), corev1.ResourcePods: resource.MustParse("110")}
	negNode := fixture.Node("n3")
	negNode.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-4"), corev1.ResourcePods: resource.MustParse("110")}
	okDS := fixture.DaemonSet("kube-system", "ok", fixture.Requests("cpu", "100m"))

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dsDump := write("ds.yaml", yamlDocs(t, &ds, &node))
	okDump := write("ok.yaml", yamlDocs(t, &okDS, &node))
	dsProp := write("ds-prop.yaml", yamlDocs(t, &ds))
	bigProp := write("big-node.yaml", yamlDocs(t, &bigNode))
	negProp := write("neg-node.yaml", yamlDocs(t, &negNode))

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"dump with an overflowing request", []string{"-f", dsDump}, ExitInput,
			[]string{"ds.yaml: document 2: DaemonSet kube-system/agent: spec.template.spec.containers[0].resources.requests: cpu 10e15: more than the scheduler can count"}},
		{"whatif against that dump", []string{"whatif", "-f", dsDump, "--labels", "a=b"}, ExitInput,
			[]string{"DaemonSet kube-system/agent: spec.template.spec.containers[0].resources.requests: cpu"}},
		{"proposed DaemonSet with an overflowing request", []string{"whatif", dsProp, "-f", okDump}, ExitInput,
			[]string{"ds-prop.yaml: document 1: DaemonSet agent: spec.template.spec.containers[0].resources.requests: cpu 10e15"}},
		{"Node manifest with allocatable beyond int64", []string{"whatif", bigProp, "-f", okDump}, ExitInput,
			[]string{"big-node.yaml: document 1: Node n2: status.allocatable: example.com/dev 9223372036854775808: more than"}},
		{"Node manifest with negative allocatable", []string{"whatif", negProp, "-f", okDump}, ExitInput,
			[]string{"neg-node.yaml: document 1: Node n3: status.allocatable: cpu -4: must not be negative"}},
		{"--allocatable beyond int64", []string{"whatif", "-f", okDump, "--allocatable", "cpu=1e16"}, ExitUsage,
			[]string{"--allocatable cpu=1e16: cpu 10e15: more than the scheduler can count"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			var errLine string
			for _, l := range strings.Split(errOut, "\n") {
				if strings.HasPrefix(l, "error: ") {
					errLine = l
				}
			}
			for _, w := range c.want {
				if !strings.Contains(errLine, w) {
					t.Errorf("error line %q lacks %q; stderr:\n%s", errLine, w, errOut)
				}
			}
			if strings.Contains(out, "passed") {
				t.Errorf("refused input must not print a verdict:\n%s", out)
			}
		})
	}

	// Live: an API server stores any non-negative quantity; the value is
	// refused as it is from a file, naming the node and the field.
	cs := fake.NewClientset([]runtime.Object{&okDS, &node, &bigNode}...)
	_, errOut, code := runFake(t, cs, "whatif", "--labels", "a=b", "--allocatable", "cpu=4,pods=110")
	if code != ExitInput || !strings.Contains(errOut, "node n2: status.allocatable: example.com/dev 9223372036854775808: more than the scheduler can count") {
		t.Errorf("live cluster with an overflowing allocatable: exit %d, stderr:\n%s", code, errOut)
	}
}

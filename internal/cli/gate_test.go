package cli

import (
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestGateFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		errLine string
	}{
		{name: "fail on one type that is present", args: []string{"--fail-on", "DuplicatePods"}, code: ExitFindings},
		{name: "fail on a type that is absent", args: []string{"--fail-on", "UncoveredNode"}, code: ExitOK},
		{name: "policy makes UncoveredNode fail", args: []string{"--fail-on", "UncoveredNode", "--require", "security/falco"}, code: ExitFindings},
		{name: "ignore every present type", args: []string{"--ignore", "MissingPod,PendingPod,UnhealthyPod,DuplicatePods,MisscheduledPod,OrphanedPod,OutdatedPod,StaleStatus,RolloutStuck,NoTargets,HostPortConflict,NodeTooSmall,LowPriorityAgent,NoMemoryRequest"}, code: ExitOK},
		{name: "grace holds back the only failing type", args: []string{"--fail-on", "MissingPod", "--grace", "5m"}, code: ExitOK},
		{name: "without grace it fails", args: []string{"--fail-on", "MissingPod"}, code: ExitFindings},
		{name: "bad fail-on", args: []string{"--fail-on", "critical"}, code: ExitUsage, errLine: `--fail-on "critical": use error, warning, info, none or finding types`},
		{name: "bad ignore", args: []string{"--ignore", "Missing"}, code: ExitUsage, errLine: `--ignore "Missing": unknown finding type`},
		{name: "bad require", args: []string{"--require", "falco"}, code: ExitUsage, errLine: "want NAMESPACE/NAME"},
		{name: "require unknown daemonset", args: []string{"--require", "security/flaco"}, code: ExitUsage, errLine: `daemonset "flaco" not found`},
		{name: "policy file with unknown key", args: []string{"--policy", "testdata/bad-policy.yaml"}, code: ExitUsage, errLine: "testdata/bad-policy.yaml"},
		{name: "missing policy file", args: []string{"--policy", "testdata/none.yaml"}, code: ExitUsage, errLine: "no such file"},
		{name: "wait with -f", args: []string{"--wait"}, code: ExitUsage, errLine: "--wait re-reads the cluster"},
		{name: "negative grace", args: []string{"--grace", "-1m"}, code: ExitUsage, errLine: "--grace"},
		{name: "nodes: bad output", args: []string{"nodes", "-o", "junit"}, code: ExitUsage, errLine: "not supported by nodes"},
		{name: "nodes: unknown node", args: []string{"nodes", "worker-99"}, code: ExitInput, errLine: `node "worker-99" not found`},
		{name: "nodes: unknown daemonset column", args: []string{"nodes", "--daemonsets", "nope"}, code: ExitUsage, errLine: `"nope" matches no DaemonSet`},
		{name: "nodes: healthy node", args: []string{"nodes", "worker-3", "--daemonsets", "kube-system/kube-proxy,kube-system/csi-node"}, code: ExitOK},
		// A DaemonSet's own findings (a stuck rollout, a stale status) are
		// about every node it runs on: a view of one node keeps them.
		{name: "nodes: findings about a shown DaemonSet as a whole fail a node view", args: []string{"nodes", "worker-3", "--daemonsets", "monitoring/node-exporter", "--fail-on", "RolloutStuck"}, code: ExitFindings},
		{name: "nodes: node with findings", args: []string{"nodes", "worker-3"}, code: ExitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{}, tt.args...), "-f", demo, demoNow)
			_, errOut, code := runCmd(t, "", args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if tt.errLine != "" && !strings.Contains(strings.SplitN(errOut, "\n", 2)[0], tt.errLine) {
				t.Errorf("stderr %q lacks %q", errOut, tt.errLine)
			}
		})
	}
}

func TestJUnitIsValidXML(t *testing.T) {
	out, _, _ := runCmd(t, "", "-f", demo, demoNow, "-o", "junit", "--require", "security/falco")
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name     string `xml:"name,attr"`
				Failures []struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 8 || doc.Failures == 0 {
		t.Fatalf("suites %d failures %d", len(doc.Suites), doc.Failures)
	}
	found := false
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			for _, f := range c.Failures {
				if s.Name == "security/falco" && c.Name == "node gpu-1" && f.Type == "UncoveredNode" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Error("no UncoveredNode failure for security/falco on node gpu-1")
	}
}

// runFake runs the root command on a fake clientset.
func runFake(t *testing.T, cs *fake.Clientset, args ...string) (string, string, int) {
	t.Helper()
	return runWith(t, cs, "", args...)
}

func TestWaitConverges(t *testing.T) {
	cs, createPod := waitClient()
	// The second Pod appears a moment later, as the controller would create it.
	go func() {
		time.Sleep(300 * time.Millisecond)
		createPod()
	}()
	out, errOut, code := runFake(t, cs, "--wait", "--interval", "1s", "--timeout", "20s")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "Waiting for daemon coverage (watching): 1 failing finding in 1 DaemonSet (1 MissingPod)") || !strings.Contains(errOut, "converged") {
		t.Errorf("progress on stderr:\n%s", errOut)
	}
	if strings.Contains(out, "Waiting") || !strings.Contains(out, "agent") {
		t.Errorf("stdout must hold only the final report:\n%s", out)
	}
}

// The progress counts are the gate's own: with --fail-on error the stale
// status (a warning) is neither counted nor listed (regression: it said "1
// failing findings ... (1 MissingPod, 1 StaleStatus)").
func TestWaitProgressCountsTheGate(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2, UpdatedNumberScheduled: 2, ObservedGeneration: 1}
	rev := fixture.Revision(&ds, 1)
	n1, n2 := fixture.Node("n1"), fixture.Node("n2")
	p1 := fixture.Pod(&ds, "n1")
	cs := fake.NewClientset([]runtime.Object{&ds, &rev, &n1, &n2, &p1}...)
	_, errOut, code := runFake(t, cs, "--wait", "--interval", "1s", "--timeout", "1500ms", "--fail-on", "error")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "Waiting for daemon coverage (watching): 1 failing finding in 1 DaemonSet (1 MissingPod)\n") || strings.Contains(errOut, "StaleStatus") {
		t.Errorf("progress must count only what --fail-on selects:\n%s", errOut)
	}
}

func TestWaitTimesOut(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	rev := fixture.Revision(&ds, 1)
	n1 := fixture.Node("n1", fixture.WithLabel("pool", "gpu"))
	cs := fake.NewClientset([]runtime.Object{&ds, &rev, &n1}...)
	start := time.Now()
	out, errOut, code := runFake(t, cs, "--wait", "--interval", "1s", "--timeout", "700ms", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s for a 700ms timeout", d)
	}
	if !strings.Contains(errOut, "timed out after 700ms") || !strings.Contains(out, `"MissingPod"`) {
		t.Errorf("want the timeout on stderr and the last report on stdout; stderr:\n%s\nstdout:\n%s", errOut, out)
	}
	// Ignoring the only problem converges at once.
	if _, errOut, code := runFake(t, cs, "--wait", "--interval", "1s", "--timeout", "5s", "--ignore", "MissingPod,StaleStatus"); code != ExitOK {
		t.Errorf("exit %d; stderr %s", code, errOut)
	}
}

func TestPartialReportInEveryFormat(t *testing.T) {
	newCS := func() *fake.Clientset {
		ds := fixture.DaemonSet("ns", "agent")
		rev := fixture.Revision(&ds, 1)
		p := fixture.Pod(&ds, "n1")
		cs := fake.NewClientset([]runtime.Object{&ds, &rev, &p}...)
		cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New(`User "ci" cannot list resource "nodes"`))
		})
		return cs
	}
	formats := map[string]string{"": "PARTIAL REPORT: nodes not read", "wide": "PARTIAL REPORT", "json": `"partial": true`, "yaml": "partial: true",
		"junit": "<!-- PARTIAL REPORT: nodes not read", "markdown": "**Partial report:** nodes not read"}
	for format, want := range formats {
		t.Run("format "+format, func(t *testing.T) {
			args := []string{}
			if format != "" {
				args = append(args, "-o", format)
			}
			out, errOut, code := runFake(t, newCS(), args...)
			if code != ExitInput {
				t.Errorf("a partial report without findings must exit %d, got %d", ExitInput, code)
			}
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
			if !strings.Contains(errOut, "Warning: nodes not read: forbidden: cannot list nodes; add to a ClusterRole: apiGroups: [\"\"], resources: [nodes], verbs: [get, list]") {
				t.Errorf("stderr lacks the RBAC rule:\n%s", errOut)
			}
			if strings.Contains(out, "Warning:") {
				t.Error("warnings leaked to stdout")
			}
		})
	}
	// Findings still known without nodes (an unhealthy Pod) make it exit 1.
	cs := newCS()
	ds := fixture.DaemonSet("ns", "crashy")
	p := fixture.Pod(&ds, "n1", fixture.Waiting("CrashLoopBackOff", "", 3))
	_, _ = cs.AppsV1().DaemonSets("ns").Create(context.Background(), &ds, metav1.CreateOptions{})
	_, _ = cs.CoreV1().Pods("ns").Create(context.Background(), &p, metav1.CreateOptions{})
	if _, errOut, code := runFake(t, cs); code != ExitFindings {
		t.Errorf("partial with findings: exit %d, stderr %s", code, errOut)
	}
}

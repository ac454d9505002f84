package cli

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// clockDump is a node whose newest timestamp is its heartbeat, an event
// that is newer still, and a DaemonSet created before both.
const clockDump = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, uid: u-n1, creationTimestamp: "2026-01-01T00:00:00Z"}
  status:
    conditions:
    - {type: Ready, status: "True", lastHeartbeatTime: "2026-03-04T10:00:00Z", lastTransitionTime: "2026-01-01T00:01:00Z"}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: ns1, uid: u-ds, creationTimestamp: "2026-02-01T00:00:00Z"}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: c, image: i}]}
- apiVersion: v1
  kind: Event
  metadata: {name: e1, namespace: ns1, uid: u-e1}
  involvedObject: {kind: DaemonSet, name: agent, namespace: ns1}
  lastTimestamp: "2026-03-04T10:00:30Z"
  reason: SuccessfulCreate
`

// A dump is analysed as of its newest timestamp unless --now says
// otherwise, and the run says so on stderr.
func TestOfflineClockFromNewestTimestamp(t *testing.T) {
	generated := func(t *testing.T, out string) time.Time {
		t.Helper()
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return rep.GeneratedAt.UTC()
	}
	out, errOut, _ := runCmd(t, clockDump, "-f", "-", "-o", "json")
	if got, want := generated(t, out), time.Date(2026, 3, 4, 10, 0, 30, 0, time.UTC); !got.Equal(want) {
		t.Errorf("generatedAt %s, want the newest timestamp %s", got, want)
	}
	if !strings.Contains(errOut, "Analysing as of 2026-03-04T10:00:30Z, the newest timestamp in the input; --now to override, --now=wall for the current time.") {
		t.Errorf("stderr does not say which time it analyses as of:\n%s", errOut)
	}
	out, errOut, _ = runCmd(t, clockDump, "-f", "-", "-o", "json", "--now=wall")
	if got := generated(t, out); time.Since(got) > time.Hour {
		t.Errorf("--now=wall: generatedAt %s, want the current time", got)
	}
	if strings.Contains(errOut, "Analysing as of") {
		t.Errorf("--now=wall still infers the clock:\n%s", errOut)
	}
	out, errOut, _ = runCmd(t, clockDump, "-f", "-", "-o", "json", "--now=2026-05-01T00:00:00Z")
	if got := generated(t, out); !got.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || strings.Contains(errOut, "Analysing as of") {
		t.Errorf("--now TIME: generatedAt %s, stderr %q", got, errOut)
	}
}

// -l selects DaemonSets in every command, --node-selector selects
// nodes; a view that matched nothing says so and is exit 3, not success.
func TestEmptyViewsAndSelectors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		errLine string
	}{
		{"nodes: no node matched", []string{"nodes", "-f", demo, demoNow, "--node-selector", "nosuch=x"}, ExitInput, `no nodes matched --node-selector "nosuch=x" (of 11 nodes read)`},
		{"nodes: -l selects DaemonSets", []string{"nodes", "-f", demo, demoNow, "-l", "nosuch=x"}, ExitInput, `no daemonsets matched -l "nosuch=x" in any namespace`},
		{"root: -l matched nothing", []string{"-f", demo, demoNow, "-l", "nosuch=x"}, ExitInput, `no daemonsets matched -l "nosuch=x" in any namespace`},
		{"root: -l matched nothing, json", []string{"-f", demo, demoNow, "-l", "nosuch=x", "-o", "json"}, ExitInput, `no daemonsets matched -l`},
		{"nodes: bad --node-selector", []string{"nodes", "-f", demo, demoNow, "--node-selector", "a in (b"}, ExitUsage, `invalid --node-selector`},
		{"nodes: unknown node", []string{"nodes", "-f", demo, demoNow, "worker-99"}, ExitInput, `node "worker-99" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, "error: "+tt.errLine) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.errLine)
			}
			if strings.HasPrefix(tt.args[0], "nodes") && out != "" {
				t.Errorf("an empty view printed a table:\n%s", out)
			}
		})
	}
	// -l on nodes keeps the matching DaemonSets as columns, all nodes as rows.
	out, _, _ := runCmd(t, "", "nodes", "-f", demo, demoNow, "-l", "app.kubernetes.io/name=node-exporter")
	header := strings.Fields(strings.SplitN(out, "\n", 2)[0])
	if len(header) != 3 || header[2] != "NODE-EXPORTER" && !strings.Contains(header[2], "node-exporter") {
		t.Errorf("nodes -l app.kubernetes.io/name=node-exporter header %v, want NODE READY and node-exporter's column", header)
	}
	if rows := strings.Count(out, "\n"); rows < 12 {
		t.Errorf("nodes -l filtered the nodes too (%d lines):\n%s", rows, out)
	}
}

// Usage errors and flag combinations: a NAME that looks like a subcommand,
// contradicting --ignore/--fail-on, -A with -n.
func TestUsageErrorsAndFlagCombinations(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		errLine string
	}{
		{"NAME like a subcommand", []string{"-f", demo, demoNow, "node"}, ExitInput, `daemonset "node" not found in the input; did you mean the "nodes" command (kubectl daemoncheck nodes)?`},
		{"--ignore X --fail-on X", []string{"-f", demo, demoNow, "--ignore", "MissingPod", "--fail-on", "MissingPod,PendingPod"}, ExitUsage, "--fail-on MissingPod and --ignore MissingPod contradict each other"},
		{"-A wins over -n, as in kubectl", []string{"-f", demo, demoNow, "-A", "-n", "gpu-operator", "--fail-on", "none"}, ExitOK, ""},
		{"nodes -A is accepted", []string{"nodes", "-f", demo, demoNow, "-A", "--fail-on", "none"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", tt.args...)
			if code != tt.code || (tt.errLine != "" && !strings.Contains(errOut, "error: "+tt.errLine)) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.errLine)
			}
			if tt.name == "-A wins over -n, as in kubectl" && !strings.Contains(out, "kube-proxy") {
				t.Errorf("-A -n gpu-operator did not audit every namespace:\n%s", out)
			}
		})
	}
}

// Live, a NAME is looked for in one namespace; "not found" says
// where it is.
func TestLiveNotFoundSaysWhere(t *testing.T) {
	ds := fixture.DaemonSet("kube-system", "agent")
	cs := fake.NewSimpleClientset(&ds)
	_, errOut, code := runFake(t, cs, "-n", "default", "agent")
	want := `error: daemonset "agent" not found in namespace "default"; it exists in kube-system: add -n kube-system`
	if code != ExitInput || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want 3 and %q", code, errOut, want)
	}
	for _, a := range cs.Actions() {
		if v := a.GetVerb(); v != "list" && v != "get" && v != "watch" {
			t.Errorf("a read-only hint wrote to the cluster: %s", v)
		}
	}
}

// Version takes no audit flags, so its help must not list them.
func TestVersionHelpHasNoAuditFlags(t *testing.T) {
	out, _, code := runCmd(t, "", "version", "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"--fail-on", "--ignore", "--policy", "--require", "--now", "--filename", "--grace", "--output-file", "--chunk-size"} {
		if strings.Contains(out, f) {
			t.Errorf("version --help lists %s:\n%s", f, out)
		}
	}
	// Still on the audit commands.
	for _, args := range [][]string{{"--help"}, {"nodes", "--help"}} {
		out, _, _ := runCmd(t, "", args...)
		for _, f := range []string{"--fail-on", "--policy", "--now", "--output-file"} {
			if !strings.Contains(out, f) {
				t.Errorf("%v lacks %s", args, f)
			}
		}
	}
}

// A typo in a daemoncheck.io/* annotation is a warning on stderr
// and in the report, not silently ignored (nor a usage error: the typo is
// in a cluster object, not in the command line).
func TestAnnotationTyposWarn(t *testing.T) {
	dump := strings.Replace(clockDump, `  metadata: {name: agent, namespace: ns1, uid: u-ds, creationTimestamp: "2026-02-01T00:00:00Z"}`,
		`  metadata:
    name: agent
    namespace: ns1
    uid: u-ds
    annotations: {daemoncheck.io/exempt: "MisingPod,OutdatedPod", daemoncheck.io/required-nodes: "pool in (a"}`, 1)
	dump = strings.Replace(dump, `  metadata: {name: n1, uid: u-n1, creationTimestamp: "2026-01-01T00:00:00Z"}`,
		`  metadata: {name: n1, uid: u-n1, annotations: {daemoncheck.io/exmept: "true"}}`, 1)
	want := []string{
		`daemonset ns1/agent: annotation daemoncheck.io/exempt="MisingPod,OutdatedPod": "MisingPod" is not a finding type, so it exempts nothing`,
		`daemonset ns1/agent: annotation daemoncheck.io/required-nodes: invalid node selector "pool in (a", annotation ignored`,
		`node n1: unknown annotation daemoncheck.io/exmept, ignored (daemoncheck reads daemoncheck.io/exempt)`,
	}
	out, errOut, code := runCmd(t, dump, "-f", "-", "-o", "json")
	if code == ExitUsage {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(rep.Warnings, "\n")
	for _, w := range want {
		if !strings.Contains(errOut, "Warning: "+w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
		if !strings.Contains(warnings, w) {
			t.Errorf("report warnings lack %q:\n%s", w, warnings)
		}
	}
}

// Policy file errors say on which line.
func TestPolicyErrorsHaveLines(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/rule.yaml"
	if err := os.WriteFile(bad, []byte("apiVersion: daemoncheck/v1alpha1\nkind: CoveragePolicy\nrules:\n- daemonSets: {namespace: security, name: falco}\n- daemonSets: {namespace: x}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"testdata/bad-policy.yaml": `--policy testdata/bad-policy.yaml: line 5: unknown field "nodeSelectors"`,
		bad:                        "--policy " + bad + " line 5: rule 2: daemonSets needs a name or a selector",
	} {
		_, errOut, code := runCmd(t, "", "-f", demo, demoNow, "--policy", file)
		if code != ExitUsage || !strings.Contains(errOut, "error: "+want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
		}
	}
}

// Completion of --require, --daemonsets, nodes NODE, --context
// and -n with -f (offline, from the input; --context from the kubeconfig).
func TestCompletionOfflineAndKubeconfig(t *testing.T) {
	kc := t.TempDir() + "/kubeconfig"
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\ncontexts:\n- name: prod\n  context: {cluster: a}\n- name: dev\n  context: {cluster: a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-f", demo, "--require", "sec"}, "security/falco\n:4\n"},
		{[]string{"nodes", "-f", demo, "--daemonsets", "falco,kube-"}, "falco,kube-proxy\nfalco,kube-system/csi-node\nfalco,kube-system/kube-proxy\n:6\n"},
		{[]string{"nodes", "-f", demo, "worker-"}, "worker-1\nworker-2\nworker-3\nworker-4\nworker-5\nworker-6\nworker-7\nworker-8\n:4\n"},
		{[]string{"-f", demo, "-n", ""}, "gpu-operator\nkube-system\nlogging\nmonitoring\nobservability\nsecurity\n:4\n"},
		{[]string{"--kubeconfig", kc, "--context", ""}, "dev\nprod\n:4\n"},
	}
	for _, tt := range tests {
		out, _, _ := runCmd(t, "", append([]string{"__complete"}, tt.args...)...)
		if out != tt.want {
			t.Errorf("__complete %v:\n%s\nwant:\n%s", tt.args, out, tt.want)
		}
	}
}

// Conventions: -o name, "-n NAMESPACE daemonset/NAME" (the namespace is
// needed across namespaces) or node/NAME per line (natural order).
func TestOutputName(t *testing.T) {
	out, _, _ := runCmd(t, "", "-f", demo, demoNow, "-n", "kube-system", "-o", "name")
	if out != "-n kube-system daemonset/csi-node\n-n kube-system daemonset/kube-proxy\n" {
		t.Errorf("-o name:\n%s", out)
	}
	out, _, _ = runCmd(t, "", "nodes", "-f", demo, demoNow, "--node-selector", "accelerator=nvidia", "-o", "name")
	if out != "node/gpu-1\nnode/gpu-2\n" {
		t.Errorf("nodes -o name:\n%s", out)
	}
}

// Conventions: help as kubectl's: examples per command, daemoncheck's own
// flags, the connection flags left to the options command (as kubectl
// options), flags that do nothing hidden.
func TestHelpLikeKubectl(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"nodes", "--help"}, {"version", "--help"}} {
		out, _, code := runCmd(t, "", args...)
		if code != ExitOK || !strings.Contains(out, "\nExamples:\n  # ") {
			t.Errorf("%v: exit %d, no Examples block:\n%s", args, code, out)
		}
		if !strings.Contains(out, "\nFlags:\n") || strings.Contains(out, "--kubeconfig") || !strings.Contains(out, `Use "kubectl daemoncheck options"`) {
			t.Errorf("%v: own flags, then where the connection flags are listed:\n%s", args, out)
		}
		for _, f := range []string{"--show-managed-fields", "--cache-dir"} {
			if strings.Contains(out, f) {
				t.Errorf("%v lists %s, which does nothing here", args, f)
			}
		}
	}
	out, _, code := runCmd(t, "", "options")
	if code != ExitOK || !strings.Contains(out, "--kubeconfig") || strings.Contains(out, "--cache-dir") {
		t.Errorf("options: exit %d:\n%s", code, out)
	}
}

// natDump has nodes n-10, n-9, n-2, n-1 (in that order), for natural order.
const natDump = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n-10, uid: u10, labels: {pool: p0}}
  status:
    conditions:
    - {type: Ready, status: "True", lastHeartbeatTime: "2026-03-04T10:00:00Z"}
- apiVersion: v1
  kind: Node
  metadata: {name: n-9, uid: u9, labels: {pool: p1}}
  status:
    conditions:
    - {type: Ready, status: "True", lastHeartbeatTime: "2026-03-04T10:00:00Z"}
- apiVersion: v1
  kind: Node
  metadata: {name: n-2, uid: u2, labels: {pool: p0}}
  status:
    conditions:
    - {type: Ready, status: "True", lastHeartbeatTime: "2026-03-04T10:00:00Z"}
- apiVersion: v1
  kind: Node
  metadata: {name: n-1, uid: u1, labels: {pool: p1}}
  status:
    conditions:
    - {type: Ready, status: "True", lastHeartbeatTime: "2026-03-04T10:00:00Z"}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: ns1, uid: u-ds}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: c, image: i}]}
- apiVersion: v1
  kind: PodList
  items: []
`

// Conventions: nodes in natural order (n-9 before n-10) wherever listed.
func TestNodesInNaturalOrder(t *testing.T) {
	rows := func(out string, col int) []string {
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > col && strings.HasPrefix(f[col], "n-") {
				got = append(got, f[col])
			}
		}
		return got
	}
	want := "n-1 n-2 n-9 n-10"
	out, _, _ := runCmd(t, natDump, "-f", "-", "nodes")
	if got := strings.Join(rows(out, 0), " "); got != want {
		t.Errorf("matrix rows %s, want %s", got, want)
	}
	out, _, _ = runCmd(t, natDump, "-f", "-", "agent")
	if got := strings.Join(rows(out, 0), " "); got != want {
		t.Errorf("describe node table %s, want %s", got, want)
	}
	out, _, _ = runCmd(t, natDump, "-f", "-", "nodes", "-o", "name")
	if out != "node/n-1\nnode/n-2\nnode/n-9\nnode/n-10\n" {
		t.Errorf("nodes -o name:\n%s", out)
	}
}

// Conventions: -L/--label-columns shows node labels in the matrix.
func TestNodesLabelColumns(t *testing.T) {
	out, _, _ := runCmd(t, natDump, "-f", "-", "nodes", "-L", "pool,example.com/zone")
	lines := strings.Split(out, "\n")
	if h := strings.Fields(lines[0]); strings.Join(h, " ") != "NODE STATUS POOL ZONE agent" {
		t.Errorf("header %v", h)
	}
	if r := strings.Fields(lines[1]); strings.Join(r, " ") != "n-1 Ready p1 Missing" {
		t.Errorf("row %v", r)
	}
	_, errOut, code := runCmd(t, natDump, "-f", "-", "nodes", "--transpose", "-L", "pool")
	if code != ExitUsage || !strings.Contains(errOut, "-L/--label-columns") {
		t.Errorf("-L with --transpose: exit %d, %q", code, errOut)
	}
}

// Conventions: --sort-by orders the default view's problems.
func TestSortBy(t *testing.T) {
	problems := func(args ...string) []string {
		t.Helper()
		out, _, _ := runCmd(t, "", append([]string{"-f", demo, demoNow}, args...)...)
		var col []string
		in := false
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			switch {
			case len(f) > 2 && f[0] == "SEVERITY" && f[1] == "DAEMONSET" && f[2] == "PROBLEM":
				in = true
			case in && len(f) == 0:
				return col
			case in:
				col = append(col, l)
			}
		}
		return col
	}
	// first is a field of each row; of the DAEMONSET field (a
	// comma-separated list), the first DaemonSet.
	first := func(rows []string, field int) []string {
		var out []string
		for _, r := range rows {
			v, _, _ := strings.Cut(strings.Fields(r)[field], ",")
			out = append(out, v)
		}
		return out
	}
	def := problems()
	if sev := problems("--sort-by", "severity"); strings.Join(sev, "\n") != strings.Join(def, "\n") || len(def) < 5 {
		t.Errorf("severity is not the default order (%d rows)", len(def))
	}
	if ds := first(problems("--sort-by", "daemonset"), 1); !slices.IsSorted(ds) {
		t.Errorf("--sort-by daemonset: %v", ds)
	}
	if ty := first(problems("--sort-by", "type"), 2); !slices.IsSorted(ty) {
		t.Errorf("--sort-by type: %v", ty)
	}
	_, errOut, code := runCmd(t, "", "-f", demo, demoNow, "--sort-by", "age")
	if code != ExitUsage || !strings.Contains(errOut, `--sort-by "age": use one of severity, breadth, daemonset, type`) {
		t.Errorf("bad --sort-by: exit %d %q", code, errOut)
	}
}

// Completion never waits on stdin (-f -): the shell's stdin is the terminal.
func TestCompletionDoesNotReadStdin(t *testing.T) {
	r, w, err := os.Pipe() // never written: reading it would block
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	done := make(chan string, 1)
	go func() {
		var out strings.Builder
		o := NewCheckOptions(genericiooptions.IOStreams{In: r, Out: &out, ErrOut: &strings.Builder{}})
		c := newRootCommand(o)
		c.SetArgs([]string{"__complete", "nodes", "-f", "-", ""})
		c.SetOut(&out)
		_ = c.Execute()
		done <- out.String()
	}()
	select {
	case out := <-done:
		if out != ":4\n" {
			t.Errorf("completion with -f -: %q", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("completion with -f - waits on stdin")
	}
}

// The README's coverage-view recipe: nodes -o wide --node-selector.
func TestReadmeNodeSelectorRecipe(t *testing.T) {
	out, errOut, code := runCmd(t, "", "nodes", "-f", demo, demoNow, "-o", "wide", "--node-selector", "accelerator=nvidia")
	if code != ExitFindings {
		t.Errorf("exit %d: %s", code, errOut)
	}
	var rows []string
	for _, l := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "gpu-") || strings.HasPrefix(l, "worker") || strings.HasPrefix(l, "cp-") {
			rows = append(rows, strings.Fields(l)[0])
		}
	}
	if strings.Join(rows, " ") != "gpu-1 gpu-2" || !strings.Contains(out, "-(") {
		t.Errorf("rows %v, want gpu-1 gpu-2 with the reasons of -o wide:\n%s", rows, out)
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/nodespec"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

const (
	wiDir     = "testdata/whatif/"
	wiCluster = wiDir + "cluster.yaml"
)

func TestWhatIfGoldens(t *testing.T) {
	tests := []struct {
		golden string
		code   int
		args   []string
	}{
		{"whatif-nodepool-gpu.golden", ExitFindings, []string{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node"}},
		{"whatif-nodepool-edge-wide.golden", ExitFindings, []string{"whatif", wiDir + "nodepool-edge.yaml", "-f", wiCluster, "-o", "wide"}},
		{"whatif-machinedeployment.golden", ExitOK, []string{"whatif", wiDir + "machinedeployment.yaml", "-f", wiCluster}},
		{"whatif-capi-v1beta1-machinepool.golden", ExitOK, []string{"whatif", wiDir + "machinedeployment-v1beta1.yaml", wiDir + "machinepool.yaml", "-f", wiCluster, "--instance-type", "m5.xlarge"}},
		{"whatif-node.golden", ExitOK, []string{"whatif", wiDir + "node.yaml", "-f", wiCluster, "--no-headers"}},
		{"whatif-flags-pass.golden", ExitOK, []string{"whatif", "-f", wiCluster, "--labels", "pool=web", "--instance-type", "m5.xlarge"}},
		{"whatif-change.golden", ExitFindings, []string{"whatif", wiDir + "falco-change.yaml", wiDir + "otel-node-exporter.yaml", "-f", wiCluster, "--require", "security/falco"}},
		{"whatif-change.junit.golden", ExitFindings, []string{"whatif", wiDir + "falco-change.yaml", wiDir + "otel-node-exporter.yaml", "-f", wiCluster, "--require", "security/falco", "-o", "junit"}},
		{"whatif-change.md.golden", ExitFindings, []string{"whatif", wiDir + "falco-change.yaml", wiDir + "otel-node-exporter.yaml", "-f", wiCluster, "--require", "security/falco", "-o", "markdown"}},
		{"whatif-gpu.junit.golden", ExitFindings, []string{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node", "-o", "junit"}},
		{"whatif-gpu.md.golden", ExitFindings, []string{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node", "-o", "markdown"}},
		{"whatif-edge.json.golden", ExitFindings, []string{"whatif", wiDir + "nodepool-edge.yaml", "-f", wiCluster, "-o", "json"}},
		{"whatif-change.yaml.golden", ExitFindings, []string{"whatif", wiDir + "falco-change.yaml", "-f", wiCluster, "-o", "yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// The what-if report is an API: its documented fields by name.
func TestWhatIfJSONSchema(t *testing.T) {
	out, _, _ := runCmd(t, "", "whatif", wiDir+"nodepool-gpu.yaml", wiDir+"falco-change.yaml", "-f", wiCluster, "-o", "json", "--require", "kube-system/ebs-csi-node")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m["apiVersion"] != "daemoncheck/v1alpha2" || m["kind"] != "WhatIfReport" {
		t.Fatalf("apiVersion/kind: %v %v", m["apiVersion"], m["kind"])
	}
	for _, k := range []string{"generatedAt", "source", "inputs", "partial", "unread", "nodeCount", "daemonSets", "summary", "pools", "changes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	pool := m["pools"].([]any)[0].(map[string]any)
	for _, k := range []string{"source", "kind", "name", "labels", "filledLabels", "taints", "startupTaints", "notes", "shapes", "findings"} {
		if _, ok := pool[k]; !ok {
			t.Errorf("pools[0] lacks %q", k)
		}
	}
	shape := pool["shapes"].([]any)[1].(map[string]any)
	for _, k := range []string{"name", "varies", "labels", "instanceType", "allocatable", "allocatableFrom", "overhead", "overheadPercent", "headroom", "daemonSets"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("shapes[1] lacks %q", k)
		}
	}
	d := shape["daemonSets"].([]any)[0].(map[string]any)
	for _, k := range []string{"namespace", "name", "runs", "required", "priority", "priorityKnown", "fit", "request"} {
		if _, ok := d[k]; !ok {
			t.Errorf("daemonSets[0] lacks %q", k)
		}
	}
	f := pool["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"type", "severity", "failing", "daemonSet", "shapes", "message", "suggestion"} {
		if _, ok := f[k]; !ok {
			t.Errorf("findings[0] lacks %q", k)
		}
	}
	ch := m["changes"].([]any)[0].(map[string]any)
	for _, k := range []string{"source", "namespace", "name", "new", "nodesBefore", "nodesAfter", "requestAfter", "gained", "lost", "findings"} {
		if _, ok := ch[k]; !ok {
			t.Errorf("changes[0] lacks %q", k)
		}
	}
	g := ch["lost"].([]any)[0].(map[string]any)
	for _, k := range []string{"pool", "reason", "cause", "count", "nodeRange", "nodes"} {
		if _, ok := g[k]; !ok {
			t.Errorf("lost[0] lacks %q", k)
		}
	}
}

func TestWhatIfExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {taints: [{key: a, effect: Never}]}}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := filepath.Join(dir, "cm.yaml")
	if err := os.WriteFile(cm, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no proposal", "", []string{"whatif", "-f", wiCluster}, ExitUsage, "whatif needs a proposal"},
		{"bad taint flag", "", []string{"whatif", "-f", wiCluster, "--taints", "gpu=true"}, ExitUsage, "--taints: invalid taint"},
		{"bad allocatable", "", []string{"whatif", "-f", wiCluster, "--allocatable", "cpu=lots"}, ExitUsage, "not a quantity"},
		{"bad labels", "", []string{"whatif", "-f", wiCluster, "--labels", "a b"}, ExitUsage, "--labels"},
		{"bad os", "", []string{"whatif", "-f", wiCluster, "--os", "linux,windows"}, ExitUsage, "not a valid label value"},
		{"node name with files", "", []string{"whatif", wiDir + "node.yaml", "-f", wiCluster, "--node-name", "x"}, ExitUsage, "--node-name names the node described by flags"},
		{"stdin twice", "", []string{"whatif", "-", "-f", "-"}, ExitUsage, "stdin (-) can be read once"},
		{"max shapes", "", []string{"whatif", wiDir + "node.yaml", "-f", wiCluster, "--max-shapes", "0"}, ExitUsage, "--max-shapes"},
		{"format not for whatif", "", []string{"whatif", wiDir + "node.yaml", "-f", wiCluster, "-o", "prometheus"}, ExitUsage, "is not supported by whatif"},
		{"unknown require", "", []string{"whatif", wiDir + "node.yaml", "-f", wiCluster, "--require", "security/falcon"}, ExitUsage, `daemonset "falcon" not found`},
		{"missing input", "", []string{"whatif", filepath.Join(dir, "nope.yaml"), "-f", wiCluster}, ExitInput, "no such file or directory"},
		{"invalid input", "", []string{"whatif", bad, "-f", wiCluster}, ExitInput, `effect "Never"`},
		{"nothing to evaluate", "", []string{"whatif", cm, "-f", wiCluster}, ExitInput, "nothing to evaluate"},
		{"missing dump", "", []string{"whatif", wiDir + "node.yaml", "-f", filepath.Join(dir, "dump.yaml")}, ExitInput, "no such file"},
		{"stdin proposal", "apiVersion: v1\nkind: Node\nmetadata: {name: web-1}\nstatus: {allocatable: {cpu: '4', memory: 16Gi, pods: '58'}}\n", []string{"whatif", "-", "-f", wiCluster}, ExitOK, ""},
		{"a new DaemonSet without namespace", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: a}]}}}\n", []string{"whatif", "-", "-f", wiCluster}, ExitOK, "judged in namespace default (the default namespace)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := runCmd(t, c.stdin, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.code, errOut, c.want)
			}
		})
	}
}

// Human output escapes control characters that an input smuggles in
// (a label value cannot hold them, but a taint value in a hand-made dump, a
// reason, a file name can).
func TestWhatIfEscapes(t *testing.T) {
	in := "apiVersion: v1\nkind: Node\nmetadata: {name: \"evil\\e[2J\"}\nspec: {taints: [{key: \"x\\e]0;pwned\\a\", effect: NoSchedule}]}\n"
	out, _, _ := runCmd(t, in, "whatif", "-", "-f", wiCluster)
	if strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `\x07`) {
		t.Fatalf("control characters reach the terminal:\n%q", out)
	}
	md, _, _ := runCmd(t, in, "whatif", "-", "-f", wiCluster, "-o", "markdown")
	if strings.ContainsAny(md, "\x1b\x07") {
		t.Fatalf("markdown: %q", md)
	}
	x, _, _ := runCmd(t, in, "whatif", "-", "-f", wiCluster, "-o", "junit")
	if err := xml.Unmarshal([]byte(x), new(struct{})); err != nil {
		t.Fatalf("junit does not parse: %v", err)
	}
}

// Every suggested toleration is valid YAML that tolerates the taint, and
// every kubectl command parses as one.
func TestWhatIfSuggestionsAreValid(t *testing.T) {
	out, _, _ := runCmd(t, "", "whatif", wiDir+"nodepool-gpu.yaml", wiDir+"node.yaml", wiDir+"falco-change.yaml", "-f", wiCluster, "-o", "json", "--require", "security/falco=kubernetes.io/os=linux", "--require", "kube-system/ebs-csi-node")
	var rep report.WhatIfReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var fs []report.WhatIfFinding
	for _, p := range rep.Pools {
		fs = append(fs, p.Findings...)
	}
	for _, c := range rep.Changes {
		fs = append(fs, c.Findings...)
	}
	var specs []string
	for _, p := range rep.Pools {
		specs = append(specs, p.Taints...)
	}
	taints, err := nodespec.ParseTaints(specs)
	if err != nil {
		t.Fatal(err)
	}
	tol := regexp.MustCompile(`\{key: [^}]*\}`)
	label := regexp.MustCompile(`kubectl label node [^)]*? --overwrite`)
	n := 0
	for _, f := range fs {
		for _, y := range tol.FindAllString(f.Suggestion, -1) {
			n++
			// As kubectl apply reads it: YAML to JSON, strict decode.
			js, err := yaml.YAMLToJSON([]byte(y))
			if err != nil {
				t.Fatalf("%s: %s is not YAML: %v", f.Message, y, err)
			}
			var tl corev1.Toleration
			dec := json.NewDecoder(bytes.NewReader(js))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&tl); err != nil {
				t.Fatalf("%s is not a Toleration: %v", y, err)
			}
			ok := false
			for i := range taints {
				ok = ok || tl.ToleratesTaint(klog.Background(), &taints[i], false)
			}
			if !ok {
				t.Errorf("%s tolerates none of the pools' taints %v", y, specs)
			}
		}
		for _, c := range label.FindAllString(f.Suggestion, -1) {
			for _, w := range strings.Fields(c)[3:] {
				if w != "--overwrite" && !strings.Contains(w, "=") && !regexp.MustCompile(`^[a-z0-9.-]+$`).MatchString(w) {
					t.Errorf("%q: %q is not a node name or label", c, w)
				}
			}
		}
	}
	if n < 3 {
		t.Fatalf("%d tolerations suggested, want the GPU pool's and the storage node's", n)
	}
}

// The README's What-if examples run as written (against the bundled dump
// when they name none) and do what the README says.
func TestReadmeWhatIf(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## What-if.*?```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README lost its What-if examples")
	}
	ran := 0
	for _, line := range strings.Split(string(m[1]), "\n") {
		line = strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
		if !strings.HasPrefix(line, "kubectl daemoncheck whatif") {
			continue
		}
		args := shellWords(t, strings.TrimPrefix(line, "kubectl daemoncheck "))
		dump := false
		for i, a := range args {
			if _, err := os.Stat(wiDir + a); err == nil {
				args[i] = wiDir + a
			}
			if a == "-f" {
				dump = true
			}
		}
		if !dump {
			args = append(args, "-f", wiCluster)
		}
		out, errOut, code := runCmd(t, "", args...)
		if (code != ExitOK && code != ExitFindings) || out == "" {
			t.Errorf("README example %q: exit %d, stderr %s", line, code, errOut)
		}
		ran++
	}
	if ran < 4 {
		t.Fatalf("only %d README what-if examples ran", ran)
	}
	// The sample output shown is what the command prints.
	sample := regexp.MustCompile("(?s)\\$ kubectl daemoncheck whatif nodepool-gpu.yaml -f cluster.yaml --require kube-system/ebs-csi-node\n(.*?)```").FindSubmatch(readme)
	if sample == nil {
		t.Fatal("README lost its what-if sample output")
	}
	out, _, _ := runCmd(t, "", "whatif", wiDir+"nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node")
	out = strings.ReplaceAll(out, wiDir, "")
	for _, l := range strings.Split(strings.TrimSpace(string(sample[1])), "\n") {
		if l = strings.TrimRight(l, " "); l != "..." && !strings.Contains(out, l) {
			t.Errorf("README sample line not in the output: %q", l)
		}
	}
}

// shellWords splits a README command line as a shell would, for the simple
// quoting the README uses.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	quote := rune(0)
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// --fail-on and --ignore decide the verdict and the exit code, as the
// audit's do: severities and kinds select failing findings; ignored kinds
// leave the report.
func TestWhatIfFailOnAndIgnore(t *testing.T) {
	gpu := []string{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster}
	edge := []string{"whatif", wiDir + "nodepool-edge.yaml", "-f", wiCluster}
	cases := []struct {
		name    string
		args    []string
		code    int
		verdict string
		kinds   []report.WhatIfFindingType // the findings left in the report
	}{
		{"a warning passes by default", gpu, ExitOK, "whatif passed", []report.WhatIfFindingType{report.WhatIfFitUnknown}},
		{"--fail-on warning fails on it", append(gpu, "--fail-on", "warning"), ExitFindings, "whatif failed", []report.WhatIfFindingType{report.WhatIfFitUnknown}},
		{"--fail-on info fails on every finding", append(gpu, "--fail-on", "info"), ExitFindings, "whatif failed", []report.WhatIfFindingType{report.WhatIfFitUnknown}},
		{"--fail-on a kind fails on it", append(gpu, "--fail-on", "FitUnknown"), ExitFindings, "whatif failed", []report.WhatIfFindingType{report.WhatIfFitUnknown}},
		{"--fail-on another kind does not", append(edge, "--fail-on", "FitUnknown"), ExitOK, "whatif passed", []report.WhatIfFindingType{report.WhatIfWillNotFit}},
		{"--fail-on none passes an error", append(edge, "--fail-on", "none"), ExitOK, "whatif passed", []report.WhatIfFindingType{report.WhatIfWillNotFit}},
		{"--ignore leaves a failing kind out", append(gpu, "--require", "kube-system/ebs-csi-node", "--ignore", "WillNotRun"), ExitOK, "whatif passed", []report.WhatIfFindingType{report.WhatIfFitUnknown}},
		{"--ignore two kinds", append(gpu, "--require", "kube-system/ebs-csi-node", "--ignore", "WillNotRun,FitUnknown"), ExitOK, "whatif passed", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if !strings.Contains(out, c.verdict) {
				t.Errorf("verdict: want %q in\n%s", c.verdict, out)
			}
			out, _, _ = runCmd(t, "", append(c.args, "-o", "json")...)
			var r report.WhatIfReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			var kinds []report.WhatIfFindingType
			failing := 0
			for _, f := range r.Pools[0].Findings {
				if !slices.Contains(kinds, f.Type) {
					kinds = append(kinds, f.Type)
				}
				if f.Failing {
					failing++
				}
			}
			if !slices.Equal(kinds, c.kinds) {
				t.Errorf("kinds %v, want %v", kinds, c.kinds)
			}
			if failing != r.Summary.Failing || (failing > 0) != (c.code == ExitFindings) {
				t.Errorf("%d failing findings, summary %d, exit %d", failing, r.Summary.Failing, c.code)
			}
		})
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{append(gpu, "--fail-on", "critical"), `--fail-on "critical"`},
		{append(gpu, "--fail-on", "NodeTooSmall"), "WillNotRun, WillNotFit"},
		{append(gpu, "--ignore", "NodeTooSmall"), "unknown finding type"},
		{append(gpu, "--fail-on", "WillNotRun", "--ignore", "WillNotRun"), "contradict"},
		{append(gpu, "--fail-on", "none,error"), "cannot be combined"},
	} {
		_, errOut, code := runCmd(t, "", bad.args...)
		if code != ExitUsage || !strings.Contains(errOut, bad.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", bad.args[len(bad.args)-2:], code, errOut, bad.want)
		}
	}
}

// A pool of several node shapes prints them in one table with their
// platform and every instance type each stands for, every DaemonSet once
// per group of shapes that fare alike, and findings of one cause once.
func TestWhatIfGroupsShapesAndCauses(t *testing.T) {
	pool := filepath.Join(t.TempDir(), "arm.yaml")
	if err := os.WriteFile(pool, []byte(`apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: arm}
spec:
  template:
    metadata:
      labels: {nvidia.com/gpu.present: "true"}
    spec:
      taints: [{key: dedicated, value: arm, effect: NoSchedule}]
      requirements:
      - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}
      - {key: node.kubernetes.io/instance-type, operator: In, values: [c6g.xlarge, m7g.large, m7g.xlarge]}
      - {key: topology.kubernetes.io/zone, operator: In, values: [us-east-1a, us-east-1b]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "", "whatif", pool, "-f", wiCluster, "--require", "logging/fluent-bit", "--require", "security/falco")
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		// A shape stands for the three types nothing tells apart; the
		// architecture (dcgm-exporter's affinity) does.
		"arm-amd64    linux/amd64   c6g.xlarge, m7g.{large,xlarge}",
		"arm-arm64    linux/arm64   c6g.xlarge, m7g.{large,xlarge}",
		"DaemonSets on node shapes arm-amd64:",
		"DaemonSets on node shapes arm-arm64:",
		"no node of instance type c6g.xlarge, m7g.large or m7g.xlarge in the cluster",
		// Two DaemonSets kept off by one taint: one line, one fix, in the
		// NodePool's terms.
		"FAIL WillNotRun: 2 daemonsets (logging/fluent-bit, security/falco) are required on all 2 node shapes of the pool",
		"or remove dedicated=arm:NoSchedule from NodePool arm spec.template.spec.taints",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "WillNotRun:"); n != 1 {
		t.Errorf("%d WillNotRun lines, want 1:\n%s", n, out)
	}
	// JSON keeps one finding per DaemonSet, with its cause and rule.
	out, _, _ = runCmd(t, "", "whatif", pool, "-f", wiCluster, "--require", "logging/fluent-bit", "--require", "security/falco", "-o", "json")
	var r report.WhatIfReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	s := r.Pools[0].Shapes[1]
	if !slices.Equal(s.InstanceTypes, []string{"c6g.xlarge", "m7g.large", "m7g.xlarge"}) || s.Arch != "arm64" || s.OS != "linux" {
		t.Errorf("shape %s: instance types %v, %s/%s", s.Name, s.InstanceTypes, s.OS, s.Arch)
	}
	var wnr []report.WhatIfFinding
	for _, f := range r.Pools[0].Findings {
		if f.Type == report.WhatIfWillNotRun {
			wnr = append(wnr, f)
		}
	}
	if len(wnr) != 2 || wnr[0].Cause != wnr[1].Cause || wnr[0].RequiredBy != "--require logging/fluent-bit" {
		t.Errorf("WillNotRun findings: %+v", wnr)
	}
}

// The fix for a taint given by flag names the flag, and in a pipe nothing
// is wrapped: a grep finds the whole message and its fix.
func TestWhatIfTaintFixNamesTheFlag(t *testing.T) {
	out, _, code := runCmd(t, "", "whatif", "-f", wiCluster, "--labels", "pool=web", "--taints", "dedicated=web:NoSchedule", "--instance-type", "m5.xlarge", "--require", "logging/fluent-bit")
	if code != ExitFindings {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var msg, fix string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "FAIL WillNotRun") {
			msg = l
		}
		if strings.Contains(l, "Fix:") && fix == "" {
			fix = l
		}
	}
	if !strings.HasSuffix(msg, "untolerated taint dedicated=web:NoSchedule") {
		t.Errorf("the WillNotRun line is not whole: %q", msg)
	}
	if !strings.HasSuffix(fix, "or leave dedicated=web:NoSchedule out of --taints if the daemon must run there") || strings.Contains(out, "drop the taint from") {
		t.Errorf("fix: %q", fix)
	}
	// With a FILE pool, a taint --taints adds is the flag's too.
	out, _, _ = runCmd(t, "", "whatif", wiDir+"machinedeployment.yaml", "-f", wiCluster, "--taints", "extra=1:NoSchedule", "--require", "logging/fluent-bit")
	if !strings.Contains(out, "leave extra=1:NoSchedule out of --taints") {
		t.Errorf("a FILE pool's --taints: %s", out)
	}
}

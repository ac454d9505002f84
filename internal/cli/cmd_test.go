package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/textdiff"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const demo = "../../test/fixtures/demo-cluster.yaml"

// demoNow is the bundled snapshot's time, so ages in golden files are stable.
const demoNow = "--now=2026-11-23T12:00:00Z"

// runCmd runs the root command in-process and returns stdout, stderr and the
// exit code main would use.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runWith(t, nil, stdin, args...)
}

// runWith runs the root command, with cs as its client when not nil (Complete
// keeps an injected client).
func runWith(t *testing.T, cs kubernetes.Interface, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	o := NewCheckOptions(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	if cs != nil {
		o.client = collecttest.New(cs)
	}
	c := newRootCommand(o)
	// Never nil: cobra reads os.Args (the test binary's -update) instead.
	c.SetArgs(append([]string{}, args...))
	c.SetOut(&out)
	c.SetErr(&errOut)
	code := Execute(c, &errOut)
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if d := textdiff.Unified(path, "got", string(want), got); d != "" {
		t.Errorf("output differs from %s (review, then go test ./internal/cli -update):\n%s", path, d)
	}
}

func TestGoldenOutputs(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"table.golden", []string{"-f", demo, demoNow}},
		{"table-wide.golden", []string{"-f", demo, demoNow, "-o", "wide"}},
		{"table-no-headers.golden", []string{"-f", demo, demoNow, "--no-headers"}},
		{"describe-node-exporter.golden", []string{"-f", demo, demoNow, "-n", "monitoring", "node-exporter"}},
		{"describe-fluent-bit.golden", []string{"-f", demo, demoNow, "fluent-bit"}},
		{"report.json.golden", []string{"-f", demo, demoNow, "-o", "json"}},
		{"report.yaml.golden", []string{"-f", demo, demoNow, "-o", "yaml"}},
		{"namespace-gpu.golden", []string{"-f", demo, demoNow, "-n", "gpu-operator"}},
		{"junit.golden", []string{"-f", demo, demoNow, "-o", "junit", "--fail-on", "error", "--require", "security/falco", "--grace", "5m"}},
		{"markdown.golden", []string{"-f", demo, demoNow, "-o", "markdown", "--fail-on", "error", "--grace", "5m"}},
		{"policy-wide.golden", []string{"-f", demo, demoNow, "-o", "wide", "--policy", "testdata/policy.yaml", "--grace", "5m"}},
		{"nodes.golden", []string{"nodes", "-f", demo, demoNow}},
		{"nodes-wide.golden", []string{"nodes", "-f", demo, demoNow, "-o", "wide", "--require", "security/falco"}},
		{"nodes-transpose-gpu.golden", []string{"nodes", "-f", demo, demoNow, "--transpose", "--node-selector", "accelerator=nvidia", "--daemonsets", "falco,kube-system/kube-proxy,nvidia-device-plugin"}},
		{"nodes-worker-7.golden", []string{"nodes", "worker-7", "-f", demo, demoNow, "--require", "security/falco"}},
		{"jsonpath.golden", []string{"-f", demo, demoNow, "-o", `jsonpath={range .daemonSets[*]}{.namespace}/{.name}: {.computed.desiredNumberScheduled}{"\n"}{end}`}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", tt.args...)
			if code != ExitFindings {
				t.Errorf("exit code %d, want %d (stderr %q)", code, ExitFindings, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// The JSON report is an API: check the documented fields by name, so that a
// rename fails here even if the golden file were refreshed carelessly.
func TestJSONSchema(t *testing.T) {
	out, _, _ := runCmd(t, "", "-f", demo, demoNow, "-o", "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m["apiVersion"] != "daemoncheck/v1alpha2" || m["kind"] != "DaemonCheckReport" {
		t.Fatalf("apiVersion/kind: %v %v", m["apiVersion"], m["kind"])
	}
	ds := m["daemonSets"].([]any)[0].(map[string]any)
	for _, k := range []string{"namespace", "name", "status", "computed", "nodes", "findings"} {
		if _, ok := ds[k]; !ok {
			t.Errorf("daemonSets[0] lacks %q", k)
		}
	}
	for _, k := range []string{"desiredNumberScheduled", "currentNumberScheduled", "numberReady", "numberAvailable", "updatedNumberScheduled", "numberMisscheduled", "numberUnavailable", "observedGeneration"} {
		if _, ok := ds["status"].(map[string]any)[k]; !ok {
			t.Errorf("status lacks %q", k)
		}
		if _, ok := ds["computed"].(map[string]any)[k]; !ok {
			t.Errorf("computed lacks %q", k)
		}
	}
	node := ds["nodes"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "shouldRun", "shouldContinueRunning"} {
		if _, ok := node[k]; !ok {
			t.Errorf("nodes[0] lacks %q", k)
		}
	}
	f := ds["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"type", "message"} {
		if _, ok := f[k]; !ok {
			t.Errorf("findings[0] lacks %q", k)
		}
	}
	// Every finding type appears in the bundled demo.
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []report.FindingType{report.MissingPod, report.PendingPod, report.UnhealthyPod, report.DuplicatePods, report.MisscheduledPod, report.OrphanedPod, report.OutdatedPod, report.StaleStatus} {
		if rep.Summary.ByType[typ] == 0 {
			t.Errorf("demo snapshot produces no %s", typ)
		}
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		errLine string
	}{
		{name: "healthy namespace", args: []string{"-f", demo, "-n", "kube-system", "csi-node"}, code: ExitOK},
		{name: "findings", args: []string{"-f", demo}, code: ExitFindings},
		{name: "unknown output", args: []string{"-f", demo, "-o", "xml"}, code: ExitUsage, errLine: `--output "xml" is not a known format; use one of: wide, json, yaml, junit, markdown, jsonpath,`},
		{name: "unknown flag", args: []string{"--frobnicate"}, code: ExitUsage, errLine: "unknown flag: --frobnicate"},
		{name: "two names", args: []string{"-f", demo, "a", "b"}, code: ExitUsage, errLine: "at most one DaemonSet NAME"},
		{name: "name with -A", args: []string{"-f", demo, "-A", "falco"}, code: ExitUsage, errLine: "write: kubectl daemoncheck falco -n NAMESPACE"},
		{name: "bad selector", args: []string{"-f", demo, "-l", "a in (b"}, code: ExitUsage, errLine: "invalid --selector"},
		{name: "bad --now", args: []string{"-f", demo, "--now", "yesterday"}, code: ExitUsage, errLine: "RFC 3339"},
		{name: "negative chunk", args: []string{"-f", demo, "--chunk-size", "-1"}, code: ExitUsage, errLine: "--chunk-size"},
		{name: "missing file", args: []string{"-f", "/nonexistent/dump.yaml"}, code: ExitInput, errLine: "/nonexistent/dump.yaml: no such file or directory"},
		{name: "truncated json", stdin: `{"apiVersion": "v1", "kind": "List", "items": [`, args: []string{"-f", "-"}, code: ExitInput, errLine: "<stdin>: document 1: not valid JSON or YAML"},
		{name: "not kubernetes", stdin: "hello: world\n", args: []string{"-f", "-"}, code: ExitInput, errLine: "<stdin>: document 1: object has no kind"},
		{name: "no relevant objects", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", args: []string{"-f", "-"}, code: ExitInput, errLine: "no DaemonSet, Node, Pod or ControllerRevision objects found"},
		{name: "ds without uid", stdin: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x, namespace: ns1}\n", args: []string{"-f", "-"}, code: ExitInput, errLine: "has no metadata.uid"},
		{name: "wrong field type", stdin: "apiVersion: v1\nkind: Node\nmetadata: {name: [1]}\n", args: []string{"-f", "-"}, code: ExitInput, errLine: "invalid Node"},
		{name: "name not in input", args: []string{"-f", demo, "nope"}, code: ExitInput, errLine: `daemonset "nope" not found in the input`},
		{name: "unreachable cluster", args: []string{"--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify"}, code: ExitInput, errLine: "cannot read from the cluster at https://127.0.0.1:1"},
		// Regressions of the verdict core and of the hostile review.
		{name: "nodes validates its flags", args: []string{"nodes", "-f", demo, "--chunk-size", "-1"}, code: ExitUsage, errLine: "--chunk-size must be 0 or more"},
		{name: "nodes: bad output lists its formats", args: []string{"nodes", "-f", demo, "-o", "junit"}, code: ExitUsage, errLine: `--output "junit" is not supported by nodes; use one of: wide, json, yaml, jsonpath`},
		{name: "-o kyaml is not offered", args: []string{"-f", demo, "-o", "kyaml"}, code: ExitUsage, errLine: `--output "kyaml" is not a known format`},
		{name: "empty --fail-on", args: []string{"-f", demo, "--fail-on", ""}, code: ExitUsage, errLine: "--fail-on"},
		{name: "empty -f", args: []string{"-f", ""}, code: ExitUsage, errLine: "-f/--filename must not be empty"},
		{name: "--fail-on none with findings", args: []string{"-f", demo, demoNow, "--fail-on", "none"}, code: ExitOK},
		{name: "--interval below the minimum", args: []string{"--wait", "--interval", "1ns"}, code: ExitUsage, errLine: "--interval must be at least 1s"},
		{name: "credentials in --server are redacted", args: []string{"--server", "https://admin:s3cret@127.0.0.1:1", "--insecure-skip-tls-verify"}, code: ExitInput, errLine: "cannot read from the cluster at https://admin:xxxxx@127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCmd(t, tt.stdin, tt.args...)
			if strings.Contains(errOut, "s3cret") {
				t.Errorf("a credential reached stderr: %s", errOut)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			if tt.errLine == "" {
				return
			}
			first := strings.SplitN(errOut, "\n", 2)[0]
			if !strings.HasPrefix(first, "error: ") || !strings.Contains(first, tt.errLine) {
				t.Errorf("stderr first line %q, want an error containing %q", first, tt.errLine)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace on stderr:\n%s", errOut)
			}
		})
	}
}

func TestOfflineInputShapes(t *testing.T) {
	data, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := runCmd(t, "", "-f", demo, demoNow, "-o", "json")
	// The same objects through stdin, as JSON, as multi-document YAML split
	// over several files of a directory must all give the same report.
	fromStdin, _, _ := runCmd(t, string(data), "-f", "-", demoNow, "-o", "json")
	if strip(fromStdin) != strip(want) {
		t.Error("stdin input gives a different report")
	}
	asJSON, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "dump.json")
	if err := os.WriteFile(jsonFile, asJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := runCmd(t, "", "-f", jsonFile, demoNow, "-o", "json"); strip(got) != strip(want) {
		t.Error("JSON List input gives a different report")
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(asJSON, &list); err != nil {
		t.Fatal(err)
	}
	split := filepath.Join(dir, "split")
	if err := os.Mkdir(split, 0o755); err != nil {
		t.Fatal(err)
	}
	var docs [2][]string
	for i, item := range list.Items {
		b, err := yaml.Marshal(item)
		if err != nil {
			t.Fatal(err)
		}
		docs[i%2] = append(docs[i%2], string(b))
	}
	for i, d := range docs {
		if err := os.WriteFile(filepath.Join(split, fmt.Sprintf("part%d.yaml", i)), []byte(strings.Join(d, "---\n")+"---\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, _ := runCmd(t, "", "-f", split, demoNow, "-o", "json"); strip(got) != strip(want) {
		t.Error("multi-document YAML in a directory gives a different report")
	}
	// Several -f flags.
	if got, _, _ := runCmd(t, "", "-f", filepath.Join(split, "part0.yaml"), "-f", filepath.Join(split, "part1.yaml"), demoNow, "-o", "json"); strip(got) != strip(want) {
		t.Error("several files give a different report")
	}
}

// strip drops the source line, which names where the input came from.
func strip(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, `"source":`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// A failed write is exit 3 with one line, whatever the report says
// (regression: > /dev/full exited 0 or 1 with nothing written).
func TestWriteErrorIsExit3(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full on this system")
	}
	defer full.Close()
	for _, format := range []string{"", "json", "markdown", "junit"} {
		var errOut bytes.Buffer
		o := NewCheckOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: full, ErrOut: &errOut})
		c := newRootCommand(o)
		c.SetArgs([]string{"-f", demo, demoNow, "-o", format})
		if code := Execute(c, &errOut); code != ExitInput || !strings.Contains(errOut.String(), "error: writing the output:") || strings.Count(errOut.String(), "\n") > 1 {
			t.Errorf("-o %q > /dev/full: exit %d, stderr %q", format, code, errOut.String())
		}
	}
}

// The detail view marks findings --grace holds back, as every other view
// does (regression: describe printed them unmarked).
func TestDescribeMarksHeldBack(t *testing.T) {
	out, _, _ := runCmd(t, "", "-f", demo, demoNow, "-n", "monitoring", "node-exporter", "--grace", "5m")
	if !strings.Contains(out, "MissingPod on node worker-8 [held back: node worker-8 joined") {
		t.Errorf("describe does not mark the held-back finding:\n%s", out)
	}
}

// Files the user names are read only when regular and bounded: a FIFO named
// as --policy or a template file must not hang the run (the test would time
// out), nor /dev/zero exhaust it.
func TestUserFilesBounded(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "policy.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, args := range [][]string{
		{"-f", demo, "--policy", fifo},
		{"-f", demo, "--policy", "/dev/zero"},
		{"-f", demo, "-o", "go-template-file=" + fifo},
		{"-f", demo, "-o", "jsonpath-file=/dev/zero"},
	} {
		_, errOut, code := runCmd(t, "", args...)
		if code != ExitUsage || !strings.Contains(errOut, "not a regular file") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

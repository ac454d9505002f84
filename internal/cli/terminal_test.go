package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// openPTY opens a pseudo-terminal of the given size: the command writes to
// tty, as it would to a person's terminal (term.GetSize answers), and the
// test reads what the screen gets from ptm.
func openPTY(t *testing.T, cols, rows int) (ptm, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal on this machine: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	ptm = os.NewFile(uintptr(fd), "ptmx")
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}); err != nil {
		t.Fatal(err)
	}
	return ptm, tty
}

// runOnTerminal runs the root command with stdout on a cols-wide
// terminal and returns the lines the screen got (stderr apart).
func runOnTerminal(t *testing.T, cols int, args ...string) (lines []string, stderr string) {
	t.Helper()
	return runOnTerminalWith(t, cols, nil, args...)
}

// runOnTerminalWith is runOnTerminal with each fleet context's client
// from clientFor (nil: the real one).
func runOnTerminalWith(t *testing.T, cols int, clientFor func(string, *rest.Config) (collect.Client, error), args ...string) (lines []string, stderr string) {
	t.Helper()
	ptm, tty := openPTY(t, cols, 24)
	defer ptm.Close()
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptm) // EIO once the terminal is closed
		got <- b
	}()
	var errOut bytes.Buffer
	o := NewCheckOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: tty, ErrOut: &errOut})
	o.clusterClient = clientFor
	c := newRootCommand(o)
	c.SetArgs(args)
	c.SetOut(tty)
	c.SetErr(&errOut)
	Execute(c, &errOut)
	tty.Close()
	screen := strings.ReplaceAll(string(<-got), "\r\n", "\n")
	return strings.Split(strings.TrimRight(screen, "\n"), "\n"), errOut.String()
}

// unfold joins wrapped lines and collapses the hanging indents, so text
// wrapped over several lines can be searched whole.
func unfold(lines []string) string {
	return strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
}

// terminalView is a view the terminal tests render: its arguments before
// the input's, whether it takes --color, and the fixes it must show whole
// (read from the same run's JSON).
type terminalView struct {
	args  []string
	color bool
	fixes func(t *testing.T, args []string) []string
}

// terminalViews are every view a person reads, on an input (-f file).
func terminalViews() map[string]terminalView {
	audit := func(t *testing.T, args []string) []string { return failingFixes(problemsOf(t, args)) }
	return map[string]terminalView{
		"default":  {nil, true, audit},
		"wide":     {[]string{"-o", "wide"}, true, nil},
		"nodes":    {[]string{"nodes"}, true, nil},
		"capacity": {[]string{"capacity"}, true, nil},
		"detail":   {[]string{"fluent-bit", "-n", "logging"}, true, audit},
		// A pool the demo's and the large cluster's fluent-bit does not
		// tolerate: a failing what-if.
		"whatif": {[]string{"whatif", wiDir + "nodepool-gpu.yaml", "--require", "logging/fluent-bit"}, false, whatIfFixes},
	}
}

// Every view people read in a terminal fits it: no line wider than the
// screen (a terminal would wrap it mid-word), colour or not; every failing
// problem's fix (a what-if's every fix) is on screen in full, at 80 and
// 120 columns, on the demo and on a large cluster, and piped, where
// nothing is cut: the default view, -o wide, nodes, capacity, the detail
// view, whatif and the fleet (--all-contexts; terminalFleet).
func TestTerminalViewsFitTheScreen(t *testing.T) {
	large := writeLargeCluster(t)
	inputs := map[string]string{"demo": demo, "large": large}
	for input, file := range inputs {
		for view, v := range terminalViews() {
			all := append(append([]string{}, v.args...), "-f", file)
			if view != "whatif" {
				// whatif takes its clock from the dump.
				all = append(all, demoNow)
			}
			var fixes []string
			if v.fixes != nil {
				fixes = v.fixes(t, all)
			}
			for _, cols := range []int{80, 120} {
				t.Run(fmt.Sprintf("%s/%s/%d", input, view, cols), func(t *testing.T) {
					args := all
					if v.color {
						args = append(append([]string{}, all...), "--color=always")
					}
					lines, stderr := runOnTerminal(t, cols, args...)
					checkScreen(t, view, lines, stderr, cols, fixes)
				})
			}
			t.Run(fmt.Sprintf("%s/%s/pipe", input, view), func(t *testing.T) {
				out, stderr, _ := runCmd(t, "", all...)
				checkPipe(t, out, stderr, fixes)
			})
		}
		fleet := terminalFleet(t, file)
		fixes := fleetFixes(t, fleet)
		for _, view := range []string{"fleet", "fleet-wide"} {
			args := []string{"--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow}
			if view == "fleet-wide" {
				args = append(args, "-o", "wide")
			}
			for _, cols := range []int{80, 120} {
				t.Run(fmt.Sprintf("%s/%s/%d", input, view, cols), func(t *testing.T) {
					lines, stderr := runOnTerminalWith(t, cols, fleet, append(args, "--color=always")...)
					want := fixes
					if view == "fleet-wide" {
						want = nil
					}
					checkScreen(t, view, lines, stderr, cols, want)
				})
			}
			t.Run(fmt.Sprintf("%s/%s/pipe", input, view), func(t *testing.T) {
				out, stderr, _ := runFleetCmd(t, fleet, args...)
				want := fixes
				if view == "fleet-wide" {
					want = nil // -o wide lists findings, not problems
				}
				checkPipe(t, out, stderr, want)
			})
		}
	}
}

// checkScreen checks what a cols-wide terminal got: no line wider than
// it, every fix whole (wrapped only between words), and for the audit's
// views the verdict last.
func checkScreen(t *testing.T, view string, lines []string, stderr string, cols int, fixes []string) {
	t.Helper()
	if len(lines) < 3 {
		t.Fatalf("printed almost nothing: %q (stderr %q)", lines, stderr)
	}
	for i, l := range lines {
		if n := visibleWidth(l); n > cols {
			t.Errorf("line %d is %d columns on a %d-column terminal: %q", i+1, n, cols, l)
		}
	}
	screen := unfold(stripColour(lines))
	for _, fix := range fixes {
		if w := unfold([]string{fix}); !strings.Contains(screen, w) {
			t.Errorf("%q is not on the screen in full:\n%s", w, strings.Join(stripColour(lines), "\n"))
		}
	}
	plain := stripColour(lines)
	saveScreen(t, plain)
	// The verdict: from the last line that starts it (a long one wraps).
	at := len(plain) - 1
	for at > 0 && strings.HasPrefix(plain[at], "  ") {
		at--
	}
	last := unfold(plain[at:])
	switch view {
	case "default", "fleet":
		if !strings.HasPrefix(last, "FAIL: ") || !strings.HasSuffix(last, "; exit 1") {
			t.Errorf("the last line is not the verdict: %q", last)
		}
	case "whatif":
		if !strings.Contains(unfold(lines[len(lines)-3:]), "whatif failed: ") {
			t.Errorf("the verdict is not last: %q", lines[len(lines)-3:])
		}
	}
}

// checkPipe checks a view written to a pipe: nothing cut (no line ends in
// the ellipsis a cut leaves) and each fix whole on one line.
func checkPipe(t *testing.T, out, stderr string, fixes []string) {
	t.Helper()
	if strings.Count(out, "\n") < 3 {
		t.Fatalf("printed almost nothing: %q (stderr %q)", out, stderr)
	}
	lines := strings.Split(out, "\n")
	for _, l := range lines {
		if strings.HasSuffix(l, "…") {
			t.Errorf("a cut line in a pipe: %q", l)
		}
		if strings.Contains(l, "\x1b[") {
			t.Errorf("colour in a pipe: %q", l)
		}
	}
	for _, fix := range fixes {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, fix) }) {
			t.Errorf("no line holds the fix whole: %q", fix)
		}
	}
}

// failingFixes are the fixes of the failing problems.
func failingFixes(ps []report.Problem) []string {
	var out []string
	for _, p := range ps {
		if p.Failing && p.Fix != "" {
			out = append(out, p.Fix)
		}
	}
	return out
}

// whatIfFixes are every fix of a what-if (args: the whatif command).
func whatIfFixes(t *testing.T, args []string) []string {
	t.Helper()
	out, _, _ := runCmd(t, "", append(append([]string{}, args...), "-o", "json")...)
	var r report.WhatIfReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var fixes []string
	for _, p := range r.Pools {
		for _, f := range p.Findings {
			if f.Suggestion != "" && !slices.Contains(fixes, f.Suggestion) {
				fixes = append(fixes, f.Suggestion)
			}
		}
	}
	if len(fixes) == 0 || r.Summary.Failing == 0 {
		t.Fatalf("the what-if fails on nothing: %s", out)
	}
	return fixes
}

// terminalFleet is the golden fleet's kubeconfig (prod-eu, prod-us,
// staging) with prod-eu and prod-us serving the objects of file (a fake
// API server's store each), staging unreachable.
func terminalFleet(t *testing.T, file string) func(string, *rest.Config) (collect.Client, error) {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	clients := fleetClients()
	for _, ctx := range []string{"prod-eu", "prod-us"} {
		var objs []runtime.Object
		seen := map[string]bool{}
		for _, raw := range list.Items {
			obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			// An API server holds one object per name: the large
			// cluster's pending Pods of one DaemonSet share theirs.
			m, err := meta.Accessor(obj)
			if err != nil {
				t.Fatal(err)
			}
			if key := gvk.Kind + "/" + m.GetNamespace() + "/" + m.GetName(); !seen[key] {
				seen[key] = true
				objs = append(objs, obj)
			}
		}
		cs := fake.NewClientset(objs...)
		cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.37.2"}
		clients[ctx] = cs
	}
	return func(ctx string, _ *rest.Config) (collect.Client, error) { return collecttest.New(clients[ctx]), nil }
}

// fleetFixes are the fixes of every cluster's failing problems.
func fleetFixes(t *testing.T, fleet func(string, *rest.Config) (collect.Client, error)) []string {
	t.Helper()
	out, _, _ := runFleetCmd(t, fleet, "--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow, "-o", "json")
	var f report.FleetReport
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var fixes []string
	for _, c := range f.Clusters {
		if c.Report != nil {
			fixes = append(fixes, failingFixes(c.Report.Problems)...)
		}
	}
	if len(fixes) == 0 {
		t.Fatalf("the fleet fails on nothing: %s", out)
	}
	return fixes
}

// In a pipe nothing is cut or wrapped: each problem is one line holding
// its whole cause and fix, so grep finds it.
func TestPipedProblemsAreOneLineEach(t *testing.T) {
	out, _, _ := runCmd(t, "", "-f", demo, demoNow)
	for _, p := range problemsOf(t, []string{"-f", demo, demoNow}) {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, p.Type) && strings.Contains(l, p.Cause) && strings.Contains(l, p.Fix) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line holds %s's cause and fix whole: %q / %q", p.Type, p.Cause, p.Fix)
		}
	}
}

// problemsOf reads the problems of a run from its JSON.
func problemsOf(t *testing.T, args []string) []report.Problem {
	t.Helper()
	out, _, _ := runCmd(t, "", append(append([]string{}, args...), "-o", "json")...)
	var r report.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return r.Problems
}

func visibleWidth(s string) int { return utf8.RuneCountInString(stripColour([]string{s})[0]) }

// stripColour drops SGR sequences.
func stripColour(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		var b strings.Builder
		for j := 0; j < len(l); j++ {
			if l[j] == 0x1b && j+1 < len(l) && l[j+1] == '[' {
				for j < len(l) && l[j] != 'm' {
					j++
				}
				continue
			}
			b.WriteByte(l[j])
		}
		out[i] = b.String()
	}
	return out
}

// writeLargeCluster writes the demo cluster grown to 600 nodes (the demo's
// node and Pod objects copied under new names), so tables and lists are
// checked at a size where ranges, long lists and many problems appear. It
// is written as JSON, which reads several times faster than YAML: the
// terminal tests read it some forty times.
func writeLargeCluster(t *testing.T) string {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(largeClusterYAML(t, 600)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "large.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The README's first sample is what a person sees running the demo on a
// 100-column terminal; go test ./internal/cli -update rewrites it.
func TestReadmeFirstRunSample(t *testing.T) {
	lines, _ := runOnTerminal(t, 100, "-f", demo, demoNow, "--color=never")
	sample := "```\n$ kubectl daemoncheck\n" + strings.Join(lines, "\n") + "\n```"
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- BEGIN sample: kubectl daemoncheck on the demo, 100 columns -->\n", "<!-- END sample -->"
	head, rest, ok1 := strings.Cut(string(data), begin)
	got, tail, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatal("README has no first-run sample markers")
	}
	if strings.TrimSpace(got) == sample {
		return
	}
	if *update {
		if err := os.WriteFile("../../README.md", []byte(head+begin+sample+"\n"+end+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README's first-run sample is not what the demo prints at 100 columns (go test ./internal/cli -run TestReadmeFirstRunSample -update):\n%s", sample)
}

// whatif on a terminal fits it without cutting what matters: at 80 and 120
// columns no line is wider than the screen, every DaemonSet's reason and
// every finding's cause and fix are on screen in full (a list instead of a
// table too wide for its REASON), and the verdict is the last line.
func TestWhatIfFitsTheScreen(t *testing.T) {
	args := []string{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node"}
	for _, cols := range []int{80, 120} {
		lines, _ := runOnTerminal(t, cols, args...)
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > cols {
				t.Errorf("%d columns: a line of %d: %q", cols, n, l)
			}
			if strings.Contains(l, "…") {
				t.Errorf("%d columns: a cut line: %q", cols, l)
			}
		}
		all := unfold(lines)
		for _, want := range []string{
			"kube-system/ebs-csi-node: untolerated taint nvidia.com/gpu=true:NoSchedule",
			"gpu-operator/dcgm-exporter: required node affinity: kubernetes.io/arch In [amd64] fails (node has kubernetes.io/arch=arm64)",
			"or remove nvidia.com/gpu=true:NoSchedule from NodePool gpu spec.template.spec.taints if the daemon must run there",
			"whatif failed: 1 pool (4 node shapes) against 9 DaemonSets and 8 nodes; 2 findings, 1 failing (WillNotRun 1, FitUnknown 1)",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("%d columns: %q not on screen:\n%s", cols, want, strings.Join(lines, "\n"))
			}
		}
		if last := unfold(lines[len(lines)-2:]); !strings.HasPrefix(last, "whatif failed") && !strings.Contains(last, "whatif failed") {
			t.Errorf("%d columns: the verdict is not last: %q", cols, last)
		}
	}
}

// On a real OpenShift must-gather (namespaces of 39 characters) the summary
// keeps FINDINGS at 80 columns: it drops columns and joins namespace and
// name before it would cut it.
func TestSummaryKeepsFindingsOnLongNamespaces(t *testing.T) {
	lines, stderr := runOnTerminal(t, 80, "-f", "../../test/corpus/must-gather-aws", "--color=never")
	if len(lines) == 0 || !strings.HasSuffix(strings.TrimRight(lines[0], " "), "FINDINGS") {
		t.Fatalf("the summary's header does not end in FINDINGS: %q (stderr %q)", lines[:min(len(lines), 3)], stderr)
	}
	for _, l := range lines {
		if visibleWidth(l) > 80 {
			t.Errorf("a line of %d columns: %q", visibleWidth(l), l)
		}
		if strings.HasPrefix(l, "openshift-") && strings.HasSuffix(l, "…") {
			t.Errorf("a summary row is cut: %q", l)
		}
	}
}

// capacity on a terminal too narrow for its pool table lists the pools
// instead of cutting the table: each pool a heading with its verdict, its
// amounts, tightest node and the daemons left out whole on the screen;
// piped, it stays one table, a line per pool holding its NOT FITTING cell.
func TestCapacityListsPoolsWhenTheTableDoesNotFit(t *testing.T) {
	args := []string{"capacity", "-f", demo, demoNow}
	coloured, _ := runOnTerminal(t, 80, append(args, "--color=always")...)
	lines := stripColour(coloured)
	// The verdict's colour takes no column: the heading fits on its line.
	if !slices.Contains(lines, "general: 8 nodes, 6 DaemonSets; the daemons do not all fit on 2 of 8 nodes") {
		t.Errorf("the general pool's heading is not one line:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, "…") || utf8.RuneCountInString(l) > 80 {
			t.Errorf("a cut or too long line: %q", l)
		}
	}
	screen := unfold(lines)
	for _, want := range []string{
		"general: 8 nodes, 6 DaemonSets; the daemons do not all fit on 2 of 8 nodes",
		"daemons: cpu 14.31/31.36 (46%), memory 4.5Gi/112Gi (4%), pods 38/880 (5%)",
		"tightest node: worker-1 (cpu 1.87 left)",
		"not fitting: worker-1, worker-4 left out: observability/prometheus-node-exporter",
		"m5.large: 1 node, 3 DaemonSets; the daemons do not all fit on 1 of 1 node",
		"not fitting: cp-1 left out: security/falco",
		"gpu: 2 nodes, 2 DaemonSets; the daemons fit",
		"<total>: 11 nodes in 3 pools; the daemons do not all fit on 3 of 11 nodes",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("%q is not on the screen:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	// A label and its amount are never split over two lines.
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && slices.Contains([]string{"cpu", "memory", "pods"}, strings.TrimSuffix(f[len(f)-1], ",")) {
			t.Errorf("a line ends in a resource name, its amount on the next: %q", l)
		}
	}
	out, _, _ := runCmd(t, "", args...)
	if !strings.HasPrefix(out, "POOL ") {
		t.Fatalf("piped, capacity is not its table:\n%s", out)
	}
	for _, want := range []string{"general", "m5.large", "<total>"} {
		if !slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool { return strings.HasPrefix(l, want+" ") }) {
			t.Errorf("piped, no table row for %s:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "2: worker-1, worker-4 (observability/prometheus-node-exporter)") {
		t.Errorf("piped, the general pool's NOT FITTING cell is not whole:\n%s", out)
	}
}

// saveScreen writes what a 24-line terminal shows once the run is over
// (the last 24 lines) to $DAEMONCHECK_SCREENS/<view>.txt, and the first 24
// to <view>.head.txt, when that variable is set: text captures for people
// reviewing what the views look like.
func saveScreen(t *testing.T, lines []string) {
	dir := os.Getenv("DAEMONCHECK_SCREENS")
	if dir == "" {
		return
	}
	name := strings.NewReplacer("TestTerminalViewsFitTheScreen/", "", "/", "-").Replace(t.Name())
	for suffix, part := range map[string][]string{".txt": lines[max(len(lines)-24, 0):], ".head.txt": lines[:min(len(lines), 24)]} {
		if err := os.WriteFile(filepath.Join(dir, name+suffix), []byte(strings.Join(part, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

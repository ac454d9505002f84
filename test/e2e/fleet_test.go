//go:build e2e

package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// fleetContext is a kubeconfig context of a test fleet: server "" is the
// rig's API server (TLS, the rig's CA), else a proxy in front of the rig or
// a closed port; token "" is the rig's admin.
type fleetContext struct{ name, server, token string }

// fleetKubeconfig writes a kubeconfig with the contexts, each with a cluster
// and a user of its own.
func fleetKubeconfig(t *testing.T, contexts ...fleetContext) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(cluster.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	ca := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].CertificateAuthority
	cfg.Contexts = map[string]*clientcmdapi.Context{}
	for _, c := range contexts {
		server, token := c.server, c.token
		if server == "" {
			server = cluster.APIServerURL
		}
		if token == "" {
			token = rig.AdminToken
		}
		cfg.Clusters[c.name] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: ca}
		cfg.AuthInfos[c.name] = &clientcmdapi.AuthInfo{Token: token}
		cfg.Contexts[c.name] = &clientcmdapi.Context{Cluster: c.name, AuthInfo: c.name}
	}
	cfg.CurrentContext = ""
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "https://" + addr
}

// delayingProxy answers every request to the rig after delay, as a far-away
// or loaded API server does.
func delayingProxy(t *testing.T, delay time.Duration) *faultProxy {
	t.Helper()
	return newCustomProxy(t, func(*http.Request, int) (int, string) { return 0, "" }, func(http.ResponseWriter, *http.Request, int) bool {
		time.Sleep(delay)
		return false
	})
}

func decodeFleet(t *testing.T, res execResult) *report.FleetReport {
	t.Helper()
	var fr report.FleetReport
	if err := json.Unmarshal([]byte(res.stdout), &fr); err != nil {
		t.Fatalf("bad fleet JSON: %v\n%s\nstderr: %s", err, res.stdout, res.stderr)
	}
	return &fr
}

// TestFleetOneClusterUnreachable: a fleet of a good cluster, a closed port
// and a cluster where the user may read nothing. The good cluster's
// findings are all there, the others' errors are in their rows (and on
// stderr), and the exit code follows the documented rule: 1 when the good
// cluster has failing findings, else 3 because the others could not be read.
func TestFleetOneClusterUnreachable(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "fleet-down")
	s.plainNodes(2)
	s.createDaemonSet(s.newDaemonSet("agent"))
	nowhere := s.newDaemonSet("nowhere")
	// A typo in a value the nodes carry: evidence of a mistake, so
	// NoTargets (an error). A key no node has would be by design.
	nowhere.Spec.Template.Spec.NodeSelector["kubernetes.io/os"] = "linx"
	s.createDaemonSet(nowhere)
	s.settle("agent", allReady(2))
	s.settle("nowhere", nil)
	down := closedPort(t)
	kc := fleetKubeconfig(t, fleetContext{name: "good"}, fleetContext{name: "down", server: down}, fleetContext{name: "forbidden", token: rig.ViewerToken})

	res := execPlugin(t, nil, "--kubeconfig", kc, "--all-contexts", "-n", s.name)
	if res.code != 1 {
		t.Fatalf("the good cluster has a failing NoTargets: exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, re := range []string{
		`(?m)^down +Error +<unknown> .*cannot read from the cluster at ` + regexp.QuoteMeta(down) + `: .*connection refused$`,
		`(?m)^forbidden +Error +<unknown> .*listing daemonsets in namespace fleet-down: .*forbidden.*add to a Role`,
		`(?m)^good +Failed +2 +1 +1 +1 +<none>$`,
		`(?m)^good +fleet-down +agent +2 +2 +2 +2 +2 +0$`,
		`(?m)^good +\S+ +fleet-down/nowhere +NoTargets `,
	} {
		if !regexp.MustCompile(re).MatchString(res.stdout) {
			t.Errorf("table lacks %s:\n%s", re, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "error: context down: cannot read from the cluster at "+down) {
		t.Errorf("stderr lacks the unreachable cluster's line:\n%s", res.stderr)
	}

	// Without NoTargets the good cluster passes, and the unreachable one
	// makes the run incomplete.
	res = execPlugin(t, nil, "--kubeconfig", kc, "--contexts", "good,down", "-n", s.name, "--ignore", "NoTargets", "-o", "json")
	if res.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
	}
	fr := decodeFleet(t, res)
	if fr.Kind != report.FleetKind || len(fr.Clusters) != 2 || fr.Summary.Passed != 1 || fr.Summary.Errors != 1 {
		t.Fatalf("fleet %s: %+v", fr.Kind, fr.Summary)
	}
	bad, good := fr.Clusters[0], fr.Clusters[1]
	if bad.Context != "down" || bad.Result != report.ResultError || bad.Report != nil || !strings.Contains(bad.Error, "connection refused") {
		t.Errorf("down: %+v", bad)
	}
	if good.Context != "good" || good.Result != report.ResultPassed || good.Report == nil || good.Report.Source != cluster.APIServerURL {
		t.Fatalf("good: %+v", good)
	}
	if got := good.Report.Summary.ByType[report.NoTargets]; got != 0 || len(good.Report.DaemonSets) != 2 || !slices.Contains(good.Report.Gate.Ignore, report.NoTargets) {
		t.Errorf("good cluster's report: %d NoTargets in %d DaemonSets, ignoring %v", got, len(good.Report.DaemonSets), good.Report.Gate.Ignore)
	}
}

// TestFleetReadsClustersInParallel: four clusters behind proxies that delay
// every request (150 to 450 ms, as far-away API servers) take about as long
// together as the slowest alone, not the sum; read one at a time
// (--max-parallel-clusters 1) they take the sum, which shows the
// measurement tells the two apart.
func TestFleetReadsClustersInParallel(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "fleet-speed")
	s.plainNodes(2)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(2))
	servers := map[string]string{}
	for i, d := range []time.Duration{150, 250, 350, 450} {
		servers[fmt.Sprintf("far-%d", i+1)] = delayingProxy(t, d*time.Millisecond).srv.URL
	}
	var ctxs []fleetContext
	for name, server := range servers {
		ctxs = append(ctxs, fleetContext{name: name, server: server})
	}
	kc := fleetKubeconfig(t, ctxs...)

	var sum, slowest time.Duration
	for name := range servers {
		res := execPlugin(t, nil, "--kubeconfig", kc, "--context", name, "-n", s.name, "-o", "json")
		if res.code != 0 {
			t.Fatalf("%s alone: exit %d\n%s", name, res.code, res.stderr)
		}
		t.Logf("%s alone: %s", name, res.took.Round(time.Millisecond))
		sum += res.took
		slowest = max(slowest, res.took)
	}
	fleet := func(args ...string) (time.Duration, *report.FleetReport) {
		res := execPlugin(t, nil, append([]string{"--kubeconfig", kc, "--contexts", "far-*", "-n", s.name, "-o", "json"}, args...)...)
		if res.code != 0 {
			t.Fatalf("fleet %v: exit %d\n%s", args, res.code, res.stderr)
		}
		return res.took, decodeFleet(t, res)
	}
	parallel, fr := fleet()
	sequential, _ := fleet("--max-parallel-clusters", "1")
	t.Logf("4 clusters: alone %s in sum (slowest %s); fleet %s in parallel, %s one at a time", sum.Round(time.Millisecond), slowest.Round(time.Millisecond), parallel.Round(time.Millisecond), sequential.Round(time.Millisecond))
	if fr.Summary.Passed != 4 {
		t.Fatalf("fleet: %+v", fr.Summary)
	}
	for _, c := range fr.Clusters {
		if c.Server != servers[c.Context] || c.Report.Source != servers[c.Context] {
			t.Errorf("%s read from %s (source %s), want %s", c.Context, c.Server, c.Report.Source, servers[c.Context])
		}
	}
	if parallel > sum*6/10 {
		t.Errorf("the fleet took %s, the clusters alone %s in sum: they were not read in parallel", parallel, sum)
	}
	if sequential < parallel*3/2 {
		t.Errorf("one at a time took %s, in parallel %s: the delays do not tell sequential from parallel reads", sequential, parallel)
	}
}

// TestReadmeFleet runs the README's fleet examples as written, on contexts
// named as there: prod-eu (the rig), prod-us (the rig behind a proxy, a
// server of its own) and staging (unreachable).
func TestReadmeFleet(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, l := range strings.Split(readmeBlock(t, readme, "## Fleet", "sh"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			cmds = append(cmds, l)
		}
	}
	if len(cmds) != 3 {
		t.Fatalf("the README's fleet block has %d commands, this test checks 3:\n%q", len(cmds), cmds)
	}
	s := newScenario(t, "security")
	s.plainNodes(2)
	s.createDaemonSet(s.newDaemonSet("falco"))
	s.settle("falco", allReady(2))
	proxy := delayingProxy(t, 0)
	kc := fleetKubeconfig(t, fleetContext{name: "prod-eu"}, fleetContext{name: "prod-us", server: proxy.srv.URL}, fleetContext{name: "staging", server: closedPort(t)})
	dir := t.TempDir()

	// 1: the prod clusters, healthy.
	out, code := runRecipe(t, cmds[0], dir, kc)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s", cmds[0], code, out)
	}
	for _, re := range []string{`(?m)^prod-eu +Passed +1 +1 +0 +0 +<none>$`, `(?m)^prod-us +Passed +1 `, `(?m)^prod-us +security +falco +2 +2 +2 +2 +2 +0$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("%s: output lacks %s:\n%s", cmds[0], re, out)
		}
	}
	if strings.Contains(out, "staging") {
		t.Errorf("%s selected staging:\n%s", cmds[0], out)
	}

	// 2: every context, JSON and JUnit: staging cannot be read, exit 3.
	if _, code := runRecipe(t, cmds[1], dir, kc); code != 3 {
		t.Errorf("%s: exit %d, want 3 (staging is unreachable)", cmds[1], code)
	}
	data, err := os.ReadFile(filepath.Join(dir, "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fr report.FleetReport
	if err := json.Unmarshal(data, &fr); err != nil || fr.Summary.Clusters != 3 || fr.Summary.Passed != 2 || fr.Summary.Errors != 1 {
		t.Errorf("fleet.json (%v): %+v", err, fr.Summary)
	}
	junit, err := os.ReadFile(filepath.Join(dir, "fleet-junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name   string `xml:"name,attr"`
			Errors int    `xml:"errors,attr"`
			Tests  int    `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit, &suites); err != nil || len(suites.Suites) != 3 {
		t.Fatalf("junit (%v):\n%s", err, junit)
	}
	for _, su := range suites.Suites {
		if (su.Name == "staging") != (su.Errors == 1) || su.Tests == 0 {
			t.Errorf("junit suite %+v", su)
		}
	}

	// 3: one DaemonSet's detail, a section per cluster.
	out, code = runRecipe(t, cmds[2], dir, kc)
	if code != 0 || strings.Count(out, "Name:              falco\n") != 2 || !strings.Contains(out, "Context:  prod-us\nServer:   "+proxy.srv.URL+"\nResult:   Passed\n") {
		t.Errorf("%s: exit %d\n%s", cmds[2], code, out)
	}
}

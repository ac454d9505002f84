package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// apiServer is a small API server on loopback (https, its own token and
// version) serving one healthy DaemonSet named after the server; it records
// what each request carried, so a test can see which credentials and flags
// reached which cluster.
type apiServer struct {
	*httptest.Server
	name, token, version string
	mu                   sync.Mutex
	auths, impersonated  map[string]bool
	timeouts, paths      map[string]bool
}

func newAPIServer(t *testing.T, name, ver string, hang time.Duration) *apiServer {
	t.Helper()
	s := &apiServer{name: name, token: "token-" + name, version: ver, auths: map[string]bool{}, impersonated: map[string]bool{}, timeouts: map[string]bool{}, paths: map[string]bool{}}
	ds := healthyDaemonSet("kube-system", "agent-"+name, "node-"+name)
	node := fixture.Node("node-" + name)
	pod := fixture.Pod(&ds, "node-"+name)
	rev := fixture.Revision(&ds, 1)
	lists := map[string]runtime.Object{
		"/daemonsets":          &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}, Items: []appsv1.DaemonSet{ds}},
		"/nodes":               &corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: []corev1.Node{node}},
		"/pods":                &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: []corev1.Pod{pod}},
		"/controllerrevisions": &appsv1.ControllerRevisionList{TypeMeta: metav1.TypeMeta{Kind: "ControllerRevisionList", APIVersion: "apps/v1"}, Items: []appsv1.ControllerRevision{rev}},
		"/events":              &corev1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}},
		"/priorityclasses":     &schedulingv1.PriorityClassList{TypeMeta: metav1.TypeMeta{Kind: "PriorityClassList", APIVersion: "scheduling.k8s.io/v1"}},
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auths[r.Header.Get("Authorization")] = true
		s.impersonated[r.Header.Get("Impersonate-User")] = true
		s.timeouts[r.URL.Query().Get("timeout")] = true
		s.paths[r.URL.Path] = true
		s.mu.Unlock()
		if hang > 0 {
			select {
			case <-time.After(hang):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`)
			return
		}
		if r.URL.Path == "/version" {
			_ = json.NewEncoder(w).Encode(version.Info{GitVersion: s.version, Major: "1", Minor: "30"})
			return
		}
		for suffix, obj := range lists {
			if strings.HasSuffix(r.URL.Path, suffix) {
				_ = json.NewEncoder(w).Encode(obj)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// seen returns what the server's requests carried, sorted.
func (s *apiServer) seen(m map[string]bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// healthyDaemonSet is a DaemonSet whose status agrees with its one Pod.
// Its Pods have a priority and a memory request, as node agents should, so
// the fleet tests see only the findings they plant.
func healthyDaemonSet(ns, name string, nodes ...string) appsv1.DaemonSet {
	ds := fixture.DaemonSet(ns, name, fixture.Critical())
	n := int32(len(nodes))
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: n, CurrentNumberScheduled: n, NumberReady: n, NumberAvailable: n, UpdatedNumberScheduled: n, ObservedGeneration: 1}
	return ds
}

type kubeContext struct{ name, server, token, caData, namespace string }

// writeKubeconfig writes a kubeconfig with one cluster and user per context.
func writeKubeconfig(t *testing.T, ctxs ...kubeContext) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for i, c := range ctxs {
		fmt.Fprintf(&b, "- name: c%d\n  cluster:\n    server: %q\n", i, c.server)
		if c.caData != "" {
			fmt.Fprintf(&b, "    certificate-authority-data: %s\n", c.caData)
		}
	}
	b.WriteString("users:\n")
	for i, c := range ctxs {
		fmt.Fprintf(&b, "- name: u%d\n  user: {token: %q}\n", i, c.token)
	}
	b.WriteString("contexts:\n")
	for i, c := range ctxs {
		fmt.Fprintf(&b, "- name: %q\n  context: {cluster: c%d, user: u%d, namespace: %q}\n", c.name, i, i, c.namespace)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func caData(s *httptest.Server) string {
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return base64.StdEncoding.EncodeToString(pemBytes)
}

// runFleetCmd runs the root command with clientFor building each context's
// client (nil: the real one).
func runFleetCmd(t *testing.T, clientFor func(context string, cfg *rest.Config) (collect.Client, error), args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	o := NewCheckOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	o.clusterClient = clientFor
	c := newRootCommand(o)
	if c.Flags().Lookup("watch") == nil {
		// The watch flag may not exist yet: the fleet refuses it if it does.
		c.Flags().BoolP("watch", "w", false, "")
	}
	c.SetArgs(args)
	c.SetOut(&out)
	c.SetErr(&errOut)
	code := Execute(c, &errOut)
	return out.String(), errOut.String(), code
}

// Two contexts, two servers: each report is read from its own server, with
// its own credentials, and carries its own source and server version; the
// connection flags (--as, --request-timeout) reach both; and the clients
// share no http transport, although client-go would share one between
// these two configurations (same CA, no client certificate).
func TestFleetClustersShareNothing(t *testing.T) {
	a := newAPIServer(t, "a", "v1.31.4", 0)
	b := newAPIServer(t, "b", "v1.34.1", 0)
	kc := writeKubeconfig(t,
		kubeContext{name: "ctx-a", server: a.URL, token: a.token, caData: caData(a.Server)},
		kubeContext{name: "ctx-b", server: b.URL, token: b.token, caData: caData(b.Server)})
	var mu sync.Mutex
	clients := map[string]collect.Client{}
	out, errOut, code := runFleetCmd(t, func(ctx string, cfg *rest.Config) (collect.Client, error) {
		cs, err := newClient(cfg, true)
		mu.Lock()
		clients[ctx] = cs
		mu.Unlock()
		return cs, err
	}, "--kubeconfig", kc, "--contexts", "ctx-*", "--as", "ci-bot", "--request-timeout", "7s", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s\n%s", code, errOut, out)
	}
	var fr report.FleetReport
	if err := json.Unmarshal([]byte(out), &fr); err != nil {
		t.Fatal(err)
	}
	want := map[string]*apiServer{"ctx-a": a, "ctx-b": b}
	if len(fr.Clusters) != 2 {
		t.Fatalf("clusters %+v", fr.Clusters)
	}
	for _, c := range fr.Clusters {
		s := want[c.Context]
		if c.Report == nil || c.Result != report.ResultPassed {
			t.Fatalf("%s: %s %s", c.Context, c.Result, c.Error)
		}
		if c.Server != s.URL || c.Report.Source != s.URL || c.Report.ServerVersion != s.version {
			t.Errorf("%s: server %s, source %s, version %s; want %s and %s", c.Context, c.Server, c.Report.Source, c.Report.ServerVersion, s.URL, s.version)
		}
		if len(c.Report.DaemonSets) != 1 || c.Report.DaemonSets[0].Name != "agent-"+s.name {
			t.Errorf("%s: DaemonSets %+v, want agent-%s only", c.Context, c.Report.DaemonSets, s.name)
		}
		if got := s.seen(s.auths); !reflect.DeepEqual(got, []string{"Bearer " + s.token}) {
			t.Errorf("server %s saw credentials %q", s.name, got)
		}
		if got := s.seen(s.impersonated); !reflect.DeepEqual(got, []string{"ci-bot"}) {
			t.Errorf("server %s: --as reached it as %q", s.name, got)
		}
	}
	// client-go sends the request timeout as ?timeout= on lists.
	for _, s := range want {
		if got := s.seen(s.timeouts); !contains(got, "7s") {
			t.Errorf("server %s: --request-timeout 7s not applied (timeouts %q)", s.name, got)
		}
	}
	ta, tb := baseTransport(t, clients["ctx-a"]), baseTransport(t, clients["ctx-b"])
	if ta == tb {
		t.Error("the two clusters' clients share one http transport")
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// baseTransport unwraps a client's round trippers down to the transport
// that holds the connections.
func baseTransport(t *testing.T, cs collect.Client) *http.Transport {
	t.Helper()
	rt := cs.(interface{ Transport() http.RoundTripper }).Transport()
	for {
		switch x := rt.(type) {
		case *http.Transport:
			return x
		case interface{ WrappedRoundTripper() http.RoundTripper }:
			rt = x.WrappedRoundTripper()
		default:
			t.Fatalf("cannot see through %T", rt)
		}
	}
}

// A NAME without -n is looked for in each context's own namespace, as
// kubectl does with one context.
func TestFleetNameInEachContextsNamespace(t *testing.T) {
	a := newAPIServer(t, "a", "v1.31.4", 0)
	b := newAPIServer(t, "b", "v1.34.1", 0)
	kc := writeKubeconfig(t,
		kubeContext{name: "ctx-a", server: a.URL, token: a.token, caData: caData(a.Server), namespace: "team-a"},
		kubeContext{name: "ctx-b", server: b.URL, token: b.token, caData: caData(b.Server), namespace: "team-b"})
	_, errOut, _ := runFleetCmd(t, nil, "--kubeconfig", kc, "--all-contexts", "agent")
	for s, ns := range map[*apiServer]string{a: "team-a", b: "team-b"} {
		if got := s.seen(s.paths); !contains(got, "/apis/apps/v1/namespaces/"+ns+"/daemonsets") {
			t.Errorf("server %s: paths %q, want the DaemonSets of %s", s.name, got, ns)
		}
	}
	if !strings.Contains(errOut, `error: context ctx-a: daemonset "agent" not found in namespace "team-a"`) {
		t.Errorf("stderr:\n%s", errOut)
	}
}

// A cluster that hangs is bounded: by --timeout for the whole run, shared
// by every cluster (also those still waiting for their turn), and it never
// hides the others.
func TestFleetSlowClusterIsBounded(t *testing.T) {
	good := newAPIServer(t, "good", "v1.37.2", 0)
	slow := newAPIServer(t, "slow", "v1.37.2", time.Minute)
	slower := newAPIServer(t, "slower", "v1.37.2", time.Minute)
	kc := writeKubeconfig(t,
		kubeContext{name: "a-slow", server: slow.URL, token: slow.token, caData: caData(slow.Server)},
		kubeContext{name: "b-slower", server: slower.URL, token: slower.token, caData: caData(slower.Server)},
		kubeContext{name: "c-good", server: good.URL, token: good.token, caData: caData(good.Server)})
	for _, tt := range []struct {
		parallel string
		want     []string
	}{
		// Read at once, the good cluster passes while the others hang.
		{"3", []string{"a-slow     Error", "b-slower   Error", "c-good     Passed", "c-good    kube-system   agent-good"}},
		// Two at a time, clusters are taken in name order: the good one
		// waits behind the two that hang, and the deadline ends its wait.
		{"2", []string{"c-good     Error", "not read: --timeout 2s passed before its turn (--max-parallel-clusters 2)"}},
	} {
		start := time.Now()
		out, errOut, code := runFleetCmd(t, nil, "--kubeconfig", kc, "--all-contexts", "--timeout", "2s", "--max-parallel-clusters", tt.parallel)
		took := time.Since(start)
		if code != ExitInput {
			t.Errorf("parallel %s: exit %d, want %d; stderr:\n%s", tt.parallel, code, ExitInput, errOut)
		}
		if took > 8*time.Second {
			t.Errorf("parallel %s: took %s with --timeout 2s: the deadline must bound the whole run", tt.parallel, took)
		}
		for _, want := range append(tt.want, "gave up reading from the cluster at "+slow.URL+" after --timeout 2s") {
			if !strings.Contains(out, want) {
				t.Errorf("parallel %s: output lacks %q:\n%s", tt.parallel, want, out)
			}
		}
		if !strings.Contains(errOut, "error: context a-slow: gave up reading") || !strings.Contains(errOut, "error: context b-slower: ") {
			t.Errorf("parallel %s: stderr lacks one line per cluster that could not be read:\n%s", tt.parallel, errOut)
		}
	}
}

// The command's answers to a wrong selection or a wrong combination: one
// line, exit 2 (3 when the kubeconfig has no context at all).
func TestFleetUsage(t *testing.T) {
	kc := writeKubeconfig(t, kubeContext{name: "prod-eu", server: "https://127.0.0.1:1"}, kubeContext{name: "staging", server: "https://127.0.0.1:1"})
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--kubeconfig", kc, "--contexts", "prod-us"}, ExitUsage, `no context "prod-us" in the kubeconfig; it has prod-eu, staging`},
		{[]string{"--kubeconfig", kc, "--contexts", "dev-*"}, ExitUsage, `no context matches "dev-*" in the kubeconfig; it has prod-eu, staging`},
		{[]string{"--kubeconfig", empty, "--all-contexts"}, ExitInput, "the kubeconfig (" + empty + ") has no contexts to audit"},
		{[]string{"--kubeconfig", empty, "--contexts", "prod"}, ExitInput, "has no contexts to audit"},
		{[]string{"--kubeconfig", kc, "--contexts", ""}, ExitUsage, "--contexts must not be empty"},
		{[]string{"--kubeconfig", kc, "--contexts", "prod-eu", "--all-contexts"}, ExitUsage, "--contexts and --all-contexts cannot be combined"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "--context", "staging"}, ExitUsage, "--context names one cluster and --all-contexts several"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "--server", "https://x"}, ExitUsage, "--cluster and --server would send every context to one"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "-f", demo}, ExitUsage, "--all-contexts reads clusters and -f reads files"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "--wait"}, ExitUsage, "--wait follows one cluster and cannot be used with --all-contexts"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "-w"}, ExitUsage, "--watch follows one cluster and cannot be used with --all-contexts"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "--max-parallel-clusters", "0"}, ExitUsage, "--max-parallel-clusters must be at least 1, got 0"},
		{[]string{"--kubeconfig", kc, "--max-parallel-clusters", "2"}, ExitUsage, "--max-parallel-clusters goes with --contexts or --all-contexts"},
		{[]string{"--kubeconfig", kc, "--all-contexts", "-o", "prometheus"}, ExitUsage, `--output "prometheus" is not supported for several clusters (--contexts, --all-contexts); use one of: wide, json, yaml, junit, markdown, jsonpath`},
		{[]string{"--kubeconfig", kc, "--all-contexts", "--output-file", "github=x"}, ExitUsage, `"github" is not supported for several clusters`},
	}
	for _, tt := range tests {
		out, errOut, code := runFleetCmd(t, nil, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit %d with %q", tt.args, code, errOut, out, tt.code, tt.want)
		}
		if first, _, _ := strings.Cut(errOut, "\n"); !strings.HasPrefix(first, "error: ") {
			t.Errorf("%q: the error is not one line: %q", tt.args, errOut)
		}
	}
}

// fleetClients are the golden fleet: prod-eu with findings (a missing and a
// crash-looping Pod), prod-us healthy, staging unreachable.
func fleetClients() map[string]kubernetes.Interface {
	proxy := healthyDaemonSet("kube-system", "kube-proxy", "eu-1", "eu-2", "eu-3")
	proxy.Status.CurrentNumberScheduled, proxy.Status.NumberReady, proxy.Status.NumberAvailable, proxy.Status.UpdatedNumberScheduled, proxy.Status.NumberUnavailable = 2, 2, 2, 2, 1
	exporter := healthyDaemonSet("monitoring", "node-exporter", "eu-1", "eu-2", "eu-3")
	exporter.Status.NumberReady, exporter.Status.NumberAvailable, exporter.Status.NumberUnavailable = 2, 2, 1
	proxyRev, exporterRev := fixture.Revision(&proxy, 1), fixture.Revision(&exporter, 1)
	eu1, eu2, eu3 := fixture.Node("eu-1"), fixture.Node("eu-2"), fixture.Node("eu-3")
	p1, p2 := fixture.Pod(&proxy, "eu-1"), fixture.Pod(&proxy, "eu-2")
	e1, e2, e3 := fixture.Pod(&exporter, "eu-1"), fixture.Pod(&exporter, "eu-2", fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 12)), fixture.Pod(&exporter, "eu-3")
	eu := fake.NewClientset(&proxy, &exporter, &proxyRev, &exporterRev, &eu1, &eu2, &eu3, &p1, &p2, &e1, &e2, &e3)
	eu.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.37.2"}

	usProxy := healthyDaemonSet("kube-system", "kube-proxy", "us-1", "us-2")
	usRev := fixture.Revision(&usProxy, 1)
	us1, us2 := fixture.Node("us-1"), fixture.Node("us-2")
	u1, u2 := fixture.Pod(&usProxy, "us-1"), fixture.Pod(&usProxy, "us-2")
	us := fake.NewClientset(&usProxy, &usRev, &us1, &us2, &u1, &u2)
	us.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.33.4"}

	staging := fake.NewClientset()
	staging.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 10.0.3.1:6443: connect: connection refused")
	})
	return map[string]kubernetes.Interface{"prod-eu": eu, "prod-us": us, "staging": staging}
}

const fleetKubeconfig = "testdata/fleet-kubeconfig.yaml"

func fakeFleet() func(string, *rest.Config) (collect.Client, error) {
	clients := fleetClients()
	return func(ctx string, _ *rest.Config) (collect.Client, error) { return collecttest.New(clients[ctx]), nil }
}

func TestFleetGoldenOutputs(t *testing.T) {
	base := []string{"--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow}
	tests := []struct {
		golden string
		args   []string
	}{
		{"fleet-table.golden", nil},
		{"fleet-wide.golden", []string{"-o", "wide"}},
		{"fleet-describe.golden", []string{"kube-proxy", "-n", "kube-system"}},
		{"fleet.json.golden", []string{"-o", "json"}},
		{"fleet-junit.golden", []string{"-o", "junit", "--fail-on", "error"}},
		{"fleet-markdown.golden", []string{"-o", "markdown", "--fail-on", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := runFleetCmd(t, fakeFleet(), append(append([]string{}, base...), tt.args...)...)
			if code != ExitFindings {
				t.Errorf("exit %d, want %d: a failing cluster wins over an unreachable one (stderr %q)", code, ExitFindings, errOut)
			}
			if !strings.Contains(errOut, "error: context staging: cannot read from the cluster at https://staging.example.com:6443: ") {
				t.Errorf("stderr lacks the unreachable cluster's one line:\n%s", errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// The JSON fleet report is an API: its documented fields, by name.
func TestFleetJSONSchema(t *testing.T) {
	out, _, _ := runFleetCmd(t, fakeFleet(), "--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow, "-o", "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m["apiVersion"] != "daemoncheck/v1alpha2" || m["kind"] != "FleetReport" {
		t.Fatalf("apiVersion/kind: %v %v", m["apiVersion"], m["kind"])
	}
	sum := m["summary"].(map[string]any)
	for k, want := range map[string]float64{"clusters": 3, "passed": 1, "failed": 1, "partial": 0, "errors": 1} {
		if sum[k] != want {
			t.Errorf("summary.%s = %v, want %v", k, sum[k], want)
		}
	}
	byContext := map[string]map[string]any{}
	for _, c := range m["clusters"].([]any) {
		cm := c.(map[string]any)
		byContext[cm["context"].(string)] = cm
	}
	if st := byContext["staging"]; st["result"] != "Error" || st["report"] != nil || !strings.Contains(st["error"].(string), "connection refused") {
		t.Errorf("staging: %v", st)
	}
	eu := byContext["prod-eu"]
	if eu["result"] != "Failed" || eu["server"] != "https://prod-eu.example.com:6443" {
		t.Errorf("prod-eu: %v %v", eu["result"], eu["server"])
	}
	rep := eu["report"].(map[string]any)
	if rep["kind"] != "DaemonCheckReport" || rep["serverVersion"] != "v1.37.2" {
		t.Errorf("prod-eu's report: kind %v, serverVersion %v", rep["kind"], rep["serverVersion"])
	}
	// The suggested commands name the cluster they are about.
	if !strings.Contains(out, "kubectl --context prod-eu logs -n monitoring node-exporter-") {
		t.Error("prod-eu's suggestions do not name its context")
	}
}

// Suggested commands run as written: a context name with shell characters
// is quoted, and is added to the commands of the advice, not to words that
// merely mention kubectl.
func TestFleetProjectionNamesTheContextInCommands(t *testing.T) {
	logs := report.Advise("read its logs: {0}; or {1}", report.Cmd("kubectl", "logs", "-n", "ns", "p", "--previous"), report.Cmd("kubectl", "describe", "pod", "-n", "ns", "p"))
	rep := &report.Report{
		DaemonSets: []report.DaemonSetReport{{Namespace: "ns", Name: "d", Findings: []report.Finding{
			{ID: "a", Suggestion: logs.Render(report.RenderOptions{}), Advice: logs},
			{ID: "b", Suggestion: "the kubectl version skew policy allows it"},
		}}},
		Problems: []report.Problem{{Fix: "kubectl uncordon n1", Advice: report.Advise("{0}", report.WriteCmd("kubectl", "uncordon", "n1")),
			Findings: []report.FindingRef{{ID: "a", DaemonSet: "ns/d"}}}},
	}
	got, err := view.Project(rep, view.Projection{KubeContext: "team a's cluster"})
	if err != nil {
		t.Fatal(err)
	}
	if s, want := got.DaemonSets[0].Findings[0].Suggestion, `read its logs: kubectl --context 'team a'\''s cluster' logs -n ns p --previous; or kubectl --context 'team a'\''s cluster' describe pod -n ns p`; s != want {
		t.Errorf("suggestion %s, want %s", s, want)
	}
	if s := got.DaemonSets[0].Findings[1].Suggestion; s != "the kubectl version skew policy allows it" {
		t.Errorf("words that are no command were edited: %s", s)
	}
	if s := got.Problems[0].Fix; s != `kubectl --context 'team a'\''s cluster' uncordon n1` {
		t.Errorf("fix %s", s)
	}
	if rep.DaemonSets[0].Findings[0].Suggestion != logs.Render(report.RenderOptions{}) {
		t.Error("the projection changed the report it was given")
	}
}

// ForContext copies every connection flag but --context and the loaded
// kubeconfig.
func TestContextFlagsInheritsEveryFlag(t *testing.T) {
	base := kubeflags.New(true)
	base.KubeConfig, base.UserExtra = "/k", []string{"a=b"}
	base.Overrides.AuthInfo.Impersonate, base.Overrides.Timeout = "ci-bot", "7s"
	base.Overrides.Context.Namespace = "ns"
	f := base.ForContext("prod-eu")
	if f.Overrides.CurrentContext != "prod-eu" || base.Overrides.CurrentContext != "" {
		t.Errorf("context %q, base's %q", f.Overrides.CurrentContext, base.Overrides.CurrentContext)
	}
	if f.Overrides.AuthInfo.Impersonate != "ci-bot" || f.Overrides.Timeout != "7s" || f.KubeConfig != "/k" || f.Namespace() != "ns" || len(f.UserExtra) != 1 {
		t.Error("connection flags not inherited")
	}
	if f.ToRawKubeConfigLoader() == f.ToRawKubeConfigLoader() {
		t.Error("a context's flags must load afresh, not keep a loader")
	}
}

// The fleet's exit code follows a single run's, cluster by cluster: 1 if any
// cluster has findings --fail-on selects, else 3 if any could not be read
// completely (an error, a partial read, -l matching nothing), else 0.
func TestFleetExitCode(t *testing.T) {
	healthy := func() kubernetes.Interface {
		ds := healthyDaemonSet("kube-system", "kube-proxy", "n1")
		rev, n1, p1 := fixture.Revision(&ds, 1), fixture.Node("n1"), fixture.Pod(&ds, "n1")
		return fake.NewClientset(&ds, &rev, &n1, &p1)
	}
	partial := func() kubernetes.Interface {
		cs := healthy().(*fake.Clientset)
		cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrorsForbidden("nodes")
		})
		return cs
	}
	unreachable := func() kubernetes.Interface {
		cs := fake.NewClientset()
		cs.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("connection refused")
		})
		return cs
	}
	failing := func() kubernetes.Interface {
		ds := healthyDaemonSet("kube-system", "kube-proxy", "n1", "n2")
		rev, n1, n2, p1 := fixture.Revision(&ds, 1), fixture.Node("n1"), fixture.Node("n2"), fixture.Pod(&ds, "n1")
		return fake.NewClientset(&ds, &rev, &n1, &n2, &p1)
	}
	tests := []struct {
		name           string
		eu, us, stagin func() kubernetes.Interface
		args           []string
		code           int
		results        string
	}{
		{"all pass", healthy, healthy, healthy, nil, ExitOK, "Passed Passed Passed"},
		{"one partial", healthy, partial, healthy, nil, ExitInput, "Passed Partial Passed"},
		{"one unreachable", healthy, healthy, unreachable, nil, ExitInput, "Passed Passed Error"},
		{"findings win", failing, partial, unreachable, nil, ExitFindings, "Failed Partial Error"},
		{"findings not selected", failing, healthy, healthy, []string{"--fail-on", "none"}, ExitOK, "Passed Passed Passed"},
		{"-l matches nothing in one", healthy, healthy, func() kubernetes.Interface { return fake.NewClientset() }, []string{"-l", "app.kubernetes.io/name=kube-proxy"}, ExitInput, "Passed Passed Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clients := map[string]kubernetes.Interface{"prod-eu": tt.eu(), "prod-us": tt.us(), "staging": tt.stagin()}
			args := append([]string{"--kubeconfig", fleetKubeconfig, "--all-contexts", "-o", "json"}, tt.args...)
			out, errOut, code := runFleetCmd(t, func(ctx string, _ *rest.Config) (collect.Client, error) { return collecttest.New(clients[ctx]), nil }, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			var fr report.FleetReport
			if err := json.Unmarshal([]byte(out), &fr); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range fr.Clusters {
				got = append(got, string(c.Result))
			}
			if strings.Join(got, " ") != tt.results {
				t.Errorf("results %v, want %s", got, tt.results)
			}
		})
	}
}

func apierrorsForbidden(resource string) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New(`User "ci" cannot list resource "`+resource+`"`))
}

// The README's fleet table is what the command prints for the golden fleet.
func TestReadmeFleetTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "$ kubectl daemoncheck --all-contexts\n")
	example, _, _ := strings.Cut(after, "```")
	if !ok || example == "" {
		t.Fatal("README lost its fleet table example")
	}
	out, _, _ := runFleetCmd(t, fakeFleet(), "--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow)
	if out != example {
		t.Errorf("README's fleet example differs from the output:\n--- README\n%s--- output\n%s", example, out)
	}
}

// --contexts completes context names from the kubeconfig, after the ones
// already typed.
func TestFleetContextCompletion(t *testing.T) {
	out, _, _ := runFleetCmd(t, nil, "__complete", "--kubeconfig", fleetKubeconfig, "--contexts", "prod-eu,")
	if out != "prod-eu,prod-eu\nprod-eu,prod-us\nprod-eu,staging\n:6\n" {
		t.Errorf("completion %q", out)
	}
	out, _, _ = runFleetCmd(t, nil, "__complete", "--kubeconfig", fleetKubeconfig, "--all-contexts", "-o", "")
	if strings.Contains(out, "github") || !strings.Contains(out, "junit\n") {
		t.Errorf("-o completion with a fleet offers what it refuses: %q", out)
	}
}

// Templates and YAML print the FleetReport as they print a single report.
func TestFleetTemplates(t *testing.T) {
	out, errOut, _ := runFleetCmd(t, fakeFleet(), "--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow, "-o", `jsonpath={range .clusters[*]}{.context} {.result} {.report.serverVersion}{"\n"}{end}`)
	if out != "prod-eu Failed v1.37.2\nprod-us Passed v1.33.4\nstaging Error \n" {
		t.Errorf("jsonpath: %q (stderr %q)", out, errOut)
	}
	out, _, _ = runFleetCmd(t, fakeFleet(), "--kubeconfig", fleetKubeconfig, "--all-contexts", demoNow, "-o", "yaml")
	if !strings.HasPrefix(out, "apiVersion: daemoncheck/v1alpha2\nclusters:\n- context: prod-eu\n") || !strings.Contains(out, "kind: FleetReport\n") {
		t.Errorf("yaml:\n%.400s", out)
	}
}

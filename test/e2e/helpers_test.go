//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// ScenarioLabel isolates scenarios that run in parallel on the shared rig:
// every node of a scenario carries it, and every DaemonSet of the scenario
// selects it (nodeSelector), so DaemonSets never reach other scenarios' nodes.
const ScenarioLabel = "daemoncheck.e2e/scenario"

// ---- the plugin binary ----

var (
	pluginOnce sync.Once
	pluginPath string
	pluginDir  string
	pluginErr  error
)

// plugin builds ./cmd/kubectl-daemoncheck once per test binary.
func plugin(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		pluginDir, pluginErr = os.MkdirTemp("", "daemoncheck-e2e-plugin-")
		if pluginErr != nil {
			return
		}
		pluginPath = filepath.Join(pluginDir, "kubectl-daemoncheck")
		cmd := exec.Command("go", "build", "-o", pluginPath, "./cmd/kubectl-daemoncheck")
		cmd.Dir = repoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			pluginErr = fmt.Errorf("go build ./cmd/kubectl-daemoncheck: %v\n%s", err, out)
		}
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginPath
}

func cleanupPlugin() {
	if pluginDir != "" {
		_ = os.RemoveAll(pluginDir)
	}
}

func repoRoot() string {
	wd, _ := os.Getwd() // test/e2e
	return filepath.Join(wd, "..", "..")
}

// runPlugin runs `kubectl-daemoncheck --kubeconfig K -o json args...` and
// decodes the report. Exit codes 0 (healthy) and 1 (findings) are success.
func runPlugin(t testing.TB, args ...string) (*report.Report, int) {
	t.Helper()
	return runPluginOn(t, cluster.KubeconfigPath, args...)
}

// runPluginOn is runPlugin against another cluster.
func runPluginOn(t testing.TB, kubeconfig string, args ...string) (*report.Report, int) {
	t.Helper()
	bin := plugin(t)
	full := append([]string{"--kubeconfig", kubeconfig, "-o", "json"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl-daemoncheck %s: %v", strings.Join(full, " "), err)
	}
	if code != 0 && code != 1 {
		t.Fatalf("kubectl-daemoncheck %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(full, " "), code, stderr.String(), stdout.String())
	}
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("kubectl-daemoncheck %s: bad JSON: %v\n%s\nstderr: %s", strings.Join(full, " "), err, stdout.String(), stderr.String())
	}
	return &rep, code
}

// ---- scenarios ----

// scenario owns a namespace and a set of nodes, all removed at the end.
type scenario struct {
	t     *testing.T
	ctx   context.Context
	name  string // also the namespace and the node name prefix
	nodes []string
	fk    *fakeKubelet
}

func newScenario(t *testing.T, name string) *scenario {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s := &scenario{t: t, ctx: ctx, name: name}
	if err := cluster.CreateNamespace(ctx, name, nil); err != nil {
		t.Fatalf("namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer cancel()
		bg := context.Background()
		_ = cluster.Client.CoreV1().Namespaces().Delete(bg, name, metav1.DeleteOptions{})
		for _, n := range s.nodes {
			_ = cluster.Client.CoreV1().Nodes().Delete(bg, n, metav1.DeleteOptions{})
		}
	})
	return s
}

func (s *scenario) nodeName(short string) string { return s.name + "-" + short }

// scenarioNodes returns the names of the scenario's nodes that exist now.
func (s *scenario) scenarioNodes() map[string]bool {
	out := map[string]bool{}
	nodes, err := cluster.Client.CoreV1().Nodes().List(s.ctx, metav1.ListOptions{LabelSelector: ScenarioLabel + "=" + s.name})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, n := range nodes.Items {
		out[n.Name] = true
	}
	return out
}

// newNode returns the Node object the scenario would create: a kwok node
// labelled for the scenario, with generous capacity.
func (s *scenario) newNode(short string) *corev1.Node {
	name := s.nodeName(short)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				ScenarioLabel:            s.name,
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"type":                   "kwok",
			},
			Annotations: map[string]string{rig.FakeNodeAnnotation: rig.FakeNodeAnnotationValue},
		},
		Status: corev1.NodeStatus{
			Capacity:    nodeResources(),
			Allocatable: nodeResources(),
		},
	}
}

func nodeResources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

// createNodes creates nodes (short names) with optional edits, and waits until
// kwok made them Ready and the node lifecycle controller lifted the
// not-ready taint (unless waitReady is false).
func (s *scenario) createNodes(waitReady bool, nodes ...*corev1.Node) {
	s.t.Helper()
	for _, n := range nodes {
		if _, err := cluster.Client.CoreV1().Nodes().Create(s.ctx, n, metav1.CreateOptions{}); err != nil {
			s.t.Fatalf("create node %s: %v", n.Name, err)
		}
		s.nodes = append(s.nodes, n.Name)
	}
	if !waitReady {
		return
	}
	for _, n := range nodes {
		waitNodeReady(s.t, s.ctx, n.Name)
	}
}

// nodes is createNodes for plain nodes short-named n0..n(count-1).
func (s *scenario) plainNodes(count int) []string {
	s.t.Helper()
	var ns []*corev1.Node
	var names []string
	for i := 0; i < count; i++ {
		n := s.newNode(fmt.Sprintf("n%d", i))
		ns = append(ns, n)
		names = append(names, n.Name)
	}
	s.createNodes(true, ns...)
	return names
}

func waitNodeReady(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		n, err := cluster.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		for _, tn := range n.Spec.Taints {
			if tn.Key == corev1.TaintNodeNotReady || tn.Key == corev1.TaintNodeUnreachable {
				return false, nil
			}
		}
		return ready, nil
	})
	if err != nil {
		t.Fatalf("node %s did not become Ready without the not-ready taint: %v", name, err)
	}
}

// newDaemonSet returns a DaemonSet restricted to the scenario's nodes.
func (s *scenario) newDaemonSet(name string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	grace := int64(0)
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.name},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{ScenarioLabel: s.name},
					TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{
						Name:  "agent",
						Image: "registry.example/" + name + ":1",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("10m"),
							corev1.ResourceMemory: resource.MustParse("16Mi"),
						}},
					}},
				},
			},
		},
	}
}

func (s *scenario) createDaemonSet(ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	s.t.Helper()
	out, err := cluster.Client.AppsV1().DaemonSets(s.name).Create(s.ctx, ds, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("create DaemonSet %s: %v", ds.Name, err)
	}
	return out
}

func (s *scenario) getDaemonSet(name string) *appsv1.DaemonSet {
	s.t.Helper()
	ds, err := cluster.Client.AppsV1().DaemonSets(s.name).Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatalf("get DaemonSet %s: %v", name, err)
	}
	return ds
}

// updateNode applies fn to the node (retrying on conflicts).
func (s *scenario) updateNode(name string, fn func(*corev1.Node)) {
	s.t.Helper()
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		n, err := cluster.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		fn(n)
		_, err = cluster.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		s.t.Fatalf("update node %s: %v", name, err)
	}
}

// updateDaemonSet applies fn to the DaemonSet (retrying on conflicts).
func (s *scenario) updateDaemonSet(name string, fn func(*appsv1.DaemonSet)) {
	s.t.Helper()
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		ds, err := cluster.Client.AppsV1().DaemonSets(s.name).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		fn(ds)
		_, err = cluster.Client.AppsV1().DaemonSets(s.name).Update(ctx, ds, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		s.t.Fatalf("update DaemonSet %s: %v", name, err)
	}
}

// daemonPods lists the Pods the DaemonSet controls (controller ownerReference).
func daemonPods(ctx context.Context, ds *appsv1.DaemonSet) ([]corev1.Pod, error) {
	list, err := cluster.Client.CoreV1().Pods(ds.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if ref := metav1.GetControllerOf(&p); ref != nil && ref.UID == ds.UID {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// podNode is the node a daemon Pod is for: spec.nodeName, or while unbound the
// metadata.name in its required node affinity.
func podNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// settle waits until the controller has processed the DaemonSet's latest
// generation, the status and the Pods (placement, phase, readiness) have not
// changed for a few seconds, no Pod is terminating, and cond (if any) holds.
func (s *scenario) settle(name string, cond func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool) *appsv1.DaemonSet {
	s.t.Helper()
	var last string
	stableSince := time.Now()
	var ds *appsv1.DaemonSet
	err := wait.PollUntilContextTimeout(s.ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		ds, err = cluster.Client.AppsV1().DaemonSets(s.name).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		pods, err := daemonPods(ctx, ds)
		if err != nil {
			return false, nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d %+v|", ds.Generation, ds.Status)
		terminating := false
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				terminating = true
			}
			fmt.Fprintf(&b, "%s %s %s %v %s;", p.Name, podNode(&p), p.Status.Phase, podReady(&p), p.ResourceVersion)
		}
		snap := b.String()
		if snap != last {
			last = snap
			stableSince = time.Now()
			return false, nil
		}
		if ds.Status.ObservedGeneration != ds.Generation || terminating {
			return false, nil
		}
		if cond != nil && !cond(ds, pods) {
			return false, nil
		}
		return time.Since(stableSince) >= 3*time.Second, nil
	})
	if err != nil {
		if ds != nil {
			ds.ManagedFields = nil
		}
		y, _ := yaml.Marshal(ds)
		s.t.Fatalf("DaemonSet %s/%s did not settle: %v\n%s", s.name, name, err, y)
	}
	return ds
}

// expectation is what a scenario asserts beyond counts and verdicts.
type expectation struct {
	// findings is the exact set of "Type" or "Type@node" (for findings with a
	// node) the report must contain for the DaemonSet.
	findings []string
	// keptPods are nodes that hold a daemon Pod although the controller does
	// not target them (MisscheduledPod kept running; orphans need not be
	// listed since their node is gone).
	keptPods []string
	// missing are nodes the controller targets that have no daemon Pod
	// (only while the controller is stopped).
	missing []string
	// allowStale skips the computed == status comparison (the scenario
	// asserts StaleStatus instead).
	allowStale bool
	// skipNodes and anyFindings skip checks (b) and (c): the caller does
	// its own.
	skipNodes   bool
	anyFindings bool
}

// check runs the plugin on one DaemonSet and asserts (a) computed counts equal
// the controller's status, (b) every node's shouldRun equals where the
// controller placed Pods, (c) the exact set of findings. It retries briefly
// if the cluster changed while the plugin ran.
func (s *scenario) check(name string, want expectation) *report.DaemonSetReport {
	s.t.Helper()
	var problems []string
	var dr *report.DaemonSetReport
	// On a loaded machine the scheduler's retries of a Pending Pod and
	// kwok's status patches can land during several runs in a row: retry
	// for up to ~20 s, and say what kept changing if it never held still.
	for attempt := 0; attempt < 8; attempt++ {
		if attempt > 0 {
			time.Sleep(2 * time.Second)
		}
		before := s.getDaemonSet(name)
		podsBefore, _ := daemonPods(s.ctx, before)
		rep, _ := runPlugin(s.t, "-n", s.name, name)
		after := s.getDaemonSet(name)
		podsAfter, _ := daemonPods(s.ctx, after)
		if changed := clusterChanges(before, after, podsBefore, podsAfter); changed != "" {
			problems = []string{"cluster changed while the plugin ran: " + changed}
			continue
		}
		dr, problems = s.compare(rep, after, podsAfter, want)
		if len(problems) == 0 {
			return dr
		}
	}
	y, _ := json.MarshalIndent(dr, "", "  ")
	s.t.Errorf("daemoncheck disagrees with the controller for %s/%s:\n  - %s\nreport:\n%s\n%s", s.name, name, strings.Join(problems, "\n  - "), y, s.dumpObjects(name))
	return dr
}

// clusterChanges says what differs between two reads of a DaemonSet and
// its Pods ("" when nothing does).
func clusterChanges(before, after *appsv1.DaemonSet, podsBefore, podsAfter []corev1.Pod) string {
	var out []string
	if before.ResourceVersion != after.ResourceVersion || !reflect.DeepEqual(before.Status, after.Status) {
		out = append(out, fmt.Sprintf("DaemonSet resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion))
	}
	if a, b := podsSig(podsBefore), podsSig(podsAfter); a != b {
		out = append(out, fmt.Sprintf("Pods %s -> %s", a, b))
	}
	return strings.Join(out, "; ")
}

func podsSig(pods []corev1.Pod) string {
	var b strings.Builder
	for _, p := range pods {
		fmt.Fprintf(&b, "%s/%s;", p.Name, p.ResourceVersion)
	}
	return b.String()
}

func (s *scenario) compare(rep *report.Report, ds *appsv1.DaemonSet, pods []corev1.Pod, want expectation) (*report.DaemonSetReport, []string) {
	var problems []string
	var dr *report.DaemonSetReport
	for i := range rep.DaemonSets {
		if rep.DaemonSets[i].Namespace == ds.Namespace && rep.DaemonSets[i].Name == ds.Name {
			dr = &rep.DaemonSets[i]
		}
	}
	if dr == nil {
		return nil, []string{fmt.Sprintf("DaemonSet %s/%s missing from the report", ds.Namespace, ds.Name)}
	}

	// (a) computed == the controller's own status.
	st := ds.Status
	status := report.Counts{
		DesiredNumberScheduled: st.DesiredNumberScheduled,
		CurrentNumberScheduled: st.CurrentNumberScheduled,
		NumberReady:            st.NumberReady,
		NumberAvailable:        st.NumberAvailable,
		UpdatedNumberScheduled: st.UpdatedNumberScheduled,
		NumberMisscheduled:     st.NumberMisscheduled,
		NumberUnavailable:      st.NumberUnavailable,
	}
	var got report.Counts
	if dr.Computed == nil {
		problems = append(problems, "the report has no computed counts")
	} else {
		got = *dr.Computed
	}
	got.ObservedGeneration = 0
	if !want.allowStale && got != status {
		problems = append(problems, fmt.Sprintf("computed counts %+v != controller status %+v", got, status))
	}
	rs := dr.Status
	rs.ObservedGeneration = 0
	if rs != status {
		problems = append(problems, fmt.Sprintf("report.status %+v != the DaemonSet's status %+v", rs, status))
	}

	// (b) shouldRun == where the controller put Pods.
	withPod := map[string]bool{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			withPod[podNode(&p)] = true
		}
	}
	kept := map[string]bool{}
	for _, n := range want.keptPods {
		kept[n] = true
	}
	missing := map[string]bool{}
	for _, n := range want.missing {
		missing[n] = true
	}
	verdicts := map[string]report.NodeVerdict{}
	for _, v := range dr.Nodes {
		verdicts[v.Name] = v
	}
	// desired is where the controller wants Pods: from its placement when
	// the nodes are checked (its status can be stale), else its status.
	desired := st.DesiredNumberScheduled
	nodes, err := cluster.Client.CoreV1().Nodes().List(s.ctx, metav1.ListOptions{LabelSelector: ScenarioLabel + "=" + s.name})
	if err != nil {
		problems = append(problems, err.Error())
	} else if !want.skipNodes {
		desired = 0
		for _, n := range nodes.Items {
			truth := (withPod[n.Name] && !kept[n.Name]) || missing[n.Name]
			v, listed := verdicts[n.Name]
			if v.ShouldRun != truth {
				problems = append(problems, fmt.Sprintf("node %s: report shouldRun=%v (listed=%v, reason %q), but the controller %s", n.Name, v.ShouldRun, listed, v.Reason, placed(withPod[n.Name], kept[n.Name])))
			}
			if truth {
				desired++
			}
		}
		if desired != dr.Status.DesiredNumberScheduled && !want.allowStale {
			problems = append(problems, fmt.Sprintf("the controller placed Pods on %d targeted scenario nodes but its status says desired=%d", desired, st.DesiredNumberScheduled))
		}
	}
	for _, v := range dr.Nodes {
		if v.ShouldRun && !strings.HasPrefix(v.Name, s.name+"-") {
			problems = append(problems, fmt.Sprintf("node %s of another scenario is shouldRun for %s", v.Name, ds.Name))
		}
	}

	// (c) the exact findings.
	gotF := findingSet(dr.Findings)
	wantF := append([]string(nil), want.findings...)
	// A DaemonSet the controller places on no node (desired 0) is NoTargets
	// only when its selector looks mistaken, judged over every node of the
	// shared rig: unless the scenario asks for it, it may be there or not.
	// Where the DaemonSet is placed somewhere, NoTargets fails the check.
	if desired == 0 && !slices.Contains(wantF, string(report.NoTargets)) {
		gotF = noTargetsAllowed(gotF, true)
	}
	wantF = append(wantF, agentFindings(ds)...)
	sort.Strings(wantF)
	wantF = dedup(wantF)
	if !want.anyFindings && !reflect.DeepEqual(gotF, wantF) {
		problems = append(problems, fmt.Sprintf("findings %v, want %v", gotF, wantF))
	}
	return dr, problems
}

func placed(pod, kept bool) string {
	switch {
	case pod && kept:
		return "left a Pod running there while not targeting it (expected misscheduled)"
	case pod:
		return "placed a daemon Pod there"
	default:
		return "did not place a daemon Pod there"
	}
}

func findingSet(fs []report.Finding) []string {
	out := []string{}
	for _, f := range fs {
		k := string(f.Type)
		if f.Node != "" {
			k += "@" + f.Node
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return dedup(out)
}

func dedup(in []string) []string {
	out := []string{}
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// f builds an expected finding key.
func f(t report.FindingType, node string) string {
	if node == "" {
		return string(t)
	}
	return string(t) + "@" + node
}

// dumpObjects renders the scenario's nodes, DaemonSet and Pods as YAML, so a
// failure can be reproduced.
func (s *scenario) dumpObjects(dsName string) string {
	var b strings.Builder
	nodes, _ := cluster.Client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: ScenarioLabel + "=" + s.name})
	if nodes != nil {
		for _, n := range nodes.Items {
			writeYAML(&b, minimalNode(&n))
		}
	}
	if ds, err := cluster.Client.AppsV1().DaemonSets(s.name).Get(context.Background(), dsName, metav1.GetOptions{}); err == nil {
		ds.ManagedFields = nil
		writeYAML(&b, ds)
		pods, _ := daemonPods(context.Background(), ds)
		for _, p := range pods {
			writeYAML(&b, map[string]any{"pod": p.Name, "node": podNode(&p), "phase": p.Status.Phase, "ready": podReady(&p), "labels": p.Labels, "created": p.CreationTimestamp})
		}
	}
	return b.String()
}

func minimalNode(n *corev1.Node) map[string]any {
	var conds []string
	for _, c := range n.Status.Conditions {
		conds = append(conds, fmt.Sprintf("%s=%s", c.Type, c.Status))
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata":   map[string]any{"name": n.Name, "labels": n.Labels},
		"spec":       n.Spec,
		"conditions": conds,
	}
}

func writeYAML(b *strings.Builder, obj any) {
	y, err := yaml.Marshal(obj)
	if err != nil {
		fmt.Fprintf(b, "# %v\n", err)
		return
	}
	b.WriteString("---\n")
	b.Write(y)
}

// deletePod deletes a Pod immediately.
func deletePod(ctx context.Context, ns, name string) error {
	zero := int64(0)
	return cluster.Client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
}

// agentFindings are the findings the DaemonSet's spec alone implies, as the
// README defines them: a node agent (here: hostNetwork, the only host
// access scenarios use, or namespace kube-system) without a
// priorityClassName is LowPriorityAgent; a container without a memory
// request is NoMemoryRequest (scenario DaemonSets all request memory).
func agentFindings(ds *appsv1.DaemonSet) []string {
	spec := &ds.Spec.Template.Spec
	var out []string
	if (spec.HostNetwork || ds.Namespace == metav1.NamespaceSystem) && spec.PriorityClassName == "" {
		out = append(out, string(report.LowPriorityAgent))
	}
	for _, c := range spec.Containers {
		if _, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok {
			out = append(out, string(report.NoMemoryRequest))
			break
		}
	}
	return out
}

// namedScenario is one scenario of a suite: its name (which names its
// namespace and nodes) and what it does.
type namedScenario struct {
	name string
	fn   func(t *testing.T, s *scenario)
}

// runScenarios runs each scenario in parallel on the shared rig, in a
// namespace of its own named prefix+name; the plugin is built first, so a
// broken build fails fast.
func runScenarios(t *testing.T, prefix string, scs []namedScenario) {
	t.Helper()
	plugin(t)
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.fn(t, newScenario(t, prefix+sc.name))
		})
	}
}

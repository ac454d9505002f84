//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// OpenKruise's Advanced DaemonSet on the real API server: its CRD is the
// one Kruise ships (config/crd/bases of github.com/openkruise/kruise
// v1.8.2, found through the module cache), so the objects are validated
// and served as on a cluster running Kruise.
//
// The Kruise controller itself cannot run here (it needs its webhook
// server, certificates and an image); each scenario writes its end state
// instead, as the controller would leave it: the ControllerRevisions it
// makes (labels of the template plus controller-revision-hash, controller
// reference to the Advanced DaemonSet), its Pods (controller reference
// kind DaemonSet in apps.kruise.io, the revision's hash label, bound to
// their node; kwok runs them) and the status it computes
// (updateDaemonSetStatus in pkg/controller/daemonset). What each scenario
// writes is what kruise v1.8.2 does for that spec: the partition keeps the
// lowest-named node old (filterDaemonPodsNodeToUpdate), and a node whose
// Pod is gone gets none until the controller's next sync.

const kruiseVersion = "v1.8.2"

var (
	kruiseDaemonSets = schema.GroupVersionResource{Group: "apps.kruise.io", Version: "v1alpha1", Resource: "daemonsets"}
	crds             = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

func TestKruiseAdvancedDaemonSet(t *testing.T) {
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}

	// Before the CRD exists (this part is not parallel, so it runs before
	// the suite's parallel tests and before the install below): the kind
	// is listed as not served, and the report is not partial.
	t.Run("NotServedIsNotPartial", func(t *testing.T) {
		s := newScenario(t, "kruise-none")
		s.plainNodes(1)
		s.createDaemonSet(s.newDaemonSet("core"))
		s.settle("core", nil)
		rep, code := runPlugin(t, "-n", s.name)
		if code != 0 || rep.Partial || len(rep.Unread) != 0 {
			t.Fatalf("exit %d, partial %v, unread %v: want a complete, passing report", code, rep.Partial, rep.Unread)
		}
		if !slices.ContainsFunc(rep.NotServed, func(n report.NotServed) bool { return n.Kind == "daemonsets.apps.kruise.io" }) {
			t.Fatalf("notServed = %v, want daemonsets.apps.kruise.io", rep.NotServed)
		}
	})

	installKruiseCRD(t, dyn)

	t.Run("PartitionKeepsOldPodsOnPurpose", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, "kruise-partition")
		nodes := s.plainNodes(3)
		ads := s.createAdvancedDaemonSet(dyn, "ads", map[string]any{"partition": int64(1), "maxUnavailable": int64(1)})
		// Revision h1 was the template before, h2 is now; the controller
		// updated every node but the partition's one: nodes sorted by
		// name, the lowest stays old.
		s.createRevision(ads, "h1", 1)
		s.createRevision(ads, "h2", 2)
		s.createKruisePod(ads, nodes[0], "h1")
		s.createKruisePod(ads, nodes[1], "h2")
		s.createKruisePod(ads, nodes[2], "h2")
		s.waitKruisePodsReady(ads, 3)
		s.writeKruiseStatus(dyn, ads, kruiseStatus{desired: 3, current: 3, ready: 3, updated: 2, hash: "h2"})

		rep, _ := runPlugin(t, "-n", s.name)
		dr := kruiseReport(t, rep, s.name, "ads")
		for _, f := range dr.Findings {
			if f.Type == report.OutdatedPod || f.Type == report.RolloutStuck || f.Type == report.StaleStatus {
				t.Errorf("finding %s on %s (%s): the partition keeps the old Pod on purpose", f.Type, f.Node, f.Message)
			}
		}
		want := []report.HeldNode{{Node: nodes[0], Pod: "ads-" + nodes[0], Why: "partition"}}
		if dr.Kruise == nil || !slices.Equal(dr.Kruise.HeldNodes, want) || dr.Kruise.PartitionNodes != 1 {
			t.Fatalf("kruise = %+v, want held %v with partition 1", dr.Kruise, want)
		}
		if dr.Computed == nil || dr.Computed.UpdatedNumberScheduled != 2 || dr.Computed.DesiredNumberScheduled != 3 {
			t.Fatalf("computed = %+v, want 3 desired, 2 updated", dr.Computed)
		}
		// -o name names the kind so kubectl does not take the core one.
		if out := s.pluginText("-n", s.name, "-o", "name"); !strings.Contains(out, "-n "+s.name+" daemonset.apps.kruise.io/ads\n") {
			t.Fatalf("-o name printed %q, want daemonset.apps.kruise.io/ads", out)
		}
	})

	t.Run("MissingPodOnTargetedNode", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, "kruise-missing")
		nodes := s.plainNodes(3)
		ads := s.createAdvancedDaemonSet(dyn, "ads", nil)
		s.createRevision(ads, "h1", 1)
		s.createKruisePod(ads, nodes[0], "h1")
		s.createKruisePod(ads, nodes[1], "h1")
		s.waitKruisePodsReady(ads, 2)
		s.writeKruiseStatus(dyn, ads, kruiseStatus{desired: 3, current: 2, ready: 2, updated: 2, hash: "h1"})

		rep, code := runPlugin(t, "-n", s.name)
		dr := kruiseReport(t, rep, s.name, "ads")
		var missing []string
		for _, f := range dr.Findings {
			if f.Type == report.MissingPod {
				missing = append(missing, f.Node)
				if f.Advice == nil || !slices.ContainsFunc(f.Advice.Commands, func(c report.Command) bool {
					return slices.Contains(c.Argv, "daemonset.apps.kruise.io/ads")
				}) {
					t.Errorf("MissingPod advice %+v does not name daemonset.apps.kruise.io/ads", f.Advice)
				}
			}
		}
		if !slices.Equal(missing, []string{nodes[2]}) || code != 1 {
			t.Fatalf("MissingPod on %v (exit %d), want on %s only, failing", missing, code, nodes[2])
		}
	})

	t.Run("ForbiddenIsUnreadWithTheRule", func(t *testing.T) {
		t.Parallel()
		forbiddenIsUnread(t)
	})

	t.Run("KruisePodsAreNotACoreDaemonSets", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t, "kruise-owner")
		nodes := s.plainNodes(2)
		// A core DaemonSet whose selector also matches the Advanced
		// DaemonSet's Pods: they are owned (by kind DaemonSet, in another
		// group), so neither controller takes them for the other's.
		core := s.newDaemonSet("core")
		core.Spec.Selector.MatchLabels = map[string]string{"tier": "agent"}
		core.Spec.Template.Labels = map[string]string{"tier": "agent", "app": "core"}
		s.createDaemonSet(core)
		s.settle("core", nil)
		ads := s.createAdvancedDaemonSet(dyn, "ads", nil)
		s.createRevision(ads, "h1", 1)
		for _, n := range nodes {
			s.createKruisePod(ads, n, "h1", "tier", "agent")
		}
		s.waitKruisePodsReady(ads, 2)
		s.writeKruiseStatus(dyn, ads, kruiseStatus{desired: 2, current: 2, ready: 2, updated: 2, hash: "h1"})

		rep, _ := runPlugin(t, "-n", s.name)
		var coreReport *report.DaemonSetReport
		for i := range rep.DaemonSets {
			if d := &rep.DaemonSets[i]; d.Name == "core" && d.Group == "" {
				coreReport = d
			}
		}
		if coreReport == nil {
			t.Fatal("no report of the core DaemonSet")
		}
		for _, nv := range coreReport.Nodes {
			for _, p := range nv.Pods {
				if strings.HasPrefix(p.Name, "ads-") {
					t.Errorf("core DaemonSet counts the Advanced DaemonSet's Pod %s on %s", p.Name, nv.Name)
				}
			}
		}
		for _, f := range coreReport.Findings {
			if f.Type != report.NoMemoryRequest && f.Severity == report.SeverityError {
				t.Errorf("core DaemonSet finding %s on %s: %s", f.Type, f.Node, f.Message)
			}
		}
		dr := kruiseReport(t, rep, s.name, "ads")
		if dr.Computed == nil || dr.Computed.CurrentNumberScheduled != 2 {
			t.Fatalf("Advanced DaemonSet computed %+v, want its 2 Pods counted", dr.Computed)
		}
		for _, f := range dr.Findings {
			if f.Severity == report.SeverityError {
				t.Errorf("Advanced DaemonSet finding %s on %s: %s", f.Type, f.Node, f.Message)
			}
		}
	})
}

// forbiddenIsUnread: a user whose Role lets it read the core kinds of a
// namespace but not apps.kruise.io gets a partial report naming the rule
// to add, never an Advanced DaemonSet silently missing.
func forbiddenIsUnread(t *testing.T) {
	s := newScenario(t, "kruise-forbidden")
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "core-only", Namespace: s.name},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"daemonsets", "controllerrevisions"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: []string{"get", "list"}},
		},
	}
	if _, err := cluster.Client.RbacV1().Roles(s.name).Create(s.ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "core-only", Namespace: s.name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: rig.ViewerUser}},
	}
	if _, err := cluster.Client.RbacV1().RoleBindings(s.name).Create(s.ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	viewer, err := cluster.KubeconfigForToken("viewer-"+s.name, rig.ViewerToken)
	if err != nil {
		t.Fatal(err)
	}
	var res execResult
	// RBAC takes a moment to see the binding: until then the core list
	// is refused too (exit 3 with one line).
	_ = wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		res = execPlugin(t, nil, "--kubeconfig", viewer, "-n", s.name, "-o", "json")
		return strings.HasPrefix(strings.TrimSpace(res.stdout), "{"), nil
	})
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", res.code, err, res.stdout, res.stderr)
	}
	const rule = "apiGroups: [apps.kruise.io], resources: [daemonsets], verbs: [get, list]"
	if !rep.Partial || !slices.ContainsFunc(rep.Unread, func(u report.Unread) bool { return u.Kind == "daemonsets.apps.kruise.io" && u.Rule == rule }) {
		t.Fatalf("partial %v, unread %+v: want daemonsets.apps.kruise.io unread with %q", rep.Partial, rep.Unread, rule)
	}
	if !strings.Contains(res.stderr, "daemonsets.apps.kruise.io not read: forbidden") {
		t.Errorf("stderr does not say the kind was not read:\n%s", res.stderr)
	}
}

// kruiseCRDPath finds the CRD Kruise ships, through the module cache (go
// mod download, outside any module so no go.mod is touched).
func kruiseCRDPath(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/openkruise/kruise@"+kruiseVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download github.com/openkruise/kruise@%s: %v\n%s", kruiseVersion, err, out)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download -json: %v\n%s", err, out)
	}
	return filepath.Join(m.Dir, "config", "crd", "bases", "apps.kruise.io_daemonsets.yaml")
}

// installKruiseCRD creates the CRD, waits until it is served, and removes
// it when the test ends, so the rest of the suite sees a cluster without
// it.
func installKruiseCRD(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	raw, err := os.ReadFile(kruiseCRDPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := dyn.Resource(crds).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() {
		// Gone before the suite's parallel tests start: they expect a
		// cluster without OpenKruise.
		bg, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = dyn.Resource(crds).Delete(bg, u.GetName(), metav1.DeleteOptions{})
		_ = wait.PollUntilContextTimeout(bg, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := dyn.Resource(crds).Get(ctx, u.GetName(), metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	})
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := dyn.Resource(crds).Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				// Served once a list answers.
				_, err := dyn.Resource(kruiseDaemonSets).List(ctx, metav1.ListOptions{Limit: 1})
				return err == nil, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CRD %s not established: %v", u.GetName(), err)
	}
}

// createAdvancedDaemonSet creates an Advanced DaemonSet restricted to the
// scenario's nodes, with rollingUpdate (nil: Kruise's defaults, which the
// webhook would write: maxUnavailable 1).
func (s *scenario) createAdvancedDaemonSet(dyn dynamic.Interface, name string, rollingUpdate map[string]any) *unstructured.Unstructured {
	s.t.Helper()
	if rollingUpdate == nil {
		rollingUpdate = map[string]any{"maxUnavailable": int64(1)}
	}
	rollingUpdate["rollingUpdateType"] = "Standard"
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps.kruise.io/v1alpha1",
		"kind":       "DaemonSet",
		"metadata":   map[string]any{"name": name, "namespace": s.name},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec": map[string]any{
					"nodeSelector": map[string]any{ScenarioLabel: s.name},
					"containers": []any{map[string]any{
						"name": "agent", "image": "registry.example/" + name + ":1",
						"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "16Mi"}},
					}},
				},
			},
			"updateStrategy": map[string]any{"type": "RollingUpdate", "rollingUpdate": rollingUpdate},
		},
	}}
	out, err := dyn.Resource(kruiseDaemonSets).Namespace(s.name).Create(s.ctx, u, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("create Advanced DaemonSet %s: %v", name, err)
	}
	return out
}

// controllerRef is the controller reference Kruise sets on what it makes.
func controllerRef(ads *unstructured.Unstructured) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "apps.kruise.io/v1alpha1", Kind: "DaemonSet", Name: ads.GetName(), UID: ads.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}}
}

// createRevision writes the ControllerRevision Kruise's constructHistory
// makes for a template with hash.
func (s *scenario) createRevision(ads *unstructured.Unstructured, hash string, revision int64) {
	s.t.Helper()
	cr := map[string]any{
		"apiVersion": "apps/v1", "kind": "ControllerRevision",
		"metadata": map[string]any{
			"name": ads.GetName() + "-" + hash, "namespace": s.name,
			"labels":          map[string]any{"app": ads.GetName(), "controller-revision-hash": hash},
			"ownerReferences": toAny(controllerRef(ads)),
		},
		"data":     map[string]any{"spec": map[string]any{"template": map[string]any{"$patch": "replace"}}},
		"revision": revision,
	}
	u := &unstructured.Unstructured{Object: cr}
	dyn, _ := dynamic.NewForConfig(cluster.Config)
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "controllerrevisions"}).Namespace(s.name).Create(s.ctx, u, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create ControllerRevision: %v", err)
	}
}

func toAny(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// createKruisePod writes the Pod Kruise's controller creates on node for
// the revision hash, bound to it (kwok runs it); extra labels in pairs.
func (s *scenario) createKruisePod(ads *unstructured.Unstructured, node, hash string, extra ...string) {
	s.t.Helper()
	labels := map[string]string{"app": ads.GetName(), "controller-revision-hash": hash}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	grace := int64(0)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ads.GetName() + "-" + node, Namespace: s.name, Labels: labels, OwnerReferences: controllerRef(ads)},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			NodeSelector:                  map[string]string{ScenarioLabel: s.name},
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "agent", Image: "registry.example/" + ads.GetName() + ":1",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}}}},
		},
	}
	if _, err := cluster.Client.CoreV1().Pods(s.name).Create(s.ctx, p, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create Pod %s: %v", p.Name, err)
	}
}

// waitKruisePodsReady waits until n Pods of the Advanced DaemonSet are
// Ready (kwok's fake kubelet runs them).
func (s *scenario) waitKruisePodsReady(ads *unstructured.Unstructured, n int) {
	s.t.Helper()
	err := wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		l, err := cluster.Client.CoreV1().Pods(s.name).List(ctx, metav1.ListOptions{LabelSelector: "app=" + ads.GetName()})
		if err != nil {
			return false, nil
		}
		ready := 0
		for i := range l.Items {
			if podReady(&l.Items[i]) {
				ready++
			}
		}
		return ready == n, nil
	})
	if err != nil {
		s.t.Fatalf("%d Pods of %s not Ready: %v", n, ads.GetName(), err)
	}
}

type kruiseStatus struct {
	desired, current, ready, updated int64
	hash                             string
}

// writeKruiseStatus writes the status Kruise's updateDaemonSetStatus
// computes, through the status subresource, at the object's generation.
func (s *scenario) writeKruiseStatus(dyn dynamic.Interface, ads *unstructured.Unstructured, st kruiseStatus) {
	s.t.Helper()
	res := dyn.Resource(kruiseDaemonSets).Namespace(s.name)
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cur, err := res.Get(ctx, ads.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cur.Object["status"] = map[string]any{
			"desiredNumberScheduled": st.desired, "currentNumberScheduled": st.current, "numberMisscheduled": int64(0),
			"numberReady": st.ready, "numberAvailable": st.ready, "numberUnavailable": st.desired - st.ready,
			"updatedNumberScheduled": st.updated, "observedGeneration": cur.GetGeneration(), "daemonSetHash": st.hash,
		}
		_, err = res.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		s.t.Fatalf("write status of %s: %v", ads.GetName(), err)
	}
}

// kruiseReport is the Advanced DaemonSet's report, which must say its group.
func kruiseReport(t *testing.T, rep *report.Report, ns, name string) *report.DaemonSetReport {
	t.Helper()
	for i := range rep.DaemonSets {
		if d := &rep.DaemonSets[i]; d.Namespace == ns && d.Name == name && d.Group == "apps.kruise.io" {
			if d.Resource != "daemonset.apps.kruise.io" {
				t.Fatalf("resource %q, want daemonset.apps.kruise.io", d.Resource)
			}
			return d
		}
	}
	t.Fatalf("no report of Advanced DaemonSet %s/%s among %d DaemonSets", ns, name, len(rep.DaemonSets))
	return nil
}

// pluginText runs the plugin and returns what it printed.
func (s *scenario) pluginText(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(plugin(s.t), append([]string{"--kubeconfig", cluster.KubeconfigPath}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() > 1 {
		s.t.Fatalf("kubectl-daemoncheck %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// TestLeastPrivilege: a user with only a namespaced Role (DaemonSets and
// Pods, no nodes, no events, no controllerrevisions) gets what can be known:
// a one-line warning per missing permission with the rule to add, a report
// marked partial, no guessed node verdicts, and never a silent exit 0.
func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "least-privilege")
	s.plainNodes(2)
	s.createDaemonSet(withCrashLoop(s.newDaemonSet("agent")))
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.CurrentNumberScheduled == 2 })

	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "daemoncheck-partial", Namespace: s.name},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		},
	}
	if _, err := cluster.Client.RbacV1().Roles(s.name).Create(s.ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewer-partial", Namespace: s.name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: rig.ViewerUser}},
	}
	if _, err := cluster.Client.RbacV1().RoleBindings(s.name).Create(s.ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	vc := rest.CopyConfig(cluster.Config)
	vc.BearerToken = rig.ViewerToken
	vclient := kubernetes.NewForConfigOrDie(vc)
	for i := 0; ; i++ {
		if _, err := vclient.AppsV1().DaemonSets(s.name).List(s.ctx, metav1.ListOptions{Limit: 1}); err == nil {
			break
		} else if i == 100 {
			t.Fatalf("the viewer cannot list daemonsets in %s: %v", s.name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	viewer, err := cluster.KubeconfigForToken("viewer-"+s.name, rig.ViewerToken)
	if err != nil {
		t.Fatal(err)
	}

	res := execPlugin(t, nil, "--kubeconfig", viewer, "-n", s.name, "-o", "json")
	// The crash-looping Pods are known without nodes: findings, exit 1.
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (findings in a partial report)\n%s", res.code, res.stderr)
	}
	for _, kind := range []string{"nodes", "controllerrevisions", "events"} {
		want := "Warning: " + kind + " not read: forbidden: cannot list " + kind
		if strings.Count(res.stderr, want) != 1 {
			t.Errorf("stderr lacks one %q line:\n%s", want, res.stderr)
		}
	}
	if !strings.Contains(res.stderr, "resources: [nodes], verbs: [get, list]") {
		t.Errorf("stderr does not name the RBAC rule to add:\n%s", res.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	dr := rep.DaemonSets[0]
	if !rep.Partial || dr.Computed != nil || len(dr.Unknown) == 0 || len(dr.Nodes) != 0 {
		t.Errorf("partial=%v computed=%v unknown=%v nodes=%d", rep.Partial, dr.Computed, dr.Unknown, len(dr.Nodes))
	}
	for _, f := range dr.Findings {
		if f.Type != report.UnhealthyPod {
			t.Errorf("guessed a %s finding without nodes: %s", f.Type, f.Message)
		}
	}
	if len(dr.Findings) != 2 {
		t.Errorf("want the 2 crash-looping Pods, got %v", findingSet(dr.Findings))
	}

	// Healthy Pods but still partial: exit 3, never a silent 0.
	s.updateDaemonSet("agent", func(d *appsv1.DaemonSet) { delete(d.Spec.Template.Labels, rig.CrashLoopLabel) })
	s.settle("agent", allReady(2))
	res = execPlugin(t, nil, "--kubeconfig", viewer, "-n", s.name)
	if res.code != 3 || !strings.Contains(res.stdout, "PARTIAL REPORT") {
		t.Errorf("healthy but partial: exit %d (want 3)\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	// Across all namespaces the Role is not enough to list DaemonSets: one
	// line saying what to do.
	res = execPlugin(t, nil, "--kubeconfig", viewer)
	if res.code != 3 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, "cannot list daemonsets") || !strings.Contains(res.stderr, "run with -n NAMESPACE") {
		t.Errorf("-A with a namespaced Role: exit %d, stderr %q", res.code, res.stderr)
	}
}

//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

// TestReadOnly runs the plugin against a rig with the API server audit log on
// and asserts that every request it made was a read (get, list, watch).
func TestReadOnly(t *testing.T) {
	plugin(t)
	r, err := rig.Start(t, rig.Options{AuditLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := r.CreateNamespace(ctx, "audit", nil); err != nil {
		t.Fatal(err)
	}
	// Some objects to read; no need to wait for Pods. A node, so that the
	// coverage view has something to show (an empty one is exit 3).
	s := &scenario{t: t, ctx: ctx, name: "audit"}
	if _, err := r.Client.CoreV1().Nodes().Create(ctx, s.newNode("n1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ds := s.newDaemonSet("agent")
	if _, err := r.Client.AppsV1().DaemonSets("audit").Create(ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Every command and output format, and the gate flags.
	for _, args := range [][]string{
		{"-A"}, {"-n", "audit", "agent"}, {}, {"-o", "wide"}, {"-o", "json"}, {"-o", "yaml"}, {"-o", "junit"},
		{"-o", "markdown"}, {"-o", "jsonpath={.summary}"}, {"--no-headers"}, {"agent", "-n", "audit", "-o", "wide"},
		{"--require", "audit/agent", "--grace", "1m", "--fail-on", "error"}, {"--wait", "--timeout", "3s", "--interval", "1s"}, {"-w", "--timeout", "3s"},
		{"nodes"}, {"nodes", "-o", "wide"}, {"nodes", "--transpose"}, {"nodes", "-o", "json"}, {"version"}, {"version", "-o", "json"},
		{"__complete", "-n", "audit", ""}, {"__complete", "-n", ""},
	} {
		res := execPlugin(t, nil, append([]string{"--kubeconfig", r.KubeconfigPath}, args...)...)
		if res.code != 0 && res.code != 1 {
			t.Errorf("kubectl-daemoncheck %s: exit %d\n%s", strings.Join(args, " "), res.code, res.stderr)
		}
	}

	f, err := os.Open(r.AuditLogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type event struct {
		Stage     string `json:"stage"`
		Verb      string `json:"verb"`
		UserAgent string `json:"userAgent"`
		URI       string `json:"requestURI"`
	}
	verbs := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line: %v", err)
		}
		if !strings.Contains(strings.ToLower(e.UserAgent), "daemoncheck") || e.Stage != "ResponseComplete" {
			continue
		}
		n++
		verbs[e.Verb]++
		switch e.Verb {
		case "get", "list", "watch":
		default:
			t.Errorf("daemoncheck made a %s request: %s (%s)", e.Verb, e.URI, e.UserAgent)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no audit events with a daemoncheck user agent in %s (does the plugin set a User-Agent?)", r.AuditLogPath)
	}
	var keys []string
	for k, v := range verbs {
		keys = append(keys, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(keys)
	t.Logf("daemoncheck's requests: %s", strings.Join(keys, " "))

	// The read-only ClusterRole shipped in plugins/rbac.yaml is enough: a
	// user bound to it gets a complete report, the same as the admin's.
	viewer, err := r.KubeconfigForToken("viewer", rig.ViewerToken)
	if err != nil {
		t.Fatal(err)
	}
	role := readClusterRole(t, filepath.Join(repoRoot(), "plugins", "rbac.yaml"))
	if _, err := r.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewer-daemoncheck"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: rig.ViewerUser}},
	}
	if _, err := r.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// RBAC changes reach the authorizer through an informer: wait for it.
	vc := rest.CopyConfig(r.Config)
	vc.BearerToken = rig.ViewerToken
	vclient := kubernetes.NewForConfigOrDie(vc)
	for i := 0; ; i++ {
		_, err := vclient.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("the viewer cannot list nodes: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep, _ := runPluginOn(t, viewer, "-A")
	if rep.Partial || len(rep.Warnings) > 0 {
		t.Errorf("with the read-only role from plugins/rbac.yaml the report is partial: %v", rep.Warnings)
	}
	if len(rep.DaemonSets) != 1 || rep.DaemonSets[0].Name != "agent" {
		t.Errorf("viewer's report has DaemonSets %+v, want audit/agent", rep.DaemonSets)
	}
}

func readClusterRole(t *testing.T, path string) *rbacv1.ClusterRole {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---") {
		var role rbacv1.ClusterRole
		if err := yaml.Unmarshal([]byte(doc), &role); err == nil && role.Kind == "ClusterRole" {
			return &role
		}
	}
	t.Fatalf("no ClusterRole in %s", path)
	return nil
}

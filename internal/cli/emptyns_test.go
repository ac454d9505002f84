package cli

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// -n NAMESPACE without DaemonSets has audited nothing: exit 3, like -l
// matching nothing, whatever --fail-on says; the one error line says
// whether the namespace is there (a typo or an empty namespace).
func TestEmptyNamespaceIsExit3(t *testing.T) {
	cs := fake.NewClientset()
	ctx := context.Background()
	ds := fixture.DaemonSet("logging", "fluent-bit")
	_, _ = cs.AppsV1().DaemonSets("logging").Create(ctx, &ds, metav1.CreateOptions{})
	node := fixture.Node("n1")
	_, _ = cs.CoreV1().Nodes().Create(ctx, &node, metav1.CreateOptions{})
	for _, ns := range []string{"logging", "empty"} {
		o := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		_, _ = cs.CoreV1().Namespaces().Create(ctx, &o, metav1.CreateOptions{})
	}
	pod := fixture.Pod(&ds, "n1")
	_, _ = cs.CoreV1().Pods("logging").Create(ctx, &pod, metav1.CreateOptions{})

	ev := corev1.Event{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:     metav1.ObjectMeta{Namespace: "empty", Name: "x.1", UID: "ev-1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "empty", Name: "x"}, Type: corev1.EventTypeNormal, Reason: "Scheduled"}
	dump := yamlDocs(t, &ds, &node, &pod, &ev)
	cases := []struct {
		name    string
		live    bool
		args    []string
		errLine string
	}{
		{"live: a typo'd namespace", true, []string{"-n", "loggign", "--fail-on", "error"},
			"no daemonsets in namespace loggign: the namespace does not exist"},
		{"live: an existing namespace without DaemonSets", true, []string{"-n", "empty"},
			"no daemonsets in namespace empty: the namespace exists but has no DaemonSet"},
		{"live: the nodes view too", true, []string{"nodes", "-n", "loggign"},
			"no daemonsets in namespace loggign: the namespace does not exist"},
		{"offline: a typo'd namespace", false, []string{"-f", "-", "-n", "loggign", "--fail-on", "error"},
			"no daemonsets in namespace loggign: the input has no object of that namespace"},
		{"offline: a namespace the input has, without DaemonSets", false, []string{"-f", "-", "-n", "empty"},
			"no daemonsets in namespace empty: the input has objects of that namespace, but no DaemonSet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut string
			var code int
			if tc.live {
				out, errOut, code = runFake(t, cs, tc.args...)
			} else {
				out, errOut, code = runCmd(t, dump, tc.args...)
			}
			if code != ExitInput {
				t.Errorf("exit %d, want %d (stdout %q)", code, ExitInput, out)
			}
			if !strings.Contains(errOut, tc.errLine) {
				t.Errorf("stderr lacks %q:\n%s", tc.errLine, errOut)
			}
			if strings.Contains(errOut, "No daemonsets found") {
				t.Errorf("the error is said twice:\n%s", errOut)
			}
		})
	}
	// The namespace's DaemonSets found: the usual verdict.
	if _, errOut, code := runFake(t, cs, "-n", "logging"); code != 0 {
		t.Errorf("-n logging: exit %d, stderr %s", code, errOut)
	}
	// Without -n, no DaemonSet at all is still exit 0.
	if _, errOut, code := runFake(t, fake.NewClientset(&node)); code != 0 {
		t.Errorf("an empty cluster: exit %d, stderr %s", code, errOut)
	}
}

// yamlDocs is the objects as one multi-document YAML stream, as -f reads.
func yamlDocs(t *testing.T, objs ...any) string {
	t.Helper()
	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.String()
}

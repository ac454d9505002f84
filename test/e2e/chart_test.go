//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The chart and the kustomize base, as rendered, are accepted by a real API
// server (schema, defaults, admission) without a Pod Security warning under
// the restricted standard, and the Pod they make is admitted where that
// standard is enforced. Nothing is persisted: server-side dry runs. The
// ServiceMonitor and PrometheusRule are left out: the rig has no
// prometheus-operator CRDs (test/chart checks their shape).
func TestChartAndKustomizeBaseApplyToTheAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	helm := os.Getenv("HELM")
	if helm == "" {
		helm = filepath.Join(repoRoot(), "bin", "helm")
	}
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("helm not found at %s: run make helm (make e2e does), or set HELM", helm)
	}
	// warn: the API server says, on apply, what a Pod of a workload would
	// violate; the kustomize base's Namespace asks for enforce.
	for ns, labels := range map[string]map[string]string{
		"daemoncheck":            {"pod-security.kubernetes.io/warn": "restricted"},
		"daemoncheck-restricted": {"pod-security.kubernetes.io/enforce": "restricted"},
	} {
		if err := cluster.CreateNamespace(ctx, ns, labels); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cluster.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		})
	}
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte(`policy:
  enabled: true
  content: |
    apiVersion: daemoncheck/v1alpha1
    kind: CoveragePolicy
    rules:
    - name: security agent on every node
      daemonSets: {namespace: security, name: falco}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	renders := map[string][]string{
		"helm template (defaults)":      {helm, "template", "daemoncheck", filepath.Join(repoRoot(), "plugins", "chart", "daemoncheck"), "--namespace", "daemoncheck"},
		"helm template (with a policy)": {helm, "template", "daemoncheck", filepath.Join(repoRoot(), "plugins", "chart", "daemoncheck"), "--namespace", "daemoncheck", "-f", values},
		"kubectl kustomize":             {"kubectl", "kustomize", filepath.Join(repoRoot(), "plugins", "kustomize")},
	}
	for name, argv := range renders {
		t.Run(name, func(t *testing.T) {
			manifests := command(t, ctx, nil, argv...)
			out, errOut := commandErr(t, ctx, manifests, "kubectl", "--kubeconfig", cluster.KubeconfigPath, "apply", "--dry-run=server", "-f", "-")
			if strings.Contains(errOut, "PodSecurity") {
				t.Errorf("the API server warns:\n%s", errOut)
			}
			for _, want := range []string{"serviceaccount/daemoncheck", "clusterrole.rbac.authorization.k8s.io/daemoncheck", "clusterrolebinding.rbac.authorization.k8s.io/daemoncheck", "service/daemoncheck", "deployment.apps/daemoncheck"} {
				if !strings.Contains(out, want+" created (server dry run)") && !strings.Contains(out, want+" configured (server dry run)") {
					t.Errorf("kubectl apply --dry-run=server did not accept %s:\n%s", want, out)
				}
			}
			// The Deployment's Pod, where restricted is enforced.
			pod := podOf(t, manifests)
			pod.Namespace = "daemoncheck-restricted"
			if _, err := cluster.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("a Pod of the Deployment is refused where the restricted Pod Security Standard is enforced: %v", err)
			}
		})
	}
	// The checks above see a violation: a chart whose container may escalate
	// its privileges is warned about and refused.
	t.Run("a violation is seen", func(t *testing.T) {
		manifests := command(t, ctx, nil, helm, "template", "daemoncheck", filepath.Join(repoRoot(), "plugins", "chart", "daemoncheck"),
			"--namespace", "daemoncheck", "--set", "securityContext.allowPrivilegeEscalation=true")
		_, errOut := commandErr(t, ctx, manifests, "kubectl", "--kubeconfig", cluster.KubeconfigPath, "apply", "--dry-run=server", "-f", "-")
		if !strings.Contains(errOut, "would violate PodSecurity") {
			t.Errorf("no PodSecurity warning for allowPrivilegeEscalation=true: %q", errOut)
		}
		pod := podOf(t, manifests)
		pod.Namespace = "daemoncheck-restricted"
		if _, err := cluster.Client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil {
			t.Error("a Pod with allowPrivilegeEscalation=true is admitted where restricted is enforced")
		}
	})
}

// podOf returns a Pod made from the manifests' Deployment template.
func podOf(t *testing.T, manifests []byte) *corev1.Pod {
	t.Helper()
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		var raw map[string]any
		if err := d.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if raw["kind"] != "Deployment" {
			continue
		}
		data, err := yaml.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		var dep appsv1.Deployment
		if err := yaml.Unmarshal(data, &dep); err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{ObjectMeta: dep.Spec.Template.ObjectMeta, Spec: dep.Spec.Template.Spec}
		pod.Name = "daemoncheck-pss"
		// Its ServiceAccount and ConfigMap are not there: admission of the
		// Pod itself is what is checked.
		pod.Spec.ServiceAccountName = ""
		return pod
	}
	t.Fatal("no Deployment rendered")
	return nil
}

func command(t *testing.T, ctx context.Context, stdin []byte, argv ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, errOut.String())
	}
	return out
}

func commandErr(t *testing.T, ctx context.Context, stdin []byte, argv ...string) (string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", strings.Join(argv, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

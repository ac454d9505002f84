//go:build chart

// Package chart checks the Helm chart in plugins/chart/daemoncheck and the
// kustomize base in plugins/kustomize as rendered by the real tools (helm
// built from its module by make helm, kubectl's kustomize): what they
// install, its RBAC against plugins/rbac.yaml, the restricted security
// context, probes, the policy mount and the Prometheus objects. make e2e
// applies the same manifests to a real API server (test/e2e/chart_test.go).
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/policy"
)

var root = filepath.Join("..", "..")

var chartDir = filepath.Join(root, "plugins", "chart", "daemoncheck")

// helm is the helm binary: $HELM, else bin/helm (make helm).
func helm(t *testing.T) string {
	t.Helper()
	h := os.Getenv("HELM")
	if h == "" {
		h = filepath.Join(root, "bin", "helm")
	}
	if _, err := os.Stat(h); err != nil {
		t.Fatalf("helm not found at %s: run make helm (it builds helm from test/helm/go.mod), or set HELM", h)
	}
	return h
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
	}
	return out
}

// objects are rendered manifests by kind and name.
type objects map[string][]byte

func (o objects) get(t *testing.T, kind, name string, into any) {
	t.Helper()
	data, ok := o[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s/%s in %v", kind, name, o.keys())
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s/%s: %v", kind, name, err)
	}
}

func (o objects) keys() []string {
	var ks []string
	for k := range o {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func parse(t *testing.T, manifests []byte) objects {
	t.Helper()
	out := objects{}
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		var raw map[string]any
		if err := d.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("rendered manifests do not parse: %v", err)
		}
		if raw == nil {
			continue
		}
		meta, _ := raw["metadata"].(map[string]any)
		key := fmt.Sprintf("%v/%v", raw["kind"], meta["name"])
		if _, dup := out[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		data, err := yaml.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		out[key] = data
	}
	return out
}

// template renders the chart as release "daemoncheck" in namespace
// daemoncheck with --set values (or "-f FILE" for a values file).
func template(t *testing.T, set ...string) objects {
	t.Helper()
	args := []string{"template", "daemoncheck", chartDir, "--namespace", "daemoncheck"}
	for _, s := range set {
		if f, ok := strings.CutPrefix(s, "-f "); ok {
			args = append(args, "-f", f)
			continue
		}
		args = append(args, "--set", s)
	}
	return parse(t, run(t, helm(t), args...))
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.AppVersion
}

// pluginRules are the ClusterRole rules of plugins/rbac.yaml, which the
// README tells users to apply for the plugin.
func pluginRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "plugins", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	parse(t, data).get(t, "ClusterRole", "daemoncheck-reader", &role)
	return role.Rules
}

func TestChartLintsStrictly(t *testing.T) {
	out := run(t, helm(t), "lint", "--strict", chartDir, "--set", "policy.enabled=true,policy.existingConfigMap=p,serviceMonitor.enabled=true,prometheusRule.enabled=true")
	if !strings.Contains(string(out), "0 chart(s) failed") {
		t.Errorf("helm lint: %s", out)
	}
}

func TestChartDefaultsInstallServeReadOnly(t *testing.T) {
	objs := template(t)
	want := []string{"ClusterRole/daemoncheck", "ClusterRoleBinding/daemoncheck", "Deployment/daemoncheck", "Service/daemoncheck", "ServiceAccount/daemoncheck"}
	if got := objs.keys(); !slices.Equal(got, want) {
		t.Fatalf("default install renders %v, want %v", got, want)
	}
	var role rbacv1.ClusterRole
	objs.get(t, "ClusterRole", "daemoncheck", &role)
	if !reflect.DeepEqual(role.Rules, pluginRules(t)) {
		t.Errorf("the chart's ClusterRole rules differ from plugins/rbac.yaml:\nchart: %+v\nrbac.yaml: %+v", role.Rules, pluginRules(t))
	}
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("the ClusterRole allows %q on %v: serve only reads", v, r.Resources)
			}
		}
	}
	var binding rbacv1.ClusterRoleBinding
	objs.get(t, "ClusterRoleBinding", "daemoncheck", &binding)
	if binding.RoleRef.Name != "daemoncheck" || len(binding.Subjects) != 1 || binding.Subjects[0].Kind != "ServiceAccount" ||
		binding.Subjects[0].Name != "daemoncheck" || binding.Subjects[0].Namespace != "daemoncheck" {
		t.Errorf("the binding does not bind the ClusterRole to the chart's ServiceAccount: %+v", binding)
	}

	var dep appsv1.Deployment
	objs.get(t, "Deployment", "daemoncheck", &dep)
	pod := dep.Spec.Template.Spec
	if pod.ServiceAccountName != "daemoncheck" {
		t.Errorf("the Pod runs as %q, not the chart's ServiceAccount", pod.ServiceAccountName)
	}
	c := pod.Containers[0]
	if want := "ghcr.io/daemoncheck/daemoncheck:" + chartAppVersion(t); c.Image != want {
		t.Errorf("image %s, want %s (the tag defaults to appVersion)", c.Image, want)
	}
	if want := []string{"serve", "--listen-address=:8080", "--fail-on=error"}; !slices.Equal(c.Args, want) {
		t.Errorf("args %v, want %v", c.Args, want)
	}
	if len(c.Command) != 0 || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--kubeconfig") }) {
		t.Errorf("the container overrides the entrypoint or passes a kubeconfig: serve must use the in-cluster configuration")
	}
	checkRestricted(t, pod)
	checkProbes(t, c)
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}

	var svc corev1.Service
	objs.get(t, "Service", "daemoncheck", &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http-metrics" || svc.Spec.Ports[0].TargetPort.StrVal != "http-metrics" {
		t.Errorf("service ports %+v: want one named http-metrics to the container's port", svc.Spec.Ports)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http-metrics" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("container ports %+v: want http-metrics on 8080", c.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the Pod lacks", k, v)
		}
	}
}

// checkRestricted checks the restricted Pod Security Standard's fields.
func checkRestricted(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	psc, sc := pod.SecurityContext, pod.Containers[0].SecurityContext
	switch {
	case psc == nil || sc == nil:
		t.Fatal("no security context")
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Error("not runAsNonRoot")
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Error("no non-zero runAsUser (distroless nonroot is 65532)")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("root filesystem not read-only")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation allowed")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Error("capabilities: want drop ALL, add none")
	case psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("seccomp profile is not RuntimeDefault")
	}
}

func checkProbes(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, p := range []struct {
		probe *corev1.Probe
		path  string
	}{{c.LivenessProbe, "/healthz"}, {c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.StrVal != "http-metrics" {
			t.Errorf("want an HTTP probe of %s on port http-metrics, got %+v", p.path, p.probe)
		}
	}
}

// policyValues enables the policy with the example of values.yaml.
const policyValues = `policy:
  enabled: true
  content: |
    apiVersion: daemoncheck/v1alpha1
    kind: CoveragePolicy
    rules:
    - name: security agent on every node
      daemonSets: {namespace: security, name: falco}
`

func TestChartMountsThePolicyAtThePolicyFlagsPath(t *testing.T) {
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte(policyValues), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := template(t, "-f "+values)
	var cm corev1.ConfigMap
	objs.get(t, "ConfigMap", "daemoncheck-policy", &cm)
	if rules, err := policy.Parse("policy.yaml", []byte(cm.Data["policy.yaml"])); err != nil || len(rules) != 1 {
		t.Errorf("the policy in the ConfigMap does not read back as daemoncheck reads it: %v", err)
	}
	// Enabled without a policy is an error, not an empty ConfigMap that
	// stops serve at start.
	cmd := exec.Command(helm(t), "template", "daemoncheck", chartDir, "--set", "policy.enabled=true")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "set policy.content") {
		t.Errorf("policy.enabled without content renders: %s", out)
	}
	var dep appsv1.Deployment
	objs.get(t, "Deployment", "daemoncheck", &dep)
	c := dep.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--policy=/etc/daemoncheck/policy.yaml") {
		t.Errorf("args %v lack --policy=/etc/daemoncheck/policy.yaml", c.Args)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/daemoncheck" || c.VolumeMounts[0].SubPath != "" || !c.VolumeMounts[0].ReadOnly {
		t.Errorf("mounts %+v: want the ConfigMap's directory at /etc/daemoncheck, read-only, without subPath (which never sees updates)", c.VolumeMounts)
	}
	vols := dep.Spec.Template.Spec.Volumes
	if len(vols) != 1 || vols[0].ConfigMap == nil || vols[0].ConfigMap.Name != "daemoncheck-policy" {
		t.Errorf("volumes %+v: want the policy ConfigMap", vols)
	}
	// An existing ConfigMap replaces the chart's.
	objs = template(t, "policy.enabled=true", "policy.existingConfigMap=team-policy")
	if _, made := objs["ConfigMap/daemoncheck-policy"]; made {
		t.Error("policy.existingConfigMap still renders the chart's ConfigMap")
	}
	objs.get(t, "Deployment", "daemoncheck", &dep)
	if v := dep.Spec.Template.Spec.Volumes; len(v) != 1 || v[0].ConfigMap.Name != "team-policy" {
		t.Errorf("volumes %+v: want ConfigMap team-policy", v)
	}
}

func TestChartImageFromValues(t *testing.T) {
	for _, tt := range []struct {
		set  []string
		want string
	}{
		{[]string{"image.repository=registry.example.com/dc", "image.tag=v9"}, "registry.example.com/dc:v9"},
		{[]string{"image.tag=v9", "image.digest=sha256:" + strings.Repeat("a", 64)}, "ghcr.io/daemoncheck/daemoncheck@sha256:" + strings.Repeat("a", 64)},
	} {
		var dep appsv1.Deployment
		template(t, tt.set...).get(t, "Deployment", "daemoncheck", &dep)
		if got := dep.Spec.Template.Spec.Containers[0].Image; got != tt.want {
			t.Errorf("--set %v: image %s, want %s", tt.set, got, tt.want)
		}
	}
}

func TestChartPrometheusObjects(t *testing.T) {
	objs := template(t, "serviceMonitor.enabled=true", "prometheusRule.enabled=true", "serviceMonitor.labels.release=kube-prometheus")
	var sm struct {
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			Endpoints []struct {
				Port string `json:"port"`
				Path string `json:"path"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	objs.get(t, "ServiceMonitor", "daemoncheck", &sm)
	var svc corev1.Service
	objs.get(t, "Service", "daemoncheck", &svc)
	if sm.APIVersion != "monitoring.coreos.com/v1" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http-metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor %+v: want monitoring.coreos.com/v1 scraping port http-metrics at /metrics", sm)
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}
	if sm.Metadata.Labels["release"] != "kube-prometheus" {
		t.Error("serviceMonitor.labels are not on the ServiceMonitor")
	}
	// The PrometheusRule's spec is files/rules.yaml, whatever it holds.
	var pr struct {
		Spec map[string]any `json:"spec"`
	}
	objs.get(t, "PrometheusRule", "daemoncheck", &pr)
	data, err := os.ReadFile(filepath.Join(chartDir, "files", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules map[string]any
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}
	if _, ok := rules["groups"]; !ok || !reflect.DeepEqual(pr.Spec, rules) {
		t.Errorf("the PrometheusRule's spec is not files/rules.yaml:\n%v\n%v", pr.Spec, rules)
	}
	if _, on := template(t)["PrometheusRule/daemoncheck"]; on {
		t.Error("a PrometheusRule by default: it needs the prometheus-operator CRDs")
	}
}

// The kustomize base is the chart's default install for people without
// Helm: the same RBAC, Pod and Service.
func TestKustomizeBaseMatchesTheChartDefaults(t *testing.T) {
	kustomized := parse(t, run(t, "kubectl", "kustomize", filepath.Join(root, "plugins", "kustomize")))
	charted := template(t)
	var kr, cr rbacv1.ClusterRole
	kustomized.get(t, "ClusterRole", "daemoncheck", &kr)
	charted.get(t, "ClusterRole", "daemoncheck", &cr)
	if !reflect.DeepEqual(kr.Rules, pluginRules(t)) {
		t.Errorf("the kustomize ClusterRole rules differ from plugins/rbac.yaml: %+v", kr.Rules)
	}
	var kd, cd appsv1.Deployment
	kustomized.get(t, "Deployment", "daemoncheck", &kd)
	charted.get(t, "Deployment", "daemoncheck", &cd)
	if kd.Namespace != "daemoncheck" {
		t.Errorf("the kustomize Deployment is in namespace %q", kd.Namespace)
	}
	if !reflect.DeepEqual(kd.Spec.Template.Spec, cd.Spec.Template.Spec) {
		a, _ := yaml.Marshal(kd.Spec.Template.Spec)
		b, _ := yaml.Marshal(cd.Spec.Template.Spec)
		t.Errorf("the kustomize base's Pod differs from the chart's:\nkustomize:\n%s\nchart:\n%s", a, b)
	}
	if !reflect.DeepEqual(kd.Spec.Strategy, cd.Spec.Strategy) {
		t.Errorf("strategy %+v, chart %+v", kd.Spec.Strategy, cd.Spec.Strategy)
	}
	var ks, cs corev1.Service
	kustomized.get(t, "Service", "daemoncheck", &ks)
	charted.get(t, "Service", "daemoncheck", &cs)
	if !reflect.DeepEqual(ks.Spec.Ports, cs.Spec.Ports) {
		t.Errorf("service ports %+v, chart %+v", ks.Spec.Ports, cs.Spec.Ports)
	}
	for k, v := range ks.Spec.Selector {
		if kd.Spec.Template.Labels[k] != v {
			t.Errorf("the kustomize Service selects %s=%s, which its Pod lacks", k, v)
		}
	}
	var kb rbacv1.ClusterRoleBinding
	kustomized.get(t, "ClusterRoleBinding", "daemoncheck", &kb)
	if kb.Subjects[0].Namespace != kd.Namespace || kb.Subjects[0].Name != kd.Spec.Template.Spec.ServiceAccountName {
		t.Errorf("the kustomize binding binds %+v, not the Pod's ServiceAccount", kb.Subjects)
	}
}

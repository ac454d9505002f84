package owner

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func daemonSet(ns, name string, opts ...opt) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: meta(ns, name, opts...)}
}

func memoryChange(ns, name string) Change {
	return Change{
		What:      "memory request of container agent",
		Field:     "spec.template.spec.containers[name=agent].resources.requests.memory",
		Value:     "64Mi",
		Namespace: ns, Name: name,
		Command: []string{"kubectl", "set", "resources", "daemonset", name, "-n", ns, "-c", "agent", "--requests=memory=64Mi"},
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		name    string
		m       Manager
		ch      Change
		command []string
		inspect []string
		direct  bool
		text    []string // substrings Text must contain
	}{
		{
			name:    "nothing manages it: the kubectl command is the fix",
			m:       Manager{Kind: None},
			ch:      memoryChange("default", "agent"),
			command: []string{"kubectl", "set", "resources", "daemonset", "agent", "-n", "default", "-c", "agent", "--requests=memory=64Mi"},
			direct:  true,
			text:    []string{"kubectl set resources daemonset agent -n default -c agent --requests=memory=64Mi"},
		},
		{
			name:   "nothing manages it, no command",
			m:      Manager{Kind: None, Evidence: Evidence{Source: Label, Key: addonModeLabel, Value: "EnsureExists"}},
			ch:     Change{What: "priority class", Field: "spec.template.spec.priorityClassName", Value: "system-node-critical", Namespace: "kube-system", Name: "ip-masq-agent"},
			direct: true,
			text:   []string{"set priority class to system-node-critical (spec.template.spec.priorityClassName) on daemonset kube-system/ip-masq-agent"},
		},
		{
			name:    "Helm, chart value unknown",
			m:       Manager{Kind: Helm, Name: "kube-prometheus-stack", Namespace: "monitoring"},
			ch:      memoryChange("monitoring", "kube-prometheus-stack-prometheus-node-exporter"),
			inspect: []string{"helm", "get", "values", "kube-prometheus-stack", "-n", "monitoring", "--all"},
			text:    []string{"find the value of Helm release monitoring/kube-prometheus-stack's chart that renders spec.template.spec.containers[name=agent].resources.requests.memory", "helm upgrade kube-prometheus-stack <chart> -n monitoring --reuse-values --set <value>=64Mi"},
		},
		{
			name: "Helm, chart value known",
			m:    Manager{Kind: Helm, Name: "fluent-bit", Namespace: "logging"},
			ch: func() Change {
				c := memoryChange("logging", "fluent-bit")
				c.ChartValue = "resources.requests.memory"
				return c
			}(),
			inspect: []string{"helm", "get", "values", "fluent-bit", "-n", "logging", "--all"},
			text:    []string{"helm upgrade fluent-bit <chart> -n logging --reuse-values --set resources.requests.memory=64Mi"},
		},
		{
			name: "Helm labels but no release",
			m:    Manager{Kind: Helm, Evidence: Evidence{Source: Label, Key: helmChartLabel, Value: "agent-1.0.0"}},
			ch:   memoryChange("infra", "agent"),
			text: []string{"recorded in no release", "label helm.sh/chart=agent-1.0.0"},
		},
		{
			name:    "RKE2 HelmChart",
			m:       Manager{Kind: HelmController, Name: "rke2-canal", Namespace: "kube-system", Object: "HelmChart"},
			ch:      memoryChange("kube-system", "rke2-canal"),
			inspect: []string{"helm", "get", "values", "rke2-canal", "-n", "kube-system", "--all"},
			text:    []string{"HelmChartConfig kube-system/rke2-canal"},
		},
		{
			name: "addon-manager Reconcile",
			m:    Manager{Kind: AddonManager, Name: "kube-proxy"},
			ch:   memoryChange("kube-system", "kube-proxy"),
			text: []string{"/etc/kubernetes/addons", "the provider's"},
		},
		{
			name: "EKS add-on",
			m:    Manager{Kind: EKSAddon, Name: "vpc-cni"},
			ch:   memoryChange("kube-system", "aws-node"),
			text: []string{"aws eks update-addon --cluster-name <cluster> --addon-name vpc-cni --configuration-values '<json>'", "describe-addon-configuration --addon-name vpc-cni"},
		},
		{
			name: "EKS add-on of unknown name",
			m:    Manager{Kind: EKSAddon},
			ch:   memoryChange("kube-system", "s3-csi-node"),
			text: []string{"aws eks list-addons"},
		},
		{
			name: "GKE",
			m:    Manager{Kind: GKEAddon, Name: "gke-metadata-server"},
			ch:   memoryChange("kube-system", "gke-metadata-server"),
			text: []string{"GKE reconciles daemonset kube-system/gke-metadata-server (component gke-metadata-server)", "cannot be changed"},
		},
		{
			name: "AKS",
			m:    Manager{Kind: AKSAddon, Name: "kube-proxy"},
			ch:   memoryChange("kube-system", "kube-proxy"),
			text: []string{"AKS reconciles daemonset kube-system/kube-proxy", "az aks update"},
		},
		{
			name:    "Argo CD",
			m:       Manager{Kind: ArgoCD, Name: "logging", Namespace: "team-a", Object: "Application"},
			ch:      memoryChange("logging", "fluent-bit"),
			inspect: []string{"argocd", "app", "get", "team-a/logging"},
			text:    []string{"in Git", "Argo CD Application team-a/logging"},
		},
		{
			name: "Argo CD by managedFields only",
			m:    Manager{Kind: ArgoCD, Object: "Application", Evidence: Evidence{Source: ManagedFields, Key: "manager", Value: "argocd-controller"}},
			ch:   memoryChange("logging", "fluent-bit"),
			text: []string{"the Application that tracks it"},
		},
		{
			name:    "Flux Kustomization",
			m:       Manager{Kind: Flux, Name: "infra-logging", Namespace: "flux-system", Object: "Kustomization"},
			ch:      memoryChange("logging", "promtail"),
			inspect: []string{"flux", "get", "kustomizations", "infra-logging", "-n", "flux-system"},
			text:    []string{"Flux Kustomization flux-system/infra-logging"},
		},
		{
			name:    "Flux HelmRelease",
			m:       Manager{Kind: Flux, Name: "fluentbit", Namespace: "monitoring", Object: "HelmRelease"},
			ch:      memoryChange("monitoring", "fluentbit-fluent-bit"),
			inspect: []string{"flux", "get", "helmreleases", "fluentbit", "-n", "monitoring"},
			text:    []string{"spec.values of Flux HelmRelease monitoring/fluentbit, in Git"},
		},
		{
			name: "kustomize",
			m:    Manager{Kind: Kustomize, Name: "base/fluent-bit/daemonset.yaml"},
			ch:   memoryChange("logging", "fluent-bit"),
			text: []string{"origin base/fluent-bit/daemonset.yaml", "kubectl apply -k"},
		},
		{
			name:    "cluster-version operator",
			m:       Manager{Kind: ClusterVersionOperator, Name: "node-agent"},
			ch:      memoryChange("openshift-cluster-csi-drivers", "node-agent"),
			inspect: []string{"kubectl", "get", "clusterversion", "version", "-o", "yaml"},
			text:    []string{"release payload", "spec.overrides"},
		},
		{
			name:    "operator owner (OpenShift DNS)",
			m:       Manager{Kind: Operator, Name: "default", Object: "DNS", APIVersion: "operator.openshift.io/v1", Evidence: Evidence{Source: OwnerReference, Key: "operator.openshift.io/v1/DNS", Value: "default"}},
			ch:      memoryChange("openshift-dns", "dns-default"),
			inspect: []string{"kubectl", "get", "dns.v1.operator.openshift.io", "default", "-n", "openshift-dns", "-o", "yaml"},
			text:    []string{"the DNS default (operator.openshift.io/v1) that owns daemonset openshift-dns/dns-default rewrites it"},
		},
		{
			name:    "core owner, not controller",
			m:       Manager{Kind: Operator, Name: "traefik", Object: "Service", APIVersion: "v1", Evidence: Evidence{Source: OwnerReference, Key: "v1/Service", Value: "traefik", Heuristic: true}},
			ch:      memoryChange("kube-system", "svclb-traefik"),
			inspect: []string{"kubectl", "get", "service", "traefik", "-n", "kube-system", "-o", "yaml"},
			text:    []string{"not as controller"},
		},
		{
			name:    "cluster-monitoring-operator",
			m:       Manager{Kind: Operator, Name: "cluster-monitoring-operator", Evidence: Evidence{Source: Label, Key: managedByLabel, Value: "cluster-monitoring-operator"}},
			ch:      memoryChange("openshift-monitoring", "node-exporter"),
			inspect: []string{"kubectl", "get", "configmap", "cluster-monitoring-config", "-n", "openshift-monitoring", "-o", "yaml"},
			text:    []string{"openshift-monitoring/cluster-monitoring-config"},
		},
		{
			name: "tool",
			m:    Manager{Kind: Tool, Name: "pulumi", Evidence: Evidence{Source: Label, Key: managedByLabel, Value: "pulumi"}},
			ch:   memoryChange("infra", "agent"),
			text: []string{"managed by pulumi (label app.kubernetes.io/managed-by=pulumi)", "next apply reverts"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.m.Route(tc.ch)
			if a.Direct != tc.direct {
				t.Errorf("Direct = %v, want %v", a.Direct, tc.direct)
			}
			if strings.Join(a.Command, "\x00") != strings.Join(tc.command, "\x00") {
				t.Errorf("Command = %q, want %q", a.Command, tc.command)
			}
			if strings.Join(a.Inspect, "\x00") != strings.Join(tc.inspect, "\x00") {
				t.Errorf("Inspect = %q, want %q", a.Inspect, tc.inspect)
			}
			for _, s := range tc.text {
				if !strings.Contains(a.Text, s) {
					t.Errorf("Text does not contain %q:\n%s", s, a.Text)
				}
			}
			if strings.Contains(a.Text, "\n") {
				t.Errorf("Text is more than one line: %q", a.Text)
			}
		})
	}
}

// Whatever manages the DaemonSet, the advice never writes to it through
// kubectl, and read-only commands stay read-only.
func TestRouteNeverWritesManagedObjects(t *testing.T) {
	kinds := []Kind{Helm, HelmController, AddonManager, EKSAddon, GKEAddon, AKSAddon, ArgoCD, Flux, Kustomize, ClusterVersionOperator, Operator, Tool}
	for _, k := range kinds {
		for _, m := range []Manager{
			{Kind: k},
			{Kind: k, Name: "x", Namespace: "ns", Object: "Thing", APIVersion: "example.com/v1", Evidence: Evidence{Source: OwnerReference, Key: "example.com/v1/Thing", Value: "x"}},
		} {
			a := m.Route(memoryChange("ns", "agent"))
			if a.Direct {
				t.Errorf("%s: Direct", k)
			}
			if a.Command != nil {
				t.Errorf("%s: Command %q on a managed object", k, a.Command)
			}
			if len(a.Inspect) > 0 {
				switch verb := a.Inspect[0] + " " + a.Inspect[1]; verb {
				case "kubectl get", "helm get", "argocd app", "flux get":
				default:
					t.Errorf("%s: Inspect %q is not a read", k, a.Inspect)
				}
			}
			if strings.Contains(a.Text, "kubectl set") || strings.Contains(a.Text, "kubectl patch") || strings.Contains(a.Text, "kubectl edit") {
				t.Errorf("%s: Text suggests a kubectl write: %s", k, a.Text)
			}
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"kubectl", "set", "resources", "daemonset", "a", "--requests=memory=64Mi"}, "kubectl set resources daemonset a --requests=memory=64Mi"},
		{[]string{"kubectl", "patch", "daemonset", "a", "--type", "merge", "-p", `{"spec":{"template":{"spec":{"priorityClassName":"system-node-critical"}}}}`},
			`kubectl patch daemonset a --type merge -p '{"spec":{"template":{"spec":{"priorityClassName":"system-node-critical"}}}}'`},
		{[]string{"helm", "upgrade", "r", "--set", "podAnnotations.note=it's"}, `helm upgrade r --set 'podAnnotations.note=it'\''s'`},
		{[]string{"echo", "", "a b", "$HOME", "*"}, `echo '' 'a b' '$HOME' '*'`},
	} {
		if got := Quote(tc.argv); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.argv, got, tc.want)
		}
	}
}

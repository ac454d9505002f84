package owner

import (
	"fmt"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Change is an edit a detector wants made to a DaemonSet, described so that
// it can be routed through whatever manages the DaemonSet.
type Change struct {
	// What the change sets, for people: "memory request of container fluent-bit".
	What string `json:"what"`
	// Field is the path in the DaemonSet:
	// "spec.template.spec.containers[name=fluent-bit].resources.requests.memory".
	Field string `json:"field"`
	// Value to set, as kubectl would print it: "64Mi", "system-node-critical".
	Value string `json:"value,omitempty"`
	// Namespace and Name of the DaemonSet.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Command is the direct fix (argv), right only when nothing manages the
	// DaemonSet: kubectl set resources / kubectl patch ...
	Command []string `json:"command,omitempty"`
	// ChartValue is the Helm values path that renders Field, only when it is
	// truly known (the detector knows the chart); "" otherwise.
	ChartValue string `json:"chartValue,omitempty"`
}

// Advice is a Change routed through the DaemonSet's manager.
type Advice struct {
	// Text is one line: what to do and where.
	Text string `json:"text"`
	// Command is the fix as argv, safe to run as written; nil when no single
	// command is right (a value in Git, a provider setting that needs the
	// cluster's name ...). It is never a kubectl write on a managed object.
	Command []string `json:"command,omitempty"`
	// Inspect is a read-only command that shows where the setting lives now
	// (helm get values, argocd app get, kubectl get <owner>); nil if none.
	Inspect []string `json:"inspect,omitempty"`
	// Direct is true only when nothing manages the DaemonSet and Command
	// itself is the fix.
	Direct bool `json:"direct"`
}

// Route says how to make ch stick given that m manages the DaemonSet.
func (m Manager) Route(ch Change) Advice {
	set := ch.What
	if ch.Value != "" {
		set += " to " + ch.Value
	}
	ds := "daemonset " + nsName(ch.Namespace, ch.Name)
	switch m.Kind {
	case Helm:
		return m.routeHelm(ch, set)
	case HelmController:
		return Advice{
			Text: fmt.Sprintf("set the chart value that renders %s (%s) in spec.valuesContent of HelmChartConfig %s/%s: helm-controller installs chart %s from it, and a direct edit is reverted by its next install",
				ch.Field, valueOr(ch), m.Namespace, m.Name, m.Name),
			Inspect: []string{"helm", "get", "values", m.Name, "-n", m.Namespace, "--all"},
		}
	case AddonManager:
		return Advice{
			Text: fmt.Sprintf("set %s in the addon manifest of %s on the control plane (kube-addon-manager re-applies /etc/kubernetes/addons and reverts edits through the API); on a managed service that manifest is the provider's: use its setting if it has one",
				set, ds),
		}
	case EKSAddon:
		addon := m.Name
		if addon == "" {
			addon = "<add-on>"
		}
		text := fmt.Sprintf("EKS add-on %s reconciles %s: set %s through the add-on's configuration values if its schema has a key for it (aws eks describe-addon-configuration --addon-name %s --addon-version <version>), then aws eks update-addon --cluster-name <cluster> --addon-name %s --configuration-values '<json>'; a direct edit of a field EKS manages is overwritten",
			addon, ds, set, addon, addon)
		if m.Name == "" {
			text += " (aws eks list-addons --cluster-name <cluster> names the add-on)"
		}
		return Advice{Text: text}
	case GKEAddon:
		return Advice{
			Text: fmt.Sprintf("GKE reconciles %s (component %s): set %s through the cluster's setting for that add-on if GKE has one (gcloud container clusters update), otherwise it cannot be changed; edits are reverted",
				ds, m.Name, set),
		}
	case AKSAddon:
		return Advice{
			Text: fmt.Sprintf("AKS reconciles %s: set %s through the cluster's or the add-on's setting if AKS has one (az aks update, az aks addon update), otherwise it cannot be changed; edits are reverted",
				ds, set),
		}
	case ArgoCD:
		return m.routeArgo(ch, set, ds)
	case Flux:
		return m.routeFlux(ch, set, ds)
	case Kustomize:
		where := "the kustomization that builds " + ds
		if m.Name != "" {
			where += " (origin " + m.Name + ")"
		}
		return Advice{
			Text: fmt.Sprintf("set %s in %s and re-apply it (kubectl apply -k <dir>); the next apply reverts a direct edit", set, where),
		}
	case ClusterVersionOperator:
		return Advice{
			Text: fmt.Sprintf("%s is part of the OpenShift release payload and the cluster-version operator reverts edits: set %s through the operator configuration that covers it, if any; ClusterVersion spec.overrides can unmanage it but is unsupported",
				ds, set),
			Inspect: []string{"kubectl", "get", "clusterversion", "version", "-o", "yaml"},
		}
	case Operator:
		return m.routeOperator(ch, set, ds)
	case Tool:
		return Advice{
			Text: fmt.Sprintf("%s is managed by %s (%s): set %s where %s keeps its definition; its next apply reverts a direct edit",
				ds, m.Name, m.Evidence, set, m.Name),
		}
	}
	if len(ch.Command) == 0 {
		return Advice{Text: fmt.Sprintf("set %s (%s) on %s", set, ch.Field, ds), Direct: true}
	}
	return Advice{
		Text:    fmt.Sprintf("set %s: %s", set, Quote(ch.Command)),
		Command: ch.Command,
		Direct:  true,
	}
}

func valueOr(ch Change) string {
	if ch.Value == "" {
		return ch.What
	}
	return ch.What + " " + ch.Value
}

func (m Manager) routeHelm(ch Change, set string) Advice {
	if m.Name == "" {
		return Advice{
			Text: fmt.Sprintf("rendered from a Helm chart (%s) but recorded in no release (helm template | kubectl apply, or a GitOps tool): set %s through the chart values where it is rendered",
				m.Evidence, set),
		}
	}
	inspect := []string{"helm", "get", "values", m.Name, "-n", m.Namespace, "--all"}
	if ch.ChartValue != "" {
		// The chart reference is not in the object's metadata (helm.sh/chart
		// is name-version, not a repository), so this stays text.
		upgrade := Quote([]string{"helm", "upgrade", m.Name}) + " <chart> " +
			Quote([]string{"-n", m.Namespace, "--reuse-values", "--set", ch.ChartValue + "=" + ch.Value})
		return Advice{
			Text: fmt.Sprintf("set chart value %s of Helm release %s/%s: %s (<chart>: the chart the release was installed from; %s shows the current values)",
				ch.ChartValue, m.Namespace, m.Name, upgrade, Quote(inspect)),
			Inspect: inspect,
		}
	}
	// A --set with an empty value would be a wrong command, not a template.
	value := "<value>"
	if ch.Value != "" {
		value = Quote([]string{ch.Value})
	}
	return Advice{
		Text: fmt.Sprintf("find the value of Helm release %s/%s's chart that renders %s (%s lists them) and set it (%s) with helm upgrade %s <chart> -n %s --reuse-values --set <value>=%s; a direct edit drifts from the release and the next upgrade may revert it",
			m.Namespace, m.Name, ch.Field, Quote(inspect), valueOr(ch), m.Name, m.Namespace, value),
		Inspect: inspect,
	}
}

func (m Manager) routeArgo(_ Change, set, ds string) Advice {
	if m.Name == "" {
		return Advice{
			Text: fmt.Sprintf("Argo CD syncs %s (%s): set %s in Git, in the source of the Application that tracks it; a live edit is reverted by the next sync", ds, m.Evidence, set),
		}
	}
	app := nsName(m.Namespace, m.Name)
	return Advice{
		Text: fmt.Sprintf("set %s in Git, in the source of Argo CD Application %s (chart values, a kustomize patch or the manifest); a live edit shows OutOfSync and the next sync reverts it (at once with selfHeal)",
			set, app),
		Inspect: []string{"argocd", "app", "get", app},
	}
}

func (m Manager) routeFlux(ch Change, set, ds string) Advice {
	if m.Name == "" {
		return Advice{
			Text: fmt.Sprintf("Flux applies %s (%s): set %s in Git, in the source of the %s that applies it; a live edit is reverted at its next reconcile", ds, m.Evidence, set, m.Object),
		}
	}
	ref := nsName(m.Namespace, m.Name)
	if m.Object == "HelmRelease" {
		value := "the chart value that renders " + ch.Field
		if ch.ChartValue != "" {
			value = "chart value " + ch.ChartValue
		}
		return Advice{
			Text: fmt.Sprintf("set %s (%s) in spec.values of Flux HelmRelease %s, in Git; helm-controller reverts live edits and helm upgrade at its next reconcile",
				value, valueOr(ch), ref),
			Inspect: []string{"flux", "get", "helmreleases", m.Name, "-n", m.Namespace},
		}
	}
	return Advice{
		Text: fmt.Sprintf("set %s in Git, under the path Flux Kustomization %s applies; kustomize-controller reverts live edits at its next reconcile",
			set, ref),
		Inspect: []string{"flux", "get", "kustomizations", m.Name, "-n", m.Namespace},
	}
}

func (m Manager) routeOperator(ch Change, set, ds string) Advice {
	if m.Evidence.Source != OwnerReference {
		if m.Name == "cluster-monitoring-operator" {
			// OpenShift docs, "Configuring the monitoring stack": the
			// platform stack is configured in this ConfigMap only.
			return Advice{
				Text: fmt.Sprintf("cluster-monitoring-operator renders %s: set %s in config.yaml of ConfigMap openshift-monitoring/cluster-monitoring-config if it has a setting for it, otherwise it cannot be changed; edits are reverted",
					ds, set),
				Inspect: []string{"kubectl", "get", "configmap", "cluster-monitoring-config", "-n", "openshift-monitoring", "-o", "yaml"},
			}
		}
		return Advice{
			Text: fmt.Sprintf("operator %s reconciles %s: set %s in that operator's configuration; edits are reverted", m.Name, ds, set),
		}
	}
	owner := fmt.Sprintf("%s %s (%s)", m.Object, m.Name, m.APIVersion)
	inspect := []string{"kubectl", "get", resourceArg(m.APIVersion, m.Object), m.Name, "-n", ch.Namespace, "-o", "yaml"}
	if m.Evidence.Heuristic {
		return Advice{
			Text: fmt.Sprintf("%s is owned (not as controller) by %s, whose controller may rewrite it: set %s in that object's spec if it has a field for it, and check whether a direct edit survives",
				ds, owner, set),
			Inspect: inspect,
		}
	}
	return Advice{
		Text: fmt.Sprintf("the %s that owns %s rewrites it: set %s in that object's spec if it has a field for it (otherwise it cannot be changed); if that object is itself in Git or a chart, change it there",
			owner, ds, set),
		Inspect: inspect,
	}
}

// Quote renders argv for a POSIX shell, each word as text.ShellQuote
// writes it (the quoting every suggested command uses).
func Quote(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = text.ShellQuote(a)
	}
	return strings.Join(words, " ")
}

// Package owner finds what reconciles a DaemonSet (a Helm release, Argo CD,
// Flux, a cloud provider's add-on manager, an operator ...) from its
// metadata, and routes a fix through it: a kubectl write on an object that
// something else reconciles is undone minutes later.
//
// It is pure: ObjectMeta in, plain data out, no clients.
package owner

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind is the sort of thing that manages a DaemonSet.
type Kind string

const (
	// None: nothing we recognise reconciles the DaemonSet; a kubectl write sticks.
	None Kind = "None"
	// Helm: a Helm release (helm install/upgrade); values live in the release.
	Helm Kind = "Helm"
	// HelmController: a HelmChart of the k3s/RKE2 helm-controller; values
	// belong in a HelmChartConfig of the same name.
	HelmController Kind = "HelmController"
	// AddonManager: kube-addon-manager with mode Reconcile re-applies the
	// manifest from the control plane's addon directory.
	AddonManager Kind = "AddonManager"
	// EKSAddon, GKEAddon, AKSAddon: the cloud provider reconciles it.
	EKSAddon Kind = "EKSAddon"
	GKEAddon Kind = "GKEAddon"
	AKSAddon Kind = "AKSAddon"
	// ArgoCD: an Argo CD Application syncs it from Git.
	ArgoCD Kind = "ArgoCD"
	// Flux: a Flux Kustomization or HelmRelease applies it from Git.
	Flux Kind = "Flux"
	// Kustomize: built by kustomize with managedByLabel; the next apply -k reverts edits.
	Kustomize Kind = "Kustomize"
	// ClusterVersionOperator: part of an OpenShift release payload.
	ClusterVersionOperator Kind = "ClusterVersionOperator"
	// Operator: an owning object (ownerReference) or a named operator reconciles it.
	Operator Kind = "Operator"
	// Tool: app.kubernetes.io/managed-by names a tool we do not know; its
	// next apply reverts a direct edit.
	Tool Kind = "Tool"
)

// Source says where a piece of evidence was read.
type Source string

const (
	Label          Source = "label"
	Annotation     Source = "annotation"
	OwnerReference Source = "ownerReference"
	ManagedFields  Source = "managedFields"
)

// Evidence is the one metadata entry that decided (or supports) a Manager.
// For an ownerReference, Key is "apiVersion/Kind" and Value the owner's
// name; for managedFields, Key is "manager" and Value the manager's name.
type Evidence struct {
	Source Source `json:"source"`
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	// Template is true when the entry sits on the Pod template, not on the
	// DaemonSet itself.
	Template bool `json:"template,omitempty"`
	// Heuristic is true when the entry is a naming convention rather than a
	// marker the manager writes for the purpose.
	Heuristic bool `json:"heuristic,omitempty"`
}

func (e Evidence) String() string {
	if e.Source == "" {
		return ""
	}
	s := string(e.Source) + " " + e.Key
	if e.Value != "" {
		s += "=" + e.Value
	}
	if e.Source == OwnerReference {
		s = "ownerReference " + e.Key + " " + e.Value
	}
	if e.Template {
		s += " (Pod template)"
	}
	if e.Heuristic {
		s += " (naming convention)"
	}
	return s
}

// Manager is what reconciles a DaemonSet. Name and Namespace name the
// managing object (release, Application, Kustomization, add-on, owner);
// either may be empty when the metadata does not say.
type Manager struct {
	Kind      Kind   `json:"kind"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Object is the API kind of the managing object where there is one:
	// HelmRelease, Kustomization, Application, HelmChart, or an owner's kind.
	Object string `json:"object,omitempty"`
	// APIVersion of Object, when known (ownerReferences carry it).
	APIVersion string `json:"apiVersion,omitempty"`
	// Evidence is what decided Kind; empty for None unless a marker says
	// explicitly that edits are kept (addon-manager EnsureExists).
	Evidence Evidence `json:"evidence"`
	// Also lists the other managers' markers present, lower in precedence.
	Also []Evidence `json:"also,omitempty"`
}

// Managed reports whether something other than a direct edit owns the object.
func (m Manager) Managed() bool { return m.Kind != None && m.Kind != "" }

// String renders the detail line: "managed by Helm release monitoring/kube-prometheus-stack (annotation meta.helm.sh/release-name=...)".
func (m Manager) String() string {
	if !m.Managed() {
		if m.Evidence.Source != "" {
			return "not reconciled (" + m.Evidence.String() + ")"
		}
		return "not managed"
	}
	what := string(m.Kind)
	switch m.Kind {
	case Helm:
		what = "Helm release"
	case HelmController:
		what = "helm-controller HelmChart"
	case AddonManager:
		what = "addon-manager (Reconcile)"
	case EKSAddon:
		what = "EKS add-on"
	case GKEAddon:
		what = "GKE component"
	case AKSAddon:
		what = "AKS"
	case ArgoCD:
		what = "Argo CD Application"
	case Flux:
		what = "Flux " + m.Object
	case ClusterVersionOperator:
		what = "OpenShift cluster-version operator"
	case Operator:
		if m.Object != "" {
			what = m.Object
		} else {
			what = "operator"
		}
	case Tool:
		what = "tool"
	}
	s := "managed by " + what
	if ref := nsName(m.Namespace, m.Name); ref != "" {
		s += " " + ref
	}
	return s + " (" + m.Evidence.String() + ")"
}

func nsName(ns, name string) string {
	switch {
	case name == "":
		return ""
	case ns == "":
		return name
	}
	return ns + "/" + name
}

// Markers read by Detect. The sources are noted where each is used.
const (
	addonModeLabel     = "addonmanager.kubernetes.io/mode"
	aksManagedByLabel  = "kubernetes.azure.com/managedby"
	gkeComponentAnno   = "components.gke.io/component-name"
	managedByLabel     = "app.kubernetes.io/managed-by"
	helmReleaseName    = "meta.helm.sh/release-name"
	helmReleaseNS      = "meta.helm.sh/release-namespace"
	helmChartLabel     = "helm.sh/chart"
	argoTrackingAnno   = "argocd.argoproj.io/tracking-id"
	argoInstanceLabel  = "argocd.argoproj.io/instance"
	fluxKsName         = "kustomize.toolkit.fluxcd.io/name"
	fluxKsNamespace    = "kustomize.toolkit.fluxcd.io/namespace"
	fluxHelmName       = "helm.toolkit.fluxcd.io/name"
	fluxHelmNamespace  = "helm.toolkit.fluxcd.io/namespace"
	kustomizeOriginKey = "config.kubernetes.io/origin"
	cvoIncludePrefix   = "include.release.openshift.io/"
)

// DetectDaemonSet is Detect with the Pod template's metadata as supporting
// evidence: AKS and GKE put their marks on the Pods as well as (or, in some
// versions, instead of) the DaemonSet.
func DetectDaemonSet(ds *appsv1.DaemonSet) Manager {
	return detect(ds.ObjectMeta, &ds.Spec.Template.ObjectMeta)
}

// Detect says what manages the object with this metadata.
//
// Precedence, highest first, and why:
//  1. A controller ownerReference. The owner's controller rewrites the
//     object within seconds; whatever manages the owner (Git, a chart) is
//     one hop further and is changed through the owner.
//  2. The cloud provider or platform (AKS, GKE, EKS add-on, the OpenShift
//     cluster-version operator, addon-manager Reconcile). Nothing inside the
//     cluster wins against them, and they deploy through in-cluster tools
//     themselves: AKS add-ons carry Helm and Flux labels of a HelmRelease
//     the user cannot see (KEDA add-on), GKE components carry the
//     addon-manager label.
//  3. GitOps (Argo CD, then Flux). Git is the source of truth for
//     everything they render, Helm charts included: Argo CD renders charts
//     with helm template, so its objects carry the chart's Helm labels, and
//     Flux's helm-controller installs real releases (meta.helm.sh
//     annotations), but helm upgrade would be reverted by the next sync.
//  4. A k3s/RKE2 HelmChart, then a plain Helm release.
//  5. Kustomize's managed-by label; a named operator in
//     app.kubernetes.io/managed-by; a non-controller ownerReference.
//  6. Any other app.kubernetes.io/managed-by value (Tool).
//
// managedFields only ever support a tier (dumps usually strip them):
// manager "eks" counts as an EKS add-on, "argocd-controller",
// "kustomize-controller" and "helm-controller" as Argo CD / Flux, each
// below the labels of its own tier.
func Detect(meta metav1.ObjectMeta) Manager {
	return detect(meta, nil)
}

func detect(meta metav1.ObjectMeta, tmpl *metav1.ObjectMeta) Manager {
	var found []Manager
	for _, rule := range rules {
		found = append(found, rule(meta, tmpl)...)
	}
	if len(found) == 0 {
		if meta.Labels[addonModeLabel] == "EnsureExists" {
			// kube-addon-manager README: EnsureExists addons are only
			// created when missing; users can edit them as they want.
			return Manager{Kind: None, Evidence: Evidence{Source: Label, Key: addonModeLabel, Value: "EnsureExists"}}
		}
		return Manager{Kind: None}
	}
	m := found[0]
	seen := map[Evidence]bool{m.Evidence: true}
	for _, o := range found[1:] {
		if !seen[o.Evidence] {
			seen[o.Evidence] = true
			m.Also = append(m.Also, o.Evidence)
		}
	}
	return m
}

// rules run in precedence order; each returns the managers it finds.
var rules = []func(meta metav1.ObjectMeta, tmpl *metav1.ObjectMeta) []Manager{
	controllerOwner,
	provider,
	gitOps,
	helm,
	weak,
	tool,
}

func controllerOwner(meta metav1.ObjectMeta, _ *metav1.ObjectMeta) []Manager {
	for _, ref := range meta.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return []Manager{ownerManager(ref, false)}
		}
	}
	return nil
}

func ownerManager(ref metav1.OwnerReference, heuristic bool) Manager {
	return Manager{
		Kind: Operator, Name: ref.Name, Object: ref.Kind, APIVersion: ref.APIVersion,
		Evidence: Evidence{Source: OwnerReference, Key: ref.APIVersion + "/" + ref.Kind, Value: ref.Name, Heuristic: heuristic},
	}
}

// label looks a key up on the object, then on the Pod template.
func lookup(m map[string]string, tm map[string]string, key string) (string, bool, bool) {
	if v, ok := m[key]; ok {
		return v, true, false
	}
	if v, ok := tm[key]; ok {
		return v, true, true
	}
	return "", false, false
}

func tmplLabels(t *metav1.ObjectMeta) map[string]string {
	if t == nil {
		return nil
	}
	return t.Labels
}

func tmplAnnotations(t *metav1.ObjectMeta) map[string]string {
	if t == nil {
		return nil
	}
	return t.Annotations
}

func provider(meta metav1.ObjectMeta, tmpl *metav1.ObjectMeta) []Manager {
	var out []Manager
	// AKS marks the system components it reconciles with
	// kubernetes.azure.com/managedby=aks (MicrosoftDocs/azure-docs
	// articles/aks/use-managed-identity.md: "system pods with the
	// kubernetes.azure.com/managedby: aks label in kube-system").
	if v, ok, inT := lookup(meta.Labels, tmplLabels(tmpl), aksManagedByLabel); ok && v == "aks" {
		out = append(out, Manager{Kind: AKSAddon, Name: meta.Name, Evidence: Evidence{Source: Label, Key: aksManagedByLabel, Value: v, Template: inT}})
	}
	// AKS managed add-ons installed as Helm releases are named aks-managed-*
	// (KEDA add-on: meta.helm.sh/release-name=aks-managed-keda,
	// MicrosoftDocs/azure-docs articles/aks/keda-deploy-add-on-cli.md).
	if v := meta.Annotations[helmReleaseName]; strings.HasPrefix(v, "aks-managed-") {
		out = append(out, Manager{Kind: AKSAddon, Name: strings.TrimPrefix(v, "aks-managed-"), Evidence: Evidence{Source: Annotation, Key: helmReleaseName, Value: v, Heuristic: true}})
	}
	// GKE stamps its components with components.gke.io/component-name
	// (GoogleCloudPlatform prometheus-engine operator, GKE add-on dumps).
	if v, ok, inT := lookup(meta.Annotations, tmplAnnotations(tmpl), gkeComponentAnno); ok && v != "" {
		out = append(out, Manager{Kind: GKEAddon, Name: v, Evidence: Evidence{Source: Annotation, Key: gkeComponentAnno, Value: v, Template: inT}})
	}
	// EKS renders add-on charts with Release.Service "EKS", so chart labels
	// read app.kubernetes.io/managed-by=EKS (aws-ebs-csi-driver,
	// eks-node-monitoring-agent add-on objects; amazon-cloudwatch-observability
	// hard-codes it).
	if v := meta.Labels[managedByLabel]; strings.EqualFold(v, "EKS") {
		out = append(out, Manager{Kind: EKSAddon, Name: eksAddonName(meta), Evidence: Evidence{Source: Label, Key: managedByLabel, Value: v}})
	}
	// OpenShift release-payload manifests carry include.release.openshift.io/*
	// profile annotations; the CVO reconciles them. cluster-monitoring-operator
	// labels the few objects it hands to the CVO
	// app.kubernetes.io/managed-by=cluster-version-operator
	// (openshift/cluster-monitoring-operator jsonnet/utils/add-labels.libsonnet).
	if k := firstKeyWithPrefix(meta.Annotations, cvoIncludePrefix); k != "" {
		out = append(out, Manager{Kind: ClusterVersionOperator, Name: meta.Name, Evidence: Evidence{Source: Annotation, Key: k, Value: meta.Annotations[k]}})
	}
	if v := meta.Labels[managedByLabel]; v == "cluster-version-operator" {
		out = append(out, Manager{Kind: ClusterVersionOperator, Name: meta.Name, Evidence: Evidence{Source: Label, Key: managedByLabel, Value: v}})
	}
	// kubernetes cluster/addons/addon-manager/README.md: mode=Reconcile is
	// re-applied from $ADDON_PATH (default /etc/kubernetes/addons).
	// kubernetes.io/cluster-service=true alone is deliberately not read:
	// the README calls it deprecated, and it is copied onto objects no
	// addon-manager ever sees (EKS's kube-dns Service, many charts).
	if v := meta.Labels[addonModeLabel]; v == "Reconcile" {
		out = append(out, Manager{Kind: AddonManager, Name: meta.Name, Evidence: Evidence{Source: Label, Key: addonModeLabel, Value: v}})
	}
	// Amazon EKS user guide, "Determine fields you can customize for Amazon
	// EKS add-ons": fields EKS manages are tagged manager: eks.
	if hasManager(meta, "eks") {
		out = append(out, Manager{Kind: EKSAddon, Name: eksAddonName(meta), Evidence: Evidence{Source: ManagedFields, Key: "manager", Value: "eks"}})
	}
	return out
}

// eksAddons maps the DaemonSets EKS add-ons create to the add-on's name,
// which is what aws eks update-addon takes.
var eksAddons = map[string]string{
	"aws-node":               "vpc-cni",
	"kube-proxy":             "kube-proxy",
	"ebs-csi-node":           "aws-ebs-csi-driver",
	"ebs-csi-node-windows":   "aws-ebs-csi-driver",
	"efs-csi-node":           "aws-efs-csi-driver",
	"eks-pod-identity-agent": "eks-pod-identity-agent",
}

func eksAddonName(meta metav1.ObjectMeta) string {
	return eksAddons[meta.Name]
}

func firstKeyWithPrefix(m map[string]string, prefix string) string {
	best := ""
	for k := range m {
		if strings.HasPrefix(k, prefix) && (best == "" || k < best) {
			best = k
		}
	}
	return best
}

func hasManager(meta metav1.ObjectMeta, name string) bool {
	for _, f := range meta.ManagedFields {
		if f.Manager == name {
			return true
		}
	}
	return false
}

func gitOps(meta metav1.ObjectMeta, _ *metav1.ObjectMeta) []Manager {
	var out []Manager
	// argo-cd docs user-guide/resource_tracking.md:
	// argocd.argoproj.io/tracking-id: <app>:<group>/<Kind>:<namespace>/<name>,
	// <app> being "<namespace>_<name>" for Applications outside Argo CD's own
	// namespace. The default label app.kubernetes.io/instance is not read:
	// Helm charts set it too (the reason Argo CD moved to the annotation).
	if v := meta.Annotations[argoTrackingAnno]; v != "" {
		ns, name := argoApp(v)
		out = append(out, Manager{Kind: ArgoCD, Name: name, Namespace: ns, Object: "Application", Evidence: Evidence{Source: Annotation, Key: argoTrackingAnno, Value: v}})
	}
	if v := meta.Labels[argoInstanceLabel]; v != "" {
		ns, name := argoApp(v)
		out = append(out, Manager{Kind: ArgoCD, Name: name, Namespace: ns, Object: "Application", Evidence: Evidence{Source: Label, Key: argoInstanceLabel, Value: v}})
	}
	// Flux: helm-controller's post-renderer labels everything a HelmRelease
	// installs helm.toolkit.fluxcd.io/{name,namespace}; kustomize-controller
	// labels what a Kustomization applies kustomize.toolkit.fluxcd.io/{name,namespace}.
	// The HelmRelease is the closer of the two: its values are what to change,
	// and it lives in the Git that the Kustomization applies.
	if v := meta.Labels[fluxHelmName]; v != "" {
		out = append(out, Manager{Kind: Flux, Name: v, Namespace: meta.Labels[fluxHelmNamespace], Object: "HelmRelease", Evidence: Evidence{Source: Label, Key: fluxHelmName, Value: v}})
	}
	if v := meta.Labels[fluxKsName]; v != "" {
		out = append(out, Manager{Kind: Flux, Name: v, Namespace: meta.Labels[fluxKsNamespace], Object: "Kustomization", Evidence: Evidence{Source: Label, Key: fluxKsName, Value: v}})
	}
	for _, f := range []struct{ manager, object string }{
		{"argocd-controller", "Application"},
		{"helm-controller", "HelmRelease"},
		{"kustomize-controller", "Kustomization"},
	} {
		if hasManager(meta, f.manager) {
			k := Flux
			if f.object == "Application" {
				k = ArgoCD
			}
			out = append(out, Manager{Kind: k, Object: f.object, Evidence: Evidence{Source: ManagedFields, Key: "manager", Value: f.manager}})
		}
	}
	return out
}

func argoApp(v string) (ns, name string) {
	app, _, _ := strings.Cut(v, ":")
	if ns, name, ok := strings.Cut(app, "_"); ok {
		return ns, name
	}
	return "", app
}

func helm(meta metav1.ObjectMeta, _ *metav1.ObjectMeta) []Manager {
	var out []Manager
	// helm/helm pkg/action/validate.go (setMetadataVisitor): install and
	// upgrade stamp meta.helm.sh/release-name, meta.helm.sh/release-namespace
	// and app.kubernetes.io/managed-by=Helm on every object; helm template
	// does not, so the annotations mean a real release.
	rel, ns := meta.Annotations[helmReleaseName], meta.Annotations[helmReleaseNS]
	if rel != "" {
		if ns == "" {
			ns = meta.Namespace
		}
		// RKE2 installs its bundled charts (rke2-canal, rke2-coredns,
		// rke2-ingress-nginx ...) as HelmCharts in kube-system whose release
		// name is the chart's; helm-controller leaves no other mark on the
		// objects (rancher/rke2-charts packages/rke2-canal/charts/templates/daemonset.yaml).
		if strings.HasPrefix(rel, "rke2-") && ns == metav1.NamespaceSystem {
			out = append(out, Manager{Kind: HelmController, Name: rel, Namespace: ns, Object: "HelmChart", Evidence: Evidence{Source: Annotation, Key: helmReleaseName, Value: rel, Heuristic: true}})
		}
		out = append(out, Manager{Kind: Helm, Name: rel, Namespace: ns, Evidence: Evidence{Source: Annotation, Key: helmReleaseName, Value: rel}})
	}
	// EKS creates aws-node (the vpc-cni chart, rendered) in every new
	// cluster without a release; until the vpc-cni add-on is installed
	// nothing reconciles it, and a direct edit is the fix (a real EKS dump
	// in test/corpus: cluster-info-dump-stdout-eks).
	if rel == "" && meta.Namespace == metav1.NamespaceSystem && meta.Name == "aws-node" && strings.HasPrefix(meta.Labels[helmChartLabel], "aws-vpc-cni-") {
		return nil
	}
	// Rendered from a chart but recorded in no release: helm template piped
	// to kubectl apply, or a GitOps tool whose tracking marks are absent.
	if v := meta.Labels[managedByLabel]; v == "Helm" || v == "Tiller" {
		out = append(out, Manager{Kind: Helm, Evidence: Evidence{Source: Label, Key: managedByLabel, Value: v}})
	}
	if v := meta.Labels[helmChartLabel]; v != "" {
		out = append(out, Manager{Kind: Helm, Evidence: Evidence{Source: Label, Key: helmChartLabel, Value: v}})
	}
	return out
}

// knownOperators are app.kubernetes.io/managed-by values naming an
// in-cluster operator that rewrites what it labels.
var knownOperators = map[string]bool{
	// openshift/cluster-monitoring-operator jsonnet/utils/add-labels.libsonnet
	"cluster-monitoring-operator": true,
}

func weak(meta metav1.ObjectMeta, _ *metav1.ObjectMeta) []Manager {
	var out []Manager
	// kustomize buildMetadata: [managedByLabel] writes
	// app.kubernetes.io/managed-by=kustomize-<version>; originAnnotations
	// writes config.kubernetes.io/origin ("path: ...").
	if v := meta.Labels[managedByLabel]; strings.HasPrefix(v, "kustomize-") || v == "kustomize" {
		out = append(out, Manager{Kind: Kustomize, Name: originPath(meta.Annotations[kustomizeOriginKey]), Evidence: Evidence{Source: Label, Key: managedByLabel, Value: v}})
	} else if o := meta.Annotations[kustomizeOriginKey]; o != "" {
		out = append(out, Manager{Kind: Kustomize, Name: originPath(o), Evidence: Evidence{Source: Annotation, Key: kustomizeOriginKey, Value: originPath(o)}})
	}
	if v := meta.Labels[managedByLabel]; knownOperators[v] {
		out = append(out, Manager{Kind: Operator, Name: v, Evidence: Evidence{Source: Label, Key: managedByLabel, Value: v}})
	}
	// A non-controller ownerReference: the owner may or may not reconcile.
	for _, ref := range meta.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			out = append(out, ownerManager(ref, true))
			break
		}
	}
	return out
}

func originPath(origin string) string {
	for line := range strings.SplitSeq(origin, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "path:"); ok {
			return strings.Trim(strings.TrimSpace(p), `"'`)
		}
	}
	return ""
}

func tool(meta metav1.ObjectMeta, _ *metav1.ObjectMeta) []Manager {
	v := meta.Labels[managedByLabel]
	switch {
	case v == "", v == "Helm", v == "Tiller", strings.EqualFold(v, "EKS"), v == "cluster-version-operator",
		strings.HasPrefix(v, "kustomize"), knownOperators[v]:
		return nil
	}
	return []Manager{{Kind: Tool, Name: v, Evidence: Evidence{Source: Label, Key: managedByLabel, Value: v}}}
}

// resourceArg is the TYPE argument kubectl takes for an owner:
// "dns.v1.operator.openshift.io", or "service" for the core group.
func resourceArg(apiVersion, kind string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	k := strings.ToLower(kind)
	if err != nil || gv.Group == "" {
		return k
	}
	return fmt.Sprintf("%s.%s.%s", k, gv.Version, gv.Group)
}

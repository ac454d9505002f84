package collect

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// One contract for both readers: Live and Files keep the DaemonSets Options
// select (namespace, name, label selector), only the daemon Pods those
// DaemonSets own, and fail the same way when a named DaemonSet is not there
// or is there more than once.

// NotFoundError is returned when the DaemonSet named on the command line does
// not exist where it was looked for.
type NotFoundError struct {
	Namespace, Name string
	// Source is "the input" for files, "" for a cluster.
	Source string
}

func (e *NotFoundError) Error() string {
	switch {
	case e.Source != "" && e.Namespace != "":
		return fmt.Sprintf("daemonset %q not found in namespace %q of %s", e.Name, e.Namespace, e.Source)
	case e.Source != "":
		return fmt.Sprintf("daemonset %q not found in %s", e.Name, e.Source)
	}
	return fmt.Sprintf("daemonset %q not found in namespace %q", e.Name, e.Namespace)
}

// AmbiguousError is returned when a DaemonSet NAME without a namespace
// matches DaemonSets in several namespaces.
type AmbiguousError struct {
	Name       string
	Namespaces []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("daemonset %q exists in several namespaces (%s); add -n NAMESPACE", e.Name, strings.Join(e.Namespaces, ", "))
}

// SelectDaemonSets keeps the DaemonSets opts asks for, in place. A live read
// has filtered on the server already; applying the same rules again keeps the
// result right whatever the server honoured.
func SelectDaemonSets(dss []appsv1.DaemonSet, opts Options, source string) ([]appsv1.DaemonSet, error) {
	sel := labels.Everything()
	if opts.LabelSelector != "" {
		s, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("invalid label selector %q: %v", opts.LabelSelector, err)
		}
		sel = s
	}
	kept := dss[:0]
	for i := range dss {
		ds := &dss[i]
		if (opts.Namespace != "" && ds.Namespace != opts.Namespace) ||
			(opts.Name != "" && ds.Name != opts.Name) ||
			!sel.Matches(labels.Set(ds.Labels)) {
			continue
		}
		kept = append(kept, *ds)
	}
	if opts.Name == "" {
		return kept, nil
	}
	switch len(kept) {
	case 0:
		return nil, &NotFoundError{Namespace: opts.Namespace, Name: opts.Name, Source: source}
	case 1:
		return kept, nil
	}
	nss := make([]string, len(kept))
	for i := range kept {
		nss[i] = kept[i].Namespace
	}
	sort.Strings(nss)
	return nil, &AmbiguousError{Name: opts.Name, Namespaces: nss}
}

// ownerKey identifies a DaemonSet as an owner reference does: owner
// references carry no namespace because a namespaced owner must be in the
// dependent's namespace. Matching the UID alone would let two DaemonSets in
// different namespaces that share a UID (hand-edited or copied dumps) count
// each other's Pods.
//
// The group is part of the key: an Advanced DaemonSet's Pods are owned by
// kind DaemonSet too, in apps.kruise.io, and an owner is matched by API
// group and kind, never by kind alone (model.DaemonSetGroup).
type ownerKey struct {
	Namespace string
	UID       types.UID
	Group     string
}

// refKey is the ownerKey a controller reference in namespace ns names.
func refKey(ns string, ref *metav1.OwnerReference) ownerKey {
	return ownerKey{ns, ref.UID, model.DaemonSetGroup(ref.APIVersion)}
}

// PodOwners is what KeepPod needs to know of the DaemonSets read: their
// (namespace, UID) keys (Pods they control) and, per namespace, the
// selectors of those not being deleted (orphan Pods they would adopt).
type PodOwners struct {
	uids      map[ownerKey]bool
	selectors map[string][]labels.Selector
}

// Owners returns the DaemonSets' PodOwners, for keepPod.
func Owners(dss []appsv1.DaemonSet) PodOwners {
	o := PodOwners{uids: make(map[ownerKey]bool, len(dss)), selectors: map[string][]labels.Selector{}}
	for i := range dss {
		ds := &dss[i]
		o.uids[ownerKey{ds.Namespace, ds.UID, model.GroupOf(ds)}] = true
		if ds.DeletionTimestamp != nil {
			continue
		}
		// An invalid or empty selector adopts nothing (LabelSelectorAsSelector
		// fails, or the API server would have refused the DaemonSet).
		if sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector); err == nil && !sel.Empty() {
			o.selectors[ds.Namespace] = append(o.selectors[ds.Namespace], sel)
		}
	}
	return o
}

// KeepPod says whether a Pod belongs in the snapshot: its controller is one
// of the DaemonSets read, or it is an orphan one of them would adopt. The
// latter mirrors the orphan branch of BaseControllerRefManager.ClaimObject
// (pkg/controller/controller_ref_manager.go), which getDaemonPods runs on
// every sync: no controller reference, not being deleted, same namespace,
// labels matching the selector. Owned Pods are kept whatever their labels,
// so that the analysis can tell a released Pod from a missing one.
func KeepPod(p *model.DaemonPod, o PodOwners) bool {
	if p.OwnerUID != "" {
		return p.OwnerKind == "DaemonSet" && o.uids[ownerKey{p.Namespace, p.OwnerUID, p.OwnerGroup}]
	}
	if p.Deleting {
		return false
	}
	for _, sel := range o.selectors[p.Namespace] {
		if sel.Matches(p.Labels) {
			return true
		}
	}
	return false
}

// KeepRevision says whether a ControllerRevision belongs in the snapshot:
// its controller is one of the DaemonSets read.
func KeepRevision(cr *appsv1.ControllerRevision, o PodOwners) bool {
	ref := metav1.GetControllerOfNoCopy(cr)
	return ref != nil && o.uids[refKey(cr.Namespace, ref)]
}

// serverVersion asks the server for its version (gitVersion, e.g.
// "v1.33.4"); "" when it cannot say, and the analysis then applies the newest
// controller rules. Kept out of the read's error path: /version is readable
// by every authenticated user (system:public-info-viewer), it is a GET, and
// the audit can do without it. Live calls it only after the DaemonSets were
// read, so an unreachable or hanging server fails on that list as before.
func serverVersion(ctx context.Context, cs Client) string {
	v, err := cs.ServerVersion(ctx)
	if err != nil || v == nil {
		return ""
	}
	return v.GitVersion
}

package collect

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/pkg/snapshot"
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

// selectDaemonSets keeps the DaemonSets opts asks for, in place. A live read
// has filtered on the server already; applying the same rules again keeps the
// result right whatever the server honoured.
func selectDaemonSets(dss []appsv1.DaemonSet, opts Options, source string) ([]appsv1.DaemonSet, error) {
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
type ownerKey struct {
	Namespace string
	UID       types.UID
}

// owners returns the (namespace, UID) keys of the DaemonSets, for keepPod.
func owners(dss []appsv1.DaemonSet) map[ownerKey]bool {
	m := make(map[ownerKey]bool, len(dss))
	for i := range dss {
		m[ownerKey{dss[i].Namespace, dss[i].UID}] = true
	}
	return m
}

// keepPod says whether a daemon Pod belongs in the snapshot: its controller
// is one of the DaemonSets read, in the Pod's namespace.
func keepPod(p *snapshot.DaemonPod, owners map[ownerKey]bool) bool {
	return p.OwnerKind == "DaemonSet" && owners[ownerKey{p.Namespace, p.OwnerUID}]
}

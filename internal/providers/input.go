package providers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// Object is one object of a what-if input, decoded enough to route: the
// reader of its kind unmarshals Raw into the fields it needs.
type Object struct {
	File       string
	Doc        int
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	Raw        json.RawMessage
}

// ObjectError is an error in one object of the input (which may be another
// object than the one being read: a template it references).
type ObjectError struct {
	Object *Object
	Err    error
}

func (e *ObjectError) Error() string { return e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// Input is the whole what-if input, for kinds that follow references (a
// MachineDeployment's bootstrap and infrastructure templates). Objects a
// reader used this way are not reported as ignored.
type Input struct {
	byRef map[[2]string]*Object
	used  map[*Object]bool
}

// NewInput indexes objs by kind and name.
func NewInput(objs []Object) *Input {
	in := &Input{byRef: map[[2]string]*Object{}, used: map[*Object]bool{}}
	for i := range objs {
		in.byRef[[2]string{objs[i].Kind, objs[i].Name}] = &objs[i]
	}
	return in
}

// Ref returns the object of that kind and name, nil when the input lacks
// it, and marks it used.
func (in *Input) Ref(kind, name string) *Object {
	o := in.byRef[[2]string{kind, name}]
	if o != nil {
		in.used[o] = true
	}
	return o
}

// Used says whether a reader took o as a reference.
func (in *Input) Used(o *Object) bool { return in.used[o] }

// PoolKind reads one kind of object that proposes nodes (a pool) into a
// model.PoolTemplate. Each provider registers its kinds in its own file.
type PoolKind struct {
	// Group is the kind's API group ("" for the core group); Kinds the
	// kinds of that group it reads, Versions the versions it reads.
	Group    string
	Kinds    []string
	Versions []string
	// Read turns the object into the pool it proposes; how its nodes are
	// labelled and tainted mirrors the provider's controller.
	Read func(o *Object, in *Input) (model.PoolTemplate, error)
	// Export says how to get a readable version from a cluster, for the
	// error on an unread version (e.g. "kubectl get nodepool NAME -o yaml").
	Export string
}

var poolKinds []PoolKind

// ClosedLabelValues are the values a provider's well-known label takes,
// where the set is closed (Karpenter's capacity types): a pool that does
// not constrain the label may create nodes with each.
var ClosedLabelValues = map[string][]string{}

// registerPoolKind adds a provider's pool kind; called from init. Kinds
// are kept in group order (the core group first), so messages do not
// depend on file names.
func registerPoolKind(k PoolKind) {
	poolKinds = append(poolKinds, k)
	sort.SliceStable(poolKinds, func(i, j int) bool { return poolKinds[i].Group < poolKinds[j].Group })
}

// ReadPool reads o if a provider reads its kind: ok is false when no
// provider reads that group and kind (the caller ignores it), and the error
// names the versions read when the group and kind are known but the
// version is not.
func ReadPool(o *Object, in *Input) (t model.PoolTemplate, ok bool, err error) {
	group, version := splitAPIVersion(o.APIVersion)
	for i := range poolKinds {
		k := &poolKinds[i]
		if k.Group != group || !contains(k.Kinds, o.Kind) {
			continue
		}
		if !contains(k.Versions, version) {
			err := fmt.Errorf("%s %s has apiVersion %s; whatif reads %s", o.Kind, o.Name, o.APIVersion, k.versions())
			if k.Export != "" {
				err = fmt.Errorf("%w (%s)", err, strings.ReplaceAll(k.Export, "NAME", o.Name))
			}
			return model.PoolTemplate{}, true, err
		}
		t, err := k.Read(o, in)
		return t, true, err
	}
	return model.PoolTemplate{}, false, nil
}

// PoolKinds describes the pool kinds providers read, for messages:
// "Node (v1), NodePool (karpenter.sh/v1), ...".
func PoolKinds() string {
	var out []string
	for i := range poolKinds {
		k := &poolKinds[i]
		out = append(out, fmt.Sprintf("%s (%s)", orList(k.Kinds), k.versions()))
	}
	return strings.Join(out, ", ")
}

func (k *PoolKind) versions() string {
	vs := make([]string, len(k.Versions))
	for i, v := range k.Versions {
		vs[i] = v
		if k.Group != "" {
			vs[i] = k.Group + "/" + v
		}
	}
	return orList(vs)
}

func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func splitAPIVersion(apiVersion string) (group, version string) {
	if g, v, ok := strings.Cut(apiVersion, "/"); ok {
		return g, v
	}
	return "", apiVersion
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// copyLabels copies m with room for the labels a provider fills in.
func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// setTaintOrigin records where taints ts are set.
func setTaintOrigin(t *model.PoolTemplate, ts []corev1.Taint, where string) {
	if len(ts) > 0 && t.TaintOrigin == nil {
		t.TaintOrigin = map[string]string{}
	}
	for _, tn := range ts {
		t.TaintOrigin[tn.Key] = where
	}
}

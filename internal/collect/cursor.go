package collect

import (
	"maps"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Selection is what a list of Pods or ControllerRevisions was made for: a
// DaemonSet's namespace and label selector ("" reads the whole namespace).
type Selection struct {
	Namespace, Selector string
}

// SelectionOf is the list Live makes for a DaemonSet's Pods: by its selector,
// or, when the selector is invalid (err), every Pod of its namespace; a
// valid but empty selector selects nothing the API server would accept for a
// DaemonSet, and is read as the whole namespace too.
func SelectionOf(ds *appsv1.DaemonSet) (Selection, error) {
	at := Selection{Namespace: ds.Namespace}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err == nil && !sel.Empty() {
		at.Selector = sel.String()
	}
	return at, err
}

// Cursor records where the lists of a Live read stood: each list's
// resourceVersion, from which a watch (package watcher) carries on without
// listing again.
type Cursor struct {
	mu sync.Mutex
	Positions
}

// Positions are the resourceVersions a Cursor recorded, per list.
type Positions struct {
	DaemonSets string
	Nodes      string
	Pods       map[Selection]string
	Revisions  map[Selection]string
}

// At is a copy of what c recorded, taken under its lock: a Live read on the
// same Cursor may be recording while a watch starts from it.
func (c *Cursor) At() Positions {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.Positions
	p.Pods, p.Revisions = maps.Clone(p.Pods), maps.Clone(p.Revisions)
	return p
}

func (c *Cursor) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.DaemonSets, c.Nodes = "", ""
	c.Pods, c.Revisions = map[Selection]string{}, map[Selection]string{}
}

// record keeps the resourceVersion of a list's first page: a paginated list
// is consistent at it, and a list that starts over (410) records its new one.
func (c *Cursor) record(o metav1.ListOptions, field *string, rv string) {
	if o.Continue != "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	*field = rv
}

func (c *Cursor) recordAt(o metav1.ListOptions, m map[Selection]string, at Selection, rv string) {
	if o.Continue != "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m[at] = rv
}

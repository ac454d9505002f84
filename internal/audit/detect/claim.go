package detect

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
)

// Claim returns the Pods the controller counts for the DaemonSet, as
// getDaemonPods does with ClaimPods (pkg/controller/controller_ref_manager.go,
// BaseControllerRefManager.ClaimObject) at the start of every sync:
//
//   - an owned Pod whose labels match the selector is the DaemonSet's (even
//     while the DaemonSet is being deleted);
//   - an owned Pod whose labels no longer match is released (its owner
//     reference removed) and counted nowhere, so the node gets a new Pod;
//     while the DaemonSet is being deleted it is only ignored;
//   - an orphan (no controller reference) of the same namespace that matches
//     the selector and is not being deleted is adopted and counted in the
//     same sync, unless the DaemonSet is being deleted.
//
// owned are the Pods whose controller reference names the DaemonSet; orphans
// the namespace's Pods without a controller reference (not being deleted).
// An orphan matching several DaemonSets is adopted by whichever syncs first:
// daemoncheck counts it for each of them.
func (c *Context) Claim(owned, orphans []*model.DaemonPod) []*model.DaemonPod {
	pods := c.claim(owned, orphans)
	c.healthOf = make(map[*model.DaemonPod]podstate.Health, len(pods))
	return pods
}

func (c *Context) claim(owned, orphans []*model.DaemonPod) []*model.DaemonPod {
	sel, err := metav1.LabelSelectorAsSelector(c.DS.Spec.Selector)
	if err != nil {
		// The controller cannot sync a DaemonSet with an invalid selector;
		// count what it owns rather than nothing.
		return owned
	}
	deleting := c.DS.DeletionTimestamp != nil
	claimed := make([]*model.DaemonPod, 0, len(owned))
	for _, p := range owned {
		switch {
		case sel.Matches(p.Labels):
			claimed = append(claimed, p)
		case !deleting && p.HasTarget:
			if c.Released == nil {
				c.Released = map[string][]*model.DaemonPod{}
			}
			c.Released[p.TargetNode] = append(c.Released[p.TargetNode], p)
		}
	}
	if deleting || sel.Empty() {
		return claimed
	}
	for _, p := range orphans {
		if sel.Matches(p.Labels) {
			if c.Adopted == nil {
				c.Adopted = map[*model.DaemonPod]bool{}
			}
			c.Adopted[p] = true
			claimed = append(claimed, p)
		}
	}
	return claimed
}

var _ labels.Labels = model.Labels("")

// TemplateGeneration mirrors util.GetTemplateGeneration
// (pkg/controller/daemon/util/daemonset_util.go): the annotation parsed with
// strconv.ParseInt(s, 10, 64), so "0x3039", " 12345" or "12345abc" are not a
// generation (the controller's sync fails on them).
func TemplateGeneration(ds *appsv1.DaemonSet) (int64, bool) {
	v, ok := ds.Annotations[podstate.TemplateGenerationAnno]
	if !ok {
		return 0, false
	}
	g, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return g, true
}

package detect

import (
	"fmt"
	"slices"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/kruise"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// An OpenKruise Advanced DaemonSet goes through the same per-node engine
// as a core DaemonSet (its placement rules are the upstream ones: kruise
// v1.8.2 pkg/controller/daemonset/daemonset_util.go nodeShouldRunDaemonPod),
// and differs in what its controller leaves undone on purpose:
//
//   - rollingUpdate.partition keeps that many nodes on the old revision
//     (daemonset_update.go filterDaemonPodsNodeToUpdate: nodes sorted by
//     name, updated ones first, then those without an old Pod, then the
//     rest, highest name first; the first len(nodes)-partition may be
//     updated, the others keep their old Pod);
//   - rollingUpdate.selector: only nodes it matches are updated (the others
//     are dropped from that list);
//   - rollingUpdate.paused: no Pod is updated (daemonset_controller.go
//     syncDaemonSet skips rollingUpdate; missing Pods are still created);
//   - partitioned scaling (scaleStrategy.partitionedScaling, or the
//     v1alpha1 annotation daemonset.kruise.io/progressive-create-pod) with
//     a partition: Pods are created on at most desired-updated-partition
//     of the nodes that have none, in name order (daemonset_util.go
//     GetNodesNeedingPods).
//
// Old Pods so kept are not OutdatedPod, Pods so not created are not
// MissingPod, and a rollout that only waits on them is not stuck.

// kruiseLifecycleState is the label Kruise's lifecycle hooks set on a Pod
// (kruise apis/apps/pub/lifecycle.go LifecycleStateKey); PreparingDelete
// counts as no Pod for the update (daemonset_util.go isPodPreDeleting).
const (
	kruiseLifecycleState  = "lifecycle.apps.kruise.io/state"
	kruisePreparingDelete = "PreparingDelete"
	heldByPartition       = "partition"
	heldBySelector        = "selector"
	heldByPaused          = "paused"
)

// kruiseState is what the Kruise controller does with one Advanced
// DaemonSet now.
type kruiseState struct {
	spec *model.KruiseDaemonSet
	// partition is the partition resolved to a number of nodes.
	partition int
	// toUpdate are the nodes the rolling update considers (nil: paused,
	// or not a rolling update: none).
	toUpdate map[string]bool
	// held maps a node whose old Pod is kept on purpose to why.
	held map[string]string
	// notCreated are the nodes partitioned scaling leaves without a Pod.
	notCreated map[string]bool
}

// KruiseOf finds the Kruise record of ds in the snapshot (nil for a core
// DaemonSet, or an Advanced one read without it).
func KruiseOf(ds *appsv1.DaemonSet, snap *model.Snapshot) *model.KruiseDaemonSet {
	if !model.IsKruise(ds) {
		return nil
	}
	for i := range snap.Kruise {
		k := &snap.Kruise[i]
		if k.Namespace == ds.Namespace && k.Name == ds.Name && k.UID == ds.UID {
			return k
		}
	}
	return nil
}

// KruisePlan computes the Kruise state once the node verdicts and Pods by
// node are known, and fills the report's Kruise block.
func (c *Context) KruisePlan(k *model.KruiseDaemonSet) {
	st := &kruiseState{spec: k, held: map[string]string{}, notCreated: map[string]bool{}}
	c.kruise = st
	dr := c.Report
	dr.Group, dr.Resource = model.KruiseGroup, kruise.Resource
	kb := &report.Kruise{APIVersion: k.APIVersion, Paused: k.Paused, PartitionedScaling: k.PartitionedScaling,
		RollingUpdateType: k.RollingUpdateType, HeldNodes: []report.HeldNode{}, NotCreatedNodes: []string{}}
	dr.Kruise = kb
	if k.Partition != nil {
		kb.Partition = k.Partition.String()
	}
	if k.UpdateSelector != nil {
		kb.UpdateSelector = metav1.FormatLabelSelector(k.UpdateSelector)
	}
	if !c.NodesKnown || !c.PodsKnown || !c.RevKnown || c.DS.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return
	}
	desired, names := c.kruiseNodes()
	if k.Partition != nil {
		p, err := intstr.GetScaledValueFromIntOrPercent(k.Partition, desired, true)
		if err == nil {
			st.partition = max(p, 0)
		}
	}
	kb.PartitionNodes = st.partition
	var sel labels.Selector
	if k.UpdateSelector != nil {
		if s, err := metav1.LabelSelectorAsSelector(k.UpdateSelector); err == nil {
			sel = s
		}
	}
	updated, updating, selected, rest, old := c.kruiseWalk(names, sel)
	if !k.Paused {
		order := append(append([]string{}, updated...), updating...)
		if sel != nil {
			order = append(order, selected...)
		} else {
			order = append(order, rest...)
		}
		maxUpdate := len(names) - st.partition
		if maxUpdate < 0 {
			maxUpdate = 0
		}
		if maxUpdate < len(order) {
			order = order[:maxUpdate]
		}
		st.toUpdate = make(map[string]bool, len(order))
		for _, n := range order {
			st.toUpdate[n] = true
		}
	}
	for _, n := range old {
		if st.toUpdate[n] {
			continue
		}
		why := heldByPartition
		switch {
		case k.Paused:
			why = heldByPaused
		case sel != nil && !slices.Contains(selected, n):
			why = heldBySelector
		}
		st.held[n] = why
	}
	st.partitionedScaling(c, desired)
	c.fillKruiseReport()
}

// kruiseWalk sorts the nodes as Kruise's rolling update walks them (from
// the last name): nodes already updated or without a Pod, nodes being
// updated, and nodes with an old Pod, split by the update selector
// (selected) when there is one (else rest).
func (c *Context) kruiseWalk(names []string, sel labels.Selector) (updated, updating, selected, rest, old []string) {
	for i := len(names) - 1; i >= 0; i-- {
		name := names[i]
		np, op, ok := c.kruisePods(name)
		switch {
		case !ok || np != nil:
			updated = append(updated, name)
			continue
		case op == nil:
			updating = append(updating, name)
			continue
		}
		old = append(old, name)
		if sel != nil {
			if node := c.Cluster.NodeByName[name]; node != nil && sel.Matches(labels.Set(node.Labels)) {
				selected = append(selected, name)
			}
			continue
		}
		rest = append(rest, name)
	}
	return updated, updating, selected, rest, old
}

// kruiseNodes counts the nodes the Advanced DaemonSet should run on and
// names every node it runs on or should, sorted as Kruise sorts them: as
// strings (not naturally); it walks them from the last.
func (c *Context) kruiseNodes() (desired int, names []string) {
	all := map[string]bool{}
	for i, n := range c.Cluster.Nodes {
		if c.Verdicts[i].ShouldRun {
			desired++
			all[n.Name] = true
		}
	}
	for name := range c.ByNode {
		if c.Cluster.NodeByName[name] != nil {
			all[name] = true
		}
	}
	names = make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	return desired, names
}

// partitionedScaling mirrors manage's GetNodesNeedingPods: with a partition
// and partitioned scaling, Pods are created on the first
// desired-updated-partition nodes that need one, in name order; the
// others are left empty on purpose.
func (st *kruiseState) partitionedScaling(c *Context, desired int) {
	if !st.spec.PartitionedScaling || st.partition == 0 {
		return
	}
	newPods := 0
	var needing []string
	for i, n := range c.Cluster.Nodes {
		if np, _, ok := c.kruisePods(n.Name); ok && np != nil {
			newPods++
		}
		if c.Verdicts[i].ShouldRun && len(c.ByNode[n.Name]) == 0 {
			needing = append(needing, n.Name)
		}
	}
	sort.Strings(needing)
	maxCreate := max(desired-newPods-min(st.partition, desired), 0)
	maxCreate = min(maxCreate, len(needing))
	for _, n := range needing[maxCreate:] {
		st.notCreated[n] = true
	}
}

// kruisePods is findUpdatedPodsOnNode: the node's new and old Pod among
// those not being deleted, ok false when it has more than one of either.
// A Pod whose lifecycle hook is preparing its deletion counts as none.
func (c *Context) kruisePods(name string) (newPod, oldPod *model.DaemonPod, ok bool) {
	for _, p := range c.ByNode[name] {
		if p.Deleting {
			continue
		}
		if c.IsUpdated(p) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	if oldPod != nil && oldPod.Labels.Get(kruiseLifecycleState) == kruisePreparingDelete {
		oldPod = nil
	}
	return newPod, oldPod, true
}

// fillKruiseReport lists the held and not-created nodes in the report, in
// the report's node order.
func (c *Context) fillKruiseReport() {
	kb, st := c.Report.Kruise, c.kruise
	for _, n := range c.Cluster.Nodes {
		if why, ok := st.held[n.Name]; ok {
			_, op, _ := c.kruisePods(n.Name)
			pod := ""
			if op != nil {
				pod = op.Name
			}
			kb.HeldNodes = append(kb.HeldNodes, report.HeldNode{Node: n.Name, Pod: pod, Why: why})
		}
		if st.notCreated[n.Name] {
			kb.NotCreatedNodes = append(kb.NotCreatedNodes, n.Name)
		}
	}
}

// KruiseHeld reports whether the old Pod on node is kept on purpose.
func (c *Context) KruiseHeld(node string) bool {
	if c.kruise == nil {
		return false
	}
	_, ok := c.kruise.held[node]
	return ok
}

// KruiseNotCreated reports whether node is left without a Pod on purpose.
func (c *Context) KruiseNotCreated(node string) bool {
	return c.kruise != nil && c.kruise.notCreated[node]
}

// KruiseRollsOut reports whether the rolling update considers node (true
// for a core DaemonSet); false for every node while paused.
func (c *Context) KruiseRollsOut(node string) bool {
	return c.kruise == nil || c.kruise.toUpdate[node]
}

// Resource is how kubectl names the DaemonSet: daemonset/NAME, or for an
// Advanced DaemonSet daemonset.apps.kruise.io/NAME (a bare "daemonset"
// resolves to the core kind).
func (c *Context) Resource() string { return c.ResourceType() + "/" + c.DS.Name }

// ResourceType is the kubectl resource type of the DaemonSet.
func (c *Context) ResourceType() string {
	if model.IsKruise(c.DS) {
		return kruise.Resource
	}
	return "daemonset"
}

// SetMemoryRequest is the command that sets container ctr's memory
// request: kubectl set resources knows core kinds only, so an Advanced
// DaemonSet is edited.
func (c *Context) SetMemoryRequest(ctr string) report.Command {
	if c.kruise != nil {
		return explain.KubectlWrite("edit", c.Resource(), "-n", c.DS.Namespace)
	}
	return explain.KubectlWrite("set", "resources", "daemonset", c.DS.Name, "-n", c.DS.Namespace, "-c", ctr, "--requests=memory=64Mi")
}

// RollBack is the command that rolls the DaemonSet back: kubectl rollout
// undo knows core kinds only; an Advanced DaemonSet's template is edited
// back (or its rollout paused with rollingUpdate.paused).
func (c *Context) RollBack() report.Command {
	if c.kruise != nil {
		return explain.KubectlWrite("edit", c.Resource(), "-n", c.DS.Namespace)
	}
	return explain.KubectlWrite("rollout", "undo", "daemonset/"+c.DS.Name, "-n", c.DS.Namespace)
}

// KruiseProgress adds an Advanced DaemonSet's own settings to the rollout
// progress words.
func (c *Context) KruiseProgress() string {
	if c.kruise == nil {
		return ""
	}
	k, s := c.kruise.spec, ""
	if k.Partition != nil {
		s += fmt.Sprintf("; partition %s (%d nodes kept on the old revision)", k.Partition.String(), c.kruise.partition)
	}
	if k.UpdateSelector != nil {
		s += "; update selector " + metav1.FormatLabelSelector(k.UpdateSelector)
	}
	if k.Paused {
		s += "; paused"
	}
	return s
}

// ControllerName names the controller that creates the DaemonSet's Pods.
func (c *Context) ControllerName() string {
	if c.kruise != nil {
		return "OpenKruise's kruise-controller-manager"
	}
	return "kube-controller-manager"
}

// FollowRollout is the read-only command that follows the rollout:
// kubectl rollout status, which knows core kinds only; for an Advanced
// DaemonSet its columns (UP-TO-DATE) through kubectl get.
func (c *Context) FollowRollout() report.Command {
	if c.kruise != nil {
		return explain.Kubectl("get", "-n", c.DS.Namespace, c.Resource())
	}
	return explain.Kubectl("rollout", "status", "-n", c.DS.Namespace, "daemonset/"+c.DS.Name)
}

// KruisePaused reports whether the DaemonSet is an Advanced DaemonSet whose
// rolling update is paused (rollingUpdate.paused).
func (c *Context) KruisePaused() bool { return c.kruise != nil && c.kruise.spec.Paused }

package fit

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/placement"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.LowPriorityAgent, ds: func(c dsContext) []report.Finding {
		why := agentReason(c.DS, c.Policy)
		if why == "" {
			return nil
		}
		if f, ok := c.lowPriorityAgent(why); ok {
			return []report.Finding{f}
		}
		return nil
	}})
	register(detector{typ: report.NoMemoryRequest, ds: func(c dsContext) []report.Finding {
		ctrs := noMemoryRequest(&c.DS.Spec.Template.Spec)
		if len(ctrs) == 0 {
			return nil
		}
		f := report.Finding{Type: report.NoMemoryRequest, Reason: report.ReasonNoMemoryRequest, Params: report.Params{Resource: "memory", Other: strings.Join(ctrs, ",")},
			Cause: "no memory request: " + strings.Join(ctrs, ", ")}
		f.Message = fmt.Sprintf("container%s %s of the daemon Pods request%s no memory: the scheduler reserves none for %s on any node, and under memory pressure the kubelet evicts Pods that use more than they request first (a Pod with no request at all is BestEffort, evicted before every other)",
			detect.Plural(len(ctrs)), strings.Join(ctrs, ", "), detect.VerbS(len(ctrs)), themIt(len(ctrs)))
		cmds := []report.Command{explain.Kubectl("top", "pod", "-n", c.DS.Namespace, "--containers")}
		var marks []string
		for _, ctr := range ctrs {
			marks = append(marks, fmt.Sprintf("{%d}", len(cmds)))
			cmds = append(cmds, c.SetMemoryRequest(ctr))
		}
		c.AdviseChange(&f, owner.Change{What: "a memory request for container " + strings.Join(ctrs, ", ") + " (from what it uses: kubectl top pod -n " + c.DS.Namespace + " --containers)",
			Field: "spec.template.spec.containers[name=" + ctrs[0] + "].resources.requests.memory", Value: "64Mi"},
			"set a memory request from what the container uses ({0}), e.g. "+strings.Join(marks, "; ")+" (this rolls out every Pod of the DaemonSet)", cmds...)
		return []report.Finding{f}
	}})
}

// agentReason says why the DaemonSet is a node agent, "" when it is not.
// A node agent is a daemon the node itself depends on: the CNI, CSI, a
// device plugin, the log and metrics collectors, the security agent. They
// are recognised by what they need of the host, which ordinary workloads
// do not: the host's network, PID or IPC namespace, a privileged container,
// a hostPath volume; by living in kube-system; or by a coverage policy
// requiring them.
func agentReason(ds *appsv1.DaemonSet, rules []policy.Rule) string {
	spec := &ds.Spec.Template.Spec
	var why []string
	if ds.Namespace == metav1.NamespaceSystem {
		why = append(why, "namespace kube-system")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{spec.HostNetwork, "hostNetwork"}, {spec.HostPID, "hostPID"}, {spec.HostIPC, "hostIPC"}} {
		if f.on {
			why = append(why, f.name)
		}
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if sc := cs[i].SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
				why = append(why, "privileged container "+cs[i].Name)
			}
		}
	}
	for i := range spec.Volumes {
		if hp := spec.Volumes[i].HostPath; hp != nil {
			why = append(why, fmt.Sprintf("hostPath volume %s (%s)", spec.Volumes[i].Name, hp.Path))
			break
		}
	}
	if len(rules) > 0 {
		why = append(why, "required by "+rules[0].Source)
	}
	if len(why) > 3 {
		why = append(why[:3], "...")
	}
	return strings.Join(why, ", ")
}

// lowPriorityAgent reports a node agent without a priorityClassName, or
// ranking below the workloads on its nodes.
func (c dsContext) lowPriorityAgent(why string) (report.Finding, bool) {
	plan := c.Cluster.Plan
	d := plan.Of(c.DS)
	spec := &c.DS.Spec.Template.Spec
	prio, known := plan.Prio[d], plan.PrioKnown[d]
	f := report.Finding{Type: report.LowPriorityAgent}
	c.criticalPatch(&f)
	if spec.PriorityClassName == "" && spec.Priority == nil {
		gets := "priority 0"
		switch gd := globalDefault(plan); {
		case !plan.ClassesRead:
			gets = "priority 0, or the globalDefault PriorityClass's (PriorityClasses were not read)"
		case gd != nil:
			gets = fmt.Sprintf("the globalDefault class %s's priority %d", gd.Name, gd.Value)
		}
		f.Reason = report.ReasonNoPriorityClass
		f.Cause = "node agent without a priorityClassName"
		f.Message = fmt.Sprintf("%s is a node agent (%s) without a priorityClassName: its Pods get %s, like ordinary workloads, so on a full node the scheduler cannot preempt for them, and Pods of a higher priority preempt them", c.Name(), why, gets)
		return f, true
	}
	if !known {
		return f, false
	}
	class := "its priority"
	if spec.PriorityClassName != "" {
		class = "class " + spec.PriorityClassName
	}
	if plan.Work != nil && plan.Verdicts != nil {
		var above, targeted int
		var top int32
		example := ""
		for _, name := range c.Cluster.ByNatural {
			i := c.Cluster.NodePos[name]
			if !plan.Verdicts[d][i].ShouldRun {
				continue
			}
			targeted++
			if l := plan.Work.Nodes[name]; l != nil && l.WorkloadPods > 0 && l.MaxWorkloadPriority > prio {
				above++
				if example == "" || l.MaxWorkloadPriority > top {
					top, example = l.MaxWorkloadPriority, name
				}
			}
		}
		if above == 0 {
			return f, false
		}
		f.Reason, f.Params = report.ReasonBelowWorkloads, report.Params{Other: example}
		f.Cause = "node agent below the priority of the workloads on its nodes"
		f.Message = fmt.Sprintf("%s is a node agent (%s) at priority %d (%s), below Pods on %d of its %d nodes (up to priority %d, on node %s): when such a node is full, they preempt its Pods, and it cannot preempt them", c.Name(), why, prio, class, above, targeted, top, example)
		return f, true
	}
	if gd := globalDefault(plan); gd != nil && gd.Value > prio {
		f.Reason, f.Params = report.ReasonBelowGlobalDefault, report.Params{Other: gd.Name}
		f.Cause = "node agent below the cluster's globalDefault priority"
		f.Message = fmt.Sprintf("%s is a node agent (%s) at priority %d (%s), below the globalDefault class %s (%d) that every Pod without a priorityClassName gets: ordinary workloads preempt its Pods when a node is full", c.Name(), why, prio, class, gd.Name, gd.Value)
		return f, true
	}
	if prio < highestUserPriority && plan.Work == nil {
		// Workloads may use any class up to the highest user-definable
		// priority: only the Pods on its nodes can say.
		c.Report.Unknown = append(c.Report.Unknown, fmt.Sprintf("priority: node agent (%s) at priority %d (%s); whether Pods on its nodes rank above it is unknown without --workloads", why, prio, class))
	}
	return f, false
}

// highestUserPriority is the highest value a PriorityClass other than the
// system ones may have (HighestUserDefinablePriority, pkg/apis/scheduling).
const highestUserPriority = 1000000000

// globalDefault is the cluster's globalDefault PriorityClass, if any (the
// highest, as the Priority admission plugin picks when several claim it).
func globalDefault(plan *placement.Plan) *schedulingv1.PriorityClass {
	var best *schedulingv1.PriorityClass
	for i := range plan.Classes {
		if c := &plan.Classes[i]; c.GlobalDefault && (best == nil || c.Value > best.Value) {
			best = c
		}
	}
	return best
}

// criticalPatch is the command that makes the DaemonSet's Pods
// system-node-critical, with what a namespace other than kube-system may
// need: upstream allows the class in every namespace since Kubernetes 1.17
// (kubernetes#76310), but a cluster may limit it to namespaces with a
// ResourceQuota that names it (the ResourceQuota admission plugin's
// limitedResources; some providers configure it).
func (c dsContext) criticalPatch(f *report.Finding) {
	ds := c.DS
	s := "{0} (this rolls out every Pod of the DaemonSet)"
	if ds.Namespace != metav1.NamespaceSystem {
		s += fmt.Sprintf("; if the API server limits critical priority classes to namespaces with a quota for them (ResourceQuota admission limitedResources), first create in %s a ResourceQuota with scopeSelector {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [system-node-critical]}]}", ds.Namespace)
	}
	c.AdviseChange(f, owner.Change{What: "priorityClassName", Field: "spec.template.spec.priorityClassName", Value: "system-node-critical"},
		s, explain.KubectlWrite("patch", c.ResourceType(), ds.Name, "-n", ds.Namespace, "--type", "merge", "-p", `{"spec":{"template":{"spec":{"priorityClassName":"system-node-critical"}}}}`))
}

// noMemoryRequest lists the long-running containers (containers and
// restartable init containers) that request no memory, a limit standing in
// for a request as the API server defaults it. Pod-level resources cover
// every container.
func noMemoryRequest(spec *corev1.PodSpec) []string {
	if r := spec.Resources; r != nil {
		if _, ok := r.Requests[corev1.ResourceMemory]; ok {
			return nil
		}
		if _, ok := r.Limits[corev1.ResourceMemory]; ok {
			return nil
		}
	}
	s := capacity.Defaults(spec)
	var out []string
	check := func(c *corev1.Container) {
		if q, ok := c.Resources.Requests[corev1.ResourceMemory]; !ok || q.IsZero() {
			out = append(out, c.Name)
		}
	}
	for i := range s.InitContainers {
		if c := &s.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			check(c)
		}
	}
	for i := range s.Containers {
		check(&s.Containers[i])
	}
	return out
}

func themIt(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

package report

// NodeProblem is a problem type made of the findings a node condition
// explains, across DaemonSets: "Node" + the condition (NodeUnreachable).
// The default view prints it as a PROBLEM; --ignore and --fail-on accept
// it, and select the findings whose NodeCause is that condition.
type NodeProblem struct {
	Type FindingType
	// Condition is the finding's NodeCause.
	Condition string
	// Why says what the node shows.
	Why string
	// Lifecycle: the node is in a planned lifecycle operation (drain,
	// disruption, deletion, shutdown, maintenance) that takes its daemons
	// away on purpose. What it explains is to be waited out, not fixed:
	// an error finding it explains is a warning (SeverityOf). A fault of
	// the DaemonSet on the other nodes keeps its own severity.
	Lifecycle bool
}

// NodeProblems are the node conditions that explain daemon findings,
// strongest first: a node being shut down or deleted explains why it is
// NotReady too, and a NotReady node explains more than a cordoned one.
var NodeProblems = []NodeProblem{
	// Node lifecycle (internal/audit/nodestate).
	{Type: "NodeShuttingDown", Condition: "ShuttingDown", Lifecycle: true, Why: "the node is shutting down: taint node.kubernetes.io/out-of-service, daemon Pods its kubelet rejected or terminated for the shutdown, or condition GracefulNodeShutdownInProgress on a cordoned or not Ready node"},
	{Type: "NodeDeleting", Condition: "Deleting", Lifecycle: true, Why: "Cluster API deletes the node's Machine: annotation cluster.x-k8s.io/delete-machine on a cordoned or not Ready node (Machines are not read)"},
	{Type: "NodeDisrupted", Condition: "Disrupted", Lifecycle: true, Why: "Karpenter disrupts the node (taint karpenter.sh/disrupted): it is drained, then deleted"},
	{Type: "NodeDraining", Condition: "Draining", Lifecycle: true, Why: "the node is being drained: condition DrainInProgress or Drained on a cordoned or not Ready node, or a daemon Pod evicted (Eviction API) on a cordoned node"},
	{Type: "NodeInMaintenance", Condition: "InMaintenance", Lifecycle: true, Why: "the node is in maintenance: condition MaintenanceInProgress on a cordoned or not Ready node"},
	// Node conditions (internal/audit/nodestate).
	{Type: "NodeNotReady", Condition: "NotReady", Why: "the node's Ready condition is False"},
	{Type: "NodeUnreachable", Condition: "Unreachable", Why: "the node's kubelet stopped reporting (Ready is Unknown)"},
	{Type: "NodeNetworkUnavailable", Condition: "NetworkUnavailable", Why: "the node's network is not configured (NetworkUnavailable is True)"},
	{Type: "NodeMemoryPressure", Condition: "MemoryPressure", Why: "the kubelet reports memory pressure"},
	{Type: "NodeDiskPressure", Condition: "DiskPressure", Why: "the kubelet reports disk pressure"},
	{Type: "NodePIDPressure", Condition: "PIDPressure", Why: "the kubelet reports PID pressure"},
	{Type: "NodeCordoned", Condition: "Cordoned", Why: "the node is cordoned (spec.unschedulable): only a missing daemon Pod is put down to it"},
}

// nodeProblemType returns the problem type of a node condition, "" when the
// condition is not one of NodeProblems.
func nodeProblemType(cond string) FindingType {
	for _, np := range NodeProblems {
		if np.Condition == cond {
			return np.Type
		}
	}
	return ""
}

// LifecycleCause says whether a NodeCause is a node lifecycle operation
// (NodeProblem.Lifecycle): what it explains is waited out.
func LifecycleCause(cond string) bool {
	for _, np := range NodeProblems {
		if np.Condition == cond {
			return np.Lifecycle
		}
	}
	return false
}

// knownNodeProblem says whether t names a NodeProblem.
func knownNodeProblem(t FindingType) bool {
	for _, np := range NodeProblems {
		if np.Type == t {
			return true
		}
	}
	return false
}

// Ignored says whether --ignore (types) drops the finding: by its type, or
// by the node problem its node condition makes it part of.
func Ignored(types map[FindingType]bool, f *Finding) bool {
	if types[f.Type] {
		return true
	}
	return f.NodeCause != "" && types[nodeProblemType(f.NodeCause)]
}

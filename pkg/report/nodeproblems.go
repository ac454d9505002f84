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
}

// NodeProblems are the node conditions that explain daemon findings,
// strongest first (a node that is NotReady explains more than a cordoned
// one).
var NodeProblems = []NodeProblem{
	{"NodeNotReady", "NotReady", "the node's Ready condition is False"},
	{"NodeUnreachable", "Unreachable", "the node's kubelet stopped reporting (Ready is Unknown)"},
	{"NodeNetworkUnavailable", "NetworkUnavailable", "the node's network is not configured (NetworkUnavailable is True)"},
	{"NodeMemoryPressure", "MemoryPressure", "the kubelet reports memory pressure"},
	{"NodeDiskPressure", "DiskPressure", "the kubelet reports disk pressure"},
	{"NodePIDPressure", "PIDPressure", "the kubelet reports PID pressure"},
	{"NodeCordoned", "Cordoned", "the node is cordoned (spec.unschedulable): only a missing daemon Pod is put down to it"},
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

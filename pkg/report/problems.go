package report

// Problem is one cause, with every node and DaemonSet it affects: findings of
// one DaemonSet that share a type and a cause (the same image failing to
// pull, the same untolerated taint, the same old revision ...), or findings
// of several DaemonSets on one node that a node condition explains (NotReady,
// cordoned, under pressure). The default view prints one row per problem;
// Findings refers to the per-node findings it stands for.
type Problem struct {
	// ID is stable across runs: the type and cause key of its group, and
	// its DaemonSet when it is one DaemonSet's own.
	ID string `json:"id"`
	// Type is the finding type the problem groups, or a node-level kind
	// (NodeNotReady, NodeUnreachable, NodeCordoned, NodePressure,
	// NodeNetworkUnavailable).
	Type     string   `json:"type"`
	Severity Severity `json:"severity"`
	// Failing is true when any of its findings fails the gate.
	Failing bool `json:"failing"`
	// DaemonSets affected, as namespace/name, sorted.
	DaemonSets []string `json:"daemonSets"`
	// Nodes affected, in natural order ("node-9" before "node-10"); Range
	// writes them compactly ("worker-01…24 except 07").
	Nodes []string `json:"nodes"`
	Range string   `json:"nodeRange"`
	// Cause says in one line what is wrong; Fix what to do.
	Cause string `json:"cause"`
	Fix   string `json:"fix"`
	// Advice is Fix as data (see Finding.Advice).
	Advice *Advice `json:"advice,omitempty"`
	// Pattern, when set, names what the affected nodes share and the
	// healthy ones lack (an instance type, a zone, an OS or arch ...).
	Pattern string `json:"pattern,omitempty"`
	// Findings are the per-node findings the problem stands for.
	Findings []FindingRef `json:"findings"`
}

// FindingRef points at a finding by its ID, and, for convenience, at
// daemonSets[i].findings[j] by the DaemonSet's namespace/name and the
// finding's index in this report (the index is valid only in the report
// that holds the problem; the ID in every report).
type FindingRef struct {
	ID        string `json:"id"`
	DaemonSet string `json:"daemonSet"`
	Index     int    `json:"index"`
}

// CoverageGap is a group of nodes a DaemonSet does not target, for one reason
// in one node pool. Informational: a coverage policy makes it a finding
// (UncoveredNode).
type CoverageGap struct {
	// Pool is the node pool (from the usual pool labels, else the
	// instance type; "" when the nodes carry neither).
	Pool   string `json:"pool,omitempty"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	Range  string `json:"nodeRange"`
}

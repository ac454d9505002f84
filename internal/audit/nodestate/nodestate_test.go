package nodestate

import (
	"testing"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Every node condition the audit puts findings down to is a node problem
// the report's vocabulary names (so --ignore and --fail-on accept it).
func TestNodeCausesAreNodeProblems(t *testing.T) {
	conds := []string{NotReady, Unreachable, NetworkUnavailable, MemoryPressure, DiskPressure, PIDPressure, Cordoned}
	for _, c := range conds {
		found := false
		for _, np := range report.NodeProblems {
			found = found || (np.Condition == c && string(np.Type) == report.ReasonNodeConditionPrefix+c)
		}
		if !found {
			t.Errorf("node cause %s has no report.NodeProblems entry", c)
		}
	}
}

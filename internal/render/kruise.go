package render

import (
	"fmt"
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// kindName is the DaemonSet's name in tables: the bare name for a core
// DaemonSet, RESOURCE/NAME for another kind (an OpenKruise Advanced
// DaemonSet reads daemonset.apps.kruise.io/NAME, as kubectl get prints it
// when kinds are mixed), so the two cannot be taken for each other.
func kindName(ds *report.DaemonSetReport) string {
	if ds.Resource == "" {
		return ds.Name
	}
	return ds.Resource + "/" + ds.Name
}

// kruiseHeader is the describe view's lines for an Advanced DaemonSet: its
// kind, and what its controller leaves undone on purpose.
func kruiseHeader(ds *report.DaemonSetReport) [][2]string {
	k := ds.Kruise
	if k == nil {
		return nil
	}
	kv := [][2]string{{"Kind", "DaemonSet." + ds.Group + " (" + k.APIVersion + ", OpenKruise Advanced DaemonSet)"}}
	var ru []string
	if k.Partition != "" {
		ru = append(ru, fmt.Sprintf("partition %s (%d nodes)", k.Partition, k.PartitionNodes))
	}
	if k.UpdateSelector != "" {
		ru = append(ru, "selector "+k.UpdateSelector)
	}
	if k.Paused {
		ru = append(ru, "paused")
	}
	if k.PartitionedScaling {
		ru = append(ru, "partitioned scaling")
	}
	if len(ru) > 0 {
		kv = append(kv, [2]string{"Rolling Update", strings.Join(ru, ", ")})
	}
	if len(k.HeldNodes) > 0 {
		var hs []string
		for _, h := range k.HeldNodes {
			hs = append(hs, h.Node+" ("+h.Why+")")
		}
		kv = append(kv, [2]string{"Kept Old On Purpose", strings.Join(hs, ", ")})
	}
	if len(k.NotCreatedNodes) > 0 {
		kv = append(kv, [2]string{"Not Created On Purpose", strings.Join(k.NotCreatedNodes, ", ")})
	}
	return kv
}

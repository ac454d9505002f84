package decode

import (
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// An input holding a core DaemonSet and an Advanced one (kubectl get
// ds,daemonsets.apps.kruise.io -A -o json) reads both, each with its own
// Pods by owner group; selecting by name keeps the Kruise record with it.
func TestAdvancedDaemonSetFromFiles(t *testing.T) {
	core := fixture.DaemonSet("ns", "core")
	adv := fixture.DaemonSet("ns", "ads")
	pc := fixture.Pod(&core, "n1")
	pa := fixture.Pod(&adv, "n1")
	pa.OwnerReferences[0].APIVersion = "apps.kruise.io/v1alpha1"
	n1 := fixture.Node("n1")
	advObj := map[string]any{
		"apiVersion": "apps.kruise.io/v1alpha1", "kind": "DaemonSet", "metadata": adv.ObjectMeta,
		"spec": map[string]any{"selector": adv.Spec.Selector, "template": adv.Spec.Template,
			"updateStrategy": map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": 1, "paused": true}}},
	}
	// kubectl get of two kinds prints a List whose items keep their kind.
	in := `{"apiVersion":"v1","kind":"List","items":[` + mustJSON(t, &core) + "," + mustJSON(t, advObj) + "]}\n" +
		jsonList(t, "PodList", "v1", &pc, &pa) + jsonList(t, "NodeList", "v1", &n1)
	snap, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonSets) != 2 || len(snap.Kruise) != 1 || !snap.Kruise[0].Paused || snap.Kruise[0].Partition.IntValue() != 1 {
		t.Fatalf("daemonsets %d, kruise %+v", len(snap.DaemonSets), snap.Kruise)
	}
	if len(snap.DaemonPods) != 2 || len(snap.Missing) != 0 || len(warningsWith(snap, "ignored")) != 0 {
		t.Fatalf("pods %d, missing %v, warnings %v", len(snap.DaemonPods), snap.Missing, snap.Warnings)
	}
	snap, err = Files([]string{"-"}, strings.NewReader(in), collect.Options{Namespace: "ns", Name: "core"})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonSets) != 1 || model.IsKruise(&snap.DaemonSets[0]) || len(snap.Kruise) != 0 || len(snap.DaemonPods) != 1 || snap.DaemonPods[0].OwnerGroup != "" {
		t.Fatalf("selecting the core DaemonSet kept %d DaemonSets, kruise %v, pods %v", len(snap.DaemonSets), snap.Kruise, snap.DaemonPods)
	}
}

package decode_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// A dump of a cluster up to 1.15 holds extensions/v1beta1 DaemonSets whose
// spec.templateGeneration, not a ControllerRevision hash, says which Pods
// are current: read through -f, they are judged as their controller did
// (every Pod "(old)", UP-TO-DATE 0 and a StaleStatus blaming the
// controller, before).
func TestExtensionsV1beta1DumpIsJudgedByTemplateGeneration(t *testing.T) {
	dump := `apiVersion: v1
kind: List
items:
- apiVersion: extensions/v1beta1
  kind: DaemonSet
  metadata: {name: agent, namespace: kube-system, uid: ds-uid, generation: 3, creationTimestamp: "2019-01-01T00:00:00Z"}
  spec:
    templateGeneration: 3
    selector: {matchLabels: {app: agent}}
    updateStrategy: {type: OnDelete}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: agent, image: agent:3}]}
  status: {desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2, observedGeneration: 3}
- apiVersion: v1
  kind: Node
  metadata: {name: node-1, uid: n1}
  status: {conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2019-06-01T00:00:00Z"}]}
- apiVersion: v1
  kind: Node
  metadata: {name: node-2, uid: n2}
  status: {conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2019-06-01T00:00:00Z"}]}
`
	for i, node := range []string{"node-1", "node-2"} {
		dump += `- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-` + string(rune('a'+i)) + `
    namespace: kube-system
    uid: p` + node + `
    creationTimestamp: "2019-05-01T00:00:00Z"
    labels: {app: agent, pod-template-generation: "3", controller-revision-hash: "1a2b3c"}
    ownerReferences: [{apiVersion: extensions/v1beta1, kind: DaemonSet, name: agent, uid: ds-uid, controller: true}]
  spec: {nodeName: ` + node + `, containers: [{name: agent, image: agent:3}]}
  status: {phase: Running, conditions: [{type: Ready, status: "True", lastTransitionTime: "2019-05-01T00:01:00Z"}]}
`
	}
	file := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(file, []byte(dump), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := decode.Files([]string{file}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	dr := rep.DaemonSets[0]
	if dr.Computed == nil || dr.Computed.UpdatedNumberScheduled != 2 {
		t.Fatalf("updated %+v, want 2 (the Pods' pod-template-generation is the spec's)", dr.Computed)
	}
	for _, f := range dr.Findings {
		if f.Type == report.OutdatedPod || f.Type == report.StaleStatus {
			t.Errorf("%s: %s", f.Type, f.Message)
		}
	}
}

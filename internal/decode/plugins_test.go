package decode_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

// A dump with kubectl get csinodes,csidrivers,resourceslices -o yaml: the
// registrations are read at every version whose fields mean the same, a
// pool-wide slice is no node's, an alpha version is ignored, not guessed.
const pluginDump = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: n1
    uid: u-n1
    annotations:
      csi.volume.kubernetes.io/nodeid: '{"ebs.csi.aws.com":"i-1"}'
      node.alpha.kubernetes.io/ttl: "0"
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: ebs-csi-node, namespace: kube-system, uid: u-ds}
  spec:
    selector: {matchLabels: {app: ebs}}
    template:
      metadata: {labels: {app: ebs}}
      spec: {containers: [{name: c, image: i}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: kube-system, uid: u-p}
  spec: {nodeName: n1, containers: [{name: c, image: i}]}
- apiVersion: storage.k8s.io/v1
  kind: CSINode
  metadata: {name: n2, uid: u-c2, resourceVersion: "5"}
  spec:
    drivers:
    - {name: efs.csi.aws.com, nodeID: i-2}
    - {name: ebs.csi.aws.com, nodeID: i-2}
- apiVersion: storage.k8s.io/v1
  kind: CSINode
  metadata: {name: n1, uid: u-c1, resourceVersion: "4"}
  spec: {drivers: [{name: ebs.csi.aws.com, nodeID: i-1}]}
- apiVersion: storage.k8s.io/v1
  kind: CSIDriver
  metadata: {name: ebs.csi.aws.com, uid: u-d1}
  spec: {attachRequired: true}
- apiVersion: resource.k8s.io/v1beta1
  kind: ResourceSlice
  metadata: {name: n1-gpu, uid: u-s1}
  spec: {driver: gpu.example.com, nodeName: n1, pool: {name: n1, generation: 1, resourceSliceCount: 1}}
- apiVersion: resource.k8s.io/v1
  kind: ResourceSlice
  metadata: {name: everywhere, uid: u-s2}
  spec: {driver: net.example.com, allNodes: true, pool: {name: p, generation: 1, resourceSliceCount: 1}}
- apiVersion: resource.k8s.io/v1alpha3
  kind: ResourceSlice
  metadata: {name: old, uid: u-s3}
  spec: {driver: old.example.com, nodeName: n1}
`

func TestFilesReadPluginRegistrations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dump.yaml")
	if err := os.WriteFile(path, []byte(pluginDump), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := decode.Files([]string{path}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := snap.Plugins
	if !p.CSINodesRead || len(p.CSINodes) != 2 || p.CSINodes[0].Node != "n1" || strings.Join(p.CSINodes[1].Drivers, ",") != "ebs.csi.aws.com,efs.csi.aws.com" {
		t.Errorf("csinodes %+v (read %v)", p.CSINodes, p.CSINodesRead)
	}
	if !p.CSIDriversRead || strings.Join(p.CSIDrivers, ",") != "ebs.csi.aws.com" {
		t.Errorf("csidrivers %v (read %v)", p.CSIDrivers, p.CSIDriversRead)
	}
	if !p.ResourceSlicesRead || len(p.ResourceSlices) != 1 || p.ResourceSlices[0] != (model.ResourceSlice{Name: "n1-gpu", Driver: "gpu.example.com", Node: "n1"}) {
		t.Errorf("resourceslices %+v (read %v)", p.ResourceSlices, p.ResourceSlicesRead)
	}
	if len(snap.Missing) != 0 {
		t.Errorf("nothing is missing: %v", snap.Missing)
	}
	// The kubelet's registration annotation is kept (other annotations
	// are dropped): the registrations where CSINodes are not read.
	if a := snap.Nodes[0].Annotations; len(a) != 1 || a[model.CSINodeIDAnnotation] != `{"ebs.csi.aws.com":"i-1"}` {
		t.Errorf("node annotations kept: %v", a)
	}

	// Without them: unread, and not partial.
	plain, _, _ := strings.Cut(pluginDump, "- apiVersion: storage.k8s.io/v1")
	if err := os.WriteFile(path, []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err = decode.Files([]string{path}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Plugins.CSINodesRead || snap.Plugins.CSIDriversRead || snap.Plugins.ResourceSlicesRead || len(snap.Missing) != 0 {
		t.Errorf("a dump without registrations: %+v, missing %v", snap.Plugins, snap.Missing)
	}
}

package audit_test

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/apiconv"
	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// extensionsDaemonSet is `kubectl get ds -o json` of a 1.14 cluster (kubectl
// then preferred extensions/v1beta1): spec.templateGeneration, no template
// generation annotation (the server's conversion drops it from the stored
// object), the extensions/v1beta1 default updateStrategy OnDelete.
// The cluster was upgraded from 1.8, whose controller hashed revisions
// differently: the Pods made then carry a hash no ControllerRevision has
// any more, and only their pod-template-generation tells they are current.
const extensionsDaemonSet = `{
  "apiVersion": "extensions/v1beta1",
  "kind": "DaemonSet",
  "metadata": {
    "creationTimestamp": "2017-11-02T09:14:27Z",
    "generation": 2,
    "labels": {"k8s-app": "fluentd-es"},
    "name": "fluentd-es",
    "namespace": "logging",
    "resourceVersion": "48213977",
    "selfLink": "/apis/extensions/v1beta1/namespaces/logging/daemonsets/fluentd-es",
    "uid": "5b0e6c1a-bfb1-11e7-9a3c-0a580a2c0010"
  },
  "spec": {
    "revisionHistoryLimit": 10,
    "selector": {"matchLabels": {"k8s-app": "fluentd-es"}},
    "template": {
      "metadata": {"creationTimestamp": null, "labels": {"k8s-app": "fluentd-es"}},
      "spec": {
        "containers": [{
          "image": "k8s.gcr.io/fluentd-elasticsearch:v2.0.4",
          "imagePullPolicy": "IfNotPresent",
          "name": "fluentd-es",
          "resources": {"limits": {"memory": "500Mi"}, "requests": {"cpu": "100m", "memory": "200Mi"}},
          "terminationMessagePath": "/dev/termination-log",
          "terminationMessagePolicy": "File"
        }],
        "dnsPolicy": "ClusterFirst",
        "priorityClassName": "system-node-critical",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30
      }
    },
    "templateGeneration": 2,
    "updateStrategy": {"type": "OnDelete"}
  },
  "status": {
    "currentNumberScheduled": 3,
    "desiredNumberScheduled": 3,
    "numberAvailable": 3,
    "numberMisscheduled": 0,
    "numberReady": 3,
    "observedGeneration": 2,
    "updatedNumberScheduled": 2
  }
}`

// Hashes as the two controllers wrote them: 1.8's decimal FNV, and the
// current revision's after the upgrade.
const (
	hashOf18Gen1 = "1264863637"
	hashOf18Gen2 = "2877395404"
	hashCurrent  = "6f9d8b5c7"
)

func extensionsCluster(t *testing.T) (*model.Snapshot, appsv1.DaemonSet) {
	t.Helper()
	var ds appsv1.DaemonSet
	if err := json.Unmarshal([]byte(extensionsDaemonSet), &ds); err != nil {
		t.Fatal(err)
	}
	if err := apiconv.KeepTemplateGeneration(&ds, []byte(extensionsDaemonSet)); err != nil {
		t.Fatal(err)
	}
	at := func(hash, gen string) fixture.PodOpt {
		return func(p *corev1.Pod) {
			p.Labels = map[string]string{"k8s-app": "fluentd-es", "controller-revision-hash": hash, "pod-template-generation": gen}
			p.OwnerReferences[0].APIVersion = "extensions/v1beta1"
		}
	}
	pods := []corev1.Pod{
		fixture.Pod(&ds, "node-1", at(hashOf18Gen2, "2")),
		fixture.Pod(&ds, "node-2", at(hashOf18Gen2, "2")),
		fixture.Pod(&ds, "node-3", at(hashOf18Gen1, "1")),
	}
	cur := fixture.Revision(&ds, 3)
	cur.Labels = map[string]string{"k8s-app": "fluentd-es", "controller-revision-hash": hashCurrent}
	s := &model.Snapshot{ServerVersion: "v1.14.10", Nodes: detecttest.ReadyNodes("node-1", "node-2", "node-3"),
		DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(pods...), ControllerRevisions: []appsv1.ControllerRevision{cur}}
	return s, ds
}

// An extensions/v1beta1 DaemonSet is judged as the controller of its day
// judged it (IsPodUpdated: hash OR template generation): the two Pods at
// generation 2 are current although their hash is not, the published
// status (2 updated) is right, and the one Pod at generation 1 is outdated.
func TestExtensionsV1beta1TemplateGeneration(t *testing.T) {
	s, _ := extensionsCluster(t)
	rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	dr := rep.DaemonSets[0]
	if dr.Computed == nil || dr.Computed.UpdatedNumberScheduled != 2 {
		t.Fatalf("computed %+v, want updatedNumberScheduled 2", dr.Computed)
	}
	for _, nv := range dr.Nodes {
		want := nv.Name != "node-3"
		if len(nv.Pods) != 1 || nv.Pods[0].Updated != want {
			t.Errorf("node %s: pods %+v, want one with updated=%v", nv.Name, nv.Pods, want)
		}
	}
	var outdated []report.Finding
	for _, f := range dr.Findings {
		switch f.Type {
		case report.StaleStatus:
			t.Errorf("StaleStatus on a status that is right: %s", f.Message)
		case report.OutdatedPod:
			outdated = append(outdated, f)
		}
	}
	if len(outdated) != 1 || outdated[0].Node != "node-3" {
		t.Fatalf("OutdatedPod findings %s, want one on node-3", detecttest.DescribeFindings(outdated))
	}
	// OnDelete: the Pods to delete are those neither on the current hash
	// nor on the current generation, not the two current by generation.
	fix := outdated[0].Suggestion
	for _, want := range []string{"-l 'k8s-app=fluentd-es,controller-revision-hash!=" + hashCurrent + ",pod-template-generation!=2'"} {
		if !strings.Contains(fix, want) {
			t.Errorf("suggestion %q lacks %q", fix, want)
		}
	}
}

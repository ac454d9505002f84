package drift_test

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

const (
	digestA = "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
	digestB = "sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"
)

// withImageID sets the imageID the runtime reports for every container.
func withImageID(id string) fixture.PodOpt {
	return func(p *corev1.Pod) {
		for i := range p.Status.ContainerStatuses {
			p.Status.ContainerStatuses[i].ImageID = id
		}
	}
}

func TestImageDriftDetector(t *testing.T) {
	repo := "registry.example.com/agent"
	rev := agentRevision()
	ids := func(byNode map[string]string) func(ds *appsv1.DaemonSet) []corev1.Pod {
		return func(ds *appsv1.DaemonSet) []corev1.Pod {
			var out []corev1.Pod
			for _, n := range []string{"n1", "n2", "n3", "n4"} {
				if id, ok := byNode[n]; ok {
					out = append(out, fixture.Pod(ds, n, withImageID(id)))
				}
			}
			return out
		}
	}
	amd := func(names ...string) []corev1.Node {
		out := make([]corev1.Node, len(names))
		for i, n := range names {
			out[i] = fixture.Node(n, detecttest.OnArch("amd64"))
		}
		return out
	}
	detecttest.Run(t, report.ImageDrift, []detecttest.Case{
		{
			Name:  "every node runs one digest: no finding",
			Nodes: amd("n1", "n2", "n3"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: ids(map[string]string{"n1": repo + "@" + digestA, "n2": repo + "@" + digestA, "n3": repo + "@" + digestA}),
		},
		{
			Name:  "one node runs another digest of the tag: reported there, with the digests counted and a pin by digest",
			Nodes: amd("n1", "n2", "n3"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: ids(map[string]string{"n1": repo + "@" + digestA, "n2": repo + "@" + digestB, "n3": "docker-pullable://" + repo + "@" + digestA}),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning,
				Cause:   "container agent of revision " + rev + " on linux/amd64 runs image registry.example.com/agent:v1 as digest sha256:bbbbbbbbbbbb, most nodes as sha256:aaaaaaaaaaaa: the tag moved between pulls",
				Message: []string{"run 2 digests of it: sha256:aaaaaaaaaaaa on 2 nodes, sha256:bbbbbbbbbbbb on 1 node"},
				Fix:     []string{"kubectl set image daemonset/agent -n ns agent=registry.example.com/agent:v1@" + digestA}}},
		},
		{
			Name:  "digests differ by platform only (a runtime reporting per-platform manifests): no finding",
			Nodes: []corev1.Node{fixture.Node("n1", detecttest.OnArch("amd64")), fixture.Node("n2", detecttest.OnArch("arm64"))}, DS: fixture.DaemonSet("ns", "agent"),
			Pods: ids(map[string]string{"n1": repo + "@" + digestA, "n2": repo + "@" + digestB}),
		},
		{
			Name:  "a bare image ID beside a repository digest is not compared",
			Nodes: amd("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: ids(map[string]string{"n1": repo + "@" + digestA, "n2": digestB}),
		},
		{
			Name:  "Pods of different revisions may run different builds: no finding",
			Nodes: amd("n1", "n2"), DS: fixture.DaemonSet("ns", "agent", fixture.Generation(2)),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", withImageID(repo+"@"+digestA)), fixture.Pod(ds, "n2", fixture.AtGeneration(ds, 2), withImageID(repo+"@"+digestB))}
			},
		},
		{
			Name:  "bare image IDs that differ: reported, pinned in words (an image ID is no pull reference)",
			Nodes: amd("n1", "n2", "n3"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: ids(map[string]string{"n1": digestA, "n2": digestA, "n3": digestB}),
			Want: []detecttest.Want{{Node: "n3", Severity: report.SeverityWarning, Fix: []string{"pin the image by digest (image@sha256:...)", "kubectl get pods -n ns -l app.kubernetes.io/name=agent"}}},
		},
	})
}

// agentRevision is the first revision's hash of fixture DaemonSet ns/agent.
func agentRevision() string {
	ds := fixture.DaemonSet("ns", "agent")
	return fixture.Hash(&ds, 1)
}

// TestImageDriftIsGroupedWithParams checks the data behind the finding:
// the digest, platform, container and revision as parameters, and one
// problem for the nodes of one digest.
func TestImageDriftIsGroupedWithParams(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	repo := "registry.example.com/agent@"
	var nodes []corev1.Node
	var pods []corev1.Pod
	for i, n := range []string{"n1", "n2", "n3", "n4", "n5"} {
		nodes = append(nodes, fixture.Node(n, detecttest.OnArch("arm64")))
		id := repo + digestA
		if i >= 3 {
			id = repo + digestB
		}
		pods = append(pods, fixture.Pod(&ds, n, withImageID(id), fixture.PodCreatedAgo(time.Hour)))
	}
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1))
	r := detecttest.Analyze(s, audit.Options{})
	var got []report.Finding
	for _, f := range detecttest.FindingsOf(r, "ns/agent") {
		if f.Type == report.ImageDrift {
			got = append(got, f)
		}
	}
	if len(got) != 2 || got[0].Node != "n4" || got[1].Node != "n5" {
		t.Fatalf("want drift on n4 and n5:\n%s", detecttest.DescribeFindings(got))
	}
	want := report.Params{Image: "registry.example.com/agent:v1", Other: "agent", Revision: agentRevision(), Platform: "linux/arm64", Digest: digestB}
	if !reflect.DeepEqual(got[0].Params, want) || got[0].Reason != report.ReasonDigestDiffers {
		t.Errorf("params %+v reason %s, want %+v", got[0].Params, got[0].Reason, want)
	}
	var problems int
	for _, p := range r.Problems {
		if p.Type == string(report.ImageDrift) {
			problems++
			if strings.Join(p.Nodes, ",") != "n4,n5" {
				t.Errorf("problem nodes %v, want n4,n5", p.Nodes)
			}
		}
	}
	if problems != 1 {
		t.Errorf("%d ImageDrift problems, want 1", problems)
	}
}

// Interning: the compact record of two Pods that run one image shares the
// imageID's bytes, whatever strings the decoder made.
func TestCompactInternsImageIDs(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	a := fixture.Pod(&ds, "n1", withImageID(strings.Clone("registry.example.com/agent@"+digestA)))
	b := fixture.Pod(&ds, "n2", withImageID(strings.Clone("registry.example.com/agent@"+digestA)))
	ca, cb := model.Compact(&a), model.Compact(&b)
	if ca.Containers[0].ImageID != "registry.example.com/agent@"+digestA {
		t.Fatalf("imageID %q", ca.Containers[0].ImageID)
	}
	if unsafe.StringData(ca.Containers[0].ImageID) != unsafe.StringData(cb.Containers[0].ImageID) {
		t.Error("the two Pods' imageIDs are separate copies, want one shared string")
	}
}

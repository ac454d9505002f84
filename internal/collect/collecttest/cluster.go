package collecttest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Fixture is the small cluster the tests of Live and of the watches start
// from: DaemonSets a and b in namespace agents, a's revision, node n1 and
// a's Pod on it, and a stray Pod with a's labels but another controller.
func Fixture() *fake.Clientset {
	ds := fixture.DaemonSet("agents", "a")
	other := fixture.DaemonSet("agents", "b")
	rev := fixture.Revision(&ds, 1)
	n1 := fixture.Node("n1")
	n1.Status.Images = []corev1.ContainerImage{{Names: []string{"big"}}}
	p1 := fixture.Pod(&ds, "n1")
	p1.Spec.Volumes = []corev1.Volume{{Name: "v"}}
	// Same labels as a's Pods, but another controller: must not be kept for
	// a (an orphan would be: see collect's TestKeepPodClaims).
	stray := fixture.Pod(&ds, "n1", fixture.Named("stray"))
	stray.OwnerReferences[0].UID = "someone-else"
	return fake.NewClientset([]runtime.Object{&ds, &other, &rev, &n1, &p1, &stray}...)
}

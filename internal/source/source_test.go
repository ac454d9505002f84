package source

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// A namespace is in the input when any object of it is, not only a
// DaemonSet: -n on a namespace without DaemonSets is not a typo.
func TestHasNamespace(t *testing.T) {
	snap := &model.Snapshot{
		DaemonSets:          []appsv1.DaemonSet{{ObjectMeta: metav1.ObjectMeta{Namespace: "ds"}}},
		ControllerRevisions: []appsv1.ControllerRevision{{ObjectMeta: metav1.ObjectMeta{Namespace: "rev"}}},
		Events:              []corev1.Event{{ObjectMeta: metav1.ObjectMeta{Namespace: "ev"}}},
	}
	for ns, want := range map[string]bool{"ds": true, "rev": true, "ev": true, "typo": false} {
		if got := HasNamespace(snap, ns); got != want {
			t.Errorf("HasNamespace(%q) = %v, want %v", ns, got, want)
		}
	}
}

package collect

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// nonTerminal is the scheduler's own field selector for the Pods that use
// a node (pkg/scheduler/scheduler.go, NewInformerFactory): the server drops
// finished Pods before they are sent.
var nonTerminal = fields.AndSelectors(
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
	fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
).String()

// readWorkloads lists every non-terminal Pod of the cluster, page by page
// (protobuf, the server-side field selector), and sums each page into the
// per-node load as it arrives: a decoded page is garbage once summed, so
// memory stays at one page plus the per-node records, whatever the number
// of Pods.
func readWorkloads(ctx context.Context, cs Client, chunk int64) (*model.Workloads, error) {
	w := model.NewWorkloads()
	_, err := listPages(ctx, chunk, metav1.ListOptions{FieldSelector: nonTerminal}, func(ctx context.Context, o metav1.ListOptions) ([]struct{}, metav1.ListMeta, error) {
		l, err := cs.ListPods(ctx, "", o)
		if err != nil {
			return nil, metav1.ListMeta{}, err
		}
		if o.Continue == "" {
			// The first page of a (re)started list: a list restarted
			// after its continue token expired reads everything again,
			// so what the abandoned attempt summed is dropped.
			w = model.NewWorkloads()
		}
		for i := range l.Items {
			w.AddLoad(LoadOf(&l.Items[i]))
		}
		return nil, l.ListMeta, nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

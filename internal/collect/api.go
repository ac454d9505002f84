package collect

import (
	"context"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// api issues the reads of Live. With a real clientset it builds the GET
// requests itself rather than calling the typed List methods, because those
//   - set .Timeout(0), dropping the per-request timeout (--request-timeout)
//     from the request's context,
//   - retry up to 10 times on Retry-After by themselves (a second retry loop
//     under pageWithRetry; 11 x 5 GETs per page),
//   - decode into the expected type, so a 200 answer `{}` or a PodList sent
//     for DaemonSets reads as an empty list.
//
// Here every request has MaxRetries(0), keeps the client's timeout, and
// decodes by the kind the body declares, which must be the list kind asked
// for. A fake clientset (unit tests) has no REST client: typed calls then.
type api struct {
	cs                Client
	core, apps, sched *rest.RESTClient
}

func newAPI(cs Client) *api {
	a := &api{cs: cs}
	if rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient); ok && rc != nil {
		a.core = rc
	}
	if rc, ok := cs.AppsV1().RESTClient().(*rest.RESTClient); ok && rc != nil {
		a.apps = rc
	}
	if rc, ok := cs.SchedulingV1().RESTClient().(*rest.RESTClient); ok && rc != nil {
		a.sched = rc
	}
	return a
}

// UnexpectedResponseError is a 200 answer that is not what was asked for:
// a proxy's error page, `{}`, another kind. Treating it as an empty list
// would pass a gate on a cluster nobody looked at.
type UnexpectedResponseError struct {
	Want, Got string
}

func (e *UnexpectedResponseError) Error() string {
	return fmt.Sprintf("the server answered with %s instead of a %s (is a proxy in the way?)", shorten(e.Got, 200), e.Want)
}

// get reads one object or list from rc and checks that it is an L.
func get[L runtime.Object](ctx context.Context, rc *rest.RESTClient, resource, ns, name string, o *metav1.ListOptions) (L, error) {
	var zero L
	req := rc.Get().NamespaceIfScoped(ns, ns != "").Resource(resource).MaxRetries(0)
	if name != "" {
		req = req.Name(name)
	}
	if o != nil {
		req = req.VersionedParams(o, scheme.ParameterCodec)
		if o.Limit == 0 {
			ctx = context.WithValue(ctx, wholeListKey{}, true)
		}
	}
	res := req.Do(ctx)
	if err := res.Error(); err != nil {
		return zero, err
	}
	want := reflect.TypeFor[L]().Elem().Name()
	obj, err := res.Get()
	if err != nil {
		return zero, &UnexpectedResponseError{Want: want, Got: "a body that is not one (" + err.Error() + ")"}
	}
	l, ok := obj.(L)
	if !ok {
		return zero, &UnexpectedResponseError{Want: want, Got: "a " + reflect.TypeOf(obj).Elem().Name()}
	}
	return l, nil
}

func (a *api) daemonSets(ctx context.Context, ns string, o metav1.ListOptions) (*appsv1.DaemonSetList, error) {
	if a.apps == nil {
		return a.cs.AppsV1().DaemonSets(ns).List(ctx, o)
	}
	return get[*appsv1.DaemonSetList](ctx, a.apps, "daemonsets", ns, "", &o)
}

func (a *api) revisions(ctx context.Context, ns string, o metav1.ListOptions) (*appsv1.ControllerRevisionList, error) {
	if a.apps == nil {
		return a.cs.AppsV1().ControllerRevisions(ns).List(ctx, o)
	}
	return get[*appsv1.ControllerRevisionList](ctx, a.apps, "controllerrevisions", ns, "", &o)
}

func (a *api) nodes(ctx context.Context, o metav1.ListOptions) (*corev1.NodeList, error) {
	if a.core == nil {
		return a.cs.CoreV1().Nodes().List(ctx, o)
	}
	return get[*corev1.NodeList](ctx, a.core, "nodes", "", "", &o)
}

func (a *api) node(ctx context.Context, name string) (*corev1.Node, error) {
	if a.core == nil {
		return a.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	return get[*corev1.Node](ctx, a.core, "nodes", "", name, nil)
}

func (a *api) pods(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.PodList, error) {
	if a.core == nil {
		return a.cs.CoreV1().Pods(ns).List(ctx, o)
	}
	return get[*corev1.PodList](ctx, a.core, "pods", ns, "", &o)
}

func (a *api) priorityClasses(ctx context.Context, o metav1.ListOptions) (*schedulingv1.PriorityClassList, error) {
	if a.sched == nil {
		return a.cs.SchedulingV1().PriorityClasses().List(ctx, o)
	}
	return get[*schedulingv1.PriorityClassList](ctx, a.sched, "priorityclasses", "", "", &o)
}

func (a *api) events(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.EventList, error) {
	if a.core == nil {
		return a.cs.CoreV1().Events(ns).List(ctx, o)
	}
	return get[*corev1.EventList](ctx, a.core, "events", ns, "", &o)
}

// shorten keeps an error text to one readable line: server messages may
// carry a whole HTML page.
func shorten(s string, n int) string {
	s = text.OneLine(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/daemoncheck/daemoncheck/internal/text"
)

// readScheme knows the kinds daemoncheck reads and nothing else: an answer of
// another kind does not decode (UnexpectedResponseError). Its codecs speak
// protobuf and JSON (YAML has no watch framing); CBOR is not offered.
var (
	readScheme  = runtime.NewScheme()
	codecs      = serializer.NewCodecFactory(readScheme)
	paramsCodec = runtime.NewParameterCodec(readScheme)
)

func init() {
	// As client-go's scheme: metav1's options and Status, then the groups.
	metav1.AddToGroupVersion(readScheme, schema.GroupVersion{Version: "v1"})
	utilruntime.Must(corev1.AddToScheme(readScheme))
	utilruntime.Must(appsv1.AddToScheme(readScheme))
	utilruntime.Must(schedulingv1.AddToScheme(readScheme))
	utilruntime.Must(storagev1.AddToScheme(readScheme))
}

// restClient is the Client NewClient builds: one REST client per API group,
// sharing one http client and one rate limiter, as client-go's clientset.
//
// It builds every request itself rather than use client-go's typed clients,
// which
//   - set .Timeout(0) on lists, dropping the per-request timeout
//     (--request-timeout) from the request's context,
//   - retry up to 10 times on Retry-After by themselves (a second retry loop
//     under pageWithRetry; 11 x 5 GETs per page),
//   - decode into the expected type, so a 200 answer `{}` or a PodList sent
//     for DaemonSets reads as an empty list.
//
// Here every request has MaxRetries(0), keeps the client's timeout, and
// decodes by the kind the body declares, which must be the kind asked for.
type restClient struct {
	core, apps, sched *rest.RESTClient
	hc                *http.Client
	// readiness reads node-readiness-controller's CRD (readiness.go).
	readiness *rest.RESTClient
	// storage reads CSINodes and CSIDrivers (plugins.go).
	storage *rest.RESTClient
}

func newRESTClient(cfg *rest.Config, hc *http.Client) (*restClient, error) {
	c := *cfg
	if c.RateLimiter == nil && c.QPS > 0 {
		if c.Burst <= 0 {
			return nil, fmt.Errorf("burst is required to be greater than 0 when RateLimiter is not set and QPS is set to greater than 0")
		}
		c.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
	}
	group := func(gv schema.GroupVersion, apiPath string) (*rest.RESTClient, error) {
		g := c
		g.GroupVersion, g.APIPath = &gv, apiPath
		g.NegotiatedSerializer = codecs.WithoutConversion()
		return rest.RESTClientForConfigAndClient(&g, hc)
	}
	rc := &restClient{hc: hc}
	var err error
	if rc.core, err = group(corev1.SchemeGroupVersion, "/api"); err != nil {
		return nil, err
	}
	if rc.apps, err = group(appsv1.SchemeGroupVersion, "/apis"); err != nil {
		return nil, err
	}
	if rc.sched, err = group(schedulingv1.SchemeGroupVersion, "/apis"); err != nil {
		return nil, err
	}
	if rc.readiness, err = group(ReadinessGroupVersion, "/apis"); err != nil {
		return nil, err
	}
	if rc.storage, err = group(storagev1.SchemeGroupVersion, "/apis"); err != nil {
		return nil, err
	}
	return rc, nil
}

// Transport is the client's round tripper (tests look through it).
func (c *restClient) Transport() http.RoundTripper { return c.hc.Transport }

// UnexpectedResponseError is a 200 answer that is not what was asked for:
// a proxy's error page, `{}`, another kind. Treating it as an empty list
// would pass a gate on a cluster nobody looked at.
type UnexpectedResponseError struct {
	Want, Got string
}

func (e *UnexpectedResponseError) Error() string {
	return fmt.Sprintf("the server answered with %s instead of a %s (is a proxy in the way?)", text.Shorten(e.Got, 200), e.Want)
}

// get reads one object or list from rc and checks that it is an L.
func get[L runtime.Object](ctx context.Context, rc *rest.RESTClient, resource, ns, name string, o *metav1.ListOptions) (L, error) {
	var zero L
	req := rc.Get().NamespaceIfScoped(ns, ns != "").Resource(resource).MaxRetries(0)
	if name != "" {
		req = req.Name(name)
	}
	if o != nil {
		req = req.VersionedParams(o, paramsCodec)
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

// watchFrom opens a watch as client-go's typed clients do (the server ends
// it after o.TimeoutSeconds, the Reflector's random 5-10 minutes; client-go
// retries the opening on Retry-After, capped by the transport), marked as a
// watch for the transport's caps: the stream as a whole has MaxListBytes,
// each event MaxEventBytes.
func watchFrom(ctx context.Context, rc *rest.RESTClient, resource, ns string, o metav1.ListOptions) (watch.Interface, error) {
	var timeout time.Duration
	if o.TimeoutSeconds != nil {
		timeout = time.Duration(*o.TimeoutSeconds) * time.Second
	}
	o.Watch = true
	ctx = context.WithValue(ctx, watchKey{}, true)
	return rc.Get().NamespaceIfScoped(ns, ns != "").Resource(resource).
		VersionedParams(&o, paramsCodec).Timeout(timeout).Watch(ctx)
}

func (c *restClient) ListDaemonSets(ctx context.Context, ns string, o metav1.ListOptions) (*appsv1.DaemonSetList, error) {
	return get[*appsv1.DaemonSetList](ctx, c.apps, "daemonsets", ns, "", &o)
}

func (c *restClient) ListControllerRevisions(ctx context.Context, ns string, o metav1.ListOptions) (*appsv1.ControllerRevisionList, error) {
	return get[*appsv1.ControllerRevisionList](ctx, c.apps, "controllerrevisions", ns, "", &o)
}

func (c *restClient) ListNodes(ctx context.Context, o metav1.ListOptions) (*corev1.NodeList, error) {
	return get[*corev1.NodeList](ctx, c.core, "nodes", "", "", &o)
}

func (c *restClient) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	return get[*corev1.Node](ctx, c.core, "nodes", "", name, nil)
}

func (c *restClient) ListPods(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.PodList, error) {
	return get[*corev1.PodList](ctx, c.core, "pods", ns, "", &o)
}

func (c *restClient) ListEvents(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.EventList, error) {
	return get[*corev1.EventList](ctx, c.core, "events", ns, "", &o)
}

func (c *restClient) ListPriorityClasses(ctx context.Context, o metav1.ListOptions) (*schedulingv1.PriorityClassList, error) {
	return get[*schedulingv1.PriorityClassList](ctx, c.sched, "priorityclasses", "", "", &o)
}

func (c *restClient) ListNamespaces(ctx context.Context, o metav1.ListOptions) (*corev1.NamespaceList, error) {
	return get[*corev1.NamespaceList](ctx, c.core, "namespaces", "", "", &o)
}

func (c *restClient) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return get[*corev1.Namespace](ctx, c.core, "namespaces", "", name, nil)
}

func (c *restClient) WatchDaemonSets(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	return watchFrom(ctx, c.apps, "daemonsets", ns, o)
}

func (c *restClient) WatchControllerRevisions(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	return watchFrom(ctx, c.apps, "controllerrevisions", ns, o)
}

func (c *restClient) WatchNodes(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return watchFrom(ctx, c.core, "nodes", "", o)
}

func (c *restClient) WatchPods(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	return watchFrom(ctx, c.core, "pods", ns, o)
}

// ServerVersion is GET /version, as discovery reads it, without linking
// discovery (its OpenAPI models were most of what it cost).
func (c *restClient) ServerVersion(ctx context.Context) (*version.Info, error) {
	body, err := c.core.Get().AbsPath("/version").MaxRetries(0).Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var info version.Info
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, &UnexpectedResponseError{Want: "version", Got: "a body that is not one (" + err.Error() + ")"}
	}
	return &info, nil
}

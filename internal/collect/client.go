package collect

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"k8s.io/client-go/discovery"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	schedulingv1client "k8s.io/client-go/kubernetes/typed/scheduling/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// Client is what daemoncheck reads with: three API groups and discovery
// (the server version). client-go's full clientset (kubernetes.Interface,
// what tests pass as fakes) satisfies it, but the binary links only these
// groups' typed clients instead of all of client-go's (the API types and
// apply configurations of ~60 group versions: a quarter of the binary).
type Client interface {
	CoreV1() corev1client.CoreV1Interface
	AppsV1() appsv1client.AppsV1Interface
	SchedulingV1() schedulingv1client.SchedulingV1Interface
	Discovery() discovery.DiscoveryInterfaces
}

// clientset is the Client NewClient builds.
type clientset struct {
	core       *corev1client.CoreV1Client
	apps       *appsv1client.AppsV1Client
	scheduling *schedulingv1client.SchedulingV1Client
	discovery  *discovery.DiscoveryClient
}

func (c *clientset) CoreV1() corev1client.CoreV1Interface { return c.core }
func (c *clientset) AppsV1() appsv1client.AppsV1Interface { return c.apps }
func (c *clientset) SchedulingV1() schedulingv1client.SchedulingV1Interface {
	return c.scheduling
}
func (c *clientset) Discovery() discovery.DiscoveryInterfaces { return c.discovery }

// newClientset builds the typed clients as kubernetes.NewForConfigAndClient
// does: one http client and one rate limiter shared by every group.
func newClientset(cfg *rest.Config, hc *http.Client) (*clientset, error) {
	c := *cfg
	if c.RateLimiter == nil && c.QPS > 0 {
		if c.Burst <= 0 {
			return nil, fmt.Errorf("burst is required to be greater than 0 when RateLimiter is not set and QPS is set to greater than 0")
		}
		c.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
	}
	var cs clientset
	var err error
	if cs.core, err = corev1client.NewForConfigAndClient(&c, hc); err != nil {
		return nil, err
	}
	if cs.apps, err = appsv1client.NewForConfigAndClient(&c, hc); err != nil {
		return nil, err
	}
	if cs.scheduling, err = schedulingv1client.NewForConfigAndClient(&c, hc); err != nil {
		return nil, err
	}
	if cs.discovery, err = discovery.NewDiscoveryClientForConfigAndClient(&c, hc); err != nil {
		return nil, err
	}
	return &cs, nil
}

// Bounds on what one server may make a run do. They are variables so tests
// (and, if ever needed, flags) can lower them.
var (
	// MaxPageBytes caps one response of a paginated list (and any GET), as
	// the client sees it after gzip decompression. A 500-Pod page is a few
	// MB; etcd refuses objects over 1.5 MiB, so even 85 maximal objects fit.
	MaxPageBytes int64 = 128 << 20
	// MaxListBytes caps one unpaginated list response (--chunk-size 0, or
	// the fallback after repeated 410s): a 60k-Pod namespace in protobuf is
	// ~250 MB, so 1 GiB leaves room without letting a hostile server fill
	// memory unboundedly.
	MaxListBytes int64 = 1 << 30
	// RetryAfterCap is the longest a Retry-After answer may make a retry
	// wait. Servers send Retry-After: 1 under load; a proxy sending 3600
	// must not park a CI job for an hour.
	RetryAfterCap = 5 * time.Second
)

// NewClient builds the Client daemoncheck reads with. It is the one place
// where the transport is bounded, so that the readers in this package can
// rely on it:
//
//   - protobuf first (smaller, faster to decode than JSON), JSON accepted;
//   - QPS 50 / burst 100: a run is a short burst of parallel lists;
//   - redirects to another host (or from https to http) are refused: the
//     transport would send the bearer token along;
//   - every response body is capped (MaxPageBytes, MaxListBytes for
//     unpaginated lists), counted after gzip decompression;
//   - Retry-After headers are capped at RetryAfterCap. The list calls of
//     this package disable client-go's own retries (MaxRetries(0)) so that
//     pageWithRetry is the only retry loop; the cap also bounds whatever
//     else uses this client through typed calls.
//
// cfg.Timeout (--request-timeout) bounds each request; the caller's context
// bounds the whole run.
func NewClient(cfg *rest.Config) (Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS, cfg.Burst = 50, 100
	if cfg.UserAgent == "" || cfg.UserAgent == rest.DefaultKubernetesUserAgent() {
		cfg.UserAgent = "kubectl-daemoncheck"
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	hc.Transport = &boundedTransport{next: hc.Transport}
	hc.CheckRedirect = refuseCrossHostRedirect
	return newClientset(cfg, hc)
}

// refuseCrossHostRedirect allows redirects within the server (same scheme
// and host) and refuses others: the auth round trippers inside the
// transport add the bearer token to every request, redirected or not.
func refuseCrossHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		return fmt.Errorf("refusing a redirect from %s://%s to %s://%s: credentials would go to another server", first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	return nil
}

// ResponseTooLargeError says a response exceeded its cap.
type ResponseTooLargeError struct {
	URL   string
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("response to %s is larger than %d MiB; refusing to read more (a proxy or a hostile server?)", e.URL, e.Limit>>20)
}

type boundedTransport struct{ next http.RoundTripper }

// WrappedRoundTripper lets client-go's helpers (utilnet.RoundTripperWrapper)
// see the transport underneath, as its own wrappers do.
func (t *boundedTransport) WrappedRoundTripper() http.RoundTripper { return t.next }

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	limit := MaxPageBytes
	if req.Context().Value(wholeListKey{}) != nil {
		limit = MaxListBytes
	}
	u := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, &ResponseTooLargeError{URL: u, Limit: limit}
	}
	resp.Body = &cappedBody{rc: resp.Body, left: limit, err: &ResponseTooLargeError{URL: u, Limit: limit}}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		// client-go reads whole seconds only (anything else means no wait).
		if s, err := strconv.Atoi(ra); err == nil && time.Duration(s)*time.Second > RetryAfterCap {
			resp.Header.Set("Retry-After", strconv.Itoa(int(RetryAfterCap/time.Second)))
		}
	}
	return resp, nil
}

// wholeListKey marks, in a request's context, a list without a page limit,
// whose answer may be the whole collection (see MaxListBytes).
type wholeListKey struct{}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte past the cap proves the body is larger.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, b.err
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

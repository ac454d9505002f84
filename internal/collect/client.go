package collect

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// Client is every call daemoncheck makes to an API server: lists, two gets,
// the watches of -w and --wait, and the server version. Nothing writes.
//
// NewClient builds it on client-go's REST client with a scheme of the three
// API groups read (core/v1, apps/v1, scheduling.k8s.io/v1), instead of
// client-go's typed clientset: that one registers every group of
// k8s.io/api, its apply configurations and discovery's OpenAPI models,
// which were a sixth of the binary. Tests adapt client-go's fake clientset
// to this interface (package collecttest).
type Client interface {
	ListDaemonSets(ctx context.Context, namespace string, o metav1.ListOptions) (*appsv1.DaemonSetList, error)
	ListControllerRevisions(ctx context.Context, namespace string, o metav1.ListOptions) (*appsv1.ControllerRevisionList, error)
	ListNodes(ctx context.Context, o metav1.ListOptions) (*corev1.NodeList, error)
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
	ListPods(ctx context.Context, namespace string, o metav1.ListOptions) (*corev1.PodList, error)
	ListEvents(ctx context.Context, namespace string, o metav1.ListOptions) (*corev1.EventList, error)
	ListPriorityClasses(ctx context.Context, o metav1.ListOptions) (*schedulingv1.PriorityClassList, error)
	ListNamespaces(ctx context.Context, o metav1.ListOptions) (*corev1.NamespaceList, error)
	GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error)

	// Node-plugin registrations (plugins.go): CSINodes and CSIDrivers
	// (storage.k8s.io/v1), the versions of resource.k8s.io the server
	// serves (nil when none), and its node-local ResourceSlices at one of
	// them.
	ListCSINodes(ctx context.Context, o metav1.ListOptions) (*storagev1.CSINodeList, error)
	ListCSIDrivers(ctx context.Context, o metav1.ListOptions) (*storagev1.CSIDriverList, error)
	ResourceVersions(ctx context.Context) ([]string, error)
	ListResourceSlices(ctx context.Context, version string, o metav1.ListOptions) (*model.ResourceSliceList, error)

	WatchDaemonSets(ctx context.Context, namespace string, o metav1.ListOptions) (watch.Interface, error)
	WatchControllerRevisions(ctx context.Context, namespace string, o metav1.ListOptions) (watch.Interface, error)
	WatchNodes(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
	WatchPods(ctx context.Context, namespace string, o metav1.ListOptions) (watch.Interface, error)

	// ServerVersion is GET /version.
	ServerVersion(ctx context.Context) (*version.Info, error)
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
	// memory unboundedly. A watch stream, one long response, has this cap
	// too.
	MaxListBytes int64 = 1 << 30
	// MaxEventBytes caps one event of a watch stream. etcd refuses objects
	// over 1.5 MiB (its default --max-request-bytes), and the JSON of an
	// object is at most a few times its stored protobuf; 16 MiB is ten times
	// that, and the size client-go's stream decoder already refuses for a
	// protobuf event. Without it, the JSON decoder buffers one event whole:
	// a 300 MB event took -w from 48 MB to 1.2 GB.
	MaxEventBytes int64 = 16 << 20
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
//     unpaginated lists and watches), counted after gzip decompression, and
//     each event of a watch stream at MaxEventBytes;
//   - Retry-After headers are capped at RetryAfterCap. Every list and get
//     has client-go's own retries off (MaxRetries(0)) so that pageWithRetry
//     is the only retry loop;
//   - a credential plugin (kubeconfig users[].user.exec) that does not
//     return, such as an SSO login waiting for a browser, gives up at the
//     request's deadline (see pluginDeadline);
//   - a password in the server URL (https://user:password@host) is moved
//     into basic auth before client-go sees the URL, so no request URL it
//     builds, logs (-v 6) or puts in an error holds it.
//
// cfg.Timeout (--request-timeout) bounds each request; the caller's context
// bounds the whole run.
func NewClient(cfg *rest.Config) (Client, error) {
	cfg = rest.CopyConfig(cfg)
	moveUserinfo(cfg)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS, cfg.Burst = 50, 100
	if cfg.UserAgent == "" || cfg.UserAgent == rest.DefaultKubernetesUserAgent() {
		cfg.UserAgent = "kubectl-daemoncheck"
	}
	if cfg.ExecProvider != nil {
		cfg.Wrap(markCredentialsObtained)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	hc.Transport = &boundedTransport{next: hc.Transport}
	if cfg.ExecProvider != nil {
		hc.Transport = &pluginDeadline{next: hc.Transport, command: cfg.ExecProvider.Command}
	}
	hc.CheckRedirect = refuseCrossHostRedirect
	return newRESTClient(cfg, hc)
}

// Package collecttest adapts client-go's fake clientset to collect.Client,
// for tests only: the binary must not link k8s.io/client-go/kubernetes
// (every API group's types; see collect.Client). It does not import
// collect, so that collect's own tests can use it too.
package collecttest

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// Client makes the calls of collect.Client through a clientset's typed
// clients (a fake one's reactors and tracker). The clientset stays
// reachable, to add objects and reactors.
type Client struct {
	kubernetes.Interface
}

// New adapts cs.
func New(cs kubernetes.Interface) *Client { return &Client{Interface: cs} }

func (c *Client) ListDaemonSets(ctx context.Context, ns string, o metav1.ListOptions) (*appsv1.DaemonSetList, error) {
	return c.AppsV1().DaemonSets(ns).List(ctx, o)
}

func (c *Client) ListControllerRevisions(ctx context.Context, ns string, o metav1.ListOptions) (*appsv1.ControllerRevisionList, error) {
	return c.AppsV1().ControllerRevisions(ns).List(ctx, o)
}

func (c *Client) ListNodes(ctx context.Context, o metav1.ListOptions) (*corev1.NodeList, error) {
	return c.CoreV1().Nodes().List(ctx, o)
}

func (c *Client) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	return c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
}

func (c *Client) ListPods(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.PodList, error) {
	return c.CoreV1().Pods(ns).List(ctx, o)
}

func (c *Client) ListEvents(ctx context.Context, ns string, o metav1.ListOptions) (*corev1.EventList, error) {
	return c.CoreV1().Events(ns).List(ctx, o)
}

func (c *Client) ListPriorityClasses(ctx context.Context, o metav1.ListOptions) (*schedulingv1.PriorityClassList, error) {
	return c.SchedulingV1().PriorityClasses().List(ctx, o)
}

func (c *Client) ListNamespaces(ctx context.Context, o metav1.ListOptions) (*corev1.NamespaceList, error) {
	return c.CoreV1().Namespaces().List(ctx, o)
}

func (c *Client) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return c.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
}

func (c *Client) WatchDaemonSets(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	return c.AppsV1().DaemonSets(ns).Watch(ctx, o)
}

func (c *Client) WatchControllerRevisions(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	return c.AppsV1().ControllerRevisions(ns).Watch(ctx, o)
}

func (c *Client) WatchNodes(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return c.CoreV1().Nodes().Watch(ctx, o)
}

func (c *Client) WatchPods(ctx context.Context, ns string, o metav1.ListOptions) (watch.Interface, error) {
	return c.CoreV1().Pods(ns).Watch(ctx, o)
}

// ServerVersion is the fake discovery's FakedServerVersion.
func (c *Client) ServerVersion(context.Context) (*version.Info, error) {
	return c.Discovery().ServerVersion()
}

func (c *Client) ListCSINodes(ctx context.Context, o metav1.ListOptions) (*storagev1.CSINodeList, error) {
	return c.StorageV1().CSINodes().List(ctx, o)
}

func (c *Client) ListCSIDrivers(ctx context.Context, o metav1.ListOptions) (*storagev1.CSIDriverList, error) {
	return c.StorageV1().CSIDrivers().List(ctx, o)
}

// ResourceVersions answers from the fake's discovery (its Resources): none
// unless a test lists resource.k8s.io there.
func (c *Client) ResourceVersions(ctx context.Context) ([]string, error) {
	groups, err := c.Discovery().ServerGroups()
	if err != nil {
		return nil, err
	}
	for _, g := range groups.Groups {
		if g.Name == "resource.k8s.io" {
			var out []string
			for _, v := range g.Versions {
				out = append(out, v.Version)
			}
			return out, nil
		}
	}
	return nil, nil
}

// ListResourceSlices reads resource.k8s.io/v1 only, which the fake serves.
func (c *Client) ListResourceSlices(ctx context.Context, version string, o metav1.ListOptions) (*model.ResourceSliceList, error) {
	if version != "v1" {
		return nil, fmt.Errorf("collecttest: resource.k8s.io/%s is not served", version)
	}
	l, err := c.ResourceV1().ResourceSlices().List(ctx, o)
	if err != nil {
		return nil, err
	}
	out := &model.ResourceSliceList{ListMeta: l.ListMeta}
	for i := range l.Items {
		if n := l.Items[i].Spec.NodeName; n != nil && *n != "" {
			out.Items = append(out.Items, model.ResourceSlice{Name: l.Items[i].Name, Driver: l.Items[i].Spec.Driver, Node: *n})
		}
	}
	return out, nil
}

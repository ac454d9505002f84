package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// resourceGroup is the API group of Dynamic Resource Allocation.
const resourceGroup = "resource.k8s.io"

// sliceVersions are the resource.k8s.io versions whose ResourceSlices the
// reader understands, preferred first: spec.driver and spec.nodeName mean
// the same in each (v1 since 1.34, v1beta2 in 1.33, v1beta1 in 1.32).
var sliceVersions = []string{"v1", "v1beta2", "v1beta1"}

func (c *restClient) ListCSINodes(ctx context.Context, o metav1.ListOptions) (*storagev1.CSINodeList, error) {
	return get[*storagev1.CSINodeList](ctx, c.storage, "csinodes", "", "", &o)
}

func (c *restClient) ListCSIDrivers(ctx context.Context, o metav1.ListOptions) (*storagev1.CSIDriverList, error) {
	return get[*storagev1.CSIDriverList](ctx, c.storage, "csidrivers", "", "", &o)
}

// ResourceVersions asks discovery which versions of resource.k8s.io the
// server serves (GET /apis/resource.k8s.io, the preferred one first): nil
// when it serves none (404).
func (c *restClient) ResourceVersions(ctx context.Context) ([]string, error) {
	raw, err := c.core.Get().AbsPath("/apis", resourceGroup).SetHeader("Accept", "application/json").MaxRetries(0).Do(ctx).Raw()
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var g metav1.APIGroup
	if err := json.Unmarshal(raw, &g); err != nil || g.Kind != "APIGroup" || g.Name != resourceGroup {
		return nil, &UnexpectedResponseError{Want: "APIGroup " + resourceGroup, Got: "a body that is not one"}
	}
	out := []string{}
	if g.PreferredVersion.Version != "" {
		out = append(out, g.PreferredVersion.Version)
	}
	for _, v := range g.Versions {
		if !slices.Contains(out, v.Version) {
			out = append(out, v.Version)
		}
	}
	return out, nil
}

// sliceListJSON is the part of a ResourceSliceList the reader keeps, the
// same at every version: decoding into it skips the devices, which are
// most of a slice.
type sliceListJSON struct {
	Kind     string          `json:"kind"`
	Metadata metav1.ListMeta `json:"metadata"`
	Items    []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Driver   string `json:"driver"`
			NodeName string `json:"nodeName"`
		} `json:"spec"`
	} `json:"items"`
}

// ListResourceSlices lists the ResourceSlices at one version of
// resource.k8s.io, as JSON into a minimal struct (the scheme the client
// decodes with does not carry the group), keeping the node-local ones.
func (c *restClient) ListResourceSlices(ctx context.Context, version string, o metav1.ListOptions) (*model.ResourceSliceList, error) {
	req := c.core.Get().AbsPath("/apis", resourceGroup, version, "resourceslices").SetHeader("Accept", "application/json").
		MaxRetries(0).VersionedParams(&o, paramsCodec)
	if o.Limit == 0 {
		ctx = context.WithValue(ctx, wholeListKey{}, true)
	}
	raw, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var l sliceListJSON
	if err := json.Unmarshal(raw, &l); err != nil || l.Kind != "ResourceSliceList" {
		return nil, &UnexpectedResponseError{Want: "ResourceSliceList", Got: "a body that is not one"}
	}
	out := &model.ResourceSliceList{ListMeta: l.Metadata}
	for _, it := range l.Items {
		if it.Spec.NodeName != "" {
			out.Items = append(out.Items, model.ResourceSlice{Name: it.Metadata.Name, Driver: it.Spec.Driver, Node: it.Spec.NodeName})
		}
	}
	return out, nil
}

// plugins reads the node-plugin registrations the cross-checks compare the
// plugin DaemonSets with. Each is optional: a Forbidden list is unread
// with the RBAC rule (Missing); a kind the server does not serve is
// unread, not partial.
func (r *liveRead) plugins() {
	r.g.run(func(ctx context.Context) {
		r.progress("reading csinodes")
		nodes, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]model.CSINode, metav1.ListMeta, error) {
			l, err := r.cs.ListCSINodes(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			return CSINodesOf(l.Items), l.ListMeta, nil
		})
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			r.g.fail(model.CSINodes, "", err)
			return
		}
		r.g.locked(func() { r.snap.Plugins.CSINodes, r.snap.Plugins.CSINodesRead = nodes, true })
	})
	r.g.run(func(ctx context.Context) {
		drivers, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]string, metav1.ListMeta, error) {
			l, err := r.cs.ListCSIDrivers(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			names := make([]string, len(l.Items))
			for i := range l.Items {
				names[i] = l.Items[i].Name
			}
			return names, l.ListMeta, nil
		})
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			r.g.fail(model.CSIDrivers, "", err)
			return
		}
		sort.Strings(drivers)
		r.g.locked(func() { r.snap.Plugins.CSIDrivers, r.snap.Plugins.CSIDriversRead = drivers, true })
	})
	r.g.run(func(ctx context.Context) {
		versions, err := r.cs.ResourceVersions(ctx)
		if err != nil {
			r.g.fail(model.ResourceSlices, "", fmt.Errorf("discovery of %s: %w", resourceGroup, err))
			return
		}
		version := ""
		for _, v := range sliceVersions {
			if slices.Contains(versions, v) {
				version = v
				break
			}
		}
		if version == "" {
			// Not served (or only an alpha version): DRA is not in use.
			return
		}
		r.progress("reading resourceslices")
		rs, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]model.ResourceSlice, metav1.ListMeta, error) {
			l, err := r.cs.ListResourceSlices(ctx, version, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			return l.Items, l.ListMeta, nil
		})
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			r.g.fail(model.ResourceSlices, "", err)
			return
		}
		SortSlices(rs)
		r.g.locked(func() {
			r.snap.Plugins.ResourceSlices, r.snap.Plugins.ResourceSlicesRead, r.snap.Plugins.SliceVersion = rs, true, version
		})
	})
}

// CSINodesOf keeps what the cross-checks read of CSINode objects, sorted
// by node.
func CSINodesOf(items []storagev1.CSINode) []model.CSINode {
	out := make([]model.CSINode, 0, len(items))
	for i := range items {
		n := model.CSINode{Node: items[i].Name}
		for _, d := range items[i].Spec.Drivers {
			n.Drivers = append(n.Drivers, d.Name)
		}
		sort.Strings(n.Drivers)
		out = append(out, n)
	}
	SortCSINodes(out)
	return out
}

// SortCSINodes orders CSINodes by node.
func SortCSINodes(ns []model.CSINode) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].Node < ns[j].Node })
}

// SortSlices orders ResourceSlices by node, driver and name.
func SortSlices(rs []model.ResourceSlice) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		if a.Driver != b.Driver {
			return a.Driver < b.Driver
		}
		return a.Name < b.Name
	})
}

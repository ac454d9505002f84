package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/daemoncheck/daemoncheck/internal/kruise"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

// KruiseClient reads OpenKruise's Advanced DaemonSets. It is apart from
// Client because the group is a CRD's, served on some clusters only: the
// REST client implements it; a Client that does not (a test's fake) reads
// none and says nothing about them.
type KruiseClient interface {
	// KruiseDaemonSetVersion asks discovery which version of
	// apps.kruise.io serves daemonsets: the group's preferred version if
	// it does, else the newest that does; "" when none (the CRD is not
	// installed).
	KruiseDaemonSetVersion(ctx context.Context) (string, error)
	// ListKruiseDaemonSets lists Advanced DaemonSets at version in
	// namespace ("" all).
	ListKruiseDaemonSets(ctx context.Context, version, namespace string, o metav1.ListOptions) ([]kruise.Object, metav1.ListMeta, error)
}

// getJSON GETs an absolute path as JSON (a CRD's group has no protobuf and
// is not in the read scheme): the body, or the server's error as an
// apierrors status (Forbidden, NotFound ...).
func (c *restClient) getJSON(ctx context.Context, p string, o *metav1.ListOptions) ([]byte, error) {
	req := c.core.Get().AbsPath(p).SetHeader("Accept", "application/json").MaxRetries(0)
	if o != nil {
		req = req.VersionedParams(o, paramsCodec)
		if o.Limit == 0 {
			ctx = context.WithValue(ctx, wholeListKey{}, true)
		}
	}
	return req.DoRaw(ctx)
}

func (c *restClient) KruiseDaemonSetVersion(ctx context.Context) (string, error) {
	body, err := c.getJSON(ctx, "/apis/"+model.KruiseGroup, nil)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var g metav1.APIGroup
	if err := json.Unmarshal(body, &g); err != nil || g.Kind != "APIGroup" {
		return "", &UnexpectedResponseError{Want: "APIGroup", Got: "a body that is not one"}
	}
	served := map[string]bool{}
	for _, v := range g.Versions {
		served[v.Version] = true
	}
	order := []string{g.PreferredVersion.Version}
	for _, v := range kruise.Versions {
		if v != g.PreferredVersion.Version {
			order = append(order, v)
		}
	}
	for _, v := range order {
		if !served[v] {
			continue
		}
		body, err := c.getJSON(ctx, "/apis/"+model.KruiseGroup+"/"+v, nil)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		var rl metav1.APIResourceList
		if err := json.Unmarshal(body, &rl); err != nil {
			return "", &UnexpectedResponseError{Want: "APIResourceList", Got: "a body that is not one"}
		}
		if slices.ContainsFunc(rl.APIResources, func(r metav1.APIResource) bool { return r.Name == "daemonsets" }) {
			return v, nil
		}
	}
	return "", nil
}

func (c *restClient) ListKruiseDaemonSets(ctx context.Context, version, ns string, o metav1.ListOptions) ([]kruise.Object, metav1.ListMeta, error) {
	p := path.Join("/apis", model.KruiseGroup, version)
	if ns != "" {
		p = path.Join(p, "namespaces", ns)
	}
	body, err := c.getJSON(ctx, path.Join(p, "daemonsets"), &o)
	if err != nil {
		return nil, metav1.ListMeta{}, err
	}
	var l struct {
		Kind     string          `json:"kind"`
		Metadata metav1.ListMeta `json:"metadata"`
		Items    []kruise.Object `json:"items"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, metav1.ListMeta{}, &UnexpectedResponseError{Want: "DaemonSetList", Got: "a body that is not one (" + err.Error() + ")"}
	}
	if l.Kind != "DaemonSetList" {
		return nil, metav1.ListMeta{}, &UnexpectedResponseError{Want: "DaemonSetList", Got: "a " + l.Kind}
	}
	for i := range l.Items {
		if l.Items[i].APIVersion == "" {
			l.Items[i].APIVersion = model.KruiseGroup + "/" + version
		}
	}
	return l.Items, l.Metadata, nil
}

// kruiseRead is what readKruise found: the Advanced DaemonSets converted
// for the engine, their Kruise records, and whether the kind is served or
// could not be read.
type kruiseRead struct {
	dss       []appsv1.DaemonSet
	kruise    []model.KruiseDaemonSet
	notServed *model.NotServed
	gap       *model.Gap
}

// readKruise lists the Advanced DaemonSets opts selects, when the server
// serves them. Not served is not an error and not a gap: the kind does not
// exist there. Forbidden is a gap with the RBAC rule, as for every kind.
// Other errors end the read, as the core DaemonSet list's do.
func readKruise(ctx context.Context, cs Client, opts Options, progress func(string, ...any)) (kruiseRead, error) {
	kc, ok := cs.(KruiseClient)
	if !ok {
		return kruiseRead{}, nil
	}
	v, err := kc.KruiseDaemonSetVersion(ctx)
	if apierrors.IsForbidden(err) {
		// Discovery is open to every authenticated user (system:discovery);
		// a cluster that closed it hides whether the kind exists.
		return kruiseRead{gap: &model.Gap{Reason: "forbidden: cannot ask discovery whether " + model.KruiseGroup + " is served (GET /apis/" + model.KruiseGroup + ")"}}, nil
	}
	if err != nil {
		return kruiseRead{}, shortError(fmt.Errorf("discovering %s: %w", model.KruiseGroup, deadlineWords(ctx, err)))
	}
	if v == "" {
		return kruiseRead{notServed: &model.NotServed{Kind: model.KruiseDaemonSets,
			Reason: "the API server does not serve " + model.KruiseGroup + " daemonsets (OpenKruise is not installed)"}}, nil
	}
	progress("reading advanced daemonsets (%s/%s)", model.KruiseGroup, v)
	lo := metav1.ListOptions{LabelSelector: opts.LabelSelector}
	if opts.Name != "" {
		lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", opts.Name).String()
	}
	objs, err := listAll(ctx, opts.ChunkSize, lo, func(ctx context.Context, o metav1.ListOptions) ([]kruise.Object, metav1.ListMeta, error) {
		return kc.ListKruiseDaemonSets(ctx, v, opts.Namespace, o)
	})
	if apierrors.IsForbidden(err) {
		scope := "a ClusterRole"
		if opts.Namespace != "" {
			scope = "a Role in namespace " + opts.Namespace + " (or a ClusterRole)"
		}
		rule := rbacRule("daemonsets", model.KruiseGroup)
		return kruiseRead{gap: &model.Gap{Reason: fmt.Sprintf("forbidden: cannot list %s%s; add to %s: %s", model.KruiseDaemonSets, ScopeWords(opts.Namespace), scope, rule), Rule: rule}}, nil
	}
	if err != nil {
		return kruiseRead{}, shortError(fmt.Errorf("listing %s%s: %w", model.KruiseDaemonSets, ScopeWords(opts.Namespace), deadlineWords(ctx, err)))
	}
	var r kruiseRead
	for i := range objs {
		ds, k := kruise.Convert(&objs[i])
		r.dss = append(r.dss, ds)
		r.kruise = append(r.kruise, k)
	}
	return r, nil
}

// KeepKruise keeps the Kruise records of the Advanced DaemonSets among dss
// (after selection), in place.
func KeepKruise(all []model.KruiseDaemonSet, dss []appsv1.DaemonSet) []model.KruiseDaemonSet {
	type key struct{ ns, name, uid string }
	kept := map[key]bool{}
	for i := range dss {
		if model.IsKruise(&dss[i]) {
			kept[key{dss[i].Namespace, dss[i].Name, string(dss[i].UID)}] = true
		}
	}
	out := all[:0]
	for _, k := range all {
		if kept[key{k.Namespace, k.Name, string(k.UID)}] {
			out = append(out, k)
		}
	}
	return out
}

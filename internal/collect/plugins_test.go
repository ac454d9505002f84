package collect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func pluginObjects() []runtime.Object {
	ds := fixture.DaemonSet("kube-system", "ebs-csi-node")
	node := "n1"
	return []runtime.Object{
		&ds, ptr(fixture.Node("n1")), ptr(fixture.Node("n2")),
		&storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: "ebs.csi.aws.com", NodeID: "i-2"}, {Name: "efs.csi.aws.com", NodeID: "i-2"}}}},
		&storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: "ebs.csi.aws.com", NodeID: "i-1"}}}},
		&storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com"}},
		&resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: "n1-gpu"}, Spec: resourcev1.ResourceSliceSpec{Driver: "gpu.example.com", NodeName: &node}},
		&resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: "pool-wide"}, Spec: resourcev1.ResourceSliceSpec{Driver: "net.example.com", AllNodes: ptr(true)}},
	}
}

func ptr[T any](v T) *T { return &v }

func TestLiveReadsPluginRegistrations(t *testing.T) {
	cs := fake.NewClientset(pluginObjects()...)
	// The fake serves resource.k8s.io/v1 only once its discovery says so.
	cs.Resources = []*metav1.APIResourceList{{GroupVersion: "resource.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "resourceslices", Kind: "ResourceSlice"}}}}
	snap, err := collect.Live(context.Background(), collecttest.New(cs), "https://test", collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := snap.Plugins
	if !p.CSINodesRead || len(p.CSINodes) != 2 || p.CSINodes[0].Node != "n1" || strings.Join(p.CSINodes[1].Drivers, ",") != "ebs.csi.aws.com,efs.csi.aws.com" {
		t.Errorf("csinodes %+v (read %v)", p.CSINodes, p.CSINodesRead)
	}
	if !p.CSIDriversRead || strings.Join(p.CSIDrivers, ",") != "ebs.csi.aws.com" {
		t.Errorf("csidrivers %v (read %v)", p.CSIDrivers, p.CSIDriversRead)
	}
	// Only node-local slices are kept: a pool-wide one is no node's plugin.
	if !p.ResourceSlicesRead || p.SliceVersion != "v1" || len(p.ResourceSlices) != 1 || p.ResourceSlices[0] != (model.ResourceSlice{Name: "n1-gpu", Driver: "gpu.example.com", Node: "n1"}) {
		t.Errorf("resourceslices %+v (read %v at %q)", p.ResourceSlices, p.ResourceSlicesRead, p.SliceVersion)
	}
	if len(snap.Missing) != 0 {
		t.Errorf("nothing is missing: %v", snap.Missing)
	}
}

func TestLivePluginRegistrationsForbiddenOrNotServed(t *testing.T) {
	cs := fake.NewClientset(pluginObjects()...)
	fixture.Forbid(cs, "csinodes")
	fixture.Forbid(cs, "csidrivers")
	snap, err := collect.Live(context.Background(), collecttest.New(cs), "https://test", collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for kind, rule := range map[model.Kind]string{
		model.CSINodes:   "apiGroups: [storage.k8s.io], resources: [csinodes], verbs: [get, list]",
		model.CSIDrivers: "apiGroups: [storage.k8s.io], resources: [csidrivers], verbs: [get, list]",
	} {
		if gap, ok := snap.Missing[kind]; !ok || gap.Rule != rule {
			t.Errorf("%s gap %+v (ok %v), want the rule %s", kind, gap, ok, rule)
		}
	}
	if snap.Plugins.CSINodesRead || snap.Plugins.CSIDriversRead {
		t.Errorf("a refused list is not read: %+v", snap.Plugins)
	}
	// resource.k8s.io is not in the fake's discovery: unread, and not
	// partial either.
	if _, ok := snap.Missing[model.ResourceSlices]; ok || snap.Plugins.ResourceSlicesRead {
		t.Errorf("resourceslices not served must be neither read nor missing: %+v %v", snap.Plugins, snap.Missing)
	}
	if !snap.Has(model.Pods) {
		t.Error("the daemon Pods must still be read")
	}
	// Only the plugin cross-checks use them: the audit lists them as
	// unread, optional, and is not partial for them (a role made before
	// they were read keeps passing a healthy cluster).
	rep := audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	if rep.Partial || len(rep.Unread) != 2 || !rep.Unread[0].Optional || !rep.Unread[1].Optional {
		t.Errorf("partial %v, unread %+v: want two optional unread kinds and no partial report", rep.Partial, rep.Unread)
	}
}

// A plugin kind whose list fails (not refused: a server error) does not
// fail the read; it is unread, as a refused one is.
func TestLivePluginRegistrationsFailingListDoesNotFailTheRead(t *testing.T) {
	cs := fake.NewClientset(pluginObjects()...)
	cs.PrependReactor("list", "csinodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewInternalError(errors.New("etcdserver: request timed out"))
	})
	snap, err := collect.Live(context.Background(), collecttest.New(cs), "https://test", collect.Options{})
	if err != nil {
		t.Fatalf("a failing csinodes list failed the read: %v", err)
	}
	if gap, ok := snap.Missing[model.CSINodes]; !ok || !gap.Optional || !strings.Contains(gap.Reason, "timed out") {
		t.Errorf("csinodes gap %+v (ok %v)", gap, ok)
	}
	if !snap.Plugins.CSIDriversRead || !snap.Has(model.Nodes) {
		t.Errorf("the other kinds must still be read: %+v", snap.Plugins)
	}
}

// The REST client finds the served resource.k8s.io version by discovery and
// reads ResourceSlices as JSON into the few fields kept, at a beta version
// too.
func TestRESTClientResourceSlicesByDiscovery(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/resource.k8s.io":
			_, _ = w.Write([]byte(`{"kind":"APIGroup","apiVersion":"v1","name":"resource.k8s.io","versions":[{"groupVersion":"resource.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"resource.k8s.io/v1beta1","version":"v1beta1"}}`))
		case "/apis/resource.k8s.io/v1beta1/resourceslices":
			_, _ = w.Write([]byte(`{"kind":"ResourceSliceList","apiVersion":"resource.k8s.io/v1beta1","metadata":{"resourceVersion":"7"},"items":[` +
				`{"metadata":{"name":"n1-gpu"},"spec":{"driver":"gpu.example.com","nodeName":"n1","pool":{"name":"n1","generation":1,"resourceSliceCount":1},"devices":[{"name":"gpu-0","basic":{}}]}},` +
				`{"metadata":{"name":"all"},"spec":{"driver":"net.example.com","allNodes":true,"pool":{"name":"p","generation":1,"resourceSliceCount":1}}}]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`))
		}
	}))
	defer srv.Close()
	c, err := collect.NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	versions, err := c.ResourceVersions(context.Background())
	if err != nil || strings.Join(versions, ",") != "v1beta1" {
		t.Fatalf("versions %v, %v", versions, err)
	}
	l, err := c.ListResourceSlices(context.Background(), "v1beta1", metav1.ListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if l.ResourceVersion != "7" || len(l.Items) != 1 || l.Items[0] != (model.ResourceSlice{Name: "n1-gpu", Driver: "gpu.example.com", Node: "n1"}) {
		t.Errorf("slices %+v", l)
	}
	// A server without the group: nil, no error.
	srv404 := httptest.NewServer(http.NotFoundHandler())
	defer srv404.Close()
	c404, err := collect.NewClient(&rest.Config{Host: srv404.URL})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c404.ResourceVersions(context.Background()); err != nil || v != nil {
		t.Errorf("not served: %v, %v", v, err)
	}
}

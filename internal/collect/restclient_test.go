package collect

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// protobufBody is obj as the API server sends it in protobuf (the "k8s\x00"
// envelope with its kind).
func protobufBody(t *testing.T, obj runtime.Object, gvk string) []byte {
	t.Helper()
	apiVersion, kind, _ := strings.Cut(gvk, ",")
	obj.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(apiVersion, kind))
	b, err := runtime.Encode(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// protobufFrame is one event of a protobuf watch stream: a WatchEvent
// (without envelope) after its 4-byte length.
func protobufFrame(t *testing.T, typ watch.EventType, obj []byte) []byte {
	t.Helper()
	ev := &metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: obj}}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// The client NewClient builds reads what the typed clientset read: it asks
// for protobuf first, sends ListOptions as the typed clients do, decodes
// protobuf lists and watch streams of each group, and reads /version.
func TestRESTClientReadsProtobufAndVersion(t *testing.T) {
	ds := fixture.DaemonSet("agents", "agent")
	node := fixture.Node("n1")
	var mu sync.Mutex
	queries := map[string]string{}
	accepts := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries[r.URL.Path] = r.URL.RawQuery
		accepts[r.URL.Path] = r.Header.Get("Accept")
		mu.Unlock()
		switch {
		case r.URL.Path == "/version":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
		case r.URL.Path == "/apis/apps/v1/namespaces/agents/daemonsets":
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			_, _ = w.Write(protobufBody(t, &appsv1.DaemonSetList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}, Items: []appsv1.DaemonSet{ds}}, "apps/v1,DaemonSetList"))
		case r.URL.Path == "/api/v1/nodes" && r.URL.Query().Get("watch") == "true":
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf;stream=watch")
			n := node
			n.ResourceVersion = "8"
			_, _ = w.Write(protobufFrame(t, watch.Modified, protobufBody(t, &n, "v1,Node")))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cs, err := NewClient(&rest.Config{Host: srv.URL, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	l, err := cs.ListDaemonSets(ctx, "agents", metav1.ListOptions{LabelSelector: "app=agent", FieldSelector: "metadata.name=agent", Limit: 500, Continue: "c1"})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "agent" || l.ResourceVersion != "7" {
		t.Fatalf("list: %v %+v", err, l)
	}
	q := queries["/apis/apps/v1/namespaces/agents/daemonsets"]
	for _, want := range []string{"labelSelector=app%3Dagent", "fieldSelector=metadata.name%3Dagent", "limit=500", "continue=c1", "timeout=10s"} {
		if !strings.Contains(q, want) {
			t.Errorf("list query %q lacks %s", q, want)
		}
	}
	if a := accepts["/apis/apps/v1/namespaces/agents/daemonsets"]; !strings.HasPrefix(a, "application/vnd.kubernetes.protobuf") {
		t.Errorf("Accept %q, want protobuf first", a)
	}

	v, err := cs.ServerVersion(ctx)
	if err != nil || v.GitVersion != "v1.37.2" {
		t.Fatalf("version: %v %+v", err, v)
	}

	wi, err := cs.WatchNodes(ctx, metav1.ListOptions{ResourceVersion: "7"})
	if err != nil {
		t.Fatal(err)
	}
	defer wi.Stop()
	select {
	case ev := <-wi.ResultChan():
		n, ok := ev.Object.(*corev1.Node)
		if ev.Type != watch.Modified || !ok || n.Name != "n1" || n.ResourceVersion != "8" {
			t.Fatalf("watch event %s %#v", ev.Type, ev.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event")
	}
	if q := queries["/api/v1/nodes"]; !strings.Contains(q, "resourceVersion=7") || !strings.Contains(q, "watch=true") {
		t.Errorf("watch query %q", q)
	}
}

// A kind outside the three groups read does not decode: the client's
// scheme knows only what daemoncheck reads.
func TestRESTClientRefusesKindsItDoesNotRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"JobList","apiVersion":"batch/v1","metadata":{},"items":[]}`))
	}))
	defer srv.Close()
	cs, err := NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.ListPods(context.Background(), "", metav1.ListOptions{})
	if _, ok := err.(*UnexpectedResponseError); !ok {
		t.Fatalf("a JobList for pods: %v, want UnexpectedResponseError", err)
	}
}

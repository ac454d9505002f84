package collecttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// What a fake API server on loopback answers, for the tests of the client's
// bounds (collect) and of the watches on it (watcher): a small healthy
// cluster, and watch streams a hostile server would send.

// ServeHealthy answers a list as a small healthy cluster does: one
// DaemonSet (a/agent), one node (n1), its Pod; no revisions, events or
// PriorityClasses. Other paths are not found.
func ServeHealthy(w http.ResponseWriter, r *http.Request) {
	for suffix, obj := range healthy() {
		if strings.HasSuffix(r.URL.Path, suffix) {
			WriteJSON(w, obj)
			return
		}
	}
	http.NotFound(w, r)
}

// healthy is ServeHealthy's answer per path suffix, built once.
var healthy = sync.OnceValue(func() map[string]k8sruntime.Object {
	ds := fixture.DaemonSet("a", "agent")
	node := fixture.Node("n1")
	pod := fixture.Pod(&ds, "n1")
	return map[string]k8sruntime.Object{
		"/daemonsets":          &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}, Items: []appsv1.DaemonSet{ds}},
		"/nodes":               &corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, Items: []corev1.Node{node}},
		"/pods":                &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: []corev1.Pod{pod}},
		"/controllerrevisions": &appsv1.ControllerRevisionList{TypeMeta: metav1.TypeMeta{Kind: "ControllerRevisionList", APIVersion: "apps/v1"}},
		"/events":              &corev1.EventList{TypeMeta: metav1.TypeMeta{Kind: "EventList", APIVersion: "v1"}},
		"/priorityclasses":     &schedulingv1.PriorityClassList{TypeMeta: metav1.TypeMeta{Kind: "PriorityClassList", APIVersion: "scheduling.k8s.io/v1"}},
	}
})

// WriteJSON answers with obj as JSON.
func WriteJSON(w http.ResponseWriter, obj any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(obj)
}

// WatchServer answers watches (?watch=true) with stream, flushed, and holds
// the connection until the client leaves; lists as ServeHealthy does. It
// closes when the test ends.
func WatchServer(t testing.TB, contentType string, stream func(w io.Writer, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" {
			ServeHealthy(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if stream != nil {
			stream(w, r)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// HugeJSONEvent writes one well-formed JSON watch event of about size
// bytes, as a hostile server would, a chunk at a time (it is never held
// whole), and counts what it wrote; it stops when the client hangs up.
func HugeJSONEvent(w io.Writer, size int, written *atomic.Int64) {
	n, _ := fmt.Fprint(w, `{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"`)
	written.Add(int64(n))
	chunk := []byte(strings.Repeat("x", 64<<10))
	for sent := 0; sent < size; sent += len(chunk) {
		n, err := w.Write(chunk)
		written.Add(int64(n))
		if err != nil {
			return
		}
	}
	_, _ = fmt.Fprint(w, `"}}}`+"\n")
}

// Allocated is the bytes allocated so far (runtime.MemStats.TotalAlloc):
// what a decoder buffered counts even if it is garbage by now.
func Allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

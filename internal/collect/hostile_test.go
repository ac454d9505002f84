package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// hostile is a fake API server on loopback: it serves a small healthy
// cluster (collecttest.ServeHealthy) unless a test overrides the answer for
// a path suffix, and counts requests per path.
type hostile struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	total atomic.Int32
	auths []string
	over  map[string]http.HandlerFunc
}

func newHostile(t *testing.T, over map[string]http.HandlerFunc) *hostile {
	t.Helper()
	h := &hostile{hits: map[string]int{}, over: over}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.total.Add(1)
		h.mu.Lock()
		h.hits[r.URL.Path]++
		h.auths = append(h.auths, r.Header.Get("Authorization"))
		h.mu.Unlock()
		for suffix, f := range h.over {
			if strings.HasSuffix(r.URL.Path, suffix) {
				f(w, r)
				return
			}
		}
		collecttest.ServeHealthy(w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostile) count(suffix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, c := range h.hits {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

func status(code int, reason metav1.StatusReason, retryAfter int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if retryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
		}
		w.WriteHeader(code)
		st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Code: int32(code), Reason: reason, Message: "injected"}
		if retryAfter > 0 {
			st.Details = &metav1.StatusDetails{RetryAfterSeconds: retryAfter}
		}
		_ = json.NewEncoder(w).Encode(st)
	}
}

func (h *hostile) live(t *testing.T, ctx context.Context, opts Options) (time.Duration, error) {
	return h.liveTimeout(t, ctx, opts, 10*time.Second)
}

func (h *hostile) liveTimeout(t *testing.T, ctx context.Context, opts Options, timeout time.Duration) (time.Duration, error) {
	t.Helper()
	cs, err := NewClient(&rest.Config{Host: h.srv.URL, BearerToken: "secret-token", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Live(ctx, cs, h.srv.URL, opts)
	return time.Since(start), err
}

func TestHostileHealthyBaseline(t *testing.T) {
	h := newHostile(t, nil)
	if _, err := h.live(t, context.Background(), Options{ChunkSize: 500}); err != nil {
		t.Fatalf("healthy fake server: %v", err)
	}
}

// One retry layer; Retry-After is capped; 55 GETs per page no more.
func TestRetryAfterIsCappedAndRetriedOnce(t *testing.T) {
	defer func(c time.Duration) { RetryAfterCap = c }(RetryAfterCap)
	RetryAfterCap = 20 * time.Millisecond
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		h := newHostile(t, map[string]http.HandlerFunc{"/daemonsets": status(code, metav1.StatusReasonTooManyRequests, 3600)})
		took, err := h.live(t, context.Background(), Options{})
		if err == nil || took > 5*time.Second {
			t.Fatalf("%d with Retry-After 3600: err %v after %s", code, err, took)
		}
		if n := h.count("/daemonsets"); n != maxRetries+1 {
			t.Errorf("%d: %d GETs for one page, want %d (client-go must not retry underneath)", code, n, maxRetries+1)
		}
	}
	st := &metav1.Status{Code: 429, Details: &metav1.StatusDetails{RetryAfterSeconds: 3600}}
	if d := retryDelay(0, apiErr(st)); d != RetryAfterCap {
		t.Errorf("delay for Retry-After 3600 is %s, want the cap %s", d, RetryAfterCap)
	}
}

// The caller's context bounds the whole read, retries and all.
func TestRunDeadlineBoundsHangingServer(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := newHostile(t, map[string]http.HandlerFunc{"/nodes": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	took, err := h.live(t, ctx, Options{})
	if err == nil || took > 3*time.Second || !strings.Contains(err.Error(), "time limit") {
		t.Fatalf("err %v after %s: want the run's deadline to end the read", err, took)
	}
}

// A repeated continue token, or more pages than announced, ends the list.
func TestContinueTokenLoops(t *testing.T) {
	ds := fixture.DaemonSet("a", "agent")
	same := func(w http.ResponseWriter, r *http.Request) {
		collecttest.WriteJSON(w, &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}, ListMeta: metav1.ListMeta{Continue: "again"}, Items: []appsv1.DaemonSet{ds}})
	}
	h := newHostile(t, map[string]http.HandlerFunc{"/daemonsets": same})
	_, err := h.live(t, context.Background(), Options{ChunkSize: 1})
	if err == nil || !strings.Contains(err.Error(), "continue token") || h.count("/daemonsets") > 3 {
		t.Fatalf("same token forever: %v after %d GETs", err, h.count("/daemonsets"))
	}
	var n atomic.Int64
	one := int64(1)
	fresh := func(w http.ResponseWriter, r *http.Request) {
		collecttest.WriteJSON(w, &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}, ListMeta: metav1.ListMeta{Continue: fmt.Sprint("t", n.Add(1)), RemainingItemCount: &one}})
	}
	h = newHostile(t, map[string]http.HandlerFunc{"/daemonsets": fresh})
	_, err = h.live(t, context.Background(), Options{ChunkSize: 1})
	// 1 remaining item at 1 per page: 2 pages expected, 2*2+3 allowed.
	if err == nil || !strings.Contains(err.Error(), "did not end after 7 pages") || h.count("/daemonsets") != 7 {
		t.Fatalf("fresh tokens forever: %v after %d GETs", err, h.count("/daemonsets"))
	}
}

// The first fatal error cancels the other lists; the error is one
// short line. The server hangs after the DaemonSet list: without
// cancellation 40 DaemonSets' 81 lists would wait out the request timeout
// four at a time (~20 s here); with it the run ends after one timeout.
func TestFatalErrorCancelsSiblings(t *testing.T) {
	var dss []appsv1.DaemonSet
	for i := range 40 {
		dss = append(dss, fixture.DaemonSet(fmt.Sprint("ns", i), "agent"))
	}
	release := make(chan struct{})
	defer close(release)
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	h := newHostile(t, map[string]http.HandlerFunc{
		"/daemonsets": func(w http.ResponseWriter, r *http.Request) {
			collecttest.WriteJSON(w, &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}, Items: dss})
		},
		"/pods": hang, "/nodes": hang, "/controllerrevisions": hang, "/events": hang,
	})
	took, err := h.liveTimeout(t, context.Background(), Options{}, time.Second)
	if err == nil || took > 5*time.Second {
		t.Fatalf("err %v after %s; want the first timeout to end the run", err, took)
	}
	if msg := err.Error(); !strings.Contains(msg, "listing ") || len(msg) > 500 || strings.Contains(msg, "\n") {
		t.Errorf("error is not one short line naming the first failure (%d bytes): %s", len(msg), msg)
	}
	// A fatal non-retryable error ends it at once too.
	h = newHostile(t, map[string]http.HandlerFunc{
		"/daemonsets": func(w http.ResponseWriter, r *http.Request) {
			collecttest.WriteJSON(w, &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}, Items: dss})
		},
		"/pods": status(http.StatusBadRequest, metav1.StatusReasonBadRequest, 0),
	})
	if took, err = h.live(t, context.Background(), Options{}); err == nil || took > 5*time.Second || h.count("/pods") > 8 {
		t.Fatalf("400 on pods: err %v after %s and %d pod lists", err, took, h.count("/pods"))
	}
}

// A 200 answer that is not the list asked for is an error, in JSON
// and in protobuf.
func TestUnexpectedBodyIsAnError(t *testing.T) {
	pods := &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
	pb := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	var pbBody bytes.Buffer
	if err := scheme.Codecs.EncoderForVersion(pb, corev1.SchemeGroupVersion).Encode(pods, &pbBody); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]http.HandlerFunc{
		"empty object": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{}`)
		},
		"json error page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"error":"session expired","login":"https://sso.example"}`)
		},
		"html page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body>Please log in</body></html>`)
		},
		"json PodList": func(w http.ResponseWriter, r *http.Request) { collecttest.WriteJSON(w, pods) },
		"protobuf PodList": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
			_, _ = w.Write(pbBody.Bytes())
		},
	}
	for name, f := range bodies {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, map[string]http.HandlerFunc{"/daemonsets": f})
			_, err := h.live(t, context.Background(), Options{})
			var ue *UnexpectedResponseError
			if !errors.As(err, &ue) || h.count("/daemonsets") != 1 {
				t.Fatalf("want an UnexpectedResponseError after one GET, got %v after %d", err, h.count("/daemonsets"))
			}
		})
	}
}

// Responses are capped, after gzip decompression too.
func TestResponseSizeCap(t *testing.T) {
	defer func(c int64) { MaxPageBytes = c }(MaxPageBytes)
	MaxPageBytes = 1 << 20
	big := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"`)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 64 { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		fmt.Fprint(w, `"}}]}`)
	}
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte(`{"kind":"NodeList","apiVersion":"v1","items":[{"metadata":{"name":"`))
	_, _ = zw.Write(bytes.Repeat([]byte("x"), 8<<20))
	_, _ = zw.Write([]byte(`"}}]}`))
	_ = zw.Close()
	gz := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb.Bytes())
	}
	for name, f := range map[string]http.HandlerFunc{"plain": big, "gzip": gz} {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, map[string]http.HandlerFunc{"/nodes": f})
			_, err := h.live(t, context.Background(), Options{ChunkSize: 500})
			var tl *ResponseTooLargeError
			if !errors.As(err, &tl) || h.count("/nodes") != 1 {
				t.Fatalf("want ResponseTooLargeError after one GET, got %v after %d", err, h.count("/nodes"))
			}
		})
	}
}

// A redirect to another host is refused; the token stays home.
func TestCrossHostRedirectRefused(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		collecttest.WriteJSON(w, &appsv1.DaemonSetList{TypeMeta: metav1.TypeMeta{Kind: "DaemonSetList", APIVersion: "apps/v1"}})
	}))
	defer other.Close()
	h := newHostile(t, map[string]http.HandlerFunc{"/daemonsets": func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}})
	_, err := h.live(t, context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect") || leaked.Load() != 0 {
		t.Fatalf("err %v, token sent to the other host %d times", err, leaked.Load())
	}
}

// Non-retryable 4xx (an HTML 400, 414) are asked once.
func TestNonRetryable4xxAskedOnce(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusRequestURITooLong, http.StatusNotAcceptable} {
		h := newHostile(t, map[string]http.HandlerFunc{"/daemonsets": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			fmt.Fprint(w, "<html><body><h1>Bad Request</h1></body></html>")
		}})
		if _, err := h.live(t, context.Background(), Options{}); err == nil || h.count("/daemonsets") != 1 {
			t.Errorf("%d: err %v after %d GETs, want 1", code, err, h.count("/daemonsets"))
		}
	}
}

func apiErr(st *metav1.Status) error { return &apierrorsStatus{*st} }

type apierrorsStatus struct{ s metav1.Status }

func (e *apierrorsStatus) Error() string         { return e.s.Message }
func (e *apierrorsStatus) Status() metav1.Status { return e.s }

package collect

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// hugeJSONEvent writes one well-formed JSON watch event of about size
// bytes, as a hostile server would, a chunk at a time (it is never held
// whole), and counts what it wrote; it stops when the client hangs up.
func hugeJSONEvent(w io.Writer, size int, written *atomic.Int64) {
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

// watchServer answers watches (?watch=true) with stream, flushed, and holds
// the connection until the client leaves; lists as newHostile does.
func watchServer(t *testing.T, contentType string, stream func(w io.Writer, r *http.Request)) *hostile {
	t.Helper()
	h := newHostile(t, nil)
	h.over = map[string]http.HandlerFunc{"": func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" {
			h.serveHealthy(w, r)
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
	}}
	return h
}

// allocated is the bytes allocated so far (runtime.MemStats.TotalAlloc):
// what a decoder buffered counts even if it is garbage by now.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// A 128 MiB event in a JSON watch stream ends the watch with an error
// after MaxEventBytes, and costs about that much memory, not the event's
// size (json.Decoder buffers a whole value before decoding it).
func TestWatchEventCapJSON(t *testing.T) {
	defer func(c int64) { MaxEventBytes = c }(MaxEventBytes)
	MaxEventBytes = 4 << 20
	var written atomic.Int64
	h := watchServer(t, "application/json", func(w io.Writer, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			_, _ = fmt.Fprint(w, `{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"small","namespace":"a"}}}`+"\n")
			hugeJSONEvent(w, 128<<20, &written)
		}
	})
	cs, err := NewClient(&rest.Config{Host: h.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	before := allocated()
	wi, err := cs.WatchPods(t.Context(), "a", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer wi.Stop()
	first := <-wi.ResultChan()
	if first.Type != watch.Added {
		t.Fatalf("first event %s %v, want the small Pod ADDED", first.Type, first.Object)
	}
	var ev watch.Event
	select {
	case ev = <-wi.ResultChan():
	case <-time.After(30 * time.Second):
		t.Fatal("the watch neither ended nor delivered the huge event")
	}
	grew := allocated() - before
	if grew > 40<<20 {
		t.Errorf("reading up to the oversize event allocated %d MiB; want about the 4 MiB cap", grew>>20)
	}
	msg := fmt.Sprint(ev.Object)
	if ev.Type != watch.Error || !strings.Contains(msg, "is larger than 4 MiB") {
		t.Fatalf("event %s %s, want an error naming the 4 MiB cap", ev.Type, msg)
	}
	t.Logf("allocated %d MiB for a 128 MiB event (cap 4 MiB); the server wrote %d MiB before the client hung up", grew>>20, written.Load()>>20)
}

// A protobuf event announcing 1 GiB ends the watch before any of it is
// read.
func TestWatchEventCapProtobuf(t *testing.T) {
	var written atomic.Int64
	h := watchServer(t, "application/vnd.kubernetes.protobuf;stream=watch", func(w io.Writer, r *http.Request) {
		_, _ = w.Write(binary.BigEndian.AppendUint32(nil, 1<<30))
		chunk := make([]byte, 64<<10)
		for range 1 << 14 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	cs, err := NewClient(&rest.Config{Host: h.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	before := allocated()
	wi, err := cs.WatchNodes(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer wi.Stop()
	var ev watch.Event
	select {
	case ev = <-wi.ResultChan():
	case <-time.After(30 * time.Second):
		t.Fatal("the watch did not end")
	}
	if grew := allocated() - before; grew > 8<<20 {
		t.Errorf("refusing a 1 GiB event allocated %d MiB", grew>>20)
	}
	msg := fmt.Sprint(ev.Object)
	if ev.Type != watch.Error || !strings.Contains(msg, "is 1024 MiB, over the 16 MiB a watch event may have") {
		t.Fatalf("event %s %s, want an error naming the event's size and the cap", ev.Type, msg)
	}
}

// -w and --wait see the oversize event as an interrupted watch (Status),
// as a failed list or watch, with the error's words, and memory stays
// near the cap.
func TestWatcherReportsOversizeEvent(t *testing.T) {
	defer func(c int64) { MaxEventBytes = c }(MaxEventBytes)
	MaxEventBytes = 4 << 20
	var written atomic.Int64
	h := watchServer(t, "application/json", func(w io.Writer, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			hugeJSONEvent(w, 128<<20, &written)
		}
	})
	cs, err := NewClient(&rest.Config{Host: h.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cur := &Cursor{}
	snap, err := Live(context.Background(), cs, h.srv.URL, Options{ChunkSize: 500, Cursor: cur})
	if err != nil {
		t.Fatal(err)
	}
	reported := make(chan error, 10)
	before := allocated()
	w, err := Watch(t.Context(), cs, snap, cur, WatchOptions{Read: Options{ChunkSize: 500}, Status: func(err error) {
		if err != nil {
			reported <- err
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case err := <-reported:
		if !strings.Contains(err.Error(), "watching pods") || !strings.Contains(err.Error(), "is larger than 4 MiB") {
			t.Errorf("reported %q, want the Pod watch and the cap", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the oversize event was never reported")
	}
	if grew := allocated() - before; grew > 40<<20 {
		t.Errorf("the watch allocated %d MiB for a 128 MiB event (cap 4 MiB)", grew>>20)
	}
	if w.Err() != nil {
		t.Errorf("an oversize event is an interruption, not a refusal: %v", w.Err())
	}
}

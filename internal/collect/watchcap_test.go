package collect

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
)

// A 128 MiB event in a JSON watch stream ends the watch with an error
// after MaxEventBytes, and costs about that much memory, not the event's
// size (json.Decoder buffers a whole value before decoding it).
func TestWatchEventCapJSON(t *testing.T) {
	defer func(c int64) { MaxEventBytes = c }(MaxEventBytes)
	MaxEventBytes = 4 << 20
	var written atomic.Int64
	srv := collecttest.WatchServer(t, "application/json", func(w io.Writer, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			_, _ = fmt.Fprint(w, `{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"small","namespace":"a"}}}`+"\n")
			collecttest.HugeJSONEvent(w, 128<<20, &written)
		}
	})
	cs, err := NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	before := collecttest.Allocated()
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
	grew := collecttest.Allocated() - before
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
	srv := collecttest.WatchServer(t, "application/vnd.kubernetes.protobuf;stream=watch", func(w io.Writer, r *http.Request) {
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
	cs, err := NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	before := collecttest.Allocated()
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
	if grew := collecttest.Allocated() - before; grew > 8<<20 {
		t.Errorf("refusing a 1 GiB event allocated %d MiB", grew>>20)
	}
	msg := fmt.Sprint(ev.Object)
	if ev.Type != watch.Error || !strings.Contains(msg, "is 1024 MiB, over the 16 MiB a watch event may have") {
		t.Fatalf("event %s %s, want an error naming the event's size and the cap", ev.Type, msg)
	}
}

package watcher

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
)

// -w and --wait see the oversize event as an interrupted watch (Status),
// as a failed list or watch, with the error's words, and memory stays
// near the cap.
func TestWatcherReportsOversizeEvent(t *testing.T) {
	defer func(c int64) { collect.MaxEventBytes = c }(collect.MaxEventBytes)
	collect.MaxEventBytes = 4 << 20
	var written atomic.Int64
	srv := collecttest.WatchServer(t, "application/json", func(w io.Writer, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			collecttest.HugeJSONEvent(w, 128<<20, &written)
		}
	})
	cs, err := collect.NewClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cur := &collect.Cursor{}
	snap, err := collect.Live(context.Background(), cs, srv.URL, collect.Options{ChunkSize: 500, Cursor: cur})
	if err != nil {
		t.Fatal(err)
	}
	reported := make(chan error, 10)
	before := collecttest.Allocated()
	w, err := Start(t.Context(), cs, snap, cur, Options{Read: collect.Options{ChunkSize: 500}, Status: func(err error) {
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
	if grew := collecttest.Allocated() - before; grew > 40<<20 {
		t.Errorf("the watch allocated %d MiB for a 128 MiB event (cap 4 MiB)", grew>>20)
	}
	if w.Err() != nil {
		t.Errorf("an oversize event is an interruption, not a refusal: %v", w.Err())
	}
}

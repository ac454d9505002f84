package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func yamlDocs(t *testing.T, objs ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes()
}

// within fails the test if f does not return in d (instead of hanging it).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %s", d)
	}
}

// Devices are refused; endless input on stdin ends with one line,
// not by exhausting memory.
func TestDevicesAndEndlessInput(t *testing.T) {
	for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
		_, err := Files([]string{dev}, nil, collect.Options{})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", dev, err)
		}
	}
	endless := map[string]io.Reader{
		"zeros":                 zeroReader{},
		"random":                rand.New(rand.NewSource(1)),
		"one endless yaml line": io.MultiReader(strings.NewReader("kind: "), repeatReader('a')),
		"one endless comment":   io.MultiReader(strings.NewReader("# "), repeatReader('a')),
	}
	defer func(m int64) { MaxObjectBytes = m }(MaxObjectBytes)
	MaxObjectBytes = 4 << 20
	for name, in := range endless {
		within(t, 20*time.Second, func() {
			_, err := Files([]string{"-"}, in, collect.Options{})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("%s: want an InputError, got %v", name, err)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Non-regular files inside a directory are skipped with a
// warning (a FIFO would block the open forever, a link to /dev/zero never
// ends); given directly they are refused at once.
func TestDirectorySkipsNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	writeFile(t, filepath.Join(dir, "a.yaml"), yamlDocs(t, &ds, &n))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, func() {
		snap, err := Files([]string{dir}, nil, collect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := strings.Join(snap.Warnings, "\n")
		if len(snap.DaemonSets) != 1 || !strings.Contains(w, "fifo.yaml: not a regular file") || !strings.Contains(w, "zero.yaml: not a regular file") {
			t.Errorf("ds %d, warnings:\n%s", len(snap.DaemonSets), w)
		}
	})
	within(t, 10*time.Second, func() {
		if _, err := Files([]string{filepath.Join(dir, "fifo.yaml")}, nil, collect.Options{}); err == nil || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("a FIFO given directly: %v", err)
		}
	})
}

func TestReadFileBounded(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "p.yaml"), []byte("0123456789"))
	if b, err := ReadFileBounded(p, 10); err != nil || string(b) != "0123456789" {
		t.Errorf("%q %v", b, err)
	}
	if _, err := ReadFileBounded(p, 9); err == nil || !strings.Contains(err.Error(), "larger than 9 bytes") {
		t.Errorf("over the bound: %v", err)
	}
	fifo := filepath.Join(dir, "f")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	within(t, 5*time.Second, func() {
		if _, err := ReadFileBounded(fifo, 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("fifo: %v", err)
		}
	})
	if _, err := ReadFileBounded("/dev/zero", 10); err == nil {
		t.Error("a device must be refused")
	}
}

// Lists are read item by item: the peak heap stays near the kept
// records, not a multiple of the file (a YAML List used to cost ~40x).
func TestListsAreStreamed(t *testing.T) {
	if testing.Short() {
		// make race runs -short: reading a 6 MB dump twice with GC at 10%
		// takes over a minute under the race detector; make unit runs it.
		t.Skip("peak-heap measurement of a 6 MB dump; run without -short")
	}
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dump."+format)
			pods := writeDump(t, path, format, 6)
			info, _ := os.Stat(path)
			defer debug.SetGCPercent(debug.SetGCPercent(10))
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
						peak.Store(m.HeapAlloc - base)
					}
				}
			}()
			snap, err := Files([]string{path}, nil, collect.Options{})
			close(stop)
			<-sampled
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.DaemonPods) != pods || len(snap.DaemonSets) != 4 {
				t.Fatalf("read %d pods (want %d), %d daemonsets", len(snap.DaemonPods), pods, len(snap.DaemonSets))
			}
			if p := peak.Load(); p > 2*uint64(info.Size()) {
				t.Errorf("peak heap %d MiB for a %d MiB %s List: not streamed", p>>20, info.Size()>>20, format)
			}
		})
	}
}

// The streaming readers agree with the plain multi-document reading,
// whatever the key order and whether items carry their kind.
func TestListLayouts(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	p := fixture.Pod(&ds, "n1")
	bare := p
	bare.TypeMeta = metav1.TypeMeta{}
	podJSON, _ := json.Marshal(&bare)
	fullPodJSON, _ := json.Marshal(&p)
	dsJSON, _ := json.Marshal(&ds)
	nodeJSON, _ := json.Marshal(&n)
	inputs := map[string]string{
		"kubectl json":        `{"apiVersion":"v1","items":[` + string(dsJSON) + `,` + string(nodeJSON) + `],"kind":"List","metadata":{}}` + "\n" + `{"items":[` + string(podJSON) + `],"kind":"PodList","apiVersion":"v1"}`,
		"api order json":      `{"kind":"List","apiVersion":"v1","items":[` + string(dsJSON) + `,` + string(nodeJSON) + `]}{"kind":"PodList","apiVersion":"v1","items":[` + string(podJSON) + `]}`,
		"nested json list":    `{"kind":"List","apiVersion":"v1","items":[` + string(dsJSON) + `,{"kind":"List","items":[` + string(nodeJSON) + `]},{"kind":"PodList","items":[` + string(podJSON) + `]}]}`,
		"yaml list, indent 0": "apiVersion: v1\nitems:\n" + yamlItem(t, &ds, "") + yamlItem(t, &n, "") + yamlItem(t, &p, "") + "kind: List\nmetadata: {}\n",
		"yaml list, indent 2": "kind: List\napiVersion: v1\nitems:\n" + yamlItem(t, &ds, "  ") + "  # a comment\n\n" + yamlItem(t, &n, "  ") + yamlItem(t, &p, "  "),
		"yaml kindless items": "apiVersion: v1\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(string(mustYAML(t, &bare))), "\n", "\n  ") + "\nkind: PodList\n---\n" + string(mustYAML(t, &ds)) + "---\n" + string(mustYAML(t, &n)),
		"yaml flow list":      "kind: List\napiVersion: v1\nitems: [" + string(dsJSON) + "," + string(nodeJSON) + "," + string(fullPodJSON) + "]\n",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			snap, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.DaemonSets) != 1 || len(snap.Nodes) != 1 || len(snap.DaemonPods) != 1 || snap.DaemonPods[0].Name != p.Name {
				t.Errorf("read %d ds, %d nodes, %d pods", len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods))
			}
		})
	}
}

func mustYAML(t *testing.T, o any) []byte {
	b, err := yaml.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// yamlItem writes o as an entry of a YAML sequence indented by ind.
func yamlItem(t *testing.T, o any, ind string) string {
	lines := strings.Split(strings.TrimSuffix(string(mustYAML(t, o)), "\n"), "\n")
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(ind + "- " + l + "\n")
		} else {
			b.WriteString(ind + "  " + l + "\n")
		}
	}
	return b.String()
}

// List nesting is bounded (a nested List bomb grows as depth x size).
func TestNestedListBomb(t *testing.T) {
	in := `{"kind":"Node","apiVersion":"v1","metadata":{"name":"n"}}`
	for range 40 {
		in = `{"kind":"List","apiVersion":"v1","items":[` + in + `,` + in + `]}`
		if len(in) > 1<<20 {
			break
		}
	}
	within(t, 10*time.Second, func() {
		_, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
		if err == nil || !strings.Contains(err.Error(), "nested more than 2 deep") {
			t.Errorf("nested Lists: %v", err)
		}
	})
}

// The same object read twice is kept once; two different versions
// of it make one warning and the newest wins.
func TestDuplicatesByUID(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	p := fixture.Pod(&ds, "n1")
	p.ResourceVersion = "10"
	dir := t.TempDir()
	all := writeFile(t, filepath.Join(dir, "all.yaml"), yamlDocs(t, &ds, &n, &p))
	newer := p
	newer.ResourceVersion = "12"
	newer.Status.Phase = corev1.PodFailed
	writeFile(t, filepath.Join(dir, "pods.yaml"), yamlDocs(t, &newer))
	snap, err := Files([]string{all, all}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonSets) != 1 || len(snap.Nodes) != 1 || len(snap.DaemonPods) != 1 || len(snap.Warnings) > 1 {
		t.Fatalf("the same dump twice: %d ds, %d nodes, %d pods, warnings %v", len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods), snap.Warnings)
	}
	snap, err = Files([]string{dir}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonPods) != 1 || snap.DaemonPods[0].Phase != corev1.PodFailed || !strings.Contains(strings.Join(snap.Warnings, "\n"), "1 objects appear more than once with different resourceVersions") {
		t.Fatalf("conflicting copies: pods %+v, warnings %v", snap.DaemonPods, snap.Warnings)
	}
}

// Every DaemonSet apiVersion is handled: the older ones that decode
// as apps/v1 are read (with a warning), the rest refused in one line.
func TestDaemonSetAPIVersions(t *testing.T) {
	n := fixture.Node("n1")
	for _, v := range []string{"extensions/v1beta1", "apps/v1beta2", "apps/v1beta1", "apps/v2"} {
		ds := fixture.DaemonSet("ns", "d")
		ds.APIVersion = v
		snap, err := Files([]string{"-"}, bytes.NewReader(yamlDocs(t, &ds, &n)), collect.Options{})
		switch v {
		case "extensions/v1beta1", "apps/v1beta2":
			if err != nil || len(snap.DaemonSets) != 1 || !strings.Contains(strings.Join(snap.Warnings, " "), "1 "+v) {
				t.Errorf("%s: %v %+v", v, err, snap)
			}
		default:
			if err == nil || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: want a one-line error, got %v", v, err)
			}
		}
	}
}

// Ownership matches namespace and UID.
func TestOwnershipNeedsNamespace(t *testing.T) {
	a := fixture.DaemonSet("ns1", "agent")
	b := fixture.DaemonSet("ns2", "agent")
	b.UID = a.UID
	n := fixture.Node("n1")
	pa := fixture.Pod(&a, "n1")
	snap, err := Files([]string{"-"}, bytes.NewReader(yamlDocs(t, &a, &b, &n, &pa)), collect.Options{Namespace: "ns2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonPods) != 0 {
		t.Errorf("ns2/agent got ns1's Pod: %+v", snap.DaemonPods)
	}
	own := collect.Owners([]appsv1.DaemonSet{b})
	if collect.KeepPod(&model.DaemonPod{Namespace: "ns1", OwnerUID: a.UID, OwnerKind: "DaemonSet"}, own) ||
		!collect.KeepPod(&model.DaemonPod{Namespace: "ns2", OwnerUID: a.UID, OwnerKind: "DaemonSet"}, own) {
		t.Error("keepPod must match namespace and UID")
	}
}

// Timestamps outside the years 0-9999 are dropped with a warning
// (the report's encoders could not write them).
func TestOutOfRangeTimestamps(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	ev := `{"apiVersion":"v1","kind":"Event","metadata":{"name":"e","namespace":"ns","uid":"e1"},"type":"Warning","involvedObject":{"kind":"DaemonSet","name":"d","namespace":"ns","uid":"` + string(ds.UID) + `"},"lastTimestamp":"0000-01-01T00:00:00+01:00","firstTimestamp":"9999-12-31T23:59:59-01:00","eventTime":"0000-01-01T00:30:00.000000+01:00"}`
	in := string(yamlDocs(t, &ds, &n)) + "---\n" + ev + "\n"
	snap, err := Files([]string{"-"}, strings.NewReader(in), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := snap.Events[0]
	if !e.LastTimestamp.IsZero() || !e.FirstTimestamp.IsZero() || !e.EventTime.IsZero() || !strings.Contains(strings.Join(snap.Warnings, " "), "dropped 3 timestamps") {
		t.Errorf("event %+v, warnings %v", e, snap.Warnings)
	}
	if _, err := json.Marshal(struct{ T time.Time }{e.LastTimestamp.Time}); err != nil {
		t.Error(err)
	}
}

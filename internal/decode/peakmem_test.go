package decode

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// This file is self-contained (it uses only Files and test/fixture) so that
// the same harness runs on older commits for before/after figures:
//
//	DAEMONCHECK_PEAKMEM=100 go test -run TestPeakMemory -v ./internal/collect
//
// generates a ~100 MB dump as a JSON List and as a YAML List (the layout
// kubectl get -o json|yaml prints), reads each in a child process and
// reports the child's peak RSS (DAEMONCHECK_PEAKMEM_FORMATS=json limits it
// to one format).

// writeDump writes a kubectl-style List ("json" or "yaml") of about mb
// megabytes: 4 DaemonSets, their nodes and one Pod per (DaemonSet, node),
// each Pod carrying a last-applied annotation and managed fields as real
// ones do. It returns the number of Pods.
func writeDump(tb testing.TB, path, format string, mb int) int {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var objs []any
	dss := make([]appsv1.DaemonSet, 4)
	for i := range dss {
		dss[i] = fixture.DaemonSet("ns"+strconv.Itoa(i%2), "agent-"+strconv.Itoa(i))
		objs = append(objs, &dss[i])
	}
	first := true
	emit := func(o any) {
		switch format {
		case "json":
			b, err := json.MarshalIndent(o, "        ", "    ")
			if err != nil {
				tb.Fatal(err)
			}
			if !first {
				w.WriteString(",\n")
			}
			w.WriteString("        ")
			w.Write(b)
		default:
			b, err := yaml.Marshal(o)
			if err != nil {
				tb.Fatal(err)
			}
			lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
			for i, l := range lines {
				if i == 0 {
					w.WriteString("- ")
				} else {
					w.WriteString("  ")
				}
				w.WriteString(l)
			}
			w.WriteString("\n")
		}
		first = false
	}
	if format == "json" {
		w.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
	} else {
		w.WriteString("apiVersion: v1\nitems:\n")
	}
	for _, o := range objs {
		emit(o)
	}
	pad := strings.Repeat(`{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{}}`, 40)
	pods := 0
	for n := 0; ; n++ {
		info, _ := f.Stat()
		if int(info.Size())+w.Buffered() >= mb<<20 {
			break
		}
		node := fixture.Node(fmt.Sprintf("node-%06d", n))
		emit(&node)
		for i := range dss {
			p := fixture.Pod(&dss[i], node.Name)
			p.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": pad}
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "NODE", Value: node.Name}, {Name: "MODE", Value: "daemon"}}
			emit(&p)
			pods++
		}
	}
	if format == "json" {
		w.WriteString("\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
	} else {
		w.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return pods
}

func TestPeakMemory(t *testing.T) {
	mb, _ := strconv.Atoi(os.Getenv("DAEMONCHECK_PEAKMEM"))
	if mb == 0 {
		t.Skip("set DAEMONCHECK_PEAKMEM=<MB> to measure")
	}
	dir := t.TempDir()
	formats := []string{"json", "yaml"}
	if f := os.Getenv("DAEMONCHECK_PEAKMEM_FORMATS"); f != "" {
		formats = strings.Split(f, ",")
	}
	for _, format := range formats {
		path := filepath.Join(dir, "dump."+format)
		pods := writeDump(t, path, format, mb)
		info, _ := os.Stat(path)
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakMemoryChild$")
		cmd.Env = append(os.Environ(), "DAEMONCHECK_PEAKMEM_FILE="+path)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10 // KiB -> MiB
		t.Logf("%s List, %d MB, %d Pods: peak RSS %d MiB (%.1fx the file), %s", format, info.Size()>>20, pods, rss, float64(rss<<20)/float64(info.Size()), took.Round(100*time.Millisecond))
	}
}

func TestPeakMemoryChild(t *testing.T) {
	path := os.Getenv("DAEMONCHECK_PEAKMEM_FILE")
	if path == "" {
		t.Skip("child of TestPeakMemory")
	}
	snap, err := Files([]string{path}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonPods) == 0 {
		t.Fatal("no pods read")
	}
}

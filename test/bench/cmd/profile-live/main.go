// Command profile-live runs kubectl-daemoncheck's phases (collect.Live,
// audit.Analyze, print) in-process against a cluster and reports, after each
// phase, the wall time, the process's peak RSS so far (VmHWM), and the live
// heap; optionally CPU and heap profiles. It is how the benchmark's numbers
// were attributed to phases (see test/bench/RESULTS.md).
//
//	go run ./test/bench/cmd/profile-live -kubeconfig KUBECONFIG [-o json] [-cpuprofile f] [-memprofile f]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig")
	parallel := flag.Int("parallel", 0, "collect.Options.Parallel (0: the default)")
	noGzip := flag.Bool("disable-compression", false, "ask for uncompressed responses")
	workloads := flag.Bool("workloads", false, "also read every Pod (--workloads)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile")
	memprofile := flag.String("memprofile", "", "write a heap profile (after analysis)")
	memoSteps := flag.Int("memo-steps", 0, "then change one daemon Pod's readiness this many times (in place, at a new resourceVersion) and analyse again with an audit.Memo, as -w does per change")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	check(err)
	// As internal/cli's newClient does (collect.NewClient sets protobuf
	// and the rate limits).
	cfg.Timeout = 30 * time.Second
	cfg.DisableCompression = *noGzip
	cs, err := collect.NewClient(cfg)
	check(err)
	phase("start", time.Now())

	t := time.Now()
	snap, err := collect.Live(context.Background(), cs, cfg.Host, collect.Options{ChunkSize: 500, Parallel: *parallel, Workloads: *workloads})
	check(err)
	phase(fmt.Sprintf("collect (%d daemonsets, %d nodes, %d pods)", len(snap.DaemonSets), len(snap.Nodes), len(snap.DaemonPods)), t)

	t = time.Now()
	memo := &audit.Memo{}
	rep := audit.Analyze(snap, audit.Options{Now: time.Now(), Memo: memo})
	phase(fmt.Sprintf("analyze (%d findings)", rep.Summary.Findings), t)
	if *memoSteps > 0 {
		t = time.Now()
		for i := range *memoSteps {
			p := &snap.DaemonPods[(i*7919)%len(snap.DaemonPods)]
			p.Ready = !p.Ready
			p.ResourceVersion = fmt.Sprintf("memo-step-%d", i)
			audit.Analyze(snap, audit.Options{Now: time.Now(), Memo: memo})
		}
		phase(fmt.Sprintf("%d analyses with a Memo, one Pod changed each (%.1f ms each; last: %d analysed, %d reused)", *memoSteps,
			float64(time.Since(t).Microseconds())/1000/float64(*memoSteps), memo.Analysed, memo.Reused), t)
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		check(err)
		runtime.GC()
		check(pprof.WriteHeapProfile(f))
		f.Close()
	}

	t = time.Now()
	w := bufio.NewWriter(io.Discard)
	// The printers are internal to the plugin; the table is timed through
	// the binary by daemoncheck-bench. Here only the JSON encoding is.
	data, err := json.MarshalIndent(rep, "", "    ")
	check(err)
	w.Write(data)
	w.Flush()
	phase("print json", t)
	runtime.KeepAlive(snap)
}

func phase(name string, start time.Time) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "%-60s %7.2fs  VmHWM %4d MB  heap in use %4d MB  total alloc %5d MB  GCs %d\n",
		name, time.Since(start).Seconds(), vmHWM()/1024, ms.HeapInuse>>20, ms.TotalAlloc>>20, ms.NumGC)
}

func vmHWM() int64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb int64
			_, _ = fmt.Sscanf(strings.TrimPrefix(l, "VmHWM:"), "%d", &kb)
			return kb
		}
	}
	return 0
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile-live:", err)
		os.Exit(1)
	}
}

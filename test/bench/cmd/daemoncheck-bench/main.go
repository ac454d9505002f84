// Command daemoncheck-bench is the cluster-scale benchmark (`make
// bench`). It starts the e2e rig's real control plane (etcd, kube-apiserver
// with its default watch cache, kube-controller-manager WITHOUT the DaemonSet,
// node-lifecycle, garbage-collector and pod-GC controllers, scheduler, kwok
// idle), builds a large fixture once through the API (see fixture.go), and
// times, alternating round by round, kubectl-daemoncheck against what people
// run today and against the raw cost of reading the same data. See
// test/bench/README.md and RESULTS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

var (
	flagNodes      = flag.Int("nodes", 5000, "final fixture size in nodes (daemon Pods and non-daemon Pods scale with it)")
	flagSweep      = flag.String("sweep", "500,1000,2000", "smaller sizes measured first, growing the same fixture (empty: none)")
	flagRounds     = flag.Int("rounds", 5, "timed rounds at the final size")
	flagSweepRnds  = flag.Int("sweep-rounds", 3, "timed rounds at each sweep size")
	flagExtra      = flag.Int("extra-nondaemon", 50000, "non-daemon Pods added after the main table, to check daemoncheck's memory stays flat (0: skip)")
	flagWorkers    = flag.Int("workers", 24, "parallel clients creating the fixture")
	flagOut        = flag.String("out", "", "also write the result tables (markdown) to this file")
	flagHold       = flag.Bool("hold", false, "after building the fixture (and measuring, unless -rounds 0), keep the rig up until interrupted; prints the kubeconfig path")
	flagAttach     = flag.String("attach", "", "measure against a running rig (its kubeconfig, e.g. from -hold) instead of starting one; no fixture is built")
	flagPlugin     = flag.String("plugin", "", "kubectl-daemoncheck binary to measure (default: built from ./cmd/kubectl-daemoncheck)")
	flagAlt        = flag.String("alt-plugin", "", "LABEL=PATH: also measure another kubectl-daemoncheck binary (e.g. before a change), alternating with the main one")
	flagOnly       = flag.String("only", "", "comma-separated command keys to measure (default all: a-table,a-json,b,c,d,e,e4,cap,a-work,cp,whatif)")
	flagDS         = flag.String("ds", "monitoring/node-exporter", "NAMESPACE/NAME of the DaemonSet for (b)")
	flagKubectl    = flag.String("kubectl", "kubectl", "kubectl binary for (c) and (d)")
	flagAllowBusy  = flag.Bool("allow-busy", false, "measure even if another rig or e2e test is running (numbers are then not valid)")
	flagMaxWait    = flag.Duration("max-wait", 24*time.Hour, "how long a stage waits for other rigs and e2e tests to finish before measuring anyway (then marked NOT VALID)")
	flagCMaxPods   = flag.Int("c-max-pods", 50000, "leave (c) out when the fixture has more Pods than this (kubectl's RSS grows with every Pod; 0: never)")
	flagSkipGrowth = flag.Bool("skip-growth", false, "skip the non-daemon growth check")
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func main() {
	flag.Parse()
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "daemoncheck-bench:", err)
		os.Exit(1)
	}
}

type tools struct {
	plugin, altPlugin, altLabel, floor, kubectl string
}

func mainErr() error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	tmp, err := os.MkdirTemp("", "daemoncheck-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tl, err := buildTools(tmp)
	if err != nil {
		return err
	}
	out := io.Writer(os.Stdout)
	if *flagOut != "" {
		f, err := os.Create(*flagOut)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	fmt.Fprintf(out, "# daemoncheck benchmark, %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "machine: %s\n\n", machine())

	if *flagAttach != "" {
		b := &bench{tools: tl, kubeconfig: *flagAttach, out: out}
		if err := b.setupProxy(); err != nil {
			return err
		}
		defer b.px.Close()
		st, err := b.stage(ctx, "attached rig", *flagRounds, b.commands(selected()))
		if err != nil {
			return err
		}
		b.printMain(st)
		if *flagWatchChurn > 0 {
			if err := b.watchPhase(ctx); err != nil {
				return err
			}
		}
		if *flagServeChurn > 0 {
			return b.servePhase(ctx)
		}
		return nil
	}

	logf("starting the rig (no DaemonSet, node-lifecycle, GC or pod-GC controller; TaintNodesByCondition admission off)")
	r, err := rig.Start(nil, rig.Options{
		Controllers:        []string{"serviceaccount-controller", "serviceaccount-token-controller", "namespace-controller"},
		ExtraAPIServerArgs: []string{"--disable-admission-plugins=TaintNodesByCondition"},
		Logf:               logf,
	})
	if err != nil {
		return err
	}
	defer r.Stop()
	go func() { <-ctx.Done(); r.Stop() }()

	cfg := rest.CopyConfig(r.Config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.QPS = -1 // no client-side rate limit
	cfg.Timeout = time.Minute
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	fx, err := NewFixture(ctx, cs, func(ctx context.Context, ns string) error { return r.CreateNamespace(ctx, ns, nil) }, *flagWorkers, logf)
	if err != nil {
		return err
	}
	b := &bench{tools: tl, kubeconfig: r.KubeconfigPath, out: out, fx: fx}
	if err := b.setupProxy(); err != nil {
		return err
	}
	defer b.px.Close()

	sizes := []int{}
	for _, s := range strings.Split(*flagSweep, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("-sweep: %w", err)
		}
		if n < *flagNodes {
			sizes = append(sizes, n)
		}
	}
	sizes = append(sizes, *flagNodes)
	var sweep []sweepRow
	var final map[string]stats
	for k, n := range sizes {
		start := time.Now()
		if err := fx.Grow(ctx, n); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
		logf("fixture at %d nodes in %s: %s", n, time.Since(start).Round(time.Second), fx.Summary())
		rounds := *flagSweepRnds
		if k == len(sizes)-1 {
			rounds = *flagRounds
		}
		if rounds == 0 {
			continue
		}
		keys := selected()
		if total := fx.DaemonPods() + fx.NonDaemon; *flagCMaxPods > 0 && total > *flagCMaxPods {
			var kept []string
			for _, k := range keys {
				if k != "c" && k != "cp" {
					kept = append(kept, k)
				}
			}
			keys = kept
			note := fmt.Sprintf("(c) left out at %d nodes: %d Pods > -c-max-pods %d (kubectl get pods -A -o json holds the whole list; its peak RSS grows ~170 KB per Pod here and would exhaust the machine)", n, total, *flagCMaxPods)
			logf("%s", note)
			b.notes = append(b.notes, note)
		}
		st, err := b.stage(ctx, fmt.Sprintf("%d nodes", n), rounds, b.commands(keys))
		if err != nil {
			return err
		}
		sweep = append(sweep, sweepRow{nodes: fx.Nodes(), daemon: fx.DaemonPods(), nonDaemon: fx.NonDaemon, st: st})
		if k == len(sizes)-1 {
			final = st
		}
	}
	fmt.Fprintf(out, "fixture: %s\n\n", fx.Summary())
	if final != nil {
		b.printMain(final)
		b.printSweep(sweep)
		b.printCapacity(sweep)
	}
	if *flagWatchChurn > 0 {
		if err := b.watchPhase(ctx); err != nil {
			return err
		}
	}
	if *flagServeChurn > 0 {
		if err := b.servePhase(ctx); err != nil {
			return err
		}
	}
	if *flagExtra > 0 && !*flagSkipGrowth && final != nil {
		before := sweep[len(sweep)-1]
		start := time.Now()
		if err := fx.GrowNonDaemon(ctx, *flagExtra); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
		logf("added %d non-daemon Pods in %s", *flagExtra, time.Since(start).Round(time.Second))
		keys := []string{"a-table", "a-json", "e"}
		st, err := b.stage(ctx, fmt.Sprintf("%d nodes, +%d non-daemon Pods", fx.Nodes(), *flagExtra), *flagSweepRnds, b.commands(keys))
		if err != nil {
			return err
		}
		b.printGrowth(before, sweepRow{nodes: fx.Nodes(), daemon: fx.DaemonPods(), nonDaemon: fx.NonDaemon, st: st})
	}
	if *flagHold {
		fmt.Fprintf(os.Stderr, "rig is up; kubeconfig: %s\nmeasure with: go run ./test/bench/cmd/daemoncheck-bench -attach %s\ninterrupt (Ctrl-C / kill -TERM %d) to stop it\n", r.KubeconfigPath, r.KubeconfigPath, os.Getpid())
		<-ctx.Done()
	}
	return nil
}

func selected() []string {
	if *flagOnly == "" {
		return append([]string{"a-table", "a-json", "b", "c", "d", "e", "e4", "whatif"}, capacityKeys...)
	}
	return strings.Split(*flagOnly, ",")
}

func buildTools(tmp string) (*tools, error) {
	tl := &tools{plugin: *flagPlugin, kubectl: *flagKubectl}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	build := func(out, pkg string) error {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s: %w", pkg, err)
		}
		return nil
	}
	if tl.plugin == "" {
		tl.plugin = filepath.Join(tmp, "kubectl-daemoncheck")
		if err := build(tl.plugin, "./cmd/kubectl-daemoncheck"); err != nil {
			return nil, err
		}
	}
	rusageBin = filepath.Join(tmp, "rusage")
	if err := build(rusageBin, "./test/bench/cmd/rusage"); err != nil {
		return nil, err
	}
	tl.floor = filepath.Join(tmp, "listfloor")
	if err := build(tl.floor, "./test/bench/cmd/listfloor"); err != nil {
		return nil, err
	}
	if *flagAlt != "" {
		label, path, ok := strings.Cut(*flagAlt, "=")
		if !ok {
			return nil, fmt.Errorf("-alt-plugin wants LABEL=PATH")
		}
		tl.altLabel, tl.altPlugin = label, path
	}
	return tl, nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func machine() string {
	cpu := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n := 0
		model := ""
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "processor") {
				n++
			}
			if strings.HasPrefix(l, "model name") && model == "" {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
			}
		}
		cpu = fmt.Sprintf("%d cores (%s)", n, model)
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		_, _ = fmt.Sscanf(strings.SplitN(string(data), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	kv, _ := exec.Command(*flagKubectl, "version", "--client", "-o", "yaml").Output()
	kver := "?"
	for _, l := range strings.Split(string(kv), "\n") {
		if strings.Contains(l, "gitVersion:") {
			kver = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
			break
		}
	}
	gv, _ := exec.Command("go", "env", "GOVERSION").Output()
	return fmt.Sprintf("%s, %s RAM, %s, kubectl %s, control plane %s", cpu, mem, strings.TrimSpace(string(gv)), kver, rig.KubernetesVersion)
}

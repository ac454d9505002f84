package main

// The watch phase: `kubectl-daemoncheck -w -o wide` on the whole
// fixture, then, for -watch-churn, one daemon Pod at a time made to
// crash-loop and recover through the API (its status, as a kubelet writes
// it), measuring from just before each status update to the moment the
// harness reads the plugin's line about that Pod (APPEARED, then RESOLVED);
// meanwhile the plugin's RSS is sampled from /proc. The plugin runs with -v 6
// (client-go logs each request it makes), so the phase counts the requests
// it sends during the churn: only watches (re)opened, no list.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

var (
	flagWatchChurn = flag.Duration("watch-churn", 10*time.Minute, "watch phase: how long to churn single daemon Pods under `kubectl-daemoncheck -w` (latency of each change to its printed line, RSS over the period); 0 skips it")
	flagWatchGap   = flag.Duration("watch-gap", 500*time.Millisecond, "watch phase: pause between one printed change and the next Pod update (so each update is a single change)")
)

type watchLine struct {
	at   time.Time
	text string
}

type watchResult struct {
	startup    time.Duration // start to "Watching for changes"
	latencies  []time.Duration
	writes     []time.Duration // of which the status write (API round trip)
	missed     int
	rssSamples []int64
	hwm        int64
	oneShotRSS int64
	// Requests the watching process sent during the churn (from its -v 6
	// log), and the API server's LIST count over the churn (every client).
	ownWatches, ownOther int
	serverLists          float64
	exitCode             int
}

// candidate is a healthy daemon Pod on a node where its DaemonSet has no
// finding: crash-looping it makes exactly one new finding.
type candidate struct{ namespace, name string }

// watchPhase runs the phase and prints its table.
func (b *bench) watchPhase(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", b.kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	candidates, err := b.candidates(400)
	if err != nil {
		return err
	}
	if len(candidates) == 0 {
		return fmt.Errorf("watch phase: no Running and Ready daemon Pod to churn")
	}

	// The one-shot audit's peak RSS on the same cluster, for comparison.
	oneShot := command{key: "a-table", steps: func(kc string) []step {
		return []step{{argv: []string{b.plugin, "--kubeconfig", kc}, okCodes: []int{0, 1}}}
	}}
	var oneShotRSS []int64
	for range 3 {
		s, err := run(oneShot, b.kubeconfig, false)
		if err != nil {
			return err
		}
		oneShotRSS = append(oneShotRSS, s.maxRSS)
	}
	sort.Slice(oneShotRSS, func(i, j int) bool { return oneShotRSS[i] < oneShotRSS[j] })

	res, err := b.churn(ctx, cs, candidates)
	if err != nil {
		return err
	}
	res.oneShotRSS = medianInt(oneShotRSS)
	b.printWatch(res, len(candidates))
	return nil
}

// candidates picks up to n Pods from a one-shot JSON audit: Running, Ready,
// up to date, alone on a node its DaemonSet targets and where it has no
// finding; spread over the DaemonSets.
func (b *bench) candidates(n int) ([]candidate, error) {
	out, err := exec.Command(b.plugin, "--kubeconfig", b.kubeconfig, "-o", "json").Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return nil, fmt.Errorf("watch phase: the JSON audit: %w", err)
	}
	var rep report.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("watch phase: the JSON audit: %w", err)
	}
	per := max(1, n/max(1, len(rep.DaemonSets)))
	var all []candidate
	for _, ds := range rep.DaemonSets {
		bad := map[string]bool{}
		for _, f := range ds.Findings {
			bad[f.Node] = true
		}
		k := 0
		for _, nv := range ds.Nodes {
			if k == per {
				break
			}
			if nv.Coverage != report.Covered || len(nv.Pods) != 1 || bad[nv.Name] {
				continue
			}
			if p := nv.Pods[0]; p.Ready && p.Updated && p.Phase == string(corev1.PodRunning) {
				all = append(all, candidate{ds.Namespace, p.Name})
				k++
			}
		}
	}
	return all, nil
}

// crashLoop makes a Pod's status what a kubelet reports for a crash loop.
func crashLoop(p *corev1.Pod) {
	for i := range p.Status.Conditions {
		if t := p.Status.Conditions[i].Type; t == corev1.PodReady || t == corev1.ContainersReady {
			p.Status.Conditions[i].Status = corev1.ConditionFalse
			p.Status.Conditions[i].Reason = "ContainersNotReady"
		}
	}
	for i := range p.Status.ContainerStatuses {
		c := &p.Status.ContainerStatuses[i]
		c.Ready, c.RestartCount = false, c.RestartCount+1
		c.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s restarting failed container"}}
	}
}

func (b *bench) churn(ctx context.Context, cs kubernetes.Interface, candidates []candidate) (*watchResult, error) {
	res := &watchResult{}
	start := time.Now()
	cmd := exec.Command(b.plugin, "--kubeconfig", b.kubeconfig, "-w", "-o", "wide", "-v", "6")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	// Room for the first report (-o wide: a row per finding) until the
	// churn reads the lines.
	lines := make(chan watchLine, 1<<16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			lines <- watchLine{time.Now(), sc.Text()}
		}
		close(lines)
	}()
	started := make(chan string, 1)
	var requests requestCounter
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "Watching for changes (") {
				started <- l
			} else {
				requests.line(l)
			}
		}
	}()
	select {
	case msg := <-started:
		if !strings.HasPrefix(msg, "Watching for changes (watching)") {
			return nil, fmt.Errorf("watch phase: the plugin does not watch: %s", msg)
		}
	case <-exited:
		return nil, fmt.Errorf("watch phase: the plugin exited (%v)", cmd.ProcessState)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Minute):
		return nil, fmt.Errorf("watch phase: the watch never started")
	}
	res.startup = time.Since(start)
	lists0, err := apiLists(ctx, cs)
	if err != nil {
		return nil, err
	}
	requests.on.Store(true)
	logf("watch phase: watching after %s; churning %d candidate Pods for %s", res.startup.Round(time.Millisecond), len(candidates), *flagWatchChurn)

	// RSS of the watching process, sampled while it churns.
	stopSampling := make(chan struct{})
	sampled := make(chan []int64, 1)
	go func() {
		var s []int64
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := procRSS(cmd.Process.Pid); err == nil {
				s = append(s, rss)
			}
			select {
			case <-stopSampling:
				sampled <- s
				return
			case <-t.C:
			}
		}
	}()

	rng := rand.New(rand.NewSource(17))
	end := time.Now().Add(*flagWatchChurn)
	for time.Now().Before(end) && ctx.Err() == nil {
		c := candidates[rng.Intn(len(candidates))]
		pod, err := cs.CoreV1().Pods(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("watch phase: %w", err)
		}
		healthy := *pod.Status.DeepCopy()
		for _, crash := range []bool{true, false} {
			d, write, err := toggle(ctx, cs, c, healthy, crash, lines)
			switch {
			case err != nil:
				return nil, err
			case d < 0:
				res.missed++
			default:
				res.latencies = append(res.latencies, d)
				res.writes = append(res.writes, write)
			}
			time.Sleep(*flagWatchGap)
		}
	}
	requests.on.Store(false)
	close(stopSampling)
	res.rssSamples = <-sampled
	_, res.hwm, _ = procRSS(cmd.Process.Pid)
	lists1, err := apiLists(ctx, cs)
	if err != nil {
		return nil, err
	}
	res.serverLists = lists1 - lists0
	res.ownWatches, res.ownOther = int(requests.watches.Load()), int(requests.other.Load())
	// Ctrl-C: a clean stop is exit 0.
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
		res.exitCode = cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("watch phase: the watch did not stop on SIGINT")
	}
	return res, nil
}

// toggle writes the Pod's status (crash-looping, or healthy as it was) and
// waits for the plugin's line about it; it returns the time from just before
// the write to the line read (-1 when none came within 10 s), and how long
// the write itself took.
func toggle(ctx context.Context, cs kubernetes.Interface, c candidate, healthy corev1.PodStatus, crash bool, lines <-chan watchLine) (time.Duration, time.Duration, error) {
	cur, err := cs.CoreV1().Pods(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
	if err != nil {
		return 0, 0, fmt.Errorf("watch phase: %w", err)
	}
	event := "RESOLVED"
	cur.Status = *healthy.DeepCopy()
	if crash {
		event = "APPEARED"
		crashLoop(cur)
	}
	t0 := time.Now()
	if _, err := cs.CoreV1().Pods(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return 0, 0, fmt.Errorf("watch phase: %w", err)
	}
	write := time.Since(t0)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return 0, 0, fmt.Errorf("watch phase: the watch ended")
			}
			if strings.HasPrefix(l.text, event+"   ") && strings.Contains(l.text, "   "+c.name+"   UnhealthyPod") {
				return l.at.Sub(t0), write, nil
			}
		case <-timeout:
			logf("watch phase: no %s line for %s/%s within 10s", event, c.namespace, c.name)
			return -1, write, nil
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		}
	}
}

// procRSS reads a process's current and peak resident set size (bytes).
// VmHWM belongs to the address space, which exec replaced: unlike
// ru_maxrss it does not carry the harness's own size (see cmd/rusage).
func procRSS(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			hwm = kb * 1024
		}
	}
	return rss, hwm, nil
}

// apiLists sums the API server's LIST request counters (every client, the
// API server's own loops included).
func apiLists(ctx context.Context, cs kubernetes.Interface) (lists float64, err error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "apiserver_request_total{") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			continue
		}
		if strings.Contains(l, `verb="LIST"`) {
			lists += v
		}
	}
	return lists, nil
}

func durAt(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

func (b *bench) printWatch(r *watchResult, candidates int) {
	w := b.out
	lat := append([]time.Duration(nil), r.latencies...)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	wr := append([]time.Duration(nil), r.writes...)
	sort.Slice(wr, func(i, j int) bool { return wr[i] < wr[j] })
	rss := append([]int64(nil), r.rssSamples...)
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	var rssMed, rssMax int64
	if len(rss) > 0 {
		rssMed, rssMax = medianInt(rss), rss[len(rss)-1]
	}
	fmt.Fprintf(w, "## Watch (`kubectl-daemoncheck -w -o wide`), %s of churn\n\n", *flagWatchChurn)
	fmt.Fprintf(w, "| measure | value | target |\n|---|---|---|\n")
	fmt.Fprintf(w, "| start to watching (the first read, printed, watches open) | %s s | - |\n", secs(r.startup))
	fmt.Fprintf(w, "| single Pod status update → its line printed, p50 / p95 / max (%d changes, %d candidate Pods, %d missed) | %s / %s / %s ms | ≤ 200 ms |\n",
		len(lat), candidates, r.missed, ms(durAt(lat, 0.5)), ms(durAt(lat, 0.95)), ms(durAt(lat, 1)))
	fmt.Fprintf(w, "| of which the status write (the API round trip), p50 / p95 / max | %s / %s / %s ms | - |\n", ms(durAt(wr, 0.5)), ms(durAt(wr, 0.95)), ms(durAt(wr, 1)))
	fmt.Fprintf(w, "| RSS while watching, median / max of %d samples | %s / %s MB | - |\n", len(rss), mb(rssMed), mb(rssMax))
	fmt.Fprintf(w, "| peak RSS of the watching process (VmHWM, first read included) | %s MB | - |\n", mb(r.hwm))
	fmt.Fprintf(w, "| one-shot audit peak RSS (a-table, median of 3) | %s MB | - |\n", mb(r.oneShotRSS))
	ratio := 0.0
	if r.oneShotRSS > 0 {
		ratio = float64(rssMax) / float64(r.oneShotRSS)
	}
	fmt.Fprintf(w, "| RSS while watching (max) / one-shot peak | %.2f | ≤ 1.5 |\n", ratio)
	fmt.Fprintf(w, "| requests the watching process sent during the churn: lists and gets / watches (re)opened (each times out after 5-10 min) | %d / %d | 0 / - |\n", r.ownOther, r.ownWatches)
	fmt.Fprintf(w, "| LIST requests the API server served during the churn, every client (its own loops, the controllers) | %.0f | - |\n", r.serverLists)
	fmt.Fprintf(w, "| Ctrl-C (SIGINT) | exit %d | exit 0 |\n\n", r.exitCode)
	if len(b.busyNotes) > 0 {
		fmt.Fprintf(w, "NOT VALID: the CPU was shared: %s\n\n", strings.Join(b.busyNotes, "; "))
	}
}

// requestCounter counts, from a plugin's -v 6 log (client-go logs every
// response), the requests it sent while on: watches (re)opened, and
// everything else (lists, gets).
type requestCounter struct {
	on             atomic.Bool
	watches, other atomic.Int64
}

func (c *requestCounter) line(l string) {
	switch {
	case !c.on.Load() || !strings.Contains(l, `"Response" verb=`):
	case strings.Contains(l, "watch=true"):
		c.watches.Add(1)
	default:
		c.other.Add(1)
	}
}

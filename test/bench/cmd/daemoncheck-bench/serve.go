package main

// The serve phase: `kubectl-daemoncheck serve` on the whole fixture; one
// daemon Pod at a time is made to crash-loop and recover through the API
// (as in the watch phase), measuring from just before each status update
// to the first /metrics answer that shows the change (its node's
// daemoncheck_node_findings series appears, then disappears). Meanwhile
// another client scrapes /metrics back to back, so scrapes overlap the
// analyses each change starts: their latency says whether a scrape waits
// for an analysis. The process's RSS is sampled from /proc throughout.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var flagServeChurn = flag.Duration("serve-churn", 3*time.Minute, "serve phase: how long to churn single daemon Pods under `kubectl-daemoncheck serve` (change to /metrics latency, scrape latency, RSS); 0 skips it")

type serveResult struct {
	startup           time.Duration // start to /readyz 200
	visible, gone     []time.Duration
	missed            int
	scrapes           []time.Duration
	scrapeBytes       int
	rssSamples        []int64
	hwm, oneShotPeak  int64
	exitCode          int
	analysesDuringRun float64
	// Requests serve sent during the churn (from its -v 6 request log):
	// watches (re)opened and everything else (lists, gets: the target is
	// none but a re-list after 410 Gone), and the API server's LIST count
	// over the churn, every client.
	ownWatches, ownOther int
	serverLists          float64
}

// servePhase runs the phase and prints its table.
func (b *bench) servePhase(ctx context.Context) error {
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
		return fmt.Errorf("serve phase: no Running and Ready daemon Pod to churn")
	}
	oneShot := command{key: "a-table", steps: func(kc string) []step {
		return []step{{argv: []string{b.plugin, "--kubeconfig", kc}, okCodes: []int{0, 1}}}
	}}
	var peaks []int64
	for range 3 {
		s, err := run(oneShot, b.kubeconfig, false)
		if err != nil {
			return err
		}
		peaks = append(peaks, s.maxRSS)
	}
	res, err := b.serveChurn(ctx, cs, candidates)
	if err != nil {
		return err
	}
	res.oneShotPeak = medianInt(peaks)
	b.printServe(res, len(candidates))
	return nil
}

func (b *bench) serveChurn(ctx context.Context, cs kubernetes.Interface, candidates []candidate) (*serveResult, error) {
	res := &serveResult{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	// -v 6: client-go logs every request, so the phase can count what
	// serve asks the API server for while it follows the churn.
	cmd := exec.Command(b.plugin, "serve", "--kubeconfig", b.kubeconfig, "--listen-address", addr, "-v", "6")
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var requests requestCounter
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			requests.line(sc.Text())
		}
	}()
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
	base := "http://" + addr
	for {
		if code, _, _ := httpGet(ctx, base+"/readyz"); code == http.StatusOK {
			break
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("serve phase: serve exited (%v)", cmd.ProcessState)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(start) > 5*time.Minute {
			return nil, fmt.Errorf("serve phase: not ready after 5m")
		}
	}
	res.startup = time.Since(start)
	_, before, _ := httpGet(ctx, base+"/metrics")
	res.scrapeBytes = len(before)
	logf("serve phase: ready after %s (%d bytes of metrics); churning %d candidate Pods for %s", res.startup.Round(time.Millisecond), len(before), len(candidates), *flagServeChurn)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(2)
	go func() { // a scraper that never pauses
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			if code, _, err := httpGet(ctx, base+"/metrics"); err == nil && code == http.StatusOK {
				mu.Lock()
				res.scrapes = append(res.scrapes, time.Since(t0))
				mu.Unlock()
			}
		}
	}()
	go func() { // RSS
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := procRSS(cmd.Process.Pid); err == nil {
				mu.Lock()
				res.rssSamples = append(res.rssSamples, rss)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	analyses0 := metricValue(before, "daemoncheck_analyses_total")
	lists0, err := apiLists(ctx, cs)
	if err != nil {
		return nil, err
	}
	requests.on.Store(true)

	rng := rand.New(rand.NewSource(23))
	end := time.Now().Add(*flagServeChurn)
	for time.Now().Before(end) && ctx.Err() == nil {
		c := candidates[rng.Intn(len(candidates))]
		pod, err := cs.CoreV1().Pods(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("serve phase: %w", err)
		}
		healthy := *pod.Status.DeepCopy()
		owner := ""
		if ref := metav1.GetControllerOf(pod); ref != nil {
			owner = ref.Name
		}
		series := fmt.Sprintf(`daemoncheck_node_findings{daemonset=%q,namespace=%q,node=%q,type="UnhealthyPod"}`, owner, pod.Namespace, pod.Spec.NodeName)
		for _, crash := range []bool{true, false} {
			cur, err := cs.CoreV1().Pods(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("serve phase: %w", err)
			}
			cur.Status = *healthy.DeepCopy()
			if crash {
				crashLoop(cur)
			}
			t0 := time.Now()
			if _, err := cs.CoreV1().Pods(cur.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return nil, fmt.Errorf("serve phase: %w", err)
			}
			d := waitMetrics(ctx, base, series, crash)
			if d >= 0 {
				d = time.Since(t0)
			}
			switch {
			case d < 0:
				res.missed++
				logf("serve phase: %s did not %s within 10s", series, map[bool]string{true: "appear", false: "disappear"}[crash])
			case crash:
				res.visible = append(res.visible, d)
			default:
				res.gone = append(res.gone, d)
			}
			time.Sleep(*flagWatchGap)
		}
	}
	close(stop)
	wg.Wait()
	requests.on.Store(false)
	res.ownWatches, res.ownOther = int(requests.watches.Load()), int(requests.other.Load())
	lists1, err := apiLists(ctx, cs)
	if err != nil {
		return nil, err
	}
	res.serverLists = lists1 - lists0
	_, res.hwm, _ = procRSS(cmd.Process.Pid)
	if _, after, err := httpGet(ctx, base+"/metrics"); err == nil {
		res.analysesDuringRun = metricValue(after, "daemoncheck_analyses_total") - analyses0
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		res.exitCode = cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("serve phase: serve did not stop on SIGTERM")
	}
	return res, nil
}

// waitMetrics polls /metrics until series is there (want) or gone (!want);
// it returns how long that took, -1 when not within 10 s.
func waitMetrics(ctx context.Context, base, series string, want bool) time.Duration {
	t0 := time.Now()
	for time.Since(t0) < 10*time.Second && ctx.Err() == nil {
		if _, body, err := httpGet(ctx, base+"/metrics"); err == nil && strings.Contains(body, "\n"+series+" ") == want {
			return time.Since(t0)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return -1
}

func httpGet(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// metricValue is the value of an unlabelled series in an exposition.
func metricValue(exposition, name string) float64 {
	for _, l := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return 0
}

func (b *bench) printServe(r *serveResult, candidates int) {
	w := b.out
	sorted := func(d []time.Duration) []time.Duration {
		out := append([]time.Duration(nil), d...)
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	vis, gone, scr := sorted(r.visible), sorted(r.gone), sorted(r.scrapes)
	rss := append([]int64(nil), r.rssSamples...)
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	var rssMed, rssMax int64
	if len(rss) > 0 {
		rssMed, rssMax = medianInt(rss), rss[len(rss)-1]
	}
	fmt.Fprintf(w, "## Serve (`kubectl-daemoncheck serve`), %s of churn\n\n", *flagServeChurn)
	fmt.Fprintf(w, "| measure | value | target |\n|---|---|---|\n")
	fmt.Fprintf(w, "| start to ready (/readyz 200: first read and analysis, watches open) | %s s | - |\n", secs(r.startup))
	fmt.Fprintf(w, "| /metrics size | %d bytes | - |\n", r.scrapeBytes)
	fmt.Fprintf(w, "| Pod crash-loops → its series in /metrics, p50 / p95 / max (%d changes, %d candidates, %d missed) | %s / %s / %s ms | ≤ 1,000 ms |\n",
		len(vis), candidates, r.missed, ms(durAt(vis, 0.5)), ms(durAt(vis, 0.95)), ms(durAt(vis, 1)))
	fmt.Fprintf(w, "| Pod recovers → its series gone, p50 / p95 / max | %s / %s / %s ms | ≤ 1,000 ms |\n", ms(durAt(gone, 0.5)), ms(durAt(gone, 0.95)), ms(durAt(gone, 1)))
	fmt.Fprintf(w, "| /metrics scrape latency during the churn (%d scrapes, %.0f analyses ran meanwhile), p50 / p95 / max | %s / %s / %s ms | p95 ≤ 100 ms |\n",
		len(scr), r.analysesDuringRun, ms(durAt(scr, 0.5)), ms(durAt(scr, 0.95)), ms(durAt(scr, 1)))
	fmt.Fprintf(w, "| RSS while serving, median / max of %d samples | %s / %s MB | - |\n", len(rss), mb(rssMed), mb(rssMax))
	fmt.Fprintf(w, "| peak RSS of serve (VmHWM, first read included) | %s MB | - |\n", mb(r.hwm))
	fmt.Fprintf(w, "| one-shot audit peak RSS (a-table, median of 3) | %s MB | - |\n", mb(r.oneShotPeak))
	ratio := 0.0
	if r.oneShotPeak > 0 {
		ratio = float64(rssMax) / float64(r.oneShotPeak)
	}
	fmt.Fprintf(w, "| RSS while serving (max) / one-shot peak | %.2f | ≤ 1.5 |\n", ratio)
	fmt.Fprintf(w, "| requests serve sent during the churn: lists and gets / watches (re)opened (each times out after 5-10 min) | %d / %d | 0 / - |\n", r.ownOther, r.ownWatches)
	fmt.Fprintf(w, "| LIST requests the API server served during the churn, every client | %.0f | - |\n", r.serverLists)
	fmt.Fprintf(w, "| SIGTERM | exit %d | exit 0 |\n\n", r.exitCode)
	if len(b.busyNotes) > 0 {
		fmt.Fprintf(w, "NOT VALID: the CPU was shared: %s\n\n", strings.Join(b.busyNotes, "; "))
	}
}

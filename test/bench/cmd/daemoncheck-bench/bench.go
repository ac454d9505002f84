package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

type bench struct {
	*tools
	kubeconfig      string
	proxyKubeconfig string
	px              *proxy
	out             io.Writer
	fx              *Fixture
	busyNotes       []string
	lastCmds        []command
	notes           []string
}

// setupProxy starts the byte-counting proxy and writes a copy of the
// kubeconfig that points at it.
func (b *bench) setupProxy() error {
	data, err := os.ReadFile(b.kubeconfig)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^(\s*server:\s*)(\S+)\s*$`)
	m := re.FindSubmatch(data)
	if m == nil {
		return fmt.Errorf("%s: no server: line", b.kubeconfig)
	}
	u, err := url.Parse(string(m[2]))
	if err != nil {
		return err
	}
	b.px, err = newProxy(u.Host)
	if err != nil {
		return err
	}
	proxied := re.ReplaceAll(data, []byte("${1}https://"+b.px.Addr()))
	b.proxyKubeconfig = filepath.Join(filepath.Dir(b.kubeconfig), "kubeconfig-bench-proxy")
	return os.WriteFile(b.proxyKubeconfig, proxied, 0o600)
}

func (b *bench) commands(keys []string) []command {
	dsNS, dsName, _ := strings.Cut(*flagDS, "/")
	dc := func(bin string, args ...string) func(string) []step {
		return func(kc string) []step {
			return []step{{argv: append([]string{bin, "--kubeconfig", kc}, args...), okCodes: []int{0, 1}}}
		}
	}
	all := map[string][]command{
		"a-table": {{key: "a-table", label: "kubectl-daemoncheck (full audit, table)", steps: dc(b.plugin)}},
		"a-json":  {{key: "a-json", label: "kubectl-daemoncheck -o json (full audit)", steps: dc(b.plugin, "-o", "json")}},
		"b":       {{key: "b", label: "kubectl-daemoncheck " + dsName + " -n " + dsNS, steps: dc(b.plugin, dsName, "-n", dsNS)}},
		"c": {{key: "c", label: "kubectl get nodes -o json + kubectl get pods -A -o json", steps: func(kc string) []step {
			return []step{
				{argv: []string{b.kubectl, "--kubeconfig", kc, "get", "nodes", "-o", "json"}},
				{argv: []string{b.kubectl, "--kubeconfig", kc, "get", "pods", "-A", "-o", "json"}},
			}
		}}},
		"d": {{key: "d", label: "kubectl describe daemonsets -A", steps: func(kc string) []step {
			return []step{{argv: []string{b.kubectl, "--kubeconfig", kc, "describe", "daemonsets", "-A"}}}
		}}},
		"e": {{key: "e", label: "floor: paginated protobuf lists, sequential", steps: func(kc string) []step {
			return []step{{argv: []string{b.floor, "-kubeconfig", kc, "-parallel", "1"}}}
		}}},
		"e4": {{key: "e4", label: "floor: same lists, 4 in parallel", steps: func(kc string) []step {
			return []step{{argv: []string{b.floor, "-kubeconfig", kc, "-parallel", "4"}}}
		}}},
	}
	b.capacityCommands(all, dc)
	if pool, change, err := whatifInputs(); err == nil {
		all["whatif"] = []command{{key: "whatif", label: "kubectl-daemoncheck whatif (a GPU NodePool and a DaemonSet change)", steps: dc(b.plugin, "whatif", pool, change)}}
	} else {
		b.notes = append(b.notes, "whatif left out: "+err.Error())
	}
	if b.altPlugin != "" {
		all["a-table"] = append(all["a-table"], command{key: "a-table@" + b.altLabel, label: "kubectl-daemoncheck [" + b.altLabel + "] (table)", steps: dc(b.altPlugin)})
		all["a-json"] = append(all["a-json"], command{key: "a-json@" + b.altLabel, label: "kubectl-daemoncheck [" + b.altLabel + "] -o json", steps: dc(b.altPlugin, "-o", "json")})
	}
	var out []command
	for _, k := range keys {
		out = append(out, all[strings.TrimSpace(k)]...)
	}
	return out
}

// busy says whether another rig or e2e run shares the CPU.
func busy() string {
	var notes []string
	if out, _ := exec.Command("pgrep", "-f", "e2e.test").Output(); len(strings.TrimSpace(string(out))) > 0 {
		notes = append(notes, "an e2e test binary is running")
	}
	if out, _ := exec.Command("pgrep", "-x", "kube-apiserver").Output(); len(strings.Fields(string(out))) > 1 {
		notes = append(notes, fmt.Sprintf("%d kube-apiservers are running", len(strings.Fields(string(out)))))
	}
	return strings.Join(notes, ", ")
}

// stage runs one byte-counting pass through the proxy, then the timed rounds,
// alternating the commands within each round.
func (b *bench) stage(ctx context.Context, name string, rounds int, cmds []command) (map[string]stats, error) {
	waitUntil := time.Now().Add(*flagMaxWait)
	for {
		why := busy()
		if why == "" || *flagAllowBusy || time.Now().After(waitUntil) {
			if why != "" {
				b.busyNotes = append(b.busyNotes, name+": "+why)
				logf("WARNING: %s; measuring anyway (-allow-busy or -max-wait): numbers are not valid", why)
			}
			break
		}
		logf("waiting: %s (the CPU is shared; numbers would not be valid)", why)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Second):
		}
	}
	logf("stage %s: byte-counting pass", name)
	bytesRun := map[string]sample{}
	for _, c := range cmds {
		before := b.px.received.Load()
		s, err := run(c, b.proxyKubeconfig, true)
		if err != nil {
			return nil, err
		}
		s.received = b.px.received.Load() - before
		bytesRun[c.key] = s
		logf("  %-14s %6ss %8s MB RSS %9s MB received %9s MB stdout", c.key, secs(s.wall), mb(s.maxRSS), mb(s.received), mb(s.stdout))
	}
	samples := map[string][]sample{}
	for r := 0; r < rounds; r++ {
		if why := busy(); why != "" {
			b.busyNotes = append(b.busyNotes, fmt.Sprintf("%s round %d: %s", name, r+1, why))
			logf("WARNING: %s during round %d: numbers are not valid", why, r+1)
		}
		for _, c := range cmds {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s, err := run(c, b.kubeconfig, false)
			if err != nil {
				return nil, err
			}
			samples[c.key] = append(samples[c.key], s)
			logf("  round %d %-14s %6ss %8s MB RSS", r+1, c.key, secs(s.wall), mb(s.maxRSS))
		}
	}
	st := map[string]stats{}
	for _, c := range cmds {
		st[c.key] = summarize(samples[c.key], bytesRun[c.key])
	}
	b.lastCmds = cmds
	return st, nil
}

func (b *bench) printMain(st map[string]stats) {
	w := b.out
	fmt.Fprintf(w, "## Final size\n\n")
	fmt.Fprintf(w, "| | command | runs | median s | min s | max s | peak RSS MB (median) | received MB | stdout MB |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range b.lastCmds {
		s := st[c.key]
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", c.key, c.label, s.n, secs(s.median), secs(s.min), secs(s.max), mb(s.rssMedian), mb(s.received), mb(s.stdout))
	}
	fmt.Fprintln(w)
	type target struct {
		what     string
		num, den string
		rss      bool
		limit    float64
	}
	targets := []target{
		{"time a-table / c", "a-table", "c", false, 0.1},
		{"time a-json / c", "a-json", "c", false, 0.1},
		{"time a-table / d", "a-table", "d", false, 1.0},
		{"time a-json / d", "a-json", "d", false, 1.0},
		{"time a-table / e", "a-table", "e", false, 1.5},
		{"time a-json / e", "a-json", "e", false, 1.5},
		{"time a-table / e4", "a-table", "e4", false, 0},
		{"time b / d", "b", "d", false, 0},
		{"time whatif / a-table", "whatif", "a-table", false, 1.2},
		{"RSS whatif / a-table", "whatif", "a-table", true, 1.2},
		{"RSS a-table / c", "a-table", "c", true, 0.1},
		{"RSS a-json / c", "a-json", "c", true, 0.1},
		{"RSS a-table / d", "a-table", "d", true, 2.0},
		{"RSS a-json / d", "a-json", "d", true, 2.0},
		{"RSS a-table / e", "a-table", "e", true, 0},
		{"bytes a-table / e", "a-table", "e", false, -1},
	}
	fmt.Fprintf(w, "| ratio | value | target | met |\n|---|---|---|---|\n")
	for _, t := range targets {
		n, okN := st[t.num]
		d, okD := st[t.den]
		if !okN || !okD {
			continue
		}
		var v float64
		switch {
		case t.limit < 0:
			v = float64(n.received) / float64(d.received)
		case t.rss:
			v = float64(n.rssMedian) / float64(d.rssMedian)
		default:
			v = n.median.Seconds() / d.median.Seconds()
		}
		tgt, met := "-", "-"
		if t.limit > 0 {
			tgt = fmt.Sprintf("≤ %.1f", t.limit)
			met = "no"
			if v <= t.limit {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %.3f | %s | %s |\n", t.what, v, tgt, met)
	}
	fmt.Fprintln(w)
	for _, n := range b.notes {
		fmt.Fprintf(w, "Note: %s\n\n", n)
	}
	if len(b.busyNotes) > 0 {
		fmt.Fprintf(w, "NOT VALID: the CPU was shared: %s\n\n", strings.Join(b.busyNotes, "; "))
	}
}

type sweepRow struct {
	nodes, daemon, nonDaemon int
	st                       map[string]stats
}

func (b *bench) printSweep(rows []sweepRow) {
	w := b.out
	fmt.Fprintf(w, "## Size sweep (median wall s / peak RSS MB)\n\n")
	keys := []string{"a-table", "a-json", "b", "c", "d", "e", "e4"}
	fmt.Fprintf(w, "| nodes | daemon Pods | non-daemon Pods |")
	for _, k := range keys {
		fmt.Fprintf(w, " %s |", k)
	}
	fmt.Fprintf(w, " a-table/e time |\n|---|---|---|")
	for range keys {
		fmt.Fprintf(w, "---|")
	}
	fmt.Fprintf(w, "---|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %d | %d | %d |", r.nodes, r.daemon, r.nonDaemon)
		for _, k := range keys {
			if s, ok := r.st[k]; ok {
				fmt.Fprintf(w, " %s / %s |", secs(s.median), mb(s.rssMedian))
			} else {
				fmt.Fprintf(w, " - |")
			}
		}
		a, e := r.st["a-table"], r.st["e"]
		if e.median > 0 {
			fmt.Fprintf(w, " %.2f |\n", a.median.Seconds()/e.median.Seconds())
		} else {
			fmt.Fprintf(w, " - |\n")
		}
	}
	fmt.Fprintln(w)
}

func (b *bench) printGrowth(before, after sweepRow) {
	w := b.out
	fmt.Fprintf(w, "## Non-daemon Pods grow, nothing else does\n\n")
	fmt.Fprintf(w, "| nodes | daemon Pods | non-daemon Pods | a-table s | a-table RSS MB | a-json s | a-json RSS MB | e s | e RSS MB | a-table received MB |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range []sweepRow{before, after} {
		a, j, e := r.st["a-table"], r.st["a-json"], r.st["e"]
		fmt.Fprintf(w, "| %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", r.nodes, r.daemon, r.nonDaemon,
			secs(a.median), mb(a.rssMedian), secs(j.median), mb(j.rssMedian), secs(e.median), mb(e.rssMedian), mb(a.received))
	}
	fmt.Fprintln(w)
	if len(b.busyNotes) > 0 {
		fmt.Fprintf(w, "NOT VALID: the CPU was shared: %s\n\n", strings.Join(b.busyNotes, "; "))
	}
}

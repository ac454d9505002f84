package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// capacityKeys are the capacity stage's commands: the capacity view, the audit
// with --workloads, and what it is compared with, kubectl reading every Pod.
var capacityKeys = []string{"cap", "a-work", "cp"}

// capacityCommands adds them to the command map.
func (b *bench) capacityCommands(all map[string][]command, dc func(bin string, args ...string) func(string) []step) {
	all["cap"] = []command{{key: "cap", label: "kubectl-daemoncheck capacity (overhead view, every node)", steps: dc(b.plugin, "capacity")}}
	all["a-work"] = []command{{key: "a-work", label: "kubectl-daemoncheck --workloads (audit + every Pod)", steps: dc(b.plugin, "--workloads")}}
	all["cp"] = []command{{key: "cp", label: "kubectl get pods -A -o json", steps: func(kc string) []step {
		return []step{{argv: []string{b.kubectl, "--kubeconfig", kc, "get", "pods", "-A", "-o", "json"}}}
	}}}
	// The other build gets a cap run only if it has the command (a build
	// from before the capacity command would fail the stage).
	if b.altPlugin != "" {
		// (Such a build takes "capacity" for a DaemonSet NAME and prints
		// its own help: look for the subcommand's usage line.)
		if out, err := exec.Command(b.altPlugin, "capacity", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "daemoncheck capacity") {
			b.notes = append(b.notes, fmt.Sprintf("cap@%s left out: that build has no capacity command", b.altLabel))
		} else {
			all["cap"] = append(all["cap"], command{key: "cap@" + b.altLabel, label: "kubectl-daemoncheck [" + b.altLabel + "] capacity", steps: dc(b.altPlugin, "capacity")})
		}
	}
}

// printCapacity prints the issue-16 ratios at every size measured: the
// overhead view against the plain audit (target <= 1.2), and the audit with
// every Pod read against kubectl get pods -A -o json (target <= 0.2 in time
// and in peak RSS). (cp) is left out above -c-max-pods, so the workload
// ratio is shown at the sizes where kubectl could run, and the largest of
// them is named; (a-work - a-table) is the workload read's own share.
func (b *bench) printCapacity(rows []sweepRow) {
	w := b.out
	fmt.Fprintf(w, "## Capacity\n\n")
	fmt.Fprintf(w, "| nodes | Pods | cap s / RSS MB | a-table s | cap/a-table time | a-work s / RSS MB | cp s / RSS MB | a-work/cp time | (a-work - a-table)/cp time | a-work/cp RSS |\n|---|---|---|---|---|---|---|---|---|---|\n")
	largest := 0
	for _, r := range rows {
		c, okC := r.st["cap"]
		a, okA := r.st["a-table"]
		wk, okW := r.st["a-work"]
		cp, okP := r.st["cp"]
		cell := func(ok bool, s stats) string {
			if !ok {
				return "-"
			}
			return secs(s.median) + " / " + mb(s.rssMedian)
		}
		ratio := func(ok bool, num, den float64) string {
			if !ok || den <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f", num/den)
		}
		fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.nodes, r.daemon+r.nonDaemon,
			cell(okC, c), secondsOr(okA, a),
			ratio(okC && okA, c.median.Seconds(), a.median.Seconds()),
			cell(okW, wk), cell(okP, cp),
			ratio(okW && okP, wk.median.Seconds(), cp.median.Seconds()),
			ratio(okW && okA && okP, wk.median.Seconds()-a.median.Seconds(), cp.median.Seconds()),
			ratio(okW && okP, float64(wk.rssMedian), float64(cp.rssMedian)))
		if okW && okP {
			largest = r.nodes
		}
	}
	fmt.Fprintln(w)
	if largest > 0 {
		fmt.Fprintf(w, "Targets: cap/a-table time <= 1.2; a-work/cp time and RSS <= 0.2. The workload ratios are measured up to %d nodes, the largest size at which kubectl get pods -A -o json was run (-c-max-pods); beyond it a-work is shown alone.\n\n", largest)
	} else {
		fmt.Fprintf(w, "Targets: cap/a-table time <= 1.2; a-work/cp time and RSS <= 0.2 (cp was not run at any size: -c-max-pods or -only).\n\n")
	}
}

func secondsOr(ok bool, s stats) string {
	if !ok {
		return "-"
	}
	return secs(s.median)
}

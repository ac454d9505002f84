package cli

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

const unitsCluster = "testdata/units-cluster.yaml"

var (
	kibi = regexp.MustCompile(`\dKi\b`)
	// An amount: a number and its unit, if any.
	amount   = regexp.MustCompile(`^(-?\d+(?:\.\d+)?)([A-Za-z]*)$`)
	named    = regexp.MustCompile(`\b(cpu|memory) (-?\d+(?:\.\d+)?[A-Za-z]*)`)
	short    = regexp.MustCompile(`Insufficient (cpu|memory) \(needs ([^;]+); (\S+) of (\S+) requested\)`)
	colSplit = regexp.MustCompile(`\s{2,}`)
)

// unitSet collects the units the amounts of cpu and memory are printed in.
type unitSet map[string]map[string]bool

func (u unitSet) add(t *testing.T, resource, a string) {
	t.Helper()
	m := amount.FindStringSubmatch(a)
	if m == nil {
		t.Errorf("%s amount %q is not a number with a unit", resource, a)
		return
	}
	if m[1] == "0" && m[2] == "" {
		return // nothing requested: no unit to compare
	}
	if u[resource] == nil {
		u[resource] = map[string]bool{}
	}
	u[resource][m[2]] = true
}

// check fails when a resource's amounts are in more than one unit.
func (u unitSet) check(t *testing.T, where, out string) {
	t.Helper()
	for r, us := range u {
		if len(us) > 1 {
			var names []string
			for n := range us {
				names = append(names, "\""+n+"\"")
			}
			sort.Strings(names)
			t.Errorf("%s: %s printed in units %s:\n%s", where, r, strings.Join(names, ", "), out)
		}
	}
}

// tableUnits reads the table that starts at lines[0] (its header) up to
// the first blank line: the CPU and MEMORY columns ("a/b (n%)" or an
// amount) and every "cpu X" or "memory X" in the other cells.
func tableUnits(t *testing.T, lines []string, u unitSet) {
	t.Helper()
	head := colSplit.Split(strings.TrimSpace(lines[0]), -1)
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			return
		}
		for i, cell := range colSplit.Split(strings.TrimSpace(l), -1) {
			if i < len(head) && (head[i] == "CPU" || head[i] == "MEMORY") {
				r := strings.ToLower(head[i])
				for _, a := range strings.Split(strings.SplitN(cell, " (", 2)[0], "/") {
					if a != "unknown" && a != "<unknown>" && a != "?" {
						u.add(t, r, a)
					}
				}
				continue
			}
			for _, m := range named.FindAllStringSubmatch(cell, -1) {
				u.add(t, m[1], m[2])
			}
		}
	}
}

// messageUnits checks that the amounts of each "Insufficient ..." in out
// share one unit.
func messageUnits(t *testing.T, where, out string) {
	t.Helper()
	for _, m := range short.FindAllStringSubmatch(out, -1) {
		u := unitSet{}
		for _, a := range m[2:] {
			u.add(t, m[1], a)
		}
		u.check(t, where+": "+m[0], out)
	}
}

// No cell, column or message of the capacity and what-if views prints one
// resource in two units, nor memory in Ki (issue 23 item 6), on the demo,
// the what-if fixtures and a cluster whose allocatable is in Ki.
func TestOneUnitPerResource(t *testing.T) {
	capacityRuns := [][]string{}
	for _, input := range []string{demo, unitsCluster} {
		for _, extra := range [][]string{nil, {"-o", "wide"}, {"--workloads"}, {"-o", "markdown"}} {
			capacityRuns = append(capacityRuns, append([]string{"capacity", "-f", input, demoNow}, extra...))
		}
	}
	for _, args := range capacityRuns {
		where := strings.Join(args, " ")
		out, _, _ := runCmd(t, "", args...)
		if kibi.MatchString(out) {
			t.Errorf("%s prints Ki:\n%s", where, out)
		}
		messageUnits(t, where, out)
		lines := strings.Split(out, "\n")
		u := unitSet{}
		if strings.HasPrefix(out, "## ") {
			// markdown: | Pool | Nodes | DaemonSets | cpu | memory | ...
			for _, l := range lines {
				if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| Pool") {
					continue
				}
				cells := strings.Split(l, "|")
				for i, r := range []string{"cpu", "memory"} {
					for _, a := range strings.Split(strings.SplitN(strings.TrimSpace(cells[4+i]), " (", 2)[0], " / ") {
						if a != "unknown" {
							u.add(t, r, a)
						}
					}
				}
			}
		} else {
			tableUnits(t, lines, u)
		}
		if len(u["memory"]) == 0 || len(u["cpu"]) == 0 {
			t.Fatalf("%s: no amounts read (the test no longer parses the table):\n%s", where, out)
		}
		u.check(t, where, out)
	}

	whatIfRuns := [][]string{
		{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "--require", "kube-system/ebs-csi-node", "-o", "wide"},
		{"whatif", wiDir + "nodepool-edge.yaml", "-f", wiCluster, "-o", "wide"},
		{"whatif", wiDir + "machinedeployment.yaml", "-f", wiCluster, "-o", "wide"},
		{"whatif", wiDir + "node.yaml", "-f", wiCluster, "-o", "wide"},
		{"whatif", wiDir + "falco-change.yaml", wiDir + "otel-node-exporter.yaml", "-f", wiCluster, "--require", "security/falco"},
		{"whatif", wiDir + "nodepool-gpu.yaml", "-f", wiCluster, "-o", "markdown"},
		{"whatif", "-f", unitsCluster, "--labels", "pool=x", "--allocatable", "cpu=4,memory=15896200Ki,pods=58", "-o", "wide"},
		{"whatif", "-f", unitsCluster, "--labels", "pool=x", "--allocatable", "cpu=1930m,memory=3926812Ki,pods=58", "-o", "wide"},
	}
	shapes := 0
	for _, args := range whatIfRuns {
		where := strings.Join(args, " ")
		out, _, _ := runCmd(t, "", args...)
		if kibi.MatchString(out) {
			t.Errorf("%s prints Ki:\n%s", where, out)
		}
		messageUnits(t, where, out)
		// Each node shape (its Allocatable, Daemon Overhead and Headroom
		// lines and its table), a pool's table of node shapes, each table
		// of DaemonSets and each changed DaemonSet's Request line in one
		// unit per resource.
		blocks := regexp.MustCompile(`(?m)^(Node shape |Node shapes:|DaemonSets? |Findings:)`).Split(out, -1)
		for _, b := range blocks[1:] {
			u := unitSet{}
			lines := strings.Split(b, "\n")
			var kv strings.Builder
			for i, l := range lines {
				if (strings.Contains(l, "NAMESPACE") || strings.Contains(l, "NODE SHAPE")) && strings.Contains(l, "MEMORY") {
					tableUnits(t, lines[i:], u)
					break
				}
				if strings.HasPrefix(l, "  NAMESPACE") || strings.HasPrefix(l, "NODES") {
					break
				}
				kv.WriteString(l + " ")
			}
			for _, m := range named.FindAllStringSubmatch(strings.Join(strings.Fields(kv.String()), " "), -1) {
				u.add(t, m[1], m[2])
			}
			if len(u["memory"]) > 0 {
				shapes++
			}
			u.check(t, where, b)
		}
	}
	if shapes < 8 {
		t.Fatalf("only %d node shapes or changes read amounts", shapes)
	}
}

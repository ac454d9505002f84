//go:build browser

package browser

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

const demoNow = "--now=2026-11-23T12:00:00Z"

// plugin is the kubectl-daemoncheck binary under test, built once.
var plugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "daemoncheck-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plugin = filepath.Join(dir, "kubectl-daemoncheck")
	build := exec.Command("go", "build", "-o", plugin, "./cmd/kubectl-daemoncheck")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the plugin:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// render runs the plugin with args, -o html into a file of dir, and in
// the same run --output-file json=... for what the page must show.
func render(t *testing.T, dir, name string, args ...string) (string, *report.Report) {
	t.Helper()
	page, js := filepath.Join(dir, name), filepath.Join(dir, name+".json")
	cmd := exec.Command(plugin, append(append([]string{}, args...), "-o", "html", "--output-file", "json="+js)...)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil // findings: what these inputs are made of
	}
	if err != nil {
		t.Fatalf("kubectl-daemoncheck %s -o html: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	if err := os.WriteFile(page, out, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return page, &rep
}

// gridSeen is what the page's grid shows.
type gridSeen struct {
	// state of each "node\x00namespace/name" cell (the CSS state class).
	state map[string]string
	// pools by name: node count, whether collapsed, and the counts its
	// summary row shows per column.
	pools map[string]*poolSeen
}

type poolSeen struct {
	nodes     int
	collapsed bool
	// open is whether its drill-in is open.
	open   bool
	counts []int
	// names are its nodes in the grid; attention the nodes shown outside
	// the drill-in of a collapsed pool.
	names, attention []string
}

func cellKey(node, ds string) string { return node + "\x00" + ds }

// checkGrid checks that the grid has one cell per node and DaemonSet of the
// report, each with a glyph and a title, and returns what it shows.
func checkGrid(t *testing.T, doc *html.Node, rep *report.Report) gridSeen {
	t.Helper()
	var columns []string
	for _, ds := range rep.DaemonSets {
		columns = append(columns, ds.Namespace+"/"+ds.Name)
	}
	seen := gridSeen{state: map[string]string{}, pools: map[string]*poolSeen{}}
	sections := find(doc, tag("section", "pool"))
	if len(sections) == 0 {
		t.Fatal("the page has no pool section")
	}
	for _, sec := range sections {
		name, _ := attr(sec, "data-pool")
		ps := &poolSeen{collapsed: hasClass(sec, "collapsed")}
		seen.pools[name] = ps
		for _, table := range find(sec, tag("table", "grid")) {
			var heads []string
			for _, th := range find(table, tag("th", "dscol")) {
				ds, _ := attr(th, "data-ds")
				heads = append(heads, ds)
			}
			if strings.Join(heads, ",") != strings.Join(columns, ",") {
				t.Fatalf("pool %q: columns %v, want the report's DaemonSets %v", name, heads, columns)
			}
			if hasClass(table, "counts") {
				for _, td := range find(table, tag("td")) {
					n := 0
					for _, c := range find(td, tag("span", "n")) {
						_, num, _ := strings.Cut(text(c), " ")
						v, err := strconv.Atoi(num)
						if err != nil {
							t.Fatalf("pool %q: count %q is not a glyph and a number", name, text(c))
						}
						n += v
					}
					ps.counts = append(ps.counts, n)
				}
				continue
			}
			if hasClass(table, "attention") {
				for _, tr := range find(table, tag("tr")) {
					if node, ok := attr(tr, "data-node"); ok {
						ps.attention = append(ps.attention, node)
					}
				}
				continue
			}
			if d := ancestor(table, "details"); d != nil {
				_, ps.open = attr(d, "open")
			}
			for _, tr := range find(table, tag("tr")) {
				node, ok := attr(tr, "data-node")
				if !ok {
					continue
				}
				ps.nodes++
				ps.names = append(ps.names, node)
				tds := children(tr, "td")
				if len(tds) != len(columns) {
					t.Fatalf("node %s has %d cells, want one per DaemonSet (%d)", node, len(tds), len(columns))
				}
				for i, td := range tds {
					k := cellKey(node, columns[i])
					if _, dup := seen.state[k]; dup {
						t.Fatalf("node %s, DaemonSet %s: two cells", node, columns[i])
					}
					class, _ := attr(td, "class")
					state, _ := strings.CutPrefix(strings.Fields(class)[0], "s-")
					seen.state[k] = state
					title, _ := attr(td, "title")
					if strings.TrimSpace(text(td)) == "" || !strings.HasPrefix(title, node+" · "+columns[i]+": ") {
						t.Fatalf("node %s, DaemonSet %s: cell %q titled %q; want a glyph and a title naming both", node, columns[i], text(td), title)
					}
				}
			}
		}
	}
	for _, n := range rep.Nodes {
		for _, ds := range columns {
			if _, ok := seen.state[cellKey(n.Name, ds)]; !ok {
				t.Fatalf("no cell for node %s and DaemonSet %s", n.Name, ds)
			}
		}
	}
	if len(seen.state) != len(rep.Nodes)*len(columns) {
		t.Fatalf("%d cells, want %d nodes x %d DaemonSets", len(seen.state), len(rep.Nodes), len(columns))
	}
	// A collapsed pool shows its first 50 nodes needing attention (a cell
	// pending, unhealthy or missing) outside its drill-in, in grid order.
	for name, ps := range seen.pools {
		var want []string
		for _, node := range ps.names {
			for _, ds := range columns {
				if st := seen.state[cellKey(node, ds)]; st == "pending" || st == "unhealthy" || st == "missing" {
					want = append(want, node)
					break
				}
			}
		}
		if !ps.collapsed {
			want = nil
		}
		want = want[:min(len(want), 50)]
		if strings.Join(ps.attention, ",") != strings.Join(want, ",") {
			t.Errorf("pool %q shows %v as needing attention, want %v", name, ps.attention, want)
		}
	}
	return seen
}

// checkCellsAgreeWithFindings checks the colours against the analysis: a
// cell is missing exactly where a MissingPod or UncoveredNode finding is
// active, and unhealthy or pending where one says so.
func checkCellsAgreeWithFindings(t *testing.T, seen gridSeen, rep *report.Report) {
	t.Helper()
	missing := map[string]bool{}
	for _, ds := range rep.DaemonSets {
		key := ds.Namespace + "/" + ds.Name
		for _, f := range ds.Findings {
			if f.Exempted != "" && f.Type == report.MissingPod && seen.state[cellKey(f.Node, key)] != "excluded" {
				t.Errorf("node %s, DaemonSet %s: cell is %s, but its MissingPod is exempted (%s)", f.Node, key, seen.state[cellKey(f.Node, key)], f.Exempted)
			}
			if f.Node == "" || !f.Active() {
				continue
			}
			k := cellKey(f.Node, key)
			if _, onPage := seen.state[k]; !onPage {
				continue // an orphaned Pod's node is gone
			}
			want := map[report.FindingType]string{report.MissingPod: "missing", report.UncoveredNode: "missing",
				report.UnhealthyPod: "unhealthy", report.PendingPod: "pending"}[f.Type]
			if want == "" {
				continue
			}
			if want == "missing" {
				missing[k] = true
			}
			if seen.state[k] != want {
				t.Errorf("node %s, DaemonSet %s: cell is %s, but the report has %s there", f.Node, key, seen.state[k], f.Type)
			}
		}
	}
	for k, st := range seen.state {
		if st == "missing" && !missing[k] {
			node, ds, _ := strings.Cut(k, "\x00")
			t.Errorf("node %s, DaemonSet %s: cell is missing without a MissingPod or UncoveredNode finding", node, ds)
		}
	}
}

// checkProblems checks that every problem is listed, in the report's order,
// with its type, severity, nodes and cause, and that each suggested
// command got its copy button from the page's script.
func checkProblems(t *testing.T, doc *html.Node, rep *report.Report) {
	t.Helper()
	items := find(doc, tag("li", "problem"))
	if len(items) != len(rep.Problems) {
		t.Fatalf("%d problems listed, want %d", len(items), len(rep.Problems))
	}
	for i, li := range items {
		p := rep.Problems[i]
		id, _ := attr(li, "id")
		if id != "problem-"+p.ID {
			t.Errorf("problem %d is %s, want problem-%s", i, id, p.ID)
		}
		if !hasClass(li, "sev-"+string(p.Severity)) || text(find(li, tag("span", "sev"))[0]) != string(p.Severity) {
			t.Errorf("problem %s: severity %s not shown", p.ID, p.Severity)
		}
		if got := text(find(li, tag("strong", "ptype"))[0]); got != p.Type {
			t.Errorf("problem %s: type %q, want %q", p.ID, got, p.Type)
		}
		if got := text(find(li, tag("dd", "pcause"))[0]); !strings.HasPrefix(got, p.Cause) {
			t.Errorf("problem %s: cause %q, want %q", p.ID, got, p.Cause)
		}
		if len(p.Nodes) > 0 && !strings.Contains(text(find(li, tag("dd", "pnodes"))[0]), p.Range) {
			t.Errorf("problem %s: nodes %s not shown", p.ID, p.Range)
		}
	}
	cmds, buttons := find(doc, tag("code", "cmd")), find(doc, tag("button", "copy"))
	if len(cmds) == 0 || len(buttons) != len(cmds) {
		t.Errorf("%d suggested commands and %d copy buttons: the page's script did not run", len(cmds), len(buttons))
	}
}

func checkVerdict(t *testing.T, doc *html.Node, rep *report.Report) {
	t.Helper()
	want := "PASSED"
	switch {
	case rep.Summary.Failing > 0:
		want = "FAILED"
	case rep.Partial:
		want = "INCOMPLETE"
	}
	words := find(doc, tag("span", "verdict-word"))
	if len(words) != 1 || text(words[0]) != want {
		t.Errorf("verdict not shown as %s", want)
	}
	times := find(doc, tag("time"))
	if len(times) != 1 || text(times[0]) != rep.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z07:00") {
		t.Errorf("report time not shown as %s", rep.GeneratedAt)
	}
	if age := find(doc, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "age" }); len(age) != 1 || !strings.Contains(text(age[0]), "ago") {
		t.Errorf("the page's script did not say how old the report is")
	}
}

func TestDemoPageInChromium(t *testing.T) {
	dir := t.TempDir()
	page, rep := render(t, dir, "demo.html", "-f", filepath.Join("..", "fixtures", "demo-cluster.yaml"), demoNow)
	doc := parseDOM(t, dumpDOM(t, page))
	seen := checkGrid(t, doc, rep)
	checkCellsAgreeWithFindings(t, seen, rep)
	checkProblems(t, doc, rep)
	checkVerdict(t, doc, rep)
	for name, p := range seen.pools {
		if p.collapsed {
			t.Errorf("pool %q (%d nodes) is collapsed; the demo's pools are small", name, p.nodes)
		}
	}
	screenshot(t, page, "demo.png", "1400,1000")
	screenshot(t, page, "demo-full.png", "1400,3000")
}

func TestLargeClusterPageInChromium(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "large.json")
	pools := writeLargeCluster(t, input)
	page, rep := render(t, dir, "large.html", "-f", input, demoNow)
	if len(rep.Nodes) != largeNodes {
		t.Fatalf("the report has %d nodes, want %d", len(rep.Nodes), largeNodes)
	}
	if rep.Summary.Exempted != 2 {
		t.Fatalf("the report has %d exempted findings, want the 2 the fixture exempts", rep.Summary.Exempted)
	}
	doc := parseDOM(t, dumpDOM(t, page))
	seen := checkGrid(t, doc, rep)
	checkCellsAgreeWithFindings(t, seen, rep)
	checkProblems(t, doc, rep)
	checkVerdict(t, doc, rep)
	for name, size := range pools {
		p := seen.pools[name]
		switch {
		case p == nil:
			t.Errorf("pool %s is not on the page", name)
		case p.nodes != size:
			t.Errorf("pool %s shows %d nodes, want %d", name, p.nodes, size)
		case size > 50 && (!p.collapsed || p.open):
			t.Errorf("pool %s (%d nodes) is not collapsed behind a closed drill-in", name, size)
		case size > 50 && len(p.attention) == 0:
			t.Errorf("pool %s shows no node needing attention outside its drill-in", name)
		case size > 50:
			for i, n := range p.counts {
				if n != size {
					t.Errorf("pool %s: the counts of column %d add up to %d, want %d", name, i, n, size)
				}
			}
		case p.collapsed:
			t.Errorf("pool %s (%d nodes) is collapsed", name, size)
		}
	}
	screenshot(t, page, "large.png", "1400,1000")
	screenshot(t, page, "large-full.png", "1400,2400")
}

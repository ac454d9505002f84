package ci

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/rendertest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// ghUnescape reverses the toolkit's escaping, as the runner does.
func ghUnescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

func TestGitHubWorkflowCommands(t *testing.T) {
	r := &report.Report{Partial: true, Unread: []report.Unread{{Kind: "Pod", Reason: "forbidden: 100% sure", Rule: "verbs: [list]"}},
		Summary: report.Summary{Failing: 1, Findings: 2, DaemonSets: 1},
		DaemonSets: []report.DaemonSetReport{{Namespace: "ns", Name: "agent", Findings: []report.Finding{
			{Type: report.MissingPod, Node: "n:1,a", Message: "50% of\nnodes\r, lacking: it", Suggestion: "fix it, now", Failing: true},
			{Type: report.OutdatedPod, Node: "n2", Message: "old"},
			{Type: report.UnhealthyPod, Node: "n3", Message: "exempt", Exempted: "daemoncheck.io/exempt"},
		}}},
		// One annotation per problem; the exempted finding is in none. A CR is written \\r: the runner reads it as the end of a line.
		Problems: []report.Problem{
			{Type: "MissingPod", Failing: true, DaemonSets: []string{"ns/agent"}, Nodes: []string{"n:1,a"}, Range: "n:1,a", Cause: "50% of\nnodes\r, lacking: it", Fix: "fix it, now"},
			{Type: "OutdatedPod", DaemonSets: []string{"ns/agent"}, Nodes: []string{"n2"}, Range: "n2", Cause: "old"},
		}}
	var buf bytes.Buffer
	if err := GitHub(&buf, r, render.Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	var cmds [][]string
	for _, l := range lines {
		if m := rendertest.WorkflowCommand.FindStringSubmatch(l); m != nil {
			cmds = append(cmds, m)
		} else if strings.HasPrefix(l, "::") {
			t.Errorf("malformed workflow command %q", l)
		}
	}
	if len(cmds) != 3 {
		t.Fatalf("want 3 commands (partial, error, warning: one per problem, none for the exempted finding), got %d:\n%s", len(cmds), buf.String())
	}
	if cmds[0][1] != "error" || !strings.Contains(ghUnescape(cmds[0][5]), "forbidden: 100% sure") {
		t.Errorf("partial: %q", cmds[0][0])
	}
	if cmds[1][1] != "error" || ghUnescape(cmds[1][5]) != "50% of\nnodes\\r, lacking: it\nFix: fix it, now" {
		t.Errorf("failing finding: %q -> %q", cmds[1][0], ghUnescape(cmds[1][5]))
	}
	if title := ghUnescape(strings.TrimPrefix(cmds[1][3], "title=")); title != "MissingPod ns/agent on 1 node(s): n:1,a" {
		t.Errorf("title %q", title)
	}
	if cmds[2][1] != "warning" {
		t.Errorf("non-failing finding: %q", cmds[2][0])
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "daemoncheck: 2 problems, 1 failing of 2 findings") {
		t.Errorf("summary line %q", last)
	}
}

func TestMarkdownStaysUnderLimit(t *testing.T) {
	old := MarkdownLimit
	defer func() { MarkdownLimit = old }()
	r := &report.Report{Summary: report.Summary{DaemonSets: 2, Findings: 400}}
	for d := 0; d < 2; d++ {
		ds := report.DaemonSetReport{Namespace: "ns", Name: "agent" + string(rune('a'+d))}
		for i := 0; i < 200; i++ {
			ds.Findings = append(ds.Findings, report.Finding{Type: report.MissingPod, Node: "node", Message: strings.Repeat("x", 200), Failing: true})
		}
		r.DaemonSets = append(r.DaemonSets, ds)
	}
	var full bytes.Buffer
	if err := Markdown(&full, r, render.Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(full.String(), "left out") {
		t.Fatal("a report under the limit was cut")
	}
	MarkdownLimit = 20 << 10
	var cut bytes.Buffer
	if err := Markdown(&cut, r, render.Options{}); err != nil {
		t.Fatal(err)
	}
	out := cut.String()
	if len(out) > MarkdownLimit {
		t.Errorf("markdown is %d bytes, over the %d limit", len(out), MarkdownLimit)
	}
	rows := strings.Count(out, "| `ns/agent") - 2
	m := regexp.MustCompile(`0 DaemonSet rows and (\d+) of 400 findings left out`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no note saying what was left out:\n%s", out[len(out)-500:])
	}
	if left := m[1]; left != strconv.Itoa(400-rows) {
		t.Errorf("note says %s left out, %d rows printed of 400", left, rows)
	}
}

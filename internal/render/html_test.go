package render

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// hostile is what a cluster may hold in any name, label or message: markup,
// a terminal escape, a right-to-left override that makes text read
// backwards, a zero-width joiner, an isolate.
const hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>\x1b[2J\u202eexe.sh\u200d\u2066x"

func hostilePageReport() *report.Report {
	h := hostile
	return &report.Report{
		GeneratedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Source:      "file " + h, ServerVersion: h, Partial: true,
		Unread:   []report.Unread{{Kind: "Pod", Reason: h}},
		Warnings: []string{h},
		Summary:  report.Summary{DaemonSets: 1, Findings: 1, Failing: 1},
		Gate:     report.GateSettings{FailOn: []string{h}},
		Nodes:    []report.NodeInfo{{Name: "n" + h, Ready: h, Labels: map[string]string{"karpenter.sh/nodepool": "pool" + h}, Conditions: []string{h}}},
		DaemonSets: []report.DaemonSetReport{{Namespace: "ns" + h, Name: "ds" + h,
			ManagedBy: &report.Manager{Summary: h},
			Nodes: []report.NodeVerdict{{Name: "n" + h, ShouldRun: true, Coverage: report.Covered,
				Pods: []report.PodRef{{Name: "p" + h, State: h, Phase: "Running"}}}},
			Findings: []report.Finding{{Type: report.UnhealthyPod, Node: "n" + h, Message: h, Failing: true}},
		}},
		Problems: []report.Problem{{ID: h, Type: h, Severity: report.Severity(h), DaemonSets: []string{h}, Nodes: []string{h}, Range: h,
			Cause: h, Pattern: h, Fix: h, Advice: report.Advise(h+" {0} {1} {9} {x", report.WriteCmd("kubectl", "delete", "pod", h), report.Cmd(h))}},
	}
}

// The tags the page is made of: anything else in it came from the report.
var pageTags = []string{"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "span",
	"time", "nav", "a", "main", "section", "ol", "li", "div", "strong", "dl", "dt", "dd", "br", "code", "ul", "b", "input",
	"label", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "footer", "script"}

var tagRE = regexp.MustCompile(`<(/?)([!A-Za-z][A-Za-z0-9]*)`)

func TestHTMLPageEscapesEverythingFromTheCluster(t *testing.T) {
	var buf bytes.Buffer
	if err := HTMLPage(&buf, hostilePageReport(), HTMLOptions{Title: hostile}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		if !slices.Contains(pageTags, m[2]) {
			t.Errorf("the page has a <%s%s> tag, which comes from the report", m[1], m[2])
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("the page has %d <script> elements, want only its own", n)
	}
	if strings.Contains(page, "onerror=") && !strings.Contains(page, "onerror=alert(2)&gt;") {
		t.Errorf("an onerror attribute is not escaped")
	}
	for _, r := range []rune{0x1b, 0x202e, 0x200d, 0x2066} {
		if strings.ContainsRune(page, r) {
			t.Errorf("the page holds the raw character %U", r)
		}
	}
	// What was made harmless is still shown, readably.
	for _, want := range []string{`\x1b[2J`, `\u202eexe.sh`, `\u200d`, `\u2066x`, "&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %s", want)
		}
	}
	// A command's words are escaped once, not quoted into markup.
	if !strings.Contains(page, `<code class="cmd writes" title="changes the cluster">kubectl delete pod &#39;&lt;script&gt;`) {
		t.Errorf("the fix's command is not shown as an escaped, copyable command")
	}
}

package ci

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/rendertest"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// A "##[stop-commands]" in a server's message would switch off every later
// annotation of the job; ESC and bidi characters would reach the log.
func TestGitHubNeutralisesWorkflowCommandsInData(t *testing.T) {
	const s = "##[stop-commands]tok\x1b[31m\u202e\n::error::forged"
	out := rendertest.Render(t, func(b *bytes.Buffer) error { return GitHub(b, rendertest.HostileReport(s), render.Options{}) })
	rendertest.NoActiveText(t, "github", out, true)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !rendertest.WorkflowCommand.MatchString(lines[0]) || !rendertest.WorkflowCommand.MatchString(lines[1]) {
		t.Fatalf("want 2 annotations and the summary:\n%s", out)
	}
	if msg := ghUnescape(rendertest.WorkflowCommand.FindStringSubmatch(lines[1])[5]); !strings.Contains(msg, `cause ##\[stop-commands]tok\x1b[31m\u202e`) {
		t.Errorf("the annotation does not show the text escaped: %q", msg)
	}
}

// Event messages and names with HTML, links and images stay text in the job
// summary: no <h1>, <img> or [text](url) of the cluster's is rendered.
func TestMarkdownEscapesMarkup(t *testing.T) {
	const s = `<h1>x</h1><img src=https://e.example/p.png>[click](https://e.example) ![i](https://e.example/i) <!-- | ` + "`code`"
	for name, out := range map[string]string{
		"audit":    rendertest.Render(t, func(b *bytes.Buffer) error { return Markdown(b, rendertest.HostileReport(s), render.Options{}) }),
		"fleet":    rendertest.Render(t, func(b *bytes.Buffer) error { return FleetMarkdown(b, rendertest.HostileFleet(s), render.Options{}) }),
		"capacity": rendertest.Render(t, func(b *bytes.Buffer) error { return CapacityMarkdown(b, rendertest.HostileReport(s), render.Options{}) }),
	} {
		rendertest.MarkdownSafe(t, name, out)
		if !strings.Contains(out, `&lt;h1&gt;x&lt;/h1&gt;&lt;img src=https://e.example/p.png&gt;\[click\](https://e.example) !\[i\](https://e.example/i) &lt;!-- \| \`+"`code\\`") {
			t.Errorf("%s: the text is not kept, escaped:\n%s", name, out)
		}
	}
}

// A context named like team-a---prod with a partial report (an XML comment
// with "--"), and a server's 404 page with "---" and control characters in
// every text and attribute: the JUnit document stays well-formed, and each
// hostile string is still there, written visibly.
func TestJUnitOfHostileStringsParses(t *testing.T) {
	for _, s := range []string{
		"team-a---prod", "-", "--", "x-", "<!-- -->", "]]>", "404 --- Not Found\x00\x01\x0b\x1b[0m\ufffe\uffff",
		"bad \xff utf-8", "\u202eevil\u2066", "a\r\nb\rc", `"'&<>`, "##[stop-commands]x\n::error::y",
	} {
		for name, out := range map[string]string{
			"audit": rendertest.Render(t, func(b *bytes.Buffer) error { return JUnit(b, rendertest.HostileReport(s), render.Options{}) }),
			"fleet": rendertest.Render(t, func(b *bytes.Buffer) error { return FleetJUnit(b, rendertest.HostileFleet(s), render.Options{}) }),
		} {
			rendertest.NothingActive(t, name, out)
			texts := rendertest.XMLTexts(t, []byte(out))
			want := text.Lines(s)
			found := false
			for _, x := range texts {
				if strings.Contains(x, want) || strings.Contains(strings.ReplaceAll(x, `\-`, "-"), text.Terminal(s)) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s of %q: the text is lost:\n%s", name, s, out)
			}
		}
	}
}

// 150 clusters once took the fleet summary to 1,074,454 bytes: the clusters
// table and each cluster's header were written past the budget. Every byte
// counts now, and the note says what was left out and where the whole
// report is.
func TestFleetMarkdownStaysUnderLimit(t *testing.T) {
	var clusters []report.ClusterReport
	for i := range 150 {
		r := rendertest.HostileReport(strings.Repeat("x", 40))
		ds := &r.DaemonSets[0]
		for j := range 60 {
			ds.Findings = append(ds.Findings, report.Finding{Type: report.MissingPod, Node: fmt.Sprintf("node-%d", j), Message: strings.Repeat("m", 80), Failing: true})
		}
		r.Summary.Findings = len(ds.Findings)
		clusters = append(clusters, report.ClusterReport{Context: fmt.Sprintf("cluster-%03d", i), Report: r, Error: strings.Repeat("e", 200)})
	}
	f := report.NewFleet(time.Now(), clusters)
	out := rendertest.Render(t, func(b *bytes.Buffer) error {
		return FleetMarkdown(b, f, render.Options{FullReport: "reports/fleet.json"})
	})
	if len(out) > MarkdownLimit {
		t.Errorf("%d bytes, over the %d limit", len(out), MarkdownLimit)
	}
	rendertest.MarkdownSafe(t, "fleet", out)
	m := regexp.MustCompile(`Cut to stay under the 1024 KiB job summary limit:\*\* the sections of (\d+) clusters, (\d+) DaemonSet rows and (\d+) of (\d+) findings left out; the whole report is in ` + "`reports/fleet.json`").FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no note that says what was cut:\n%s", out[len(out)-1000:])
	}
	sections := strings.Count(out, "\n### `cluster-")
	if n, _ := strconv.Atoi(m[1]); n+sections != 150 {
		t.Errorf("the note says %d sections left out, %d are there, of 150", n, sections)
	}
	if m[4] != strconv.Itoa(150*63) { // the summary counts of each report
		t.Errorf("the note counts %s findings, want %d", m[4], 150*63)
	}
}

// Label values from the input (names, unread kinds) with control, bidi and
// non-UTF-8 characters: the exposition parses, each series once.
func TestPrometheusOfHostileStringsParses(t *testing.T) {
	for _, s := range []string{"\x1b[2J\u202e", "bad \xff utf-8", `quote " back\slash`, "new\nline", "##[x]\n::error::y"} {
		r := rendertest.HostileReport(s)
		r.Unread = append(r.Unread, report.Unread{Kind: "Pod", Reason: "in a second namespace"})
		out := rendertest.Render(t, func(b *bytes.Buffer) error { return Prometheus(b, r, render.Options{}) })
		rendertest.NothingActive(t, "prometheus", out)
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(out))
		if err != nil {
			t.Fatalf("%q: the exposition does not parse: %v\n%s", s, err, out)
		}
		if n := len(fams[promUnread].GetMetric()); n != 1 {
			t.Errorf("%q: %d series for one unread kind", s, n)
		}
		got := labelsOf(fams[promFailing].GetMetric()[0])["daemonset"]
		if got != "ds-"+text.Terminal(s) {
			t.Errorf("%q: label daemonset=%q", s, got)
		}
	}
}

// Two DaemonSets of one namespace and name (a dump that mixes two points in
// time) would give duplicate series, which the Pushgateway and
// node-exporter reject: the printer refuses, and says which name.
func TestPrometheusRefusesTwoDaemonSetsOfOneName(t *testing.T) {
	r := rendertest.HostileReport("x")
	r.DaemonSets = append(r.DaemonSets, r.DaemonSets[0])
	var b bytes.Buffer
	err := Prometheus(&b, r, render.Options{})
	if err == nil || !strings.Contains(err.Error(), "two DaemonSets ns-x/ds-x") {
		t.Errorf("error %v, want one that names ns-x/ds-x", err)
	}
	if b.Len() > 0 {
		t.Errorf("a partial exposition was written:\n%s", b.String())
	}
}

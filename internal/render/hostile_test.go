package render

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// hostileReport puts s wherever a report carries text from the cluster or
// the input: names, messages, reasons, server errors, events, labels.
func hostileReport(s string) *report.Report {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	counts := &report.Counts{DesiredNumberScheduled: 2, CurrentNumberScheduled: 1}
	ds := report.DaemonSetReport{
		Namespace: "ns-" + s, Name: "ds-" + s, Selector: "app=" + s, NodeSelector: "pool=" + s,
		Images: []string{"img-" + s}, UpdateStrategy: "RollingUpdate", CurrentRevision: "rev-" + s,
		Status: *counts, Computed: counts, Created: now.Add(-time.Hour),
		Unknown:     []string{"unknown: " + s},
		NotTargeted: []report.CoverageGap{{Pool: "pool-" + s, Count: 1, Range: "node-" + s, Reason: "taint " + s}},
		Nodes: []report.NodeVerdict{
			{Name: "node-" + s, ShouldRun: true, Coverage: report.Missing, Reason: "", Short: "s-" + s},
			{Name: "other-" + s, Reason: "taint " + s, Short: "t-" + s, Pods: []report.PodRef{{Name: "pod-" + s, State: "state-" + s, Revision: "rev-" + s}}},
		},
		Findings: []report.Finding{
			{Type: report.MissingPod, Severity: report.SeverityError, Node: "node-" + s, Message: "message " + s, Suggestion: "fix " + s, Failing: true},
			{Type: report.UnhealthyPod, Severity: report.SeverityError, Node: "other-" + s, Pod: "pod-" + s, Message: "event " + s, Suggestion: "fix " + s},
			{Type: report.OutdatedPod, Severity: report.SeverityWarning, Node: "other-" + s, Message: "exempted " + s, Exempted: "exempt-" + s},
		},
		Events: []report.Event{{Object: "pod/" + s, From: "kubelet " + s, Reason: "Failed" + s, Message: "404 --- " + s, Count: 3, LastSeen: now}},
	}
	return &report.Report{
		TypeMeta:    report.New().TypeMeta,
		GeneratedAt: now, NodeCount: 2, Partial: true,
		Unread:     []report.Unread{{Kind: "Pod", Reason: "the server said " + s, Rule: "rule " + s}},
		Summary:    report.Summary{DaemonSets: 1, Findings: 2, Failing: 1, Exempted: 1},
		DaemonSets: []report.DaemonSetReport{ds},
		Problems: []report.Problem{{
			Type: string(report.MissingPod), Severity: report.SeverityError, Failing: true,
			DaemonSets: []string{"ns-" + s + "/ds-" + s}, Nodes: []string{"node-" + s}, Range: "node-" + s,
			Cause: "cause " + s, Pattern: "pattern " + s, Fix: "fix " + s,
		}},
		Nodes: []report.NodeInfo{{Name: "node-" + s, Ready: "True", Taints: []string{"taint=" + s}, Labels: map[string]string{"pool": s}}, {Name: "other-" + s, Ready: "False"}},
		Capacity: &report.Capacity{
			Resources: []string{"cpu", "res-" + s},
			Pools: []report.PoolCapacity{{Pool: "pool-" + s, Nodes: 1, DaemonSets: 1, NotFitting: 1, NotFittingRange: "node-" + s, LeftOut: []string{"ds-" + s},
				Resources: []report.ResourceCapacity{{Resource: "cpu", MinHeadroomNode: "node-" + s}, {Resource: "res-" + s}}}},
			Nodes:   []report.NodeCapacity{{Name: "node-" + s, Pool: "pool-" + s, LeftOut: []report.LeftOutDaemon{{DaemonSet: "ds-" + s, Reason: "reason " + s, Resources: []string{"res-" + s}}}}},
			Unknown: []string{"unknown " + s},
		},
	}
}

// hostileFleet is two clusters: one audited, named and failing with s, one
// that could not be audited.
func hostileFleet(s string) *report.FleetReport {
	r := hostileReport(s)
	return report.NewFleet(r.GeneratedAt, []report.ClusterReport{
		{Context: "ctx-" + s, Server: "https://" + s, Report: r},
		{Context: s + "-down", Error: "the server said " + s},
	})
}

// render runs a printer into a string.
func renderWith(t testing.TB, print func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := print(&b); err != nil {
		t.Fatalf("printing: %v", err)
	}
	return b.String()
}

// ESC, a bidi override and a workflow command in an event message, a
// server error and names reach no terminal output raw: the table, -o wide,
// the detail view, the coverage matrix, the node view, the capacity table,
// the partial report banner and -o name.
func TestTerminalPrintersEscapeServerText(t *testing.T) {
	const s = "\x1b]0;pwned\x07\x1b[2J\u202eevil\u200b ##[stop-commands]tok\n::error::forged"
	r := hostileReport(s)
	o := Options{Now: r.GeneratedAt, Node: "node-" + s}
	for name, print := range map[string]RenderFunc{
		"table": Table, "describe": Describe, "matrix": Matrix, "node": NodeDetail, "capacity": CapacityTable, "names": Names, "nodenames": NodeNames,
	} {
		for _, wide := range []bool{false, true} {
			o.Wide = wide
			out := renderWith(t, func(b *bytes.Buffer) error { return print(b, r, o) })
			assertNothingActive(t, name, out)
			if name != "names" && name != "nodenames" && !strings.Contains(out, `\x1b[2J\u202eevil\u200b`) {
				t.Errorf("%s (wide %v): the escaped text is not shown:\n%s", name, wide, out)
			}
		}
	}
	out := renderWith(t, func(b *bytes.Buffer) error { return Table(b, r, Options{}) })
	if !strings.Contains(out, `PARTIAL REPORT: Pod not read: the server said \x1b]0;pwned\x07`) {
		t.Errorf("the partial report banner:\n%s", out)
	}
}

// assertNothingActive fails when out holds a character that acts on a
// terminal or a reader (controls other than newline, bidi and zero-width
// characters) or a workflow command the runner would execute: "##[" in a
// line, or "::" at the start of a line that is not one of -o github's own
// annotations.
func assertNothingActive(t testing.TB, name, out string) {
	t.Helper()
	assertNoActiveText(t, name, out, false)
}

// assertNoActiveText is assertNothingActive; annotations says the output
// is -o github's, whose own lines are workflow commands.
func assertNoActiveText(t testing.TB, name, out string, annotations bool) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || isHidden(r) {
			t.Errorf("%s: raw %U in the output:\n%s", name, r, out)
			return
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "##[") {
			t.Errorf("%s: a legacy workflow command in %q", name, l)
		}
		if strings.HasPrefix(strings.TrimLeft(l, " \t\u00a0"), "::") && !(annotations && workflowCommand.MatchString(l)) {
			t.Errorf("%s: a line starts a workflow command: %q", name, l)
		}
	}
}

func isHidden(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == 0xfffe || r == 0xffff
}

// A "##[stop-commands]" in a server's message would switch off every later
// annotation of the job; ESC and bidi characters would reach the log.
func TestGitHubNeutralisesWorkflowCommandsInData(t *testing.T) {
	const s = "##[stop-commands]tok\x1b[31m\u202e\n::error::forged"
	out := renderWith(t, func(b *bytes.Buffer) error { return GitHub(b, hostileReport(s), Options{}) })
	assertNoActiveText(t, "github", out, true)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !workflowCommand.MatchString(lines[0]) || !workflowCommand.MatchString(lines[1]) {
		t.Fatalf("want 2 annotations and the summary:\n%s", out)
	}
	if msg := ghUnescape(workflowCommand.FindStringSubmatch(lines[1])[5]); !strings.Contains(msg, `cause ##\[stop-commands]tok\x1b[31m\u202e`) {
		t.Errorf("the annotation does not show the text escaped: %q", msg)
	}
}

// Event messages and names with HTML, links and images stay text in the job
// summary: no <h1>, <img> or [text](url) of the cluster's is rendered.
func TestMarkdownEscapesMarkup(t *testing.T) {
	const s = `<h1>x</h1><img src=https://e.example/p.png>[click](https://e.example) ![i](https://e.example/i) <!-- | ` + "`code`"
	for name, out := range map[string]string{
		"audit":    renderWith(t, func(b *bytes.Buffer) error { return Markdown(b, hostileReport(s), Options{}) }),
		"fleet":    renderWith(t, func(b *bytes.Buffer) error { return FleetMarkdown(b, hostileFleet(s), Options{}) }),
		"capacity": renderWith(t, func(b *bytes.Buffer) error { return CapacityMarkdown(b, hostileReport(s), Options{}) }),
	} {
		assertMarkdownSafe(t, name, out)
		if !strings.Contains(out, `&lt;h1&gt;x&lt;/h1&gt;&lt;img src=https://e.example/p.png&gt;\[click\](https://e.example) !\[i\](https://e.example/i) &lt;!-- \| \`+"`code\\`") {
			t.Errorf("%s: the text is not kept, escaped:\n%s", name, out)
		}
	}
}

// assertMarkdownSafe checks what a Markdown reader makes of out: every table
// row has its header's number of cells, and outside code spans there is no
// HTML and no unescaped bracket (a link or an image).
func assertMarkdownSafe(t testing.TB, name, out string) {
	t.Helper()
	assertNothingActive(t, name, out)
	cells := -1
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "|") {
			cells = -1
			continue
		}
		n := unescapedPipes(l)
		if cells < 0 {
			cells = n
		} else if n != cells {
			t.Errorf("%s: a row of %d cells under a header of %d: %q", name, n-1, cells-1, l)
		}
		// Outside code spans (which GitHub's tables split at \| too).
		for i, part := range strings.Split(l, "`") {
			if i%2 == 1 {
				continue
			}
			if strings.ContainsAny(part, "<>") {
				t.Errorf("%s: HTML in %q", name, l)
			}
			for j := range len(part) {
				if (part[j] == '[' || part[j] == ']') && backslashesBefore(part, j)%2 == 0 {
					t.Errorf("%s: an unescaped bracket in %q", name, l)
					break
				}
			}
		}
	}
}

// unescapedPipes counts the pipes that split a table row, as GitHub's
// tables (cmark-gfm) split it: at every pipe without a backslash just
// before it, in code spans too.
func unescapedPipes(l string) int {
	n := 0
	for i := range len(l) {
		if l[i] == '|' && backslashesBefore(l, i) == 0 {
			n++
		}
	}
	return n
}

func backslashesBefore(s string, i int) int {
	n := 0
	for i > 0 && s[i-1] == '\\' {
		n++
		i--
	}
	return n
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
			"audit": renderWith(t, func(b *bytes.Buffer) error { return JUnit(b, hostileReport(s), Options{}) }),
			"fleet": renderWith(t, func(b *bytes.Buffer) error { return FleetJUnit(b, hostileFleet(s), Options{}) }),
		} {
			assertNothingActive(t, name, out)
			texts := xmlTexts(t, []byte(out))
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

// xmlTexts parses doc with encoding/xml (failing the test when it is not
// well-formed) and returns every attribute value, text and comment.
func xmlTexts(t testing.TB, doc []byte) []string {
	t.Helper()
	// encoding/xml does not check comments for characters XML forbids;
	// other readers do.
	for _, r := range string(doc) {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff) {
			t.Fatalf("%U is not an XML character:\n%s", r, doc)
		}
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	var out []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			for _, a := range tk.Attr {
				out = append(out, a.Value)
			}
		case xml.CharData:
			out = append(out, string(tk))
		case xml.Comment:
			out = append(out, string(tk))
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
		r := hostileReport(strings.Repeat("x", 40))
		ds := &r.DaemonSets[0]
		for j := range 60 {
			ds.Findings = append(ds.Findings, report.Finding{Type: report.MissingPod, Node: fmt.Sprintf("node-%d", j), Message: strings.Repeat("m", 80), Failing: true})
		}
		r.Summary.Findings = len(ds.Findings)
		clusters = append(clusters, report.ClusterReport{Context: fmt.Sprintf("cluster-%03d", i), Report: r, Error: strings.Repeat("e", 200)})
	}
	f := report.NewFleet(time.Now(), clusters)
	out := renderWith(t, func(b *bytes.Buffer) error {
		return FleetMarkdown(b, f, Options{FullReport: "reports/fleet.json"})
	})
	if len(out) > MarkdownLimit {
		t.Errorf("%d bytes, over the %d limit", len(out), MarkdownLimit)
	}
	assertMarkdownSafe(t, "fleet", out)
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
		r := hostileReport(s)
		r.Unread = append(r.Unread, report.Unread{Kind: "Pod", Reason: "in a second namespace"})
		out := renderWith(t, func(b *bytes.Buffer) error { return Prometheus(b, r, Options{}) })
		assertNothingActive(t, "prometheus", out)
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
	r := hostileReport("x")
	r.DaemonSets = append(r.DaemonSets, r.DaemonSets[0])
	var b bytes.Buffer
	err := Prometheus(&b, r, Options{})
	if err == nil || !strings.Contains(err.Error(), "two DaemonSets ns-x/ds-x") {
		t.Errorf("error %v, want one that names ns-x/ds-x", err)
	}
	if b.Len() > 0 {
		t.Errorf("a partial exposition was written:\n%s", b.String())
	}
}

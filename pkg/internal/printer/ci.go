package printer

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub test reporters):
// one test suite per DaemonSet, one test case per node the DaemonSet targets
// (or that a policy requires, or where one of its Pods is), plus a
// "daemonset status" case for findings about the DaemonSet itself. A case
// fails with the findings --fail-on selects; set-aside findings make it
// skipped; other findings go to system-out.
//
// The shape follows the JUnit schema Jenkins' junit plugin and GitLab read
// (the Ant-derived junit-10.xsd): a test case has at most one <failure>
// (Jenkins keeps only one), so the findings of one node are merged into it;
// suites and cases carry time and errors, which some readers require. An
// audit judges one snapshot, so times are 0. Kinds that could not be read
// are errors (not failures) of a "daemoncheck input" suite: the run could
// not check them. The schema has no skipped attribute on <testsuites>
// (only on each <testsuite>), so the total is left to the readers.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// junitTime is the time attribute: one snapshot is judged at once.
const junitTime = "0"

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit prints the report as JUnit XML.
func JUnit(w io.Writer, r *report.Report, o Options) error {
	out := junitSuites{Name: "daemoncheck", Time: junitTime}
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		name := ds.Namespace + "/" + ds.Name
		s := junitSuite{Name: name, Time: junitTime, Timestamp: r.GeneratedAt.Format("2006-01-02T15:04:05Z07:00")}
		if c := ds.Computed; c != nil {
			s.Properties = []junitProperty{
				{"desiredNumberScheduled", strconv.Itoa(int(c.DesiredNumberScheduled))},
				{"currentNumberScheduled", strconv.Itoa(int(c.CurrentNumberScheduled))},
				{"numberReady", strconv.Itoa(int(c.NumberReady))},
				{"updatedNumberScheduled", strconv.Itoa(int(c.UpdatedNumberScheduled))},
				{"numberMisscheduled", strconv.Itoa(int(c.NumberMisscheduled))},
			}
		}
		byNode := map[string][]report.Finding{}
		for _, f := range ds.Findings {
			byNode[f.Node] = append(byNode[f.Node], f)
		}
		nodes := []string{""}
		seen := map[string]bool{"": true}
		for _, nv := range ds.Nodes {
			if nv.ShouldRun || nv.Required || len(nv.Pods) > 0 || len(byNode[nv.Name]) > 0 {
				nodes = append(nodes, nv.Name)
				seen[nv.Name] = true
			}
		}
		var extra []string
		for n := range byNode {
			if !seen[n] {
				extra = append(extra, n)
			}
		}
		sort.Strings(extra)
		nodes = append(nodes, extra...)
		for _, n := range nodes {
			tc := junitCase{Classname: name, Name: "node " + n, Time: junitTime}
			if n == "" {
				tc.Name = "daemonset status"
			}
			var notes []string
			var skipped []string
			var failing []*report.Finding
			fs := byNode[n]
			for i := range fs {
				f := &fs[i]
				switch {
				case f.Failing:
					failing = append(failing, f)
				case f.Exempted != "":
					skipped = append(skipped, fmt.Sprintf("%s exempted by %s: %s", f.Type, f.Exempted, f.Message))
				case f.HeldBack != "":
					skipped = append(skipped, fmt.Sprintf("%s held back (%s): %s", f.Type, f.HeldBack, f.Message))
				default:
					notes = append(notes, fmt.Sprintf("%s (not in --fail-on): %s", f.Type, f.Message))
				}
			}
			tc.Failure = mergeFailures(failing)
			if tc.Failure == nil && len(skipped) > 0 {
				tc.Skipped = &junitSkipped{Message: strings.Join(skipped, "; ")}
				s.Skipped++
			} else if len(skipped) > 0 {
				notes = append(notes, skipped...)
			}
			tc.SystemOut = strings.Join(notes, "\n")
			if tc.Failure != nil {
				s.Failures++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Suites = append(out.Suites, s)
	}
	if s := unreadSuite(r); s != nil {
		out.Tests += s.Tests
		out.Errors += s.Errors
		out.Suites = append(out.Suites, *s)
	}
	return writeJUnit(w, out, partialBanner(r))
}

// writeJUnit writes the document, with banner (if any) as a comment: a
// comment keeps the document valid for every JUnit reader.
func writeJUnit(w io.Writer, out junitSuites, banner string) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	if banner != "" {
		fmt.Fprintf(w, "<!-- %s -->\n", strings.ReplaceAll(banner, "--", "- -"))
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureItem is one failing finding as a <failure> shows it.
type failureItem struct{ typ, message, suggestion string }

// mergeFailures folds the failing findings of one test case into its one
// <failure>.
func mergeFailures(fs []*report.Finding) *junitFailure {
	items := make([]failureItem, len(fs))
	for i, f := range fs {
		items[i] = failureItem{string(f.Type), f.Message, f.Suggestion}
	}
	return mergeItems(items)
}

// mergeItems folds failing findings into one <failure> (Jenkins keeps only
// one per case): type lists the finding types, message is the finding's
// message (or a count when several), the body has every message and fix.
func mergeItems(fs []failureItem) *junitFailure {
	suggestion := func(f failureItem) string {
		if f.suggestion == "" {
			return ""
		}
		return "Suggestion: " + f.suggestion
	}
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return &junitFailure{Type: fs[0].typ, Message: fs[0].message, Text: suggestion(fs[0])}
	}
	var types, body []string
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.typ] {
			seen[f.typ] = true
			types = append(types, f.typ)
		}
		b := f.typ + ": " + f.message
		if s := suggestion(f); s != "" {
			b += "\n" + s
		}
		body = append(body, b)
	}
	return &junitFailure{
		Type:    strings.Join(types, ","),
		Message: fmt.Sprintf("%d findings: %s", len(fs), strings.Join(types, ", ")),
		Text:    strings.Join(body, "\n\n"),
	}
}

// unreadSuite reports each kind the run could not read as an errored test
// case, so a CI dashboard shows why the report is partial.
func unreadSuite(r *report.Report) *junitSuite {
	if len(r.Unread) == 0 {
		return nil
	}
	s := &junitSuite{Name: "daemoncheck input", Time: junitTime, Timestamp: r.GeneratedAt.Format("2006-01-02T15:04:05Z07:00")}
	for _, u := range r.Unread {
		msg := u.Reason
		if u.Rule != "" {
			msg += " (needs RBAC " + u.Rule + ")"
		}
		s.Cases = append(s.Cases, junitCase{Name: "read " + u.Kind, Classname: "daemoncheck input", Time: junitTime,
			Error: &junitFailure{Type: "Unread", Message: msg}})
		s.Tests++
		s.Errors++
	}
	return s
}

// MarkdownLimit is the size Markdown stays under: GitHub rejects a job
// summary ($GITHUB_STEP_SUMMARY) above 1 MiB, and a cut table is better than
// none. A variable so tests can lower it.
var MarkdownLimit = 1 << 20

// markdownNoteRoom is kept free under the limit for the closing lines.
const markdownNoteRoom = 2048

// Markdown prints a summary for a pull-request comment or a CI job summary.
// Rows that would take it past MarkdownLimit are left out, and a note says
// how many.
func Markdown(w io.Writer, r *report.Report, o Options) error {
	failing := 0
	for i := range r.DaemonSets {
		for j := range r.DaemonSets[i].Findings {
			if r.DaemonSets[i].Findings[j].Failing {
				failing++
			}
		}
	}
	verdict := "passed"
	if failing > 0 {
		verdict = "failed"
	} else if r.Partial {
		verdict = "incomplete"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## daemoncheck %s: %d failing of %d findings in %d DaemonSets (%d healthy)\n\n", verdict, failing, r.Summary.Findings, r.Summary.DaemonSets, r.Summary.Healthy)
	if pb := partialBanner(r); pb != "" {
		fmt.Fprintf(&b, "> **Partial report:** %s\n\n", mdEscape(strings.TrimPrefix(pb, "PARTIAL REPORT: ")))
	}
	budget := MarkdownLimit - markdownNoteRoom
	// Once a row does not fit, every later one is left out too: a table
	// with holes would mislead.
	cut := false
	droppedDS, droppedFindings := 0, 0
	row := func(line string, dropped *int) {
		if cut || b.Len()+len(line) > budget {
			cut = true
			*dropped++
			return
		}
		b.WriteString(line)
	}
	b.WriteString("| DaemonSet | Desired | Current | Ready | Up-to-date | Available | Findings |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		c := ds.Computed
		get := func(f func(*report.Counts) int32) string { return num(c, f) }
		row(fmt.Sprintf("| `%s/%s` | %s | %s | %s | %s | %s | %d |\n", ds.Namespace, ds.Name,
			get(func(c *report.Counts) int32 { return c.DesiredNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.CurrentNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.NumberReady }),
			get(func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.NumberAvailable }),
			activeCount(ds.Findings)), &droppedDS)
	}
	if r.Summary.Findings > 0 {
		var header int
		row("\n### Findings\n\n| DaemonSet | Node | Finding | Reason | Fix |\n|---|---|---|---|---|\n", &header)
		for i := range r.DaemonSets {
			ds := &r.DaemonSets[i]
			for _, f := range ds.Findings {
				if !f.Active() {
					continue
				}
				typ := string(f.Type)
				if f.Failing {
					typ = "**" + typ + "**"
				}
				line := fmt.Sprintf("| `%s/%s` | %s | %s | %s | %s |\n", ds.Namespace, ds.Name, mdEscape(orNone(f.Node, "-")), typ, mdEscape(f.Message), mdEscape(f.Suggestion))
				row(line, &droppedFindings)
			}
		}
	}
	if droppedDS > 0 || droppedFindings > 0 {
		fmt.Fprintf(&b, "\n> **Cut to stay under the %d KiB job summary limit:** %d DaemonSet rows and %d of %d findings left out; write the whole report to a file with `--output-file json=daemoncheck.json`.\n", MarkdownLimit>>10, droppedDS, droppedFindings, r.Summary.Findings)
	}
	if set := setAside(r); set != "" {
		fmt.Fprintf(&b, "\n%s\n", set)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps a cell in its table cell: pipes and newlines would break it,
// and control characters would reach the terminal of whoever cats the file.
func mdEscape(s string) string {
	s = safe(s)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	return s
}

package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/text"
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
	for _, s := range daemonSetSuites(r) {
		out.add(s)
	}
	if s := unreadSuite(r, ""); s != nil {
		out.add(*s)
	}
	var comments []string
	if b := partialBanner(r); b != "" {
		comments = append(comments, b)
	}
	return writeJUnit(w, out, comments)
}

// add appends a suite and counts its tests, failures and errors.
func (out *junitSuites) add(s junitSuite) {
	out.Tests += s.Tests
	out.Failures += s.Failures
	out.Errors += s.Errors
	out.Suites = append(out.Suites, s)
}

// writeJUnit writes the document; comments (partial-report banners) go
// before the root element, as XML comments keep it valid for every reader.
func writeJUnit(w io.Writer, out junitSuites, comments []string) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	for _, c := range comments {
		fmt.Fprintf(w, "<!-- %s -->\n", escape.XMLComment(c))
	}
	out.sanitise()
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// sanitise passes every text and attribute of the document through
// text.Lines, once, just before it is encoded (the JUnit printers of the
// audit, the fleet and the what-if build their documents freely):
// encoding/xml escapes markup, but writes a character XML does not allow
// (ESC, NUL) as U+FFFD, which hides what the server said, and passes bidi
// characters and workflow commands through.
func (out *junitSuites) sanitise() {
	x := text.Lines
	out.Name = x(out.Name)
	for i := range out.Suites {
		s := &out.Suites[i]
		s.Name, s.Timestamp = x(s.Name), x(s.Timestamp)
		for j := range s.Properties {
			p := &s.Properties[j]
			p.Name, p.Value = x(p.Name), x(p.Value)
		}
		for j := range s.Cases {
			c := &s.Cases[j]
			c.Name, c.Classname, c.SystemOut = x(c.Name), x(c.Classname), x(c.SystemOut)
			if c.Skipped != nil {
				c.Skipped.Message = x(c.Skipped.Message)
			}
			for _, f := range []*junitFailure{c.Error, c.Failure} {
				if f != nil {
					f.Type, f.Message, f.Text = x(f.Type), x(f.Message), x(f.Text)
				}
			}
		}
	}
}

// junitTimestamp is a suite's timestamp attribute.
func junitTimestamp(r *report.Report) string {
	return r.GeneratedAt.Format("2006-01-02T15:04:05Z07:00")
}

// daemonSetSuites are one suite per DaemonSet: one case per node it
// targets (or that a policy requires, or where one of its Pods is, or that
// a finding names), plus "daemonset status".
func daemonSetSuites(r *report.Report) []junitSuite {
	var suites []junitSuite
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		name := ds.Namespace + "/" + ds.Name
		s := junitSuite{Name: name, Time: junitTime, Timestamp: junitTimestamp(r)}
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
		suites = append(suites, s)
	}
	return suites
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
// case, so a CI dashboard shows why the report is partial. prefix goes
// before the class name (a fleet's cluster).
func unreadSuite(r *report.Report, prefix string) *junitSuite {
	if len(r.Unread) == 0 {
		return nil
	}
	s := &junitSuite{Name: "daemoncheck input", Time: junitTime, Timestamp: junitTimestamp(r)}
	for _, u := range r.Unread {
		msg := u.Reason
		if u.Rule != "" {
			msg += " (needs RBAC " + u.Rule + ")"
		}
		s.Cases = append(s.Cases, junitCase{Name: "read " + u.Kind, Classname: prefix + "daemoncheck input", Time: junitTime,
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

// markdownNoteRoom is kept free under the limit for the note that says
// what was cut.
const markdownNoteRoom = 2048

// Markdown prints a summary for a pull-request comment or a CI job summary.
// Lines that would take it past MarkdownLimit are left out, and a note says
// how many and where the whole report is.
func Markdown(w io.Writer, r *report.Report, o Options) error {
	d := mdDoc{fullReport: o.FullReport}
	d.report(r, "## daemoncheck ", "###", nil)
	if set := setAside(r); set != "" {
		d.line("\n"+set+"\n", nil)
	}
	d.cutNote()
	_, err := io.WriteString(w, d.b.String())
	return err
}

// mdDoc is a Markdown document that stays under MarkdownLimit: every byte
// goes through line, and once a line does not fit, every later one is left
// out too (a table with holes would mislead); cutNote says what was.
type mdDoc struct {
	b   strings.Builder
	cut bool
	// What was left out: clusters (their rows of the fleet table, their
	// sections), DaemonSet rows and findings (of how many).
	droppedClusterRows, droppedSections, droppedDS, droppedFindings, findings int
	// fullReport is where this run writes the whole report (Options).
	fullReport string
}

// line writes s, or counts it in dropped (when not nil) if it does not fit
// or an earlier line did not.
func (d *mdDoc) line(s string, dropped *int) {
	if d.cut || d.b.Len()+len(s) > MarkdownLimit-markdownNoteRoom {
		d.cut = true
		if dropped != nil {
			*dropped++
		}
		return
	}
	d.b.WriteString(s)
}

// verdict is the report's outcome as a Markdown title says it.
func mdVerdict(r *report.Report) string {
	switch {
	case r.Summary.Failing > 0:
		return "failed"
	case r.Partial:
		return "incomplete"
	}
	return "passed"
}

// report writes a report's title (after title), its partial banner, its
// DaemonSet table and its findings under a heading of level sub; section
// counts the report as left out when its title does not fit.
func (d *mdDoc) report(r *report.Report, title, sub string, section *int) {
	d.line(fmt.Sprintf("%s%s: %d failing of %d findings in %d DaemonSets (%d healthy)\n\n", title, mdVerdict(r), r.Summary.Failing, r.Summary.Findings, r.Summary.DaemonSets, r.Summary.Healthy), section)
	if pb := partialBanner(r); pb != "" {
		d.line(fmt.Sprintf("> **Partial report:** %s\n\n", escape.Markdown(strings.TrimPrefix(pb, "PARTIAL REPORT: "))), nil)
	}
	d.findings += r.Summary.Findings
	d.line("| DaemonSet | Desired | Current | Ready | Up-to-date | Available | Findings |\n|---|---:|---:|---:|---:|---:|---:|\n", nil)
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		c := ds.Computed
		// mdEscape: Markdown would take <unknown> for an HTML tag.
		get := func(f func(*report.Counts) int32) string { return escape.Markdown(num(c, f)) }
		d.line(fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %d |\n", escape.MarkdownCode(ds.Namespace+"/"+ds.Name),
			get(func(c *report.Counts) int32 { return c.DesiredNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.CurrentNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.NumberReady }),
			get(func(c *report.Counts) int32 { return c.UpdatedNumberScheduled }),
			get(func(c *report.Counts) int32 { return c.NumberAvailable }),
			activeCount(ds.Findings)), &d.droppedDS)
	}
	if r.Summary.Findings == 0 {
		return
	}
	d.line("\n"+sub+" Findings\n\n| DaemonSet | Node | Finding | Reason | Fix |\n|---|---|---|---|---|\n", nil)
	for i := range r.DaemonSets {
		ds := &r.DaemonSets[i]
		for _, f := range ds.Findings {
			if !f.Active() {
				continue
			}
			typ := escape.Markdown(string(f.Type))
			if f.Failing {
				typ = "**" + typ + "**"
			}
			d.line(fmt.Sprintf("| %s | %s | %s | %s | %s |\n", escape.MarkdownCode(ds.Namespace+"/"+ds.Name), escape.Markdown(orNone(f.Node, "-")), typ, escape.Markdown(f.Message), escape.Markdown(f.Suggestion)), &d.droppedFindings)
		}
	}
}

// cutNote says what the limit left out, if anything, and where the whole
// report is; it has markdownNoteRoom to itself.
func (d *mdDoc) cutNote() {
	if !d.cut {
		return
	}
	var parts []string
	if d.droppedClusterRows > 0 {
		parts = append(parts, fmt.Sprintf("%d rows of the clusters table", d.droppedClusterRows))
	}
	if d.droppedSections > 0 {
		parts = append(parts, fmt.Sprintf("the sections of %d clusters", d.droppedSections))
	}
	parts = append(parts, fmt.Sprintf("%d DaemonSet rows and %d of %d findings", d.droppedDS, d.droppedFindings, d.findings))
	where := "write the whole report to a file with `--output-file json=daemoncheck.json`"
	if d.fullReport != "" {
		// A path may be long: the note must fit its room.
		where = "the whole report is in " + escape.MarkdownCode(text.Truncate(d.fullReport, 1024))
	}
	fmt.Fprintf(&d.b, "\n> **Cut to stay under the %d KiB job summary limit:** %s left out; %s.\n", MarkdownLimit>>10, strings.Join(parts, ", "), where)
}

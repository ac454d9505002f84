package ci

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/render/escape"
	"github.com/daemoncheck/daemoncheck/internal/render/plan"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// -o junit: the audit (and NAME), several clusters, the what-if.
func init() {
	render.Register(render.Format{Name: "junit", Render: map[render.View]render.RenderFunc{render.ViewAudit: JUnit, render.ViewDetail: JUnit},
		Fleet: map[render.View]render.FleetRenderFunc{render.ViewAudit: FleetJUnit, render.ViewDetail: FleetJUnit}, RenderWhatIf: WhatIfJUnit})
}

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
func JUnit(w io.Writer, r *report.Report, o render.Options) error {
	out := junitSuites{Name: "daemoncheck", Time: junitTime}
	for _, s := range daemonSetSuites(r) {
		out.add(s)
	}
	if s := unreadSuite(r, ""); s != nil {
		out.add(*s)
	}
	var comments []string
	if b := render.PartialBanner(r); b != "" {
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

// WhatIfJUnit prints a what-if as JUnit XML: one test suite per changed
// DaemonSet and per proposed pool, with one test case per cause (the
// findings grouped as the table view groups them: one kind, cause, fix and
// verdict), named by its kind and DaemonSets, failing when the gate selects
// it, its shapes or nodes and fix in the failure's text (system-out for a
// warning). A suite without findings has one passing case, so that every
// reader counts it. The suite's properties say what was judged: each
// node shape of a pool (platform, instance types, how many daemons run and
// fit), the nodes a change gains and loses.
func WhatIfJUnit(w io.Writer, r *report.WhatIfReport, _ render.Options) error {
	out := junitSuites{Name: "daemoncheck whatif", Time: junitTime}
	ts := r.GeneratedAt.Format("2006-01-02T15:04:05Z07:00")
	for i := range r.Changes {
		c := &r.Changes[i]
		s := junitSuite{Name: fmt.Sprintf("DaemonSet %s/%s", c.Namespace, c.Name), Time: junitTime, Timestamp: ts}
		s.Properties = append(s.Properties, junitProperty{"nodes", fmt.Sprintf("%d, today %d", c.NodesAfter, c.NodesBefore)})
		for _, g := range c.Gained {
			s.Properties = append(s.Properties, junitProperty{"gained " + render.OrNone(g.Pool, "-"), fmt.Sprintf("%d: %s", g.Count, g.Range)})
		}
		for _, g := range c.Lost {
			s.Properties = append(s.Properties, junitProperty{"lost " + render.OrNone(g.Pool, "-"), fmt.Sprintf("%d: %s (%s)", g.Count, g.Range, g.Reason)})
		}
		causeCases(&s, whatIfCauses(c.Findings, 0))
		out.add(s)
	}
	for i := range r.Pools {
		p := &r.Pools[i]
		s := junitSuite{Name: fmt.Sprintf("%s %s", p.Kind, p.Name), Time: junitTime, Timestamp: ts}
		for j := range p.Shapes {
			s.Properties = append(s.Properties, junitProperty{"shape " + p.Shapes[j].Name, shapeSummary(&p.Shapes[j])})
		}
		causeCases(&s, whatIfCauses(p.Findings, len(p.Shapes)))
		out.add(s)
	}
	var comments []string
	if b := plan.WhatIfPartial(r); b != "" {
		comments = append(comments, b)
	}
	return writeJUnit(w, out, comments)
}

// causeCases adds a test case per cause to s (a passing one when there is
// none).
func causeCases(s *junitSuite, causes []whatIfCause) {
	if len(causes) == 0 {
		s.Cases = append(s.Cases, junitCase{Name: "every required daemon runs and fits", Classname: s.Name, Time: junitTime})
		s.Tests++
		return
	}
	for _, c := range causes {
		tc := junitCase{Name: c.title(), Classname: s.Name, Time: junitTime}
		body := c.where
		if c.fix != "" {
			body += "\nSuggestion: " + c.fix
		}
		if c.failing {
			tc.Failure = &junitFailure{Type: string(c.kind), Message: c.message, Text: body}
			s.Failures++
		} else {
			tc.SystemOut = fmt.Sprintf("%s (%s): %s\n%s", c.kind, c.severity, c.message, body)
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
}

// shapeSummary is a node shape in a line: platform, instance types, and
// how many daemons run and fit there.
func shapeSummary(sh *report.Shape) string {
	runs, fit := 0, 0
	for _, d := range sh.DaemonSets {
		if d.Runs {
			runs++
			if d.Fit != report.ShapeFitNo {
				fit++
			}
		}
	}
	line := fmt.Sprintf("%s/%s", render.OrNone(sh.OS, render.Unknown), render.OrNone(sh.Arch, render.Unknown))
	if it := plan.InstanceTypesText(sh); it != "" {
		line += " " + it
	}
	line += fmt.Sprintf(": %d of %d DaemonSets run", runs, len(sh.DaemonSets))
	switch {
	case sh.FitUnknown != "":
		line += ", fit unknown"
	case fit < runs:
		line += fmt.Sprintf(", %d do not fit", runs-fit)
	default:
		line += ", all fit"
	}
	return line
}

// FleetJUnit prints one test suite per cluster: its DaemonSets' cases (class
// CLUSTER/NAMESPACE/NAME, as a single run's suites have them), the kinds it
// could not read, and an errored "audit" case when it could not be audited.
func FleetJUnit(w io.Writer, f *report.FleetReport, o render.Options) error {
	out := junitSuites{Name: "daemoncheck", Time: junitTime}
	var comments []string
	for i := range f.Clusters {
		c := &f.Clusters[i]
		prefix := c.Context + "/"
		s := junitSuite{Name: c.Context, Time: junitTime, Properties: []junitProperty{{"context", c.Context}, {"server", c.Server}}}
		var parts []junitSuite
		if r := c.Report; r != nil {
			s.Timestamp = junitTimestamp(r)
			if r.ServerVersion != "" {
				s.Properties = append(s.Properties, junitProperty{"serverVersion", r.ServerVersion})
			}
			parts = daemonSetSuites(r)
			if u := unreadSuite(r, prefix); u != nil {
				parts = append(parts, *u)
			}
			if b := render.PartialBanner(r); b != "" {
				comments = append(comments, c.Context+": "+b)
			}
		}
		if c.Error != "" {
			parts = append(parts, junitSuite{Tests: 1, Errors: 1, Cases: []junitCase{{Name: "audit", Classname: prefix + "daemoncheck", Time: junitTime,
				Error: &junitFailure{Type: "ClusterError", Message: c.Error}}}})
		}
		for _, p := range parts {
			for _, tc := range p.Cases {
				if !strings.HasPrefix(tc.Classname, prefix) {
					tc.Classname = prefix + tc.Classname
				}
				s.Cases = append(s.Cases, tc)
			}
			s.Tests += p.Tests
			s.Failures += p.Failures
			s.Errors += p.Errors
			s.Skipped += p.Skipped
		}
		out.add(s)
	}
	return writeJUnit(w, out, comments)
}

package render

import (
	"fmt"
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Verdict is the last line of the human views: whether the report fails
// the gate, on how many nodes, at which levels, and the exit code that
// follows (the exit code's reason, so a person need not run `echo $?`).
// One wording for every view that ends with a verdict.
func Verdict(r *report.Report) string {
	var failing, below []*report.Problem
	for i := range r.Problems {
		if p := &r.Problems[i]; p.Failing {
			failing = append(failing, p)
		} else {
			below = append(below, p)
		}
	}
	gate := "--fail-on " + strings.Join(r.Gate.FailOn, ",")
	partial := ""
	if r.Partial {
		partial = "; the report is partial (see above)"
	}
	switch {
	case len(failing) > 0:
		nodes := map[string]bool{}
		for _, p := range failing {
			for _, n := range p.Nodes {
				nodes[n] = true
			}
		}
		where := ""
		if len(nodes) > 0 {
			where = fmt.Sprintf(" on %d of %d nodes", len(nodes), r.NodeCount)
		}
		return fmt.Sprintf("FAIL: %s fail the gate (%s)%s%s; exit 1", Count(len(failing), "problem"), bySeverity(failing), where, partial)
	case r.Partial:
		return fmt.Sprintf("INCOMPLETE: no problem fails the gate (%s) in what was read, but the report is partial (see above); exit 3", gate)
	case len(below) > 0:
		return fmt.Sprintf("PASS: no problem fails the gate (%s); %s below it (%s); exit 0", gate, Count(len(below), "problem"), bySeverity(below))
	}
	return fmt.Sprintf("PASS: no problems in %s on %s; exit 0", Count(len(r.DaemonSets), "DaemonSet"), Count(r.NodeCount, "node"))
}

// bySeverity counts problems by severity, most severe first: "2 errors,
// 1 warning".
func bySeverity(ps []*report.Problem) string {
	n := map[report.Severity]int{}
	for _, p := range ps {
		n[p.Severity]++
	}
	var parts []string
	for _, s := range report.Severities {
		if n[s] > 0 {
			parts = append(parts, Count(n[s], string(s)))
		}
	}
	return strings.Join(parts, ", ")
}

// Count is "1 node", "3 nodes" ("info" does not take an s).
func Count(n int, word string) string {
	if n == 1 || word == string(report.SeverityInfo) {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Plural is one when n is 1, else many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Outcome is the report's outcome in a word, as a Markdown title and the
// HTML page say it.
func Outcome(r *report.Report) string {
	switch {
	case r.Summary.Failing > 0:
		return "failed"
	case r.Partial:
		return "incomplete"
	}
	return "passed"
}

// Package view projects a report onto what one command shows: some
// DaemonSets, some nodes, the fit findings, another order. A projection
// rebuilds the summary, the problems and the gate from the findings it
// keeps, so no command edits a report after the analysis, and a view flag
// never changes the verdict (findings about a DaemonSet as a whole stay).
package view

import (
	"fmt"
	"slices"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Projection says which part of a report a view shows. The zero value
// shows everything.
type Projection struct {
	// DaemonSets keeps these DaemonSets (namespace/name or name); each must
	// match one read.
	DaemonSets []string
	// Node and NodeSelector, when set, keep the node of that name and the
	// nodes the selector accepts: their verdicts and the findings on them.
	// Findings about a DaemonSet as a whole (no node) stay: a view of some
	// nodes does not make a stuck rollout or a stale status go away, and
	// the gate must not change because a flag narrowed what is printed.
	// Findings on a node that no longer exists (an orphaned Pod) stay
	// under a selector, which cannot judge labels that are gone.
	Node         string
	NodeSelector func(labels map[string]string) bool
	// Fit keeps only the findings about fit (catalog Fit, and Pending Pods
	// the scheduler cannot place for resources or ports): the capacity
	// view.
	Fit bool
	// SortBy orders the problems: severity (the analysis' order),
	// breadth, daemonset or type.
	SortBy string
	// KubeContext, when set, is the kubeconfig context every suggested
	// kubectl command names (a fleet's cluster): suggestions and fixes are
	// rendered again from their Advice, so a command run as written acts
	// on the cluster the finding is about.
	KubeContext string
}

// Sort orders for Projection.SortBy.
const (
	SortSeverity  = "severity"
	SortBreadth   = "breadth"
	SortDaemonSet = "daemonset"
	SortType      = "type"
)

// Project returns the part of r the projection keeps, with its summary,
// problems and verdict rebuilt from the findings kept: nothing in it refers
// to what was left out, and every problem's finding references resolve in
// the projected report. r is not changed (a Memo may share its slices).
func Project(r *report.Report, p Projection) (*report.Report, error) {
	out := *r
	var err error
	if out.DaemonSets, err = selectDaemonSets(r.DaemonSets, p.DaemonSets); err != nil {
		return nil, err
	}
	var keepNode map[string]bool
	if p.Node != "" || p.NodeSelector != nil {
		keepNode = map[string]bool{}
		out.Nodes = nil
		for _, n := range r.Nodes {
			if (p.Node == "" || n.Name == p.Node) && (p.NodeSelector == nil || p.NodeSelector(n.Labels)) {
				keepNode[n.Name] = true
				out.Nodes = append(out.Nodes, n)
			}
		}
		out.NodeCount = len(out.Nodes)
	}
	known := map[string]bool{}
	if keepNode != nil && p.Node == "" {
		for _, n := range r.Nodes {
			known[n.Name] = true
		}
	}
	if keepNode == nil && !p.Fit && len(p.DaemonSets) == 0 && p.KubeContext == "" {
		out.Problems = slices.Clone(r.Problems)
		sortProblems(out.Problems, p.SortBy)
		return &out, nil
	}
	ro := report.RenderOptions{KubeContext: p.KubeContext}
	dss := make([]report.DaemonSetReport, len(out.DaemonSets))
	for i := range out.DaemonSets {
		ds := out.DaemonSets[i]
		if keepNode != nil {
			ds.Nodes = slices.DeleteFunc(slices.Clone(ds.Nodes), func(nv report.NodeVerdict) bool { return !keepNode[nv.Name] })
		}
		ds.Findings = slices.DeleteFunc(slices.Clone(ds.Findings), func(f report.Finding) bool {
			if keepNode != nil && f.Node != "" && !keepNode[f.Node] && (p.Node != "" || known[f.Node]) {
				return true
			}
			return p.Fit && !IsFit(&f)
		})
		if p.KubeContext != "" {
			for j := range ds.Findings {
				if a := ds.Findings[j].Advice; a != nil {
					ds.Findings[j].Suggestion = a.Render(ro)
				}
			}
		}
		dss[i] = ds
	}
	out.DaemonSets = dss
	out.Summary = report.Summarize(dss)
	out.Problems = projectProblems(r.Problems, dss)
	if p.KubeContext != "" {
		for i := range out.Problems {
			if a := out.Problems[i].Advice; a != nil {
				out.Problems[i].Fix = a.Render(ro)
			}
		}
	}
	sortProblems(out.Problems, p.SortBy)
	return &out, nil
}

// selectDaemonSets keeps the DaemonSets named NAMESPACE/NAME or NAME (all
// of them when names is empty); a name that matches none is an error.
func selectDaemonSets(all []report.DaemonSetReport, names []string) ([]report.DaemonSetReport, error) {
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, d := range names {
		want[d] = true
	}
	matched := map[string]bool{}
	var out []report.DaemonSetReport
	for _, ds := range all {
		full := ds.Namespace + "/" + ds.Name
		if want[full] || want[ds.Name] {
			out = append(out, ds)
			matched[full], matched[ds.Name] = true, true
		}
	}
	for _, d := range names {
		if !matched[d] {
			return nil, fmt.Errorf("%q matches no DaemonSet read", d)
		}
	}
	return out, nil
}

// IsFit says whether a finding is about fit: the capacity view's findings.
func IsFit(f *report.Finding) bool {
	if report.Info(f.Type).Fit {
		return true
	}
	switch f.Reason {
	case report.ReasonInsufficient, report.ReasonDaemonsDontFit, report.ReasonHostPortTaken, report.ReasonUnschedulable:
		return f.Type == report.PendingPod
	}
	return false
}

// projectProblems keeps the problems that still have findings in dss, each
// narrowed to them: its nodes, DaemonSets, severity and failing flag
// recomputed, its references pointing into dss.
func projectProblems(ps []report.Problem, dss []report.DaemonSetReport) []report.Problem {
	type at struct {
		ds  string
		idx int
		f   *report.Finding
	}
	where := map[string]at{}
	for i := range dss {
		name := dss[i].Namespace + "/" + dss[i].Name
		for j := range dss[i].Findings {
			f := &dss[i].Findings[j]
			where[name+"\x00"+f.ID] = at{name, j, f}
		}
	}
	out := []report.Problem{}
	for _, p := range ps {
		np := p
		np.Findings = nil
		np.Severity, np.Failing = "", false
		nodes, dsSet := map[string]bool{}, map[string]bool{}
		for _, ref := range p.Findings {
			a, ok := where[ref.DaemonSet+"\x00"+ref.ID]
			if !ok {
				continue
			}
			np.Findings = append(np.Findings, report.FindingRef{ID: ref.ID, DaemonSet: a.ds, Index: a.idx})
			if a.f.Node != "" {
				nodes[a.f.Node] = true
			}
			dsSet[a.ds] = true
			if a.f.Severity.Rank() > np.Severity.Rank() {
				np.Severity = a.f.Severity
			}
			np.Failing = np.Failing || a.f.Failing
		}
		if len(np.Findings) == 0 {
			continue
		}
		np.Nodes = slices.DeleteFunc(slices.Clone(p.Nodes), func(n string) bool { return !nodes[n] })
		np.DaemonSets = slices.DeleteFunc(slices.Clone(p.DaemonSets), func(d string) bool { return !dsSet[d] })
		if len(np.Nodes) != len(p.Nodes) {
			// What the affected nodes share was measured on all of them.
			np.Pattern = ""
			np.Range = names.Range(np.Nodes)
		}
		out = append(out, np)
	}
	return out
}

// sortProblems orders problems for a view; severity is the analysis'
// own order.
func sortProblems(ps []report.Problem, by string) {
	switch by {
	case SortBreadth:
		slices.SortStableFunc(ps, func(a, b report.Problem) int { return len(b.Nodes) - len(a.Nodes) })
	case SortDaemonSet:
		slices.SortStableFunc(ps, func(a, b report.Problem) int { return strings.Compare(a.DaemonSets[0], b.DaemonSets[0]) })
	case SortType:
		slices.SortStableFunc(ps, func(a, b report.Problem) int { return strings.Compare(a.Type, b.Type) })
	}
}
